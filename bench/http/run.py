#!/usr/bin/env python3
"""Load benchmark of the REST listener (`ueba-workbench serve`); see bench/http/README.md.

Normally started by bench/http/run.sh, which builds the binaries, checks for wrk and owns the
temporary directory. Standard library only.

Steps: demo database, admin user, OAuth client, token; start the listener and the bare axum
ceiling (crates/api/examples/hello_axum.rs); with wrk (2 s warm-up, then the measurement with
bench/http/report.lua) measure the ceiling, GET status and GET datasets; create a dataset, start a
training and measure GET status and GET datasets again while it runs (checked through
GET status/internal before and after each run). Prints a Markdown table and the target check.

Exit status: 0 when every measurement ran (whether or not the targets are met), 1 on a harness
failure (a command or server failed, wrk failed, the listener refused the set-up requests),
130/143 when interrupted.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REPORT_LUA = HERE / "report.lua"

UEBA = "/connection-manager/api/v1/ueba"
TOKEN_PATH = "/auth/api/v1/oauth/token"
LISTENING = re.compile(r"listening on (https?)://([^\s/]+):(\d+)")
TRAINING_STATES = ("TRAINING", "RETRAINING")

# Targets for GET status (idle and during training).
TARGET_RPS = 30_000
TARGET_RATIO = 0.5
TARGET_P99_MS = 5.0


class HarnessError(Exception):
    """The harness could not do its job (not a missed target)."""


class Interrupted(BaseException):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------
# Processes


class Cli:
    def __init__(self, binary: Path, db: Path, workdir: Path):
        self.binary = binary
        self.db = db
        self.workdir = workdir

    def run(self, *args: str, stdin: str | None = None, json_output: bool = False,
            timeout: float = 3600) -> str:
        cmd = [str(self.binary), "--db", str(self.db)]
        if json_output:
            cmd.append("--json")
        cmd += list(args)
        shown = " ".join(cmd)
        log(f"$ {shown}")
        started = time.monotonic()
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout,
                              stdin=None if stdin is not None else subprocess.DEVNULL)
        took = time.monotonic() - started
        if proc.returncode != 0:
            raise HarnessError(f"`{shown}` exited {proc.returncode} after {took:.1f} s:\n"
                               f"{proc.stderr.strip()}\n{proc.stdout.strip()}")
        log(f"  done in {took:.1f} s")
        return proc.stdout


class Server:
    """A server process whose stdout/stderr go to files in the work directory."""

    def __init__(self, name: str, cmd: list[str], workdir: Path):
        self.name = name
        self.workdir = workdir
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        self.pid_path = workdir / f"{name}.pid"
        self.exit_code: int | None = None
        log(f"$ {' '.join(cmd)} &")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        # run.sh kills what is left in these files if this script dies without cleaning up.
        self.pid_path.write_text(f"{self.proc.pid}\n")
        self.base_url = ""

    def wait_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.stdout_path.read_text(errors="replace")
            match = LISTENING.search(text)
            if match:
                scheme, host, port = match.groups()
                self.base_url = f"{scheme}://{host}:{port}"
                log(f"  {self.name} listening on {self.base_url} (pid {self.proc.pid})")
                return self.base_url
            code = self.proc.poll()
            if code is not None:
                raise HarnessError(f"{self.name} exited {code} before listening:\n"
                                   f"{tail(self.stderr_path)}\n{text}")
            if time.monotonic() > deadline:
                raise HarnessError(f"{self.name} printed no `listening on` line in {timeout:.0f} s;"
                                   f" stdout: {text!r}\nstderr:\n{tail(self.stderr_path)}")
            time.sleep(0.05)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop 15 s after SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        try:
            self.pid_path.unlink()
        except OSError:
            pass
        return self.exit_code


# ---------------------------------------------------------------------------------------------
# HTTP


def http(method: str, url: str, *, headers: dict[str, str] | None = None,
         body: bytes | None = None, timeout: float = 60) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise HarnessError(f"{method} {url}: {e}") from e


def json_body(status: int, body: bytes, what: str) -> object:
    try:
        return json.loads(body)
    except ValueError as e:
        raise HarnessError(f"{what}: answer {status} is not JSON: {body[:300]!r}") from e


def short(body: bytes, limit: int = 200) -> str:
    text = body.decode(errors="replace").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def find_key(value: object, key: str) -> object:
    """The first value under `key` anywhere in a JSON document (depth first), or None."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_key(child, key)
        if found is not None:
            return found
    return None


