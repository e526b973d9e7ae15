#!/usr/bin/env python3
"""Engine benchmark: UEBA Workbench against the notebook pipeline an analyst would write.

Run through ``bench/run.sh`` (which builds the release binary and the virtualenv). In one run,
on the same SQLite database, it measures:

* training on the training window (from the database to stored models), wall time and peak
  RSS, ours (``ueba-workbench train``) against ``notebook_pipeline.py`` (pandas +
  scikit-learn IsolationForest and GaussianMixture);
* scoring throughput, ours (model-only and end to end) against the notebook's;
* detection quality on the evaluation window (labels used only to measure): ROC-AUC, PR-AUC,
  recall at 1 % FPR and per-scenario recall, ours against an IsolationForest on plain
  per-connection features (and the notebook's per-user models);
* the same quality figures when 0.2 % of the training window is attacks.

Only the standard library is used here; the notebook runs in ``bench/.venv``.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DAY_MS = 86_400_000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    stdout: str


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    """Runs ``cmd``; wall time and the child's peak RSS as the kernel counted it (wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out_chunks: list[bytes] = []
    # Read stdout fully before reaping, so a large output cannot block the child.
    assert proc.stdout is not None and proc.stderr is not None
    out_chunks.append(proc.stdout.read())
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')}")
    return Measured(seconds, usage.ru_maxrss / 1024.0, b"".join(out_chunks).decode())


def run_json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


@dataclass
class Scenario:
    """One database and its windows."""

    name: str
    db: Path
    start: int
    train_end: int
    end: int


def make_db(binary: str, work: Path, name: str, rows: int, days: int, end: int, contaminated: bool) -> Scenario:
    db = work / f"{name}.db"
    start = end - days * DAY_MS
    train_end = start + (end - start) * 3 // 4
    cmd = [binary, "--db", str(db), "--progress", "none", "demo", "--connections", str(rows),
           "--days", str(days), "--end", iso(end), "--attack-rate", "0.002"]
    if contaminated:
        # Attacks across the whole span: 0.2 % of the training window is attacks too.
        cmd += ["--attack-start", iso(start), "--attack-end", iso(end)]
    else:
        cmd += ["--attack-start", iso(train_end), "--attack-end", iso(end)]
    subprocess.run(cmd, check=True)
    return Scenario(name, db, start, train_end, end)


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def ours(binary: str, sc: Scenario) -> dict:
    base = [binary, "--db", str(sc.db), "--progress", "none"]
    ds = run_json(base + ["--json", "dataset", "create", "--start", iso(sc.start), "--end", iso(sc.train_end)])
    dataset = ds["id"]
    train = measure(base + ["--json", "train", dataset])
    outcome = json.loads(train.stdout)
    if outcome.get("status") != "SUCCESS":
        sys.exit(f"training failed: {outcome}")
    evaluation = run_json(base + ["--json", "evaluate", "--dataset", dataset, "--from", iso(sc.train_end), "--to", iso(sc.end)])
    out = sc.db.with_suffix(".scores.csv")
    scored = measure(base + ["--json", "score", "--dataset", dataset, "--from", iso(sc.train_end), "--to", iso(sc.end), "--output", str(out)])
    score = json.loads(scored.stdout)
    out.unlink(missing_ok=True)
    return {
        "train_connections": outcome["num_connections"],
        "train_s": train.seconds,
        "train_rss_mb": train.peak_rss_mb,
        "eval_connections": evaluation["connections"],
        "score_rate_fast": evaluation["connections"] / max(evaluation["model_seconds"], 1e-9),
        "score_rate_detailed": score["scored"] / max(score["model_seconds"], 1e-9),
        "score_rate_end_to_end": score["scored"] / max(scored.seconds, 1e-9),
        "quality": {
            "roc_auc": evaluation["roc_auc"],
            "pr_auc": evaluation["pr_auc"],
            "recall_at_1pct_fpr": evaluation["recall_at_1pct_fpr"],
            "per_scenario": {s["scenario"]: s["recall_at_1pct_fpr"] for s in evaluation["scenarios"]},
        },
    }


def notebook(python: str, sc: Scenario) -> dict:
    m = measure([python, str(HERE / "notebook_pipeline.py"), "--db", str(sc.db),
                 "--train-start", str(sc.start), "--train-end", str(sc.train_end),
                 "--eval-start", str(sc.train_end), "--eval-end", str(sc.end), "--json"])
    result = json.loads(m.stdout)
    result["process_s"] = m.seconds
    result["process_rss_mb"] = m.peak_rss_mb
    return result


def fmt(v: float | None, digits: int = 4) -> str:
    return "—" if v is None or v != v else f"{v:.{digits}f}"


