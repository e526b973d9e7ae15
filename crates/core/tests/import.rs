//! Importing connection files: every format, every error class, atomicity, dedupe, cancel.

use std::path::PathBuf;
use std::sync::Mutex;

use ueba_core::connections::{self, ConnectionFilter, PageRequest};
use ueba_core::ingest::{
    history, import_files, Format, ImportOptions, ImportProgress, IngestError,
};
use ueba_core::{CancelToken, Store};

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("w.db")).expect("open");
    Fixture { dir, store }
}

impl Fixture {
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write fixture");
        path
    }

    fn import(
        &self,
        paths: &[PathBuf],
        opts: &ImportOptions,
    ) -> Result<Vec<ueba_core::ingest::ImportReport>, IngestError> {
        import_files(&self.store, paths, opts, &|_| {}, &CancelToken::new())
    }

    fn count(&self) -> u64 {
        connections::count(&self.store, &ConnectionFilter::default()).expect("count")
    }
}

const CSV: &str = "\
id,connected,disconnected,user,user_roles,type,target_host,target_host_address,target_host_account,remote_address,bytes_in,bytes_out,status,authentication_method,label
c1,2026-03-02T08:00:00Z,2026-03-02T08:30:00Z,alice,admin;ops,SSH,web-01,10.1.0.5,root,10.0.0.7,1200,56000,DISCONNECTED,publickey,normal
c2,2026-03-02T09:00:00Z,,bob,dev,rdp,win-02,,bob,10.0.0.8,,,CONNECTED,password,
c3,1772442000000,1772442060000,carol,,VNC,vnc-01,,,192.168.5.1,10,20,,,
";

fn strict() -> ImportOptions {
    ImportOptions::default()
}

fn skipping() -> ImportOptions {
    ImportOptions {
        skip_invalid: true,
        ..ImportOptions::default()
    }
}