class Listener:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.token = ""

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get_token(self, client_id: str, client_secret: str, username: str, password: str) -> None:
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        form = urllib.parse.urlencode({"grant_type": "password", "username": username,
                                       "password": password}).encode()
        status, body = http("POST", self.base_url + TOKEN_PATH, body=form, headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise HarnessError(f"POST {TOKEN_PATH} answered {status}: {short(body)}")
        doc = json_body(status, body, f"POST {TOKEN_PATH}")
        token = doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise HarnessError(f"POST {TOKEN_PATH}: no access_token in {short(body)}")
        log(f"  token: {doc.get('token_type')} scope={doc.get('scope')!r} "
            f"expires_in={doc.get('expires_in')}")
        self.token = token

    def training_status(self) -> str:
        status, body = http("GET", self.base_url + UEBA + "/status/internal", headers=self.auth())
        if status != 200:
            raise HarnessError(f"GET {UEBA}/status/internal answered {status}: {short(body)}")
        doc = json_body(status, body, f"GET {UEBA}/status/internal")
        value = find_key(doc, "training_status")
        if not isinstance(value, str):
            raise HarnessError(f"GET {UEBA}/status/internal: no training_status in {short(body)}")
        return value

    def create_dataset(self) -> str:
        body = json.dumps({"time_range_settings": {}}).encode()
        status, answer = http("POST", self.base_url + UEBA + "/datasets", body=body,
                              headers={**self.auth(), "Content-Type": "application/json"})
        if status not in (200, 201):
            raise HarnessError(f"POST {UEBA}/datasets answered {status}: {short(answer)}")
        if status != 201:
            log(f"  note: POST {UEBA}/datasets answered {status}, the interface says 201")
        doc = json_body(status, answer, f"POST {UEBA}/datasets")
        dataset_id = doc.get("id") if isinstance(doc, dict) else None
        if not isinstance(dataset_id, str) or not dataset_id:
            raise HarnessError(f"POST {UEBA}/datasets: no id in {short(answer)}")
        log(f"  dataset {dataset_id}")
        return dataset_id

    def start_training(self, dataset_id: str) -> object:
        path = f"{UEBA}/train/{urllib.parse.quote(dataset_id, safe='')}"
        started = time.monotonic()
        status, body = http("POST", self.base_url + path, headers=self.auth())
        took = time.monotonic() - started
        if status != 200:
            raise HarnessError(f"POST {path} answered {status} after {took:.2f} s: {short(body)}")
        doc = json_body(status, body, f"POST {path}")
        count = doc.get("count") if isinstance(doc, dict) else None
        log(f"  POST {path} answered 200 in {took * 1000:.0f} ms: {short(body)}")
        return count


# ---------------------------------------------------------------------------------------------
# wrk


class Wrk:
    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.threads = args.threads
        self.connections = args.connections_http
        self.duration = args.duration
        self.warmup = args.warmup
        self.timeout = args.timeout
        self.workdir = workdir
        self.runs = 0

    def command(self, url: str, token: str, duration: int) -> list[str]:
        return ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{duration:g}s",
                f"--timeout={self.timeout:g}s", "--latency", "-H", f"Authorization: Bearer {token}",
                "-s", str(REPORT_LUA), url]

    def run(self, url: str, token: str, duration: int) -> dict:
        cmd = self.command(url, token, duration)
        self.runs += 1
        out_path = self.workdir / f"wrk-{self.runs:02d}.txt"
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120,
                              stdin=subprocess.DEVNULL)
        out_path.write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise HarnessError(f"wrk exited {proc.returncode} on {url}:\n{proc.stdout}{proc.stderr}")
        for line in proc.stdout.splitlines():
            if line.startswith("WRK_REPORT "):
                report = json.loads(line[len("WRK_REPORT "):])
                report["raw"] = proc.stdout
                return report
        raise HarnessError(f"no WRK_REPORT line from wrk on {url} (is {REPORT_LUA} in use?):\n"
                           f"{proc.stdout}{proc.stderr}")

    def measure(self, url: str, token: str) -> dict:
        if self.warmup > 0:
            self.run(url, token, self.warmup)
        report = self.run(url, token, self.duration)
        e = report["errors"]
        report["non2xx"] = int(e["status"])
        report["socket_errors"] = int(e["connect"] + e["read"] + e["write"] + e["timeout"])
        report["errors_total"] = report["non2xx"] + report["socket_errors"]
        report["timeouts"] = int(e["timeout"])
        lat = report["latency_us"]
        # wrk leaves a response slower than --timeout out of the histogram (it counts it as a
        # timeout error); with none recorded the histogram is empty and its minimum is 2^64-1.
        if (lat["min"] or 0) > 1e18 or not lat["max"]:
            report["p50_ms"] = report["p99_ms"] = None
        else:
            report["p50_ms"] = lat["p50"] / 1000
            report["p99_ms"] = lat["p99"] / 1000
        report["load_after"] = round(os.getloadavg()[0], 2)
        return report


