//! Import benchmark: `cargo bench -p ueba-workbench-cli --bench import`.
//!
//! Generates demo CSV files (1 M rows by default, plus a 3 M-row file to show that memory does not
//! grow with the file), then imports each into a fresh database twice, end to end as a user
//! would: once with `ueba-workbench import` and once with the `sqlite3` shell's own
//! `.import --csv` into the same `connections` table of an identically created database. It
//! prints rows/s, peak RSS and the time ratio (ours / sqlite3; below 1.0 means faster).
//!
//! Environment: `BENCH_ROWS=1000000,3000000` (sizes), `BENCH_DIR` (where files go; default a
//! temporary directory), `BENCH_SQLITE3` (the shell to compare with; default `sqlite3`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_ueba-workbench");

struct Run {
    seconds: f64,
    peak_rss_kib: u64,
}

/// Runs a command to completion, sampling its peak resident set (VmHWM) from /proc.
fn measure(cmd: &mut Command) -> Result<Run, String> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {cmd:?}: {e}"))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak = peak.max(kib);
            }
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let seconds = start.elapsed().as_secs_f64();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}\n{stderr}"));
    }
    Ok(Run {
        seconds,
        peak_rss_kib: peak,
    })
}

fn ours(db: &Path, csv: &Path) -> Result<Run, String> {
    measure(
        Command::new(OURS)
            .arg("--db")
            .arg(db)
            .arg("--progress")
            .arg("none")
            .arg("import")
            .arg(csv),
    )
}

fn reference(sqlite3: &str, db: &Path, csv: &Path) -> Result<Run, String> {
    // The same schema as ours: created by `ueba-workbench init`, not timed.
    measure(Command::new(OURS).arg("--db").arg(db).arg("init"))?;
    let import = format!(".import --csv --skip 1 '{}' connections", csv.display());
    measure(Command::new(sqlite3).arg(db).arg(import))
}

fn count(db: &Path) -> Result<u64, String> {
    let out = Command::new(OURS)
        .arg("--db")
        .arg(db)
        .args(["connections", "count"])
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("count: {e}"))
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    db
}

fn main() -> Result<(), String> {
    if std::env::args().any(|a| a == "--list") {
        println!("import: bench");
        return Ok(());
    }
    let sizes: Vec<u64> = std::env::var("BENCH_ROWS")
        .unwrap_or_else(|_| "1000000,3000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let sqlite3 = std::env::var("BENCH_SQLITE3").unwrap_or_else(|_| "sqlite3".into());
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let version = Command::new(&sqlite3)
        .arg("--version")
        .output()
        .map_err(|e| format!("{sqlite3}: {e} (install the sqlite3 package)"))?;
    println!(
        "reference: sqlite3 {}",
        String::from_utf8_lossy(&version.stdout)
            .split_whitespace()
            .next()
            .unwrap_or("?")
    );
    println!(
        "{:>10} {:>8} {:>10} {:>12} {:>10} {:>12} {:>10} {:>8} {:>9}",
        "rows",
        "MB",
        "ours s",
        "ours rows/s",
        "ours RSS",
        "sqlite3 s",
        "sqlite3 RSS",
        "ratio",
        "verdict"
    );
    for rows in sizes {
        let csv = dir.join(format!("demo-{rows}.csv"));
        if !csv.exists() {
            measure(
                Command::new(OURS)
                    .args([
                        "--progress",
                        "none",
                        "demo",
                        "--connections",
                        &rows.to_string(),
                        "--days",
                        "30",
                        "--seed",
                        "7",
                        "--end",
                        "2026-11-01",
                        "--out",
                    ])
                    .arg(&csv),
            )?;
        }
        let mb = std::fs::metadata(&csv).map_err(|e| e.to_string())?.len() as f64 / 1e6;
        let db = fresh(&dir, "ours.db");
        let ours = ours(&db, &csv)?;
        let stored = count(&db)?;
        if stored != rows {
            return Err(format!("ours stored {stored} rows, expected {rows}"));
        }
        let ref_db = fresh(&dir, "reference.db");
        let reference = reference(&sqlite3, &ref_db, &csv)?;
        let ratio = ours.seconds / reference.seconds;
        let rate = rows as f64 / ours.seconds;
        let mut missed = Vec::new();
        if rate < 500_000.0 {
            missed.push("rows/s");
        }
        if ratio > 1.0 {
            missed.push("ratio");
        }
        if ours.peak_rss_kib >= 200 * 1024 {
            missed.push("RSS");
        }
        let verdict = if missed.is_empty() {
            "ok".to_owned()
        } else {
            format!("missed: {}", missed.join(","))
        };
        println!(
            "{:>10} {:>8.0} {:>10.2} {:>12.0} {:>7.0} MB {:>12.2} {:>7.0} MB {:>8.2} {:>9}",
            rows,
            mb,
            ours.seconds,
            rate,
            ours.peak_rss_kib as f64 / 1024.0,
            reference.seconds,
            reference.peak_rss_kib as f64 / 1024.0,
            ratio,
            verdict
        );
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(&ref_db);
    }
    println!("targets: >= 500000 rows/s, ratio <= 1.00, peak RSS < 200 MB at every size");
    Ok(())
}
