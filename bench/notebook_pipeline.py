#!/usr/bin/env python3
"""The pipeline an analyst would write in a notebook instead of using UEBA Workbench.

Straightforward, vectorised pandas and scikit-learn. It reads the training window of the
``connections`` table, builds per-connection features plus per-user frequency encodings learnt
on that window, standardises them, fits an IsolationForest and a GaussianMixture, then scores
the evaluation window and measures detection quality against its ``label`` column (labels are
never read for training). A third model, an IsolationForest on the plain per-connection
features only (no per-user history), is the baseline (``iforest_plain``).

    python bench/notebook_pipeline.py --db DB --train-start MS --train-end MS \\
        --eval-start MS --eval-end MS [--seed 42] [--json]

Windows are [start, end) in epoch milliseconds (UTC) on ``connected``. Exit code 2 for a
missing or unusable database and for an empty training or evaluation window.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

FEATURE_COLUMNS = [
    "connected",
    "duration",
    "user",
    "type",
    "target_host",
    "target_host_account",
    "remote_address",
    "bytes_in",
    "bytes_out",
    "status",
]
# Per-user frequency encodings: name -> the column(s) counted per user.
USER_FREQUENCIES = {
    "source": ["remote_address"],
    "host": ["target_host"],
    "host_account": ["target_host", "target_host_account"],
    "protocol": ["type"],
    "hour": ["hour"],
}
NORMAL_LABEL = "normal"


class Problem(Exception):
    """A problem with the input that ends the run with exit code 2."""


# --------------------------------------------------------------------------------------------
# Loading


def load_window(db: str, start: int, end: int, with_label: bool) -> pd.DataFrame:
    columns = FEATURE_COLUMNS + (["label"] if with_label else [])
    query = f"SELECT {', '.join(columns)} FROM connections WHERE connected >= ? AND connected < ?"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return pd.read_sql(query, con, params=(start, end))
    except (pd.errors.DatabaseError, sqlite3.DatabaseError) as e:
        raise Problem(f"cannot read the connections table of {db}: {e}") from e
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Features


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """Key columns as strings without NULLs (groupby drops NaN keys) and the hour of day."""
    df = df.copy()
    for col in ("user", "type", "target_host", "target_host_account", "remote_address", "status"):
        df[col] = df[col].fillna("")
    df["ts"] = pd.to_datetime(df["connected"], unit="ms", utc=True)
    df["hour"] = df["ts"].dt.hour
    return df


def plain_features(df: pd.DataFrame, protocols: list[str]) -> pd.DataFrame:
    """Per-connection features that need no history; ``protocols`` are the one-hot categories."""
    hour = df["ts"].dt.hour + df["ts"].dt.minute / 60.0
    x = pd.DataFrame(
        {
            "hour_sin": np.sin(2 * np.pi * hour / 24.0),
            "hour_cos": np.cos(2 * np.pi * hour / 24.0),
            "weekend": (df["ts"].dt.dayofweek >= 5).astype(float),
            "log_duration": np.log1p(df["duration"].fillna(0).clip(lower=0)),
            "log_bytes_in": np.log1p(df["bytes_in"].fillna(0).clip(lower=0)),
            "log_bytes_out": np.log1p(df["bytes_out"].fillna(0).clip(lower=0)),
            "failed": (df["status"].str.upper() == "FAILED").astype(float),
        },
        index=df.index,
    )
    onehot = pd.get_dummies(df["type"], prefix="proto", dtype=float)
    onehot = onehot.reindex(columns=[f"proto_{p}" for p in protocols], fill_value=0.0)
    return pd.concat([x, onehot], axis=1)


def fit_user_profiles(train: pd.DataFrame) -> dict[str, pd.DataFrame | pd.Series]:
    """Per user, the share of their training connections with each source, host, ... value."""
    totals = train.groupby("user").size().rename("user_total")
    profiles: dict[str, pd.DataFrame | pd.Series] = {"_totals": totals}
    for name, keys in USER_FREQUENCIES.items():
        counts = train.groupby(["user", *keys]).size().rename("n").reset_index()
        counts[f"freq_{name}"] = counts["n"] / counts["user"].map(totals)
        profiles[name] = counts.drop(columns="n")
    return profiles


def user_features(df: pd.DataFrame, profiles: dict[str, pd.DataFrame | pd.Series]) -> pd.DataFrame:
    """Frequency encodings looked up in the training profiles (unseen combinations are 0)."""
    x = pd.DataFrame(index=df.index)
    for name, keys in USER_FREQUENCIES.items():
        merged = df[["user", *keys]].merge(profiles[name], on=["user", *keys], how="left")
        x[f"freq_{name}"] = merged[f"freq_{name}"].fillna(0.0).to_numpy()
    x["log_user_total"] = np.log1p(df["user"].map(profiles["_totals"]).fillna(0.0))
    return x


# --------------------------------------------------------------------------------------------
# Quality


def is_attack(labels: pd.Series) -> np.ndarray:
    lab = labels.fillna("").str.strip()
    return ((lab != "") & (lab.str.lower() != NORMAL_LABEL)).to_numpy()


def quality(scores: np.ndarray, labels: pd.Series) -> dict | None:
    """ROC-AUC, PR-AUC and recall at 1 % FPR, overall and per scenario (None without attacks)."""
    attack = is_attack(labels)
    if attack.sum() == 0 or (~attack).sum() == 0:
        return None
    threshold = np.percentile(scores[~attack], 99)
    per_scenario = (
        pd.Series(scores[attack] > threshold, index=labels[attack].to_numpy())
        .groupby(level=0)
        .mean()
        .sort_index()
    )
    return {
        "roc_auc": float(roc_auc_score(attack, scores)),
        "pr_auc": float(average_precision_score(attack, scores)),
        "recall_at_1pct_fpr": float((scores[attack] > threshold).mean()),
        "threshold": float(threshold),
        "attacks": int(attack.sum()),
        "per_scenario": {k: float(v) for k, v in per_scenario.items()},
    }


# --------------------------------------------------------------------------------------------


def run(a: argparse.Namespace) -> dict:
    if not os.path.isfile(a.db):
        raise Problem(f"database file not found: {a.db}")
    if a.train_start >= a.train_end or a.eval_start >= a.eval_end:
        raise Problem("each window needs start < end")

    timings: dict[str, float] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        value = fn()
        timings[name] = time.perf_counter() - t0
        return value

    # load
    train_raw = timed("load", lambda: load_window(a.db, a.train_start, a.train_end, with_label=False))
    if train_raw.empty:
        raise Problem(f"the training window [{a.train_start}, {a.train_end}) of {a.db} holds no connections")

    # features (fit on the training window)
    def fit_features():
        train = clean(train_raw)
        protocols = sorted(train["type"].unique())
        plain = plain_features(train, protocols)
        profiles = fit_user_profiles(train)
        full = pd.concat([plain, user_features(train, profiles)], axis=1)
        scaler = StandardScaler().fit(full)
        scaler_plain = StandardScaler().fit(plain)
        return protocols, profiles, scaler, scaler_plain, scaler.transform(full), scaler_plain.transform(plain)

    protocols, profiles, scaler, scaler_plain, x_train, x_train_plain = timed("features", fit_features)

    iforest = timed(
        "fit_iforest", lambda: IsolationForest(n_estimators=100, random_state=a.seed).fit(x_train)
    )
    gmm = timed(
        "fit_gmm",
        lambda: GaussianMixture(
            n_components=6, covariance_type="full", random_state=a.seed, max_iter=100
        ).fit(x_train),
    )
    iforest_plain = timed(
        "fit_iforest_plain",
        lambda: IsolationForest(n_estimators=100, random_state=a.seed).fit(x_train_plain),
    )
    rows_train = len(train_raw)
    del train_raw, x_train, x_train_plain

    # score (labels are loaded with the window but used only for quality)
    eval_raw = timed("load_eval", lambda: load_window(a.db, a.eval_start, a.eval_end, with_label=True))
    if eval_raw.empty:
        raise Problem(f"the evaluation window [{a.eval_start}, {a.eval_end}) of {a.db} holds no connections")

    def eval_features():
        ev = clean(eval_raw)
        plain = plain_features(ev, protocols)
        full = pd.concat([plain, user_features(ev, profiles)], axis=1)
        return scaler.transform(full), plain

    x_eval, plain_eval = timed("score_features", eval_features)
    s_iforest = timed("score_iforest", lambda: -iforest.score_samples(x_eval))
    s_gmm = timed("score_gmm", lambda: -gmm.score_samples(x_eval))
    s_plain = timed(
        "score_iforest_plain", lambda: -iforest_plain.score_samples(scaler_plain.transform(plain_eval))
    )

    n = len(eval_raw)
    t = timings
    return {
        "rows_train": rows_train,
        "rows_eval": n,
        "features": {"plain": int(plain_eval.shape[1]), "full": int(x_eval.shape[1])},
        "timings_s": timings,
        "train_total_s": {
            "iforest": t["load"] + t["features"] + t["fit_iforest"],
            "gmm": t["load"] + t["features"] + t["fit_gmm"],
        },
        "score_rate_per_s": {
            # features + model
            "iforest": n / (t["score_features"] + t["score_iforest"]),
            "gmm": n / (t["score_features"] + t["score_gmm"]),
            "features_and_both_models": n / (t["score_features"] + t["score_iforest"] + t["score_gmm"]),
            # model only
            "iforest_model_only": n / t["score_iforest"],
            "gmm_model_only": n / t["score_gmm"],
        },
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "quality": {
            "iforest": quality(s_iforest, eval_raw["label"]),
            "gmm": quality(s_gmm, eval_raw["label"]),
            "iforest_plain": quality(s_plain, eval_raw["label"]),
        },
    }


def print_table(r: dict) -> None:
    print(f"training rows {r['rows_train']:,}   evaluation rows {r['rows_eval']:,}   "
          f"features {r['features']['full']} (plain {r['features']['plain']})")
    print("\nphase                     seconds")
    for k, v in r["timings_s"].items():
        print(f"  {k:<22} {v:9.3f}")
    for k, v in r["train_total_s"].items():
        print(f"  train total, {k:<9} {v:9.3f}   (load + features + fit)")
    print("\nscoring rate              connections/s")
    for k, v in r["score_rate_per_s"].items():
        print(f"  {k:<24} {v:12,.0f}")
    print(f"\npeak RSS {r['peak_rss_mb']:,.0f} MB")
    q = r["quality"]
    scenarios = sorted({s for m in q.values() if m for s in m["per_scenario"]})
    if not scenarios:
        print("\nquality: null (no attack rows in the evaluation window)")
        return
    head = f"\n{'model':<14} {'ROC-AUC':>8} {'PR-AUC':>8} {'rec@1%':>7}"
    print(head + "".join(f" {s[:14]:>14}" for s in scenarios))
    for name, m in q.items():
        cells = "".join(f" {m['per_scenario'].get(s, float('nan')):14.3f}" for s in scenarios)
        print(f"{name:<14} {m['roc_auc']:8.4f} {m['pr_auc']:8.4f} {m['recall_at_1pct_fpr']:7.3f}{cells}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True, help="SQLite database with a connections table")
    p.add_argument("--train-start", type=int, required=True, help="epoch ms, inclusive")
    p.add_argument("--train-end", type=int, required=True, help="epoch ms, exclusive")
    p.add_argument("--eval-start", type=int, required=True, help="epoch ms, inclusive")
    p.add_argument("--eval-end", type=int, required=True, help="epoch ms, exclusive")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    a = p.parse_args()
    try:
        result = run(a)
    except Problem as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