# ---------------------------------------------------------------------------------------------
# Report


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def errors_cell(r: dict) -> str:
    if r["errors_total"] == 0:
        return "0"
    return f"{r['errors_total']:,} ({r['non2xx']:,} non-2xx + {r['socket_errors']:,} socket)"


def ms_cell(value: float | None, r: dict) -> str:
    if value is None:
        return "n/a†"
    return f"{value:.2f}" + ("†" if r["timeouts"] else "")


def markdown_table(rows: list[dict], ceiling_rps: float) -> str:
    lines = ["| target | requests/s | p50 ms | p99 ms | errors (non-2xx + socket) | × ceiling |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = r["rps"] / ceiling_rps if ceiling_rps > 0 else float("nan")
        lines.append(f"| {r['label']} | {fmt_int(r['rps'])} | {ms_cell(r['p50_ms'], r)} | "
                     f"{ms_cell(r['p99_ms'], r)} | {errors_cell(r)} | {ratio:.2f} |")
    return "\n".join(lines)


def check_row(r: dict, ceiling_rps: float) -> tuple[bool, str]:
    ratio = r["rps"] / ceiling_rps if ceiling_rps > 0 else 0.0
    parts = [
        (r["rps"] >= TARGET_RPS, f"{fmt_int(r['rps'])} req/s (≥ {fmt_int(TARGET_RPS)})"),
        (ratio >= TARGET_RATIO, f"{ratio:.2f}× ceiling (≥ {TARGET_RATIO})"),
        (r["p99_ms"] is not None and r["timeouts"] == 0 and r["p99_ms"] <= TARGET_P99_MS,
         f"p99 {ms_cell(r['p99_ms'], r)} ms (≤ {TARGET_P99_MS:g})"),
        (r["errors_total"] == 0, f"{r['errors_total']:,} errors (= 0)"),
    ]
    if "training_throughout" in r:
        parts.append((r["training_throughout"], "training running throughout"))
    ok = all(p for p, _ in parts)
    text = "; ".join(f"{t} {'ok' if p else 'MISSED'}" for p, t in parts)
    return ok, text


# ---------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", type=Path, required=True,
                   help="empty temporary directory for the database and logs (run.sh makes it)")
    p.add_argument("--bin", type=Path, default=ROOT / "target/release/ueba-workbench")
    p.add_argument("--hello", type=Path, default=ROOT / "target/release/examples/hello_axum")
    p.add_argument("--connections", type=int, default=2_000_000,
                   help="demo connections (the training must outlast each warm-up + measurement)")
    p.add_argument("--days", type=int, default=30, help="demo days")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    p.add_argument("--connections-http", type=int, default=64, help="wrk connections (-c)")
    p.add_argument("--duration", type=int, default=10, help="seconds measured per target")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    p.add_argument("--timeout", type=int, default=2,
                   help="wrk --timeout in whole seconds: slower responses count as socket errors")
    p.add_argument("--no-training", action="store_true", help="skip the during-training rows")
    p.add_argument("--json-out", type=Path, help="also write the results as JSON to this file")
    return p.parse_args()


def wait_training(listener: Listener, timeout: float) -> str:
    """Poll until the training status is TRAINING/RETRAINING (returned) or timeout (last value)."""
    deadline = time.monotonic() + timeout
    status = listener.training_status()
    while status not in TRAINING_STATES and time.monotonic() < deadline:
        time.sleep(0.05)
        status = listener.training_status()
    return status


def wait_idle(listener: Listener, timeout: float) -> str:
    """Poll until no training runs; the last training status."""
    deadline = time.monotonic() + timeout
    status = listener.training_status()
    while status in TRAINING_STATES:
        if time.monotonic() > deadline:
            raise HarnessError(f"training still {status} after {timeout:.0f} s")
        time.sleep(0.2)
        status = listener.training_status()
    return status