#[test]
fn csv_rows_are_stored_with_every_field() {
    let f = fixture();
    let reports = f
        .import(&[f.file("a.csv", CSV)], &strict())
        .expect("import");
    let r = &reports[0];
    assert_eq!(
        (r.format, r.rows_read, r.inserted, r.duplicates, r.invalid),
        (Format::Csv, 3, 3, 0, 0)
    );
    assert_eq!(f.count(), 3);
    let page = connections::list(
        &f.store,
        &ConnectionFilter {
            user: Some("alice".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .expect("list");
    let alice = &page.rows[0];
    assert_eq!(alice.id, "c1");
    assert_eq!(alice.user_roles, vec!["admin", "ops"]);
    assert_eq!(alice.duration, Some(1800.0));
    assert_eq!(alice.bytes_out, Some(56_000));
    assert_eq!(alice.target_host_account.as_deref(), Some("root"));
    assert_eq!(alice.label.as_deref(), Some("normal"));
    let bob = &connections::list(
        &f.store,
        &ConnectionFilter {
            user: Some("bob".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .expect("list")
    .rows[0];
    assert_eq!(bob.conn_type, "RDP", "protocol names are upper-cased");
    assert_eq!(bob.disconnected, None);
    assert_eq!(bob.bytes_in, None);
}

fn json_rows() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"id": "j1", "connected": "2026-03-02T08:00:00Z", "user": "alice", "user_roles": ["admin"], "type": "SSH", "target_host": "web-01", "remote_address": "10.0.0.7", "bytes_out": 5}),
        serde_json::json!({"id": "j2", "connected": 1772442000000_i64, "user": "bob", "type": "DB", "target_host": "db-01", "remote_address": "::1", "extra_field": {"ignored": true}}),
    ]
}

#[test]
fn json_lines_array_and_privx_export_are_detected_and_stored() {
    let rows = json_rows();
    let lines = rows
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let array = serde_json::to_string_pretty(&rows).expect("json");
    let export = serde_json::to_string_pretty(&serde_json::json!({"count": 2, "items": rows}))
        .expect("json");
    let compact_export = serde_json::json!({"items": rows, "count": 2}).to_string();
    for (name, content, format) in [
        ("a.jsonl", lines.as_str(), Format::JsonLines),
        ("a.json", array.as_str(), Format::JsonArray),
        ("export.json", export.as_str(), Format::PrivxExport),
        ("compact.json", compact_export.as_str(), Format::PrivxExport),
    ] {
        let f = fixture();
        let reports = f
            .import(&[f.file(name, content)], &strict())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(reports[0].format, format, "{name}");
        assert_eq!(reports[0].inserted, 2, "{name}");
        let page = connections::list(
            &f.store,
            &ConnectionFilter::default(),
            &PageRequest::default(),
        )
        .expect("list");
        let alice = page.rows.iter().find(|c| c.id == "j1").expect("j1");
        assert_eq!(alice.user_roles, vec!["admin"]);
        let bob = page.rows.iter().find(|c| c.id == "j2").expect("j2");
        assert_eq!(bob.connected, 1_772_442_000_000);
    }
}

#[test]
fn the_format_can_be_forced() {
    let f = fixture();
    // A JSON Lines file whose first line is an object: forcing csv must treat it as CSV and fail
    // on the header, naming the missing column.
    let lines = json_rows()
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let path = f.file("data.txt", &lines);
    let err = f
        .import(
            std::slice::from_ref(&path),
            &ImportOptions {
                format: Some(Format::Csv),
                ..strict()
            },
        )
        .expect_err("csv");
    assert!(
        matches!(err, IngestError::Malformed { line: 1, .. }),
        "{err}"
    );
    let ok = f
        .import(
            &[path],
            &ImportOptions {
                format: Some(Format::JsonLines),
                ..strict()
            },
        )
        .expect("jsonl");
    assert_eq!(ok[0].inserted, 2);
}

#[test]
fn reimporting_does_not_duplicate_rows_with_or_without_ids() {
    let f = fixture();
    let path = f.file("a.csv", CSV);
    f.import(std::slice::from_ref(&path), &strict())
        .expect("first");
    let again = f.import(&[path], &strict()).expect("second");
    assert_eq!((again[0].inserted, again[0].duplicates), (0, 3));
    let no_ids = "connected,user,type,target_host,remote_address\n2026-03-02T10:00:00Z,dave,SSH,web-01,10.0.0.9\n";
    let p = f.file("b.csv", no_ids);
    assert_eq!(
        f.import(std::slice::from_ref(&p), &strict()).expect("b")[0].inserted,
        1
    );
    assert_eq!(f.import(&[p], &strict()).expect("b again")[0].duplicates, 1);
    assert_eq!(f.count(), 4);
}

const BAD_CSV: &str = "\
id,connected,user,type,target_host,remote_address,bytes_out
g1,2026-03-02T08:00:00Z,alice,SSH,web-01,10.0.0.7,10
b1,2026-13-02T08:00:00Z,alice,SSH,web-01,10.0.0.7,10
g2,2026-03-02T08:05:00Z,bob,SSH,web-01,10.0.0.8,10
b2,2026-03-02T08:06:00Z,,SSH,web-01,10.0.0.8,10
b3,2026-03-02T08:07:00Z,bob,SSH,web-01,not-an-ip,10
b4,2026-03-02T08:08:00Z,bob,SSH,web-01,10.0.0.8,-1
b5,2026-03-02T08:09:00Z,bob,SSH
g3,2026-03-02T08:10:00Z,carol,SSH,web-02,10.0.0.9,
";

#[test]
fn all_or_nothing_reports_every_bad_row_and_keeps_existing_data() {
    let f = fixture();
    f.import(&[f.file("good.csv", CSV)], &strict())
        .expect("seed");
    let err = f
        .import(&[f.file("bad.csv", BAD_CSV)], &strict())
        .expect_err("must fail");
    let report = err.report().expect("report");
    let found: Vec<(u64, Option<&str>)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_deref()))
        .collect();
    assert_eq!(
        found,
        vec![
            (3, Some("connected")),
            (5, Some("user")),
            (6, Some("remote_address")),
            (7, Some("bytes_out")),
            (8, None)
        ]
    );
    assert!(report.errors.iter().all(|e| e.file.ends_with("bad.csv")));
    assert!(
        report.errors[4].reason.contains("expected 7 fields"),
        "{}",
        report.errors[4].reason
    );
    let message = err.to_string();
    assert!(
        message.contains("5 invalid row(s)") && message.contains("nothing was imported"),
        "{message}"
    );
    assert_eq!(
        f.count(),
        3,
        "earlier data intact, nothing of the bad file stored"
    );
    assert_eq!(
        history::list(&f.store).expect("history").len(),
        1,
        "the failed import left no record"
    );
}

