//! Black-box tests of the `ueba-workbench` binary: exit codes, JSON output, and an import killed
//! half-way with SIGKILL.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ueba-workbench");

struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("w.db");
    Env { dir, db }
}

impl Env {
    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--db").arg(&self.db).env_remove("UEBA_WORKBENCH_DB");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run")
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("write");
        p
    }

    fn count(&self) -> u64 {
        let out = self.run(&["connections", "count"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("number")
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

const GOOD: &str = "id,connected,user,type,target_host,remote_address\n\
a1,2026-03-02T08:00:00Z,alice,SSH,web-01,10.0.0.7\n\
a2,2026-03-02T09:00:00Z,bob,RDP,win-01,10.0.0.8\n";

const BAD: &str = "id,connected,user,type,target_host,remote_address\n\
b1,2026-03-02T08:00:00Z,alice,SSH,web-01,10.0.0.7\n\
b2,not-a-time,bob,RDP,win-01,10.0.0.8\n";

#[test]
fn import_reports_and_exit_codes() {
    let e = env();
    let good = e.file("good.csv", GOOD);
    let out = e
        .cmd()
        .arg("--json")
        .arg("import")
        .arg(&good)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["files"][0]["inserted"], 2);

    let bad = e.file("bad.csv", BAD);
    let out = e.cmd().arg("import").arg(&bad).output().expect("run");
    assert_eq!(out.status.code(), Some(3), "invalid input exits 3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("line 3, field `connected`"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
    assert_eq!(e.count(), 2);

    let out = e
        .cmd()
        .args(["--json", "import", "--skip-invalid"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(
        (
            report["files"][0]["inserted"].as_u64(),
            report["files"][0]["invalid"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let id = report["files"][0]["import_id"].as_i64().expect("import id");
    let out = e.run(&["--json", "imports", "errors", &id.to_string()]);
    assert_eq!(json(&out)[0]["line"], 3);

    assert_eq!(
        e.run(&["import", "/nonexistent/file.csv"]).status.code(),
        Some(3)
    );
    assert_eq!(
        e.run(&["import"]).status.code(),
        Some(2),
        "usage errors exit 2"
    );
    assert_eq!(
        e.run(&["import", "--format", "xml", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_newer_database_exits_4_and_is_left_alone() {
    let e = env();
    assert!(e.run(&["init"]).status.success());
    {
        let c = rusqlite::Connection::open(&e.db).expect("open");
        c.pragma_update(None, "user_version", 999).expect("bump");
    }
    let before = std::fs::read(&e.db).expect("read");
    let out = e.run(&["stats"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema version 999"));
    assert_eq!(std::fs::read(&e.db).expect("read"), before);
}

#[test]
fn db_location_comes_from_the_environment_when_no_flag_is_given() {
    let e = env();
    let out = Command::new(BIN)
        .env("UEBA_WORKBENCH_DB", &e.db)
        .args(["--json", "init"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(json(&out)["db"], e.db.display().to_string());
    assert!(e.db.exists());
}

#[test]
fn list_count_filters_and_backup() {
    let e = env();
    e.cmd()
        .arg("import")
        .arg(e.file("good.csv", GOOD))
        .output()
        .expect("import");
    assert_eq!(
        String::from_utf8_lossy(&e.run(&["connections", "count", "--user", "bob"]).stdout).trim(),
        "1"
    );
    assert_eq!(
        String::from_utf8_lossy(&e.run(&["connections", "count", "--type", "ssh"]).stdout).trim(),
        "1"
    );
    assert_eq!(
        String::from_utf8_lossy(
            &e.run(&["connections", "count", "--from", "2026-03-02T08:30:00Z"])
                .stdout
        )
        .trim(),
        "1"
    );
    let page = json(&e.run(&["--json", "connections", "list", "--limit", "1"]));
    assert_eq!(page["rows"][0]["id"], "a2", "newest first");
    let next = page["next_cursor"].as_str().expect("cursor").to_owned();
    let page2 = json(&e.run(&[
        "--json",
        "connections",
        "list",
        "--limit",
        "1",
        "--cursor",
        &next,
    ]));
    assert_eq!(page2["rows"][0]["id"], "a1");
    assert!(page2["next_cursor"].is_null());
    let stats = json(&e.run(&["--json", "stats"]));
    assert_eq!(stats["connections"], 2);
    let copy = e.dir.path().join("copy.db");
    assert!(e
        .cmd()
        .arg("backup")
        .arg(&copy)
        .output()
        .expect("backup")
        .status
        .success());
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&copy)
        .args(["connections", "count"])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
}

/// A small, fixed demo run; the output file follows.
const DEMO_ARGS: [&str; 10] = [
    "demo",
    "--connections",
    "3000",
    "--days",
    "7",
    "--seed",
    "5",
    "--end",
    "2026-03-01",
    "--out",
];

#[test]
fn demo_files_are_deterministic_and_importable() {
    let e = env();
    let a = e.dir.path().join("a.csv");
    let b = e.dir.path().join("b.csv");
    for p in [&a, &b] {
        let out = e.cmd().args(DEMO_ARGS).arg(p).output().expect("demo");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    let jsonl = e.dir.path().join("c.jsonl");
    e.cmd().args(DEMO_ARGS).arg(&jsonl).output().expect("demo");
    let out = e
        .cmd()
        .arg("--json")
        .arg("import")
        .arg(&a)
        .arg(&jsonl)
        .output()
        .expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out);
    assert_eq!(r["files"][0]["inserted"], 3000);
    assert_eq!(
        r["files"][1]["duplicates"], 3000,
        "the same seed gives the same ids in CSV and JSON Lines"
    );
    let out = e.run(&["demo", "--attack-rate", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("attack_rate"));
}

/// Writes a CSV of `rows` simple valid rows.
fn big_csv(path: &Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(
        f,
        "id,connected,user,type,target_host,remote_address,bytes_out"
    )
    .expect("write");
    for i in 0..rows {
        writeln!(
            f,
            "k{i},{},u{},SSH,h{},10.1.{}.{},{}",
            1_772_352_900_000_i64 + i as i64,
            i % 97,
            i % 31,
            i % 200,
            i % 250,
            i
        )
        .expect("write");
    }
}

#[test]
fn an_import_killed_half_way_leaves_nothing_and_a_sound_database() {
    let e = env();
    e.cmd()
        .arg("import")
        .arg(e.file("good.csv", GOOD))
        .output()
        .expect("seed");
    let big = e.dir.path().join("big.csv");
    big_csv(&big, 600_000);
    let mut child = e
        .cmd()
        .args(["--progress", "json", "import"])
        .arg(&big)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut killed_at = 0u64;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        let Ok(p) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let rows = p["rows"].as_u64().unwrap_or(0);
        if rows >= 100_000 {
            child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
            killed_at = rows;
            break;
        }
    }
    let status = child.wait().expect("wait");
    assert!(
        (100_000..600_000).contains(&killed_at),
        "killed mid-way, at {killed_at} rows"
    );
    assert!(!status.success());
    let c = rusqlite::Connection::open(&e.db).expect("open");
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    let n: i64 = c
        .query_row("SELECT count(*) FROM connections", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 2, "none of the killed import's rows are visible");
    let imports: i64 = c
        .query_row("SELECT count(*) FROM imports", [], |r| r.get(0))
        .expect("count");
    assert_eq!(imports, 1);
    drop(c);
    // And the database keeps working: the same file imports completely afterwards.
    let out = e.cmd().arg("import").arg(&big).output().expect("reimport");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(e.count(), 600_002);
}

#[test]
fn datasets_and_settings_from_the_command_line() {
    let e = env();
    e.cmd()
        .arg("import")
        .arg(e.file("good.csv", GOOD))
        .output()
        .expect("import");
    let out = e.run(&[
        "--json",
        "dataset",
        "count",
        "--start",
        "2026-03-02",
        "--end",
        "2026-03-03",
        "--exclude",
        "2026-03-02T08:30:00Z..2026-03-02T10:00:00Z",
    ]);
    assert_eq!(json(&out)["count"], 1, "the 09:00 connection is excluded");
    let out = e.run(&[
        "dataset",
        "create",
        "--start",
        "2026-03-02",
        "--comment",
        "March",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let shown = json(&e.run(&["--json", "dataset", "show", &id]));
    assert_eq!(shown["comment"], "March");
    assert_eq!(
        shown["time_range_settings"]["start"],
        "2026-03-02T00:00:00.000Z"
    );
    let listed = json(&e.run(&["--json", "dataset", "list"]));
    assert_eq!(listed["count"], 1);
    let out = e.run(&[
        "dataset",
        "create",
        "--start",
        "2026-03-03",
        "--end",
        "2026-03-02",
    ]);
    assert_eq!(out.status.code(), Some(3), "invalid window");
    assert!(String::from_utf8_lossy(&out.stderr).contains("time_range_settings.end"));
    assert_eq!(e.run(&["dataset", "delete", &id]).status.code(), Some(0));
    assert_eq!(
        e.run(&["dataset", "show", &id]).status.code(),
        Some(5),
        "not found"
    );

    let out = json(&e.run(&[
        "--json",
        "settings",
        "anomaly",
        "--threshold",
        "1",
        "--action",
        "block",
    ]));
    assert_eq!(
        (out["action"].as_str(), out["threshold"].as_f64()),
        (Some("BLOCK"), Some(1.0))
    );
    assert!((out["expected_flag_rate"].as_f64().expect("rate") - 0.1).abs() < 1e-9);
    assert_eq!(
        e.run(&["settings", "anomaly", "--threshold", "2"])
            .status
            .code(),
        Some(3)
    );
    let out = json(&e.run(&[
        "--json",
        "settings",
        "ueba",
        "--address",
        "https://ueba.local",
    ]));
    assert_eq!(out["address"], "https://ueba.local");
}

#[test]
fn analysis_refuses_an_untrained_dataset_and_status_says_why() {
    let e = env();
    let id = String::from_utf8_lossy(&e.run(&["dataset", "create"]).stdout)
        .trim()
        .to_owned();
    let out = e.run(&["analyze", "start", &id]);
    assert_eq!(out.status.code(), Some(6), "conflict: not trained");
    assert!(String::from_utf8_lossy(&out.stderr).contains("has not been trained"));
    assert_eq!(
        e.run(&["analyze", "start", "no-such-dataset"])
            .status
            .code(),
        Some(5)
    );
    let status = json(&e.run(&["--json", "status"]));
    assert_eq!(status["internal"]["training_status"], "MODELS_MISSING");
    assert_eq!(status["internal"]["inference_status"], "STOPPED");
    assert_eq!(status["service"]["status"], "WARNING");
    assert_eq!(
        json(&e.run(&["--json", "analyze", "stop"]))["status"],
        "STOPPED"
    );
}

/// The whole loop from the command line: demo data, dataset, train with progress, analysis,
/// scores, evaluation, anomalies; and the exit codes of the refusals on the way.
#[test]
fn train_analyze_score_and_evaluate_from_the_command_line() {
    let e = env();
    let ok = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&e.run(&[
        "demo",
        "--connections",
        "20000",
        "--days",
        "28",
        "--end",
        "2026-03-01",
        "--attack-start",
        "2026-02-22",
        "--attack-end",
        "2026-03-01",
        "--attack-rate",
        "0.01",
        "--progress",
        "none",
    ]));
    let created = e.run(&[
        "--json",
        "dataset",
        "create",
        "--start",
        "2026-02-01",
        "--end",
        "2026-02-22",
    ]);
    ok(&created);
    let id = json(&created)["id"].as_str().expect("id").to_owned();

    // Analysis refuses an untrained dataset (conflict, 6) and says why.
    let refused = e.run(&["analyze", "start", &id]);
    assert_eq!(refused.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("has not been trained"));
    // Unknown dataset: not found (5).
    assert_eq!(e.run(&["train", "nope"]).status.code(), Some(5));
    // Too few connections: input rejected (3), with the numbers.
    let few = e.run(&["train", &id, "--min-connections", "1000000"]);
    assert_eq!(few.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&few.stderr).contains("at least 1000000"));

    let trained = e.run(&["--progress", "json", "--json", "train", &id, "--activate"]);
    ok(&trained);
    let outcome = json(&trained);
    assert_eq!(outcome["status"], "SUCCESS");
    assert_eq!(outcome["activated"], true);
    let progress: Vec<serde_json::Value> = String::from_utf8_lossy(&trained.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(progress.iter().any(|p| p["phase"] == "fitting"));

    let status = json(&e.run(&["--json", "status"]));
    assert_eq!(status["internal"]["training_status"], "MODELS_AVAILABLE");

    ok(&e.run(&[
        "settings",
        "anomaly",
        "--threshold",
        "0.5",
        "--action",
        "BLOCK",
    ]));
    let rescored = e.run(&["--json", "analyze", "rescore", "--from", "2026-02-22"]);
    ok(&rescored);
    let report = json(&rescored);
    assert!(report["anomalies"].as_u64().expect("anomalies") > 0);
    assert_eq!(report["anomalies"], report["blocked"]);
    let listed = json(&e.run(&["--json", "anomalies", "list", "--limit", "5"]));
    assert_eq!(listed["count"], 5);
    assert!(listed["items"][0]["explanation"].is_array());

    let scores = e.dir.path().join("scores.csv");
    let scored = e.run(&[
        "score",
        "--dataset",
        &id,
        "--from",
        "2026-02-22",
        "--output",
        scores.to_str().expect("path"),
    ]);
    ok(&scored);
    let text = std::fs::read_to_string(&scores).expect("scores");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,score,anomalous,feature_config,reasons")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 1000);
    let first: Vec<&str> = rows[0].splitn(5, ',').collect();
    let score: f64 = first[1].parse().expect("score");
    assert!((0.0..=1.0).contains(&score));
    assert!(first[2] == "true" || first[2] == "false");

    let eval = json(&e.run(&[
        "--json",
        "evaluate",
        "--dataset",
        &id,
        "--from",
        "2026-02-22",
    ]));
    assert!(eval["roc_auc"].as_f64().expect("roc") > 0.8, "{eval}");
    assert!(eval["attacks"].as_u64().expect("attacks") > 0);

    // A file with a bad row is refused (3) and the output is not left half-written.
    let bad = e.file(
        "bad.csv",
        "connected,user,type,target_host,remote_address\n2026-03-01T00:00:00Z,a,SSH,h,10.0.0.1\n2026-03-01T01:00:00Z,b,SSH,h,not-an-ip\n",
    );
    let out = e.dir.path().join("bad-scores.csv");
    let failed = e.run(&[
        "score",
        "--dataset",
        &id,
        "--input",
        bad.to_str().expect("path"),
        "--output",
        out.to_str().expect("path"),
    ]);
    assert_eq!(failed.status.code(), Some(3));
    let msg = String::from_utf8_lossy(&failed.stderr);
    assert!(
        msg.contains("bad.csv, line 3") && msg.contains("remote_address"),
        "{msg}"
    );
    assert!(!out.exists());

    // A threshold outside 0–1 is a usage error (2) that names the option; nothing is written.
    let wrong = e.run(&[
        "score",
        "--dataset",
        &id,
        "--threshold",
        "1.5",
        "--output",
        out.to_str().expect("path"),
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--threshold"));
    assert!(!out.exists());

    // The active dataset cannot be deleted (6) until analysis stops.
    assert_eq!(e.run(&["dataset", "delete", &id]).status.code(), Some(6));
    ok(&e.run(&["analyze", "stop"]));
    ok(&e.run(&["dataset", "delete", &id]));
}

/// The response loop from the command line: alerts raised by analysis, an analyst closing one,
/// the history and the audit trail showing it, a policy from stdin, and the enum names.
#[test]
fn alerts_are_triaged_and_audited_from_the_command_line() {
    let e = env();
    let ok = |out: Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(e.run(&["demo", "--connections", "12000", "--days", "30"]));
    let ds = json(&ok(e.run(&["--json", "dataset", "create"])));
    let id = ds["id"].as_str().expect("dataset id").to_owned();
    ok(e.run(&["train", &id, "--activate"]));
    ok(e.run(&["analyze", "rescore"]));
    let list = json(&ok(e.run(&["--json", "alerts", "list", "--limit", "5"])));
    let alert = list["alerts"][0].clone();
    let uuid = alert["uuid"].as_str().expect("an alert").to_owned();

    // Closing needs a known reason; a stale update time is a conflict (exit 6).
    let bad = e.run(&["alerts", "act", &uuid, "--close", "SOLVED"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let stale = e.run(&[
        "alerts",
        "act",
        &uuid,
        "--note",
        "x",
        "--expect-update-time",
        "1",
    ]);
    assert_eq!(stale.status.code(), Some(6));
    ok(e.run(&[
        "alerts",
        "act",
        &uuid,
        "--close",
        "FALSE_POSITIVE",
        "--note",
        "lab traffic",
    ]));
    let shown = json(&ok(e.run(&["--json", "alerts", "show", &uuid])));
    assert_eq!(shown["alert"]["status"], 3);
    assert_eq!(shown["alert"]["incident_status"], 3);
    assert_eq!(
        shown["investigation_actions"][0]["action"]["close_with_reason"]["note_text"],
        "lab traffic"
    );
    let audit = json(&ok(e.run(&["--json", "audit", "--object", &uuid])));
    let events = audit["audit_events"].as_array().expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["protocol"], "cli");
    assert_eq!(events[0]["op"], "alert.investigate");
    let missing = e.run(&["alerts", "show", "nope"]);
    assert_eq!(missing.status.code(), Some(5));

    // A policy from stdin; a bad term is refused as input (exit 3) naming the term.
    let mut child = e
        .cmd()
        .args(["--json", "policies", "create", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"name": "ssh to db", "action": 3, "session_filter": {"include_any": [{"all": ["type:SSH"]}]}}"#)
        .expect("write");
    let created = json(&ok(child.wait_with_output().expect("wait")));
    assert_eq!(created["status"], 2);
    let bad = e.file(
        "bad.json",
        r#"{"name": "x", "session_filter": {"include_any": [{"all": ["source:10.0.0/8"]}]}}"#,
    );
    let refused = e.run(&["policies", "create", bad.to_str().expect("path")]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("source:10.0.0/8"));

    // The enum table, as documented.
    let md = ok(e.run(&["enums", "--markdown"]));
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/lacework-enums.md"
    ))
    .expect("doc");
    assert!(doc.ends_with(String::from_utf8_lossy(&md.stdout).as_ref()));
}

#[test]
fn the_lacework_catalog_from_the_command_line() {
    let e = env();
    let ok = |out: Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let refused = |out: Output, code: i32, names: &str| {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(names), "{names} in {err}");
    };
    ok(e.run(&["demo", "--connections", "500", "--days", "5"]));
    let kinds = json(&ok(e.run(&["--json", "catalog", "kinds"])));
    assert!(kinds["kinds"].as_array().is_some_and(|k| k.len() >= 25));

    // A document (no REST create route) is stored and shown; a bad one is refused, naming
    // the field, and stores nothing.
    let doc = e.file(
        "doc.json",
        r#"{"identity": {"id": "doc-1", "display": "plan.xlsx"}, "is_shared": true}"#,
    );
    ok(e.run(&["catalog", "put", "document", doc.to_str().expect("path")]));
    let shown = json(&ok(e.run(&["catalog", "show", "document", "doc-1"])));
    assert_eq!(shown["identity"]["display"], "plan.xlsx");
    let bad = e.file(
        "bad.json",
        r#"{"identity": {"id": "doc-2"}, "is_shared": "yes"}"#,
    );
    refused(
        e.run(&["catalog", "put", "document", bad.to_str().expect("path")]),
        3,
        "is_shared",
    );
    refused(e.run(&["catalog", "show", "document", "doc-2"]), 5, "doc-2");
    // Computed kinds are not stored; unknown kinds and filters are named.
    refused(
        e.run(&["catalog", "put", "country", doc.to_str().expect("path")]),
        3,
        "computed",
    );
    refused(e.run(&["catalog", "list", "widget"]), 2, "widget");
    refused(
        e.run(&["catalog", "list", "user", "--where", "colour=red"]),
        3,
        "colour",
    );
    refused(
        e.run(&["catalog", "list", "user", "--where", "status"]),
        2,
        "PARAM=VALUE",
    );

    // Connection users are users; membership of a group, audited.
    let users =
        json(&ok(e.run(&[
            "--json", "catalog", "list", "user", "--where", "status=2",
        ])));
    let user = users["users"][0]["uuid"]
        .as_str()
        .expect("a user")
        .to_owned();
    let night = e.file("group.json", r#"{"name": "night-shift"}"#);
    let group = json(&ok(e.run(&[
        "--json",
        "catalog",
        "put",
        "group",
        night.to_str().expect("path"),
    ])));
    let group = group["uuid"].as_str().expect("a group").to_owned();
    refused(
        e.run(&["groups", "add-member", &group, "no-such-user"]),
        5,
        "no-such-user",
    );
    for _ in 0..2 {
        let after = json(&ok(e.run(&["groups", "add-member", &group, &user])));
        assert_eq!(after["user_count"], 1);
    }
    let audit = json(&ok(e.run(&["--json", "audit", "--object", &group])));
    let events = audit["audit_events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        events.len(),
        2,
        "the put and one membership; adding again changes nothing"
    );
}