def main() -> int:
    args = parse_args()

    def interrupted(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupted)
    workdir: Path = args.workdir
    for path, what in ((args.bin, "ueba-workbench"), (args.hello, "hello_axum")):
        if not os.access(path, os.X_OK):
            raise HarnessError(f"{what} binary {path} is missing; build it (see bench/http/run.sh)")

    db = workdir / "bench.db"
    cli = Cli(args.bin, db, workdir)
    servers: list[Server] = []
    results: dict = {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                     "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                     "wrk": {"threads": args.threads, "connections": args.connections_http,
                             "duration_s": args.duration, "warmup_s": args.warmup,
                             "timeout_s": args.timeout},
                     "demo": {"connections": args.connections, "days": args.days}}
    try:
        git = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True)
        results["commit"] = git.stdout.strip() if git.returncode == 0 else None

        results["load_before"] = round(os.getloadavg()[0], 2)
        # --- Database, user, client --------------------------------------------------------
        started = time.monotonic()
        cli.run("demo", "--connections", str(args.connections), "--days", str(args.days),
                "--progress", "none")
        results["demo"]["seconds"] = round(time.monotonic() - started, 1)
        password = secrets.token_urlsafe(18)
        cli.run("user", "add", "bench", "--role", "admin", "--password-stdin",
                stdin=password + "\n")
        client_out = cli.run("oauth-client", "add", "bench", json_output=True)
        client = json_body(0, client_out.encode(), "oauth-client add --json")
        if not isinstance(client, dict) or "client_id" not in client or "client_secret" not in client:
            raise HarnessError(f"oauth-client add --json printed no client_id/client_secret: "
                               f"{client_out[:300]!r}")

        # --- Servers ------------------------------------------------------------------------
        serve = Server("listener", [str(args.bin), "--db", str(db), "serve", "--port", "0"],
                       workdir)
        servers.append(serve)
        listener = Listener(serve.wait_listening(60))
        hello = Server("hello_axum", [str(args.hello), "--port", "0"], workdir)
        servers.append(hello)
        hello_url = hello.wait_listening(30)

        listener.get_token(client["client_id"], client["client_secret"], "bench", password)

        targets = {
            "ceiling": ("bare axum `GET /` (ceiling)", hello_url + "/"),
            "status": ("listener `GET …/ueba/status`", listener.base_url + UEBA + "/status"),
            "datasets": ("listener `GET …/ueba/datasets`", listener.base_url + UEBA + "/datasets"),
        }
        # One request each first, so a wrong answer is reported as such and not only as errors.
        sanity = {}
        for key, (label, url) in targets.items():
            status, body = http("GET", url, headers=listener.auth())
            sanity[key] = {"status": status, "bytes": len(body), "body": short(body, 300)}
            log(f"  GET {url} -> {status}, {len(body)} bytes: {short(body, 120)}")
            if not 200 <= status < 300:
                log(f"  WARNING: {label} answered {status}; its wrk rows will count errors")
        results["sanity"] = sanity

        wrk = Wrk(args, workdir)
        rows: list[dict] = []

        def measure(key: str, label: str, url: str) -> dict:
            log(f"measuring {label}: {args.warmup:g} s warm-up + {args.duration:g} s")
            r = wrk.measure(url, listener.token)
            r.update(key=key, label=label, url=url)
            log(f"  {fmt_int(r['rps'])} req/s, p50 {ms_cell(r['p50_ms'], r)} ms, "
                f"p99 {ms_cell(r['p99_ms'], r)} ms, errors {errors_cell(r)}, "
                f"load average {r['load_after']}")
            rows.append(r)
            return r

        ceiling = measure("ceiling", *targets["ceiling"])
        measure("status", *targets["status"])
        measure("datasets", *targets["datasets"])

        # --- During training -----------------------------------------------------------------
        training: dict = {"runs": []}
        results["training"] = training
        if not args.no_training:
            log(f"training status before: {listener.training_status()}")
            dataset_id = listener.create_dataset()
            training["dataset_id"] = dataset_id
            last_start = None
            for key in ("status", "datasets"):
                label, url = targets[key]
                # Each measurement starts with a training of its own (a retraining for the
                # second), so both get the same head start.
                status = wait_idle(listener, 1800)
                if training["runs"]:
                    previous = training["runs"][-1]
                    previous["seconds"] = round(time.monotonic() - last_start, 1)
                    previous["final_status"] = status
                last_start = time.monotonic()
                count = listener.start_training(dataset_id)
                training["runs"].append({"for": key, "count": count})
                before = wait_training(listener, 10)
                if before not in TRAINING_STATES:
                    log(f"  WARNING: training status is {before} right after POST train; "
                        f"the training finished (or never started) before the measurement")
                r = measure(f"{key}_training", label + ", during training", url)
                after = listener.training_status()
                r["training_before"] = before
                r["training_after"] = after
                r["training_throughout"] = before in TRAINING_STATES and after in TRAINING_STATES
                log(f"  training status before: {before}, after: {after}")
                if not r["training_throughout"]:
                    log("  WARNING: the training did not last the whole measurement; "
                        "use a bigger demo (--connections)")
            # How long the last training took.
            status = wait_idle(listener, 1800)
            if last_start is not None:
                training["runs"][-1]["seconds"] = round(time.monotonic() - last_start, 1)
                training["runs"][-1]["final_status"] = status
            training["final_status"] = status
            log(f"training finished: status {status}; runs: {training['runs']}")
            # Idle again, now with a trained dataset: tells a slowdown caused by the running
            # training from one caused by what the answers now contain.
            for key in ("status", "datasets"):
                label, url = targets[key]
                measure(f"{key}_trained", label + ", after training", url)

        # --- Stop the servers ----------------------------------------------------------------
        for server in servers:
            code = server.stop()
            results.setdefault("exit_codes", {})[server.name] = code
            log(f"{server.name} stopped (SIGTERM), exit code {code}")
            if code not in (0, -signal.SIGTERM):
                log(f"  WARNING: {server.name} exit code {code}; stderr:\n{tail(server.stderr_path)}")

        # --- Report --------------------------------------------------------------------------
        ceiling_rps = ceiling["rps"]
        print()
        print(f"UEBA Workbench REST listener load benchmark — {results['started']}, "
              f"commit {results.get('commit')}, {os.cpu_count()} CPUs")
        print(f"wrk -t{args.threads} -c{args.connections_http} -d{args.duration:g}s "
              f"--timeout={args.timeout:g}s --latency (after {args.warmup:g} s warm-up each); demo "
              f"{args.connections:,} connections over {args.days} days; 1-minute load average "
              f"{results['load_before']} at the start, {' / '.join(str(r['load_after']) for r in rows)} "
              f"after each row")
        print()
        print(markdown_table(rows, ceiling_rps))
        if any(r["timeouts"] for r in rows):
            print()
            print(f"† responses slower than wrk's {args.timeout:g} s timeout count as socket errors "
                  f"and are not in the percentiles (n/a: every response was slower)")
        print()
        for r in rows:
            if "training_throughout" in r:
                during = "" if r["training_throughout"] else "NOT "
                print(f"- {r['label']}: training status {r['training_before']} before and "
                      f"{r['training_after']} after the run, so the training was {during}running "
                      f"during the whole measurement")
        loaded = args.warmup + args.duration
        for run in training.get("runs", []):
            print(f"- training for the {run['for']} row: POST train answered count {run['count']}; "
                  f"it ran {run.get('seconds', '?')} s (under wrk load for the first {loaded:g} s),"
                  f" then training status {run.get('final_status', '?')}")
        print()
        print(f"Targets for GET status: ≥ {fmt_int(TARGET_RPS)} req/s, ≥ {TARGET_RATIO}× ceiling,"
              f" p99 ≤ {TARGET_P99_MS:g} ms, zero errors, also during training:")
        all_ok = True
        checks = {}
        for r in rows:
            if r["key"] in ("status", "status_training"):
                ok, text = check_row(r, ceiling_rps)
                checks[r["key"]] = {"ok": ok, "text": text}
                all_ok &= ok
                print(f"- {r['label']}: {'MET' if ok else 'MISSED'} ({text})")
        listener_errors = sum(r["errors_total"] for r in rows if r["key"] != "ceiling")
        print(f"- errors on every listener row: {listener_errors:,}"
              f" ({'ok' if listener_errors == 0 else 'MISSED'})")
        all_ok &= listener_errors == 0
        print(f"Targets {'MET' if all_ok else 'MISSED'}.")
        results["targets_met"] = all_ok
        results["checks"] = checks
        results["rows"] = [{k: v for k, v in r.items() if k != "raw"} for r in rows]
        if args.json_out:
            args.json_out.write_text(json.dumps(results, indent=2) + "\n")
            log(f"results written to {args.json_out}")
        return 0
    except HarnessError:
        for server in servers:
            if server.proc.poll() is not None and server.exit_code is None:
                log(f"{server.name} exited {server.proc.returncode}; stderr:\n"
                    f"{tail(server.stderr_path)}")
        raise
    finally:
        # A second signal must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for server in servers:
            if server.exit_code is None:
                server.stop()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as e:
        log(f"harness failure: {e}")
        sys.exit(1)
    except Interrupted as e:
        log("interrupted")
        sys.exit(128 + e.signum)