#[test]
fn skip_invalid_imports_the_good_rows_and_stores_every_bad_one() {
    let f = fixture();
    let reports = f
        .import(&[f.file("bad.csv", BAD_CSV)], &skipping())
        .expect("import");
    let r = &reports[0];
    assert_eq!((r.rows_read, r.inserted, r.invalid), (8, 3, 5));
    assert_eq!(f.count(), 3);
    let stored = history::errors(&f.store, r.import_id.expect("id")).expect("errors");
    assert_eq!(stored, r.errors);
    let imports = history::list(&f.store).expect("history");
    assert_eq!((imports[0].inserted, imports[0].invalid), (3, 5));
}

#[test]
fn broken_json_is_reported_with_its_line() {
    let f = fixture();
    let mut array = serde_json::to_string_pretty(&json_rows()).expect("json");
    array.truncate(array.len() - 40); // cut inside the second object
    let err = f
        .import(&[f.file("cut.json", &array)], &skipping())
        .expect_err("truncated");
    assert!(
        matches!(&err, IngestError::Malformed { reason, .. } if reason.contains("truncated")),
        "{err}"
    );

    let garbage = "[\n  {\"id\": \"x\", \"connected\": \"2026-03-02T08:00:00Z\",\n   \"user\": \"a\" \"type\": \"SSH\"}\n]";
    let err = f
        .import(&[f.file("bad.json", garbage)], &strict())
        .expect_err("syntax");
    assert!(
        matches!(&err, IngestError::Malformed { line: 3, .. }),
        "{err}"
    );
    assert_eq!(f.count(), 0);
}

#[test]
fn json_array_rows_are_reported_at_their_own_line() {
    let f = fixture();
    let mut rows = json_rows();
    rows.push(serde_json::json!({"id": "j3", "connected": "yesterday", "user": "x", "type": "SSH", "target_host": "h", "remote_address": "10.0.0.1"}));
    rows.push(serde_json::json!(42));
    let text = serde_json::to_string_pretty(&rows).expect("json");
    let err = f
        .import(&[f.file("rows.json", &text)], &strict())
        .expect_err("invalid");
    let report = err.report().expect("report");
    let bad_line = text
        .lines()
        .position(|l| l.contains("\"j3\""))
        .expect("j3 line") as u64
        + 1;
    // The object starts on the line of its opening brace, just above its first key.
    let start = report.errors[0].line;
    assert!(
        start < bad_line && start + 10 > bad_line,
        "{start} vs {bad_line}"
    );
    assert_eq!(report.errors[0].field.as_deref(), Some("connected"));
    assert!(
        report.errors[1].reason.contains("expected a JSON object"),
        "{:?}",
        report.errors[1]
    );
    let lines = text.lines().collect::<Vec<_>>();
    assert_eq!(lines[report.errors[1].line as usize - 1].trim(), "42");
}