def report(clean_ours: dict, clean_nb: dict, dirty_ours: dict, dirty_nb: dict) -> None:
    print("\n## Training (training window, database → stored models)\n")
    print("| pipeline | connections | seconds | peak RSS (MB) | ratio to ours |")
    print("|---|---:|---:|---:|---:|")
    t_ours = clean_ours["train_s"]
    print(f"| UEBA Workbench (4 feature configs, Gaussian mixture) | {clean_ours['train_connections']} | {t_ours:.2f} | {clean_ours['train_rss_mb']:.0f} | 1.00 |")
    for key, label in (("iforest", "notebook: pandas features + IsolationForest"), ("gmm", "notebook: pandas features + GaussianMixture")):
        t = clean_nb["train_total_s"][key]
        print(f"| {label} | {clean_nb['rows_train']} | {t:.2f} | {clean_nb['peak_rss_mb']:.0f} | {t / t_ours:.2f} |")
    fastest = min(clean_nb["train_total_s"].values())
    print(f"\nOurs / faster notebook pipeline: **{t_ours / fastest:.2f}×** (target ≤ 0.5)")

    print("\n## Scoring throughput (evaluation window)\n")
    print("| scorer | connections/s |")
    print("|---|---:|")
    print(f"| ours, features + 4 models (fast path) | {clean_ours['score_rate_fast']:,.0f} |")
    print(f"| ours, with per-config scores and explanations | {clean_ours['score_rate_detailed']:,.0f} |")
    print(f"| ours, end to end (read database, score, write CSV) | {clean_ours['score_rate_end_to_end']:,.0f} |")
    for key, label in (("iforest", "notebook IsolationForest (features + model)"), ("gmm", "notebook GaussianMixture (features + model)")):
        rate = clean_nb["score_rate_per_s"].get(key)
        if rate is not None:
            print(f"| {label} | {rate:,.0f} |")

    for title, o, nb in (("clean training window", clean_ours, clean_nb), ("0.2 % of the training window contaminated with attacks", dirty_ours, dirty_nb)):
        print(f"\n## Detection quality, {title} (evaluation window: {o['eval_connections']} connections)\n")
        rows = [("UEBA Workbench (default: Gaussian mixture per feature config)", o["quality"])]
        q = nb.get("quality") or {}
        for key, label in (("iforest_plain", "IsolationForest, plain per-connection features (baseline)"),
                           ("iforest", "notebook IsolationForest, per-user features"),
                           ("gmm", "notebook GaussianMixture, per-user features")):
            if q.get(key):
                rows.append((label, q[key]))
        scenarios = sorted({s for _, r in rows for s in r.get("per_scenario", {})})
        print("| model | ROC-AUC | PR-AUC | recall@1%FPR | " + " | ".join(scenarios) + " |")
        print("|---|---:|---:|---:|" + "---:|" * len(scenarios))
        for label, r in rows:
            cells = [fmt(r.get("per_scenario", {}).get(s), 3) for s in scenarios]
            print(f"| {label} | {fmt(r['roc_auc'])} | {fmt(r['pr_auc'])} | {fmt(r['recall_at_1pct_fpr'], 3)} | " + " | ".join(cells) + " |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=str(ROOT / "target/release/ueba-workbench"))
    p.add_argument("--python", default=str(HERE / ".venv/bin/python"))
    p.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", "1333333")),
                   help="connections in the database (the training window is the first 75 %%)")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--end", default="2026-11-01", help="end of the demo span (UTC date)")
    p.add_argument("--dir", default=os.environ.get("BENCH_DIR"), help="where the databases go (default: a temporary directory)")
    p.add_argument("--json", action="store_true", help="also print all figures as JSON")
    a = p.parse_args()
    end = calendar.timegm(time.strptime(a.end, "%Y-%m-%d")) * 1000
    work = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="ueba-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"databases in {work}; {a.rows} connections over {a.days} days each", file=sys.stderr)
        clean = make_db(a.binary, work, "clean", a.rows, a.days, end, contaminated=False)
        dirty = make_db(a.binary, work, "contaminated", a.rows, a.days, end, contaminated=True)
        results = {}
        for sc in (clean, dirty):
            print(f"[{sc.name}] ours…", file=sys.stderr)
            results[f"{sc.name}_ours"] = ours(a.binary, sc)
            print(f"[{sc.name}] notebook…", file=sys.stderr)
            results[f"{sc.name}_notebook"] = notebook(a.python, sc)
        report(results["clean_ours"], results["clean_notebook"], results["contaminated_ours"], results["contaminated_notebook"])
        if a.json:
            print(json.dumps(results, indent=2))
    finally:
        if not a.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