#[test]
fn json_lines_keep_going_after_a_bad_line() {
    let f = fixture();
    let rows = json_rows();
    let text = format!("{}\n{{not json}}\n\n{}\n", rows[0], rows[1]);
    let r = &f
        .import(&[f.file("a.jsonl", &text)], &skipping())
        .expect("import")[0];
    assert_eq!((r.inserted, r.invalid), (2, 1));
    assert_eq!(r.errors[0].line, 2);
    assert!(
        r.errors[0].reason.contains("not valid JSON"),
        "{}",
        r.errors[0].reason
    );
}

#[test]
fn csv_header_problems_name_the_column() {
    let f = fixture();
    let err = f
        .import(
            &[f.file(
                "h.csv",
                "id,connected,user,type,target_host\nx,2026-03-02T08:00:00Z,a,SSH,h\n",
            )],
            &strict(),
        )
        .expect_err("missing");
    assert!(
        err.to_string().contains("no `remote_address` column"),
        "{err}"
    );
    let err = f
        .import(
            &[f.file(
                "d.csv",
                "user,user,connected,type,target_host,remote_address\n",
            )],
            &strict(),
        )
        .expect_err("dup");
    assert!(err.to_string().contains("`user` appears twice"), "{err}");
    let extra = "connected,user,type,target_host,remote_address,colour\n2026-03-02T08:00:00Z,a,SSH,h,10.0.0.1,blue\n";
    let r = &f
        .import(&[f.file("e.csv", extra)], &strict())
        .expect("extra column")[0];
    assert_eq!(r.ignored_columns, vec!["colour"]);
}

#[test]
fn invalid_utf8_is_a_row_error() {
    let f = fixture();
    let path = f.dir.path().join("latin1.csv");
    let mut bytes =
        b"connected,user,type,target_host,remote_address\n2026-03-02T08:00:00Z,".to_vec();
    bytes.extend_from_slice(b"j\xf6rg,SSH,h,10.0.0.1\n");
    std::fs::write(&path, bytes).expect("write");
    let err = f.import(&[path], &strict()).expect_err("utf8");
    let e = &err.report().expect("report").errors[0];
    assert_eq!((e.line, e.field.as_deref()), (2, Some("user")));
    assert!(e.reason.contains("UTF-8"), "{}", e.reason);
}

#[test]
fn a_multi_file_import_is_one_transaction() {
    let f = fixture();
    let good = f.file("good.csv", CSV);
    let bad = f.file("bad.csv", BAD_CSV);
    assert!(f.import(&[good.clone(), bad], &strict()).is_err());
    assert_eq!(f.count(), 0, "the good file's rows are not visible either");
    let missing = f.dir.path().join("missing.csv");
    let err = f
        .import(&[good, missing], &strict())
        .expect_err("missing file");
    assert!(matches!(err, IngestError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.csv"), "{err}");
    assert_eq!(f.count(), 0);
}

fn big_csv(rows: usize) -> String {
    let mut s = String::from("id,connected,user,type,target_host,remote_address,bytes_out\n");
    for i in 0..rows {
        s.push_str(&format!(
            "r{i},{},u{},SSH,h{},10.0.{}.{},{}\n",
            1_772_352_900_000_i64 + i as i64 * 1000,
            i % 50,
            i % 30,
            i % 200,
            i % 250,
            i
        ));
    }
    s
}

#[test]
fn progress_is_reported_and_cancel_rolls_back() {
    let f = fixture();
    let path = f.file("big.csv", &big_csv(30_000));
    let seen: Mutex<Vec<ImportProgress>> = Mutex::new(Vec::new());
    let reports = import_files(
        &f.store,
        std::slice::from_ref(&path),
        &strict(),
        &|p| seen.lock().expect("lock").push(p.clone()),
        &CancelToken::new(),
    )
    .expect("import");
    assert_eq!(reports[0].inserted, 30_000);
    let seen = seen.into_inner().expect("lock");
    assert!(seen.len() >= 3, "several updates for a 30k-row file");
    assert!(seen
        .windows(2)
        .all(|w| w[0].rows <= w[1].rows && w[0].bytes <= w[1].bytes));
    let last = seen.last().expect("last");
    assert_eq!((last.rows, last.percent), (30_000, 100.0));
    assert_eq!(
        last.total_bytes,
        std::fs::metadata(&path).expect("meta").len()
    );

    let g = fixture();
    let path = g.file("big.csv", &big_csv(30_000));
    let cancel = CancelToken::new();
    let err = import_files(
        &g.store,
        &[path],
        &strict(),
        &|p| {
            if p.rows >= 8_000 {
                cancel.cancel()
            }
        },
        &cancel,
    )
    .expect_err("cancelled");
    assert!(matches!(err, IngestError::Cancelled), "{err}");
    assert_eq!(g.count(), 0);
}

#[test]
fn readers_do_not_see_an_import_until_it_commits() {
    let f = fixture();
    let path = f.file("big.csv", &big_csv(20_000));
    let seen_during: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    import_files(
        &f.store,
        &[path],
        &strict(),
        &|_| {
            let n = connections::count(&f.store, &ConnectionFilter::default())
                .expect("count during import");
            seen_during.lock().expect("lock").push(n);
        },
        &CancelToken::new(),
    )
    .expect("import");
    assert!(seen_during
        .into_inner()
        .expect("lock")
        .iter()
        .all(|&n| n == 0));
    assert_eq!(f.count(), 20_000);
}

#[test]
fn detect_recognises_each_format() {
    assert_eq!(Format::detect(b"id,connected\n"), Format::Csv);
    assert_eq!(
        Format::detect(b"\xef\xbb\xbf  [ {\"a\":1} ]"),
        Format::JsonArray
    );
    assert_eq!(
        Format::detect(b"{\"user\":\"a\"}\n{\"user\":\"b\"}\n"),
        Format::JsonLines
    );
    assert_eq!(
        Format::detect(b"{\"count\":1,\"items\":[{\"user\":\"a\"}]}"),
        Format::PrivxExport
    );
    assert_eq!(
        Format::detect(b"{\n  \"count\": 1,\n  \"items\": ["),
        Format::PrivxExport
    );
}

/// The stored connection total (read in O(1) by status) follows every way rows arrive or are
/// refused.
#[test]
fn the_kept_connection_total_matches_the_table() {
    let f = fixture();
    let total = |f: &Fixture| -> String {
        ueba_core::ueba::status::service(&f.store)
            .expect("status")
            .status_details
            .into_iter()
            .find(|d| d.k == "connections")
            .expect("connections detail")
            .v
    };
    assert_eq!(total(&f), "0");
    f.import(&[f.file("good.csv", CSV)], &strict())
        .expect("seed");
    f.import(&[f.file("again.csv", CSV)], &strict())
        .expect("duplicates");
    assert!(f.import(&[f.file("bad.csv", BAD_CSV)], &strict()).is_err());
    f.import(&[f.file("bad2.csv", BAD_CSV)], &skipping())
        .expect("skip invalid");
    let streamed = ueba_core::ingest::ImportSource::Stream {
        name: "stream".into(),
        reader: Box::new(std::io::Cursor::new(
            "{\"connected\":\"2026-03-03T08:00:00Z\",\"user\":\"erin\",\"type\":\"SSH\",\"target_host\":\"db-01\",\"remote_address\":\"10.0.0.3\"}\n",
        )),
        expected_bytes: None,
    };
    let reports = ueba_core::ingest::import_sources(
        &f.store,
        vec![streamed],
        &strict(),
        &|_| {},
        &CancelToken::new(),
    )
    .expect("stream");
    assert_eq!(reports[0].inserted, 1);
    assert_eq!(f.count(), 7);
    assert_eq!(total(&f), "7");
}
