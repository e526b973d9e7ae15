#!/usr/bin/env python3
"""End-to-end test of the UEBA Workbench desktop window through tauri-driver (W3C WebDriver).

Python standard library only. Run it through tests/e2e/run.sh, which provides Xvfb, tauri-driver
and a fresh data directory. The test:

1. starts the app on a new database and waits for the first-run demo notice and the overview count;
2. opens Connections, clicks Import…, picks the CSV fixture in the native GTK file dialog with
   xdotool (falling back to invoking the same `import_files` command if the dialog cannot be driven);
3. checks that the total grew by exactly the fixture's row count and that filtering by the fixture's
   user shows exactly its rows;
4. runs the UEBA loop: creates a dataset on the Datasets page with the default window (live count
   above 5000), trains it with "activate after training" (progress, then success), checks the loss
   chart and the validation-score histogram with its threshold line, checks that Analysis runs with
   that dataset, sets and saves a threshold, rescores the last 7 days, expands an anomaly on the
   Anomalies page to read its explanation, and checks that deleting the active dataset is refused;
5. drives the REST listener: adds an admin account and an OAuth client in Settings (the client
   secret is shown once), sees a taken port refused with a clear message, starts the listener on a
   free port and reads its URL from the page, gets a token (password grant, client in HTTP Basic)
   and calls the UEBA status endpoint from Python, finds that request with the account as caller on
   the Journal page, stops the listener (a new request then fails to connect), and exports the
   local CA certificate (PEM) through the save dialog once HTTPS is ticked;
6. the response loop on the desktop: triages and closes an alert, finds it in the audit trail, edits
   a policy, opens the Workflows inbox (its runs or its empty state), creates an API token in
   Settings (its secret shown once) and suspends it, and answers a workflow run started through the
   REST listener (a missing justification is refused with the core's reason, then it is approved);
7. the sensor fleet: filters the Sensors page to one host and isolates it, follows the isolation
   live on the Sensor actions page to Succeeded (the sensor then shows isolated), and aborts a long
   restart from the list (its sensor ends Aborted).

Prints `N passed, M failed` last and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import base64
import csv
import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Optional

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    """A WebDriver command failed."""


class Session:
    """A minimal W3C WebDriver client (just what this test needs)."""

    def __init__(self, base: str, capabilities: dict[str, Any], timeout: float = 60.0) -> None:
        self.base = base.rstrip("/")
        value = self._request("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}}, timeout)
        self.id = value["sessionId"]

    def _request(
        self,
        method: str,
        path: str,
        body: Optional[dict[str, Any]] = None,
        timeout: float = 30.0,
        retries: int = 0,
    ) -> Any:
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        for attempt in range(retries + 1):
            req = urllib.request.Request(self.base + path, data=data, method=method)
            req.add_header("Content-Type", "application/json; charset=utf-8")
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    payload = json.loads(resp.read().decode() or "{}")
                return payload.get("value")
            except urllib.error.HTTPError as e:
                detail = e.read().decode(errors="replace")
                raise WebDriverError(f"{method} {path}: HTTP {e.code}: {detail[:500]}") from None
            except (http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError) as e:
                # The driver chain (tauri-driver -> WebKitWebDriver) now and then drops a
                # connection without answering; commands that are safe to repeat are retried.
                if attempt >= retries:
                    raise WebDriverError(f"{method} {path}: {e}") from None
                print(f"     (retrying {method} {path.split('/')[-1] or path} after: {e})", flush=True)
                time.sleep(0.5)
        return None

    def cmd(
        self, method: str, path: str, body: Optional[dict[str, Any]] = None, timeout: float = 30.0, retries: int = 3
    ) -> Any:
        """A session command; repeated on dropped connections unless `retries` is 0."""
        return self._request(method, f"/session/{self.id}{path}", body, timeout, retries)

    def find_all(self, css: str) -> list[str]:
        found = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [e[ELEMENT_KEY] for e in found or []]

    def find(self, css: str) -> Optional[str]:
        found = self.find_all(css)
        return found[0] if found else None

    def click(self, element: str, retry: bool = True) -> None:
        self.cmd("POST", f"/element/{element}/click", retries=3 if retry else 0)

    def text(self, element: str) -> str:
        return str(self.cmd("GET", f"/element/{element}/text") or "")

    def attribute(self, element: str, name: str) -> Optional[str]:
        value = self.cmd("GET", f"/element/{element}/attribute/{name}")
        return None if value is None else str(value)

    def clear(self, element: str) -> None:
        self.cmd("POST", f"/element/{element}/clear")

    def send_keys(self, element: str, text: str) -> None:
        """Types `text` into a field. Typing again after a dropped connection could double it, so
        the field is cleared before each new attempt (the field then holds exactly `text`)."""
        for attempt in range(4):
            try:
                self.cmd("POST", f"/element/{element}/value", {"text": text}, retries=0)
                return
            except WebDriverError as e:
                if "Remote end closed connection" not in str(e) or attempt == 3:
                    raise
                print(f"     (clearing and typing again after: {e})", flush=True)
                time.sleep(0.5)
                self.clear(element)

    def execute(
        self, script: str, args: Optional[list[Any]] = None, timeout: float = 60.0, idempotent: bool = False
    ) -> Any:
        """Runs `script` in the page; repeated on a dropped connection only when running it twice
        does no harm (reads, scrolling, selecting)."""
        retries = 3 if idempotent else 0
        return self.cmd("POST", "/execute/sync", {"script": script, "args": args or []}, timeout, retries=retries)

    def quit(self) -> None:
        try:
            self.cmd("DELETE", "", timeout=10, retries=0)
        except Exception:  # noqa: BLE001 - best effort at shutdown
            pass


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Polls `probe` until it returns a truthy value; raises with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Optional[Exception] = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except WebDriverError as e:  # the element may be re-rendering
            last_error = e
        time.sleep(interval)
    suffix = f" (last error: {last_error})" if last_error else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{suffix}")


class Runner:
    """Runs named steps, records pass/fail, and stops at the first failure (later steps depend on it)."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def step(self, name: str, fn: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001 - report every kind of failure
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
            raise StepFailed(name) from e
        self.passed += 1
        print(f"ok   {name} ({time.monotonic() - started:.1f}s)", flush=True)
        return result


class StepFailed(Exception):
    """A step failed; the remaining steps are skipped."""


def screenshot(artifacts: Path, name: str) -> None:
    """Captures the whole virtual screen (the WebDriver screenshot can lag the DOM)."""
    target = artifacts / f"{name}.png"
    result = subprocess.run(["import", "-window", "root", str(target)], capture_output=True, timeout=30)
    if result.returncode == 0:
        print(f"     screenshot {target}", flush=True)
    else:
        print(f"     screenshot failed: {result.stderr.decode(errors='replace').strip()}", flush=True)


def int_attr(s: Session, css: str, name: str = "data-value") -> Optional[int]:
    element = s.find(css)
    if element is None:
        return None
    value = s.attribute(element, name)
    return int(value) if value not in (None, "") else None


def settled_total(s: Session) -> Optional[int]:
    """The Connections total once no count is in flight."""
    element = s.find('[data-testid="conn-total"]')
    if element is None or s.attribute(element, "data-counting") != "false":
        return None
    value = s.attribute(element, "data-value")
    return int(value) if value else None


def xdotool(*args: str, timeout: float = 15.0) -> str:
    result = subprocess.run(["xdotool", *args], capture_output=True, timeout=timeout, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"xdotool {' '.join(args)} failed: {result.stderr.strip() or result.returncode}")
    return result.stdout.strip()


def pick_file_in_native_dialog(path: Path, title: str) -> None:
    """Types `path` into the open GTK file chooser and confirms it."""
    window = wait_for(
        f"the native file dialog '{title}'",
        lambda: _search_window(title),
        timeout=20,
        interval=0.3,
    )
    time.sleep(0.5)  # let GTK finish mapping the dialog
    xdotool("windowfocus", "--sync", window)
    for attempt in range(3):
        # Ctrl+L opens GTK's location entry; wait until it is there (keys typed while it appears
        # get lost), select whatever it holds and type the absolute path over it.
        xdotool("key", "--window", window, "ctrl+l")
        time.sleep(0.7)
        xdotool("key", "--window", window, "ctrl+a")
        xdotool("type", "--window", window, "--delay", "25", str(path))
        time.sleep(0.6)
        xdotool("key", "--window", window, "Return")
        try:
            # The dialog must go away, otherwise the path was not taken.
            wait_for("the file dialog to close", lambda: not _search_window(title), timeout=5, interval=0.3)
            return
        except AssertionError:
            print(f"     file dialog still open after attempt {attempt + 1}; retrying", flush=True)
            # Dismiss a possible "could not be displayed" message box and refocus the chooser.
            xdotool("key", "Escape")
            time.sleep(0.3)
            if not _search_window(title):
                raise RuntimeError("the file dialog closed without taking the path") from None
            xdotool("windowfocus", "--sync", window)
    raise RuntimeError("the file dialog did not take the path")


def _search_window(title: str) -> Optional[str]:
    result = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], capture_output=True, text=True)
    ids = result.stdout.split()
    return ids[-1] if ids else None


# Requests to the app's REST listener go straight to the loopback address, never through a proxy.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_call(
    method: str, url: str, headers: Optional[dict[str, str]] = None, body: Optional[bytes] = None
) -> tuple[int, Any]:
    """One request to the REST listener: (status, JSON body or text). Raises URLError when it cannot
    connect."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _DIRECT.open(req, timeout=20) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", required=True, help="absolute path of the ueba-workbench-desktop binary")
    parser.add_argument("--driver", default="http://127.0.0.1:4444", help="tauri-driver URL")
    parser.add_argument("--work", required=True, help="fresh temporary directory for this run")
    parser.add_argument("--fixture", required=True, help="CSV file to import")
    parser.add_argument("--artifacts", required=True, help="where screenshots go")
    parser.add_argument("--no-dialog", action="store_true", help="skip the native dialog; invoke the command")
    args = parser.parse_args()

    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    work = Path(args.work)
    # Import a copy with a distinctive name, from a path without surprises for the dialog.
    fixture = work / "fixture" / Path(args.fixture).name
    fixture.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.fixture, fixture)
    with fixture.open(newline="") as f:
        rows = list(csv.DictReader(f))
    fixture_rows = len(rows)
    fixture_user, user_rows = Counter(r["user"] for r in rows).most_common(1)[0]
    db_path = work / "workbench.db"

    runner = Runner()
    session: Optional[Session] = None
    state: dict[str, Any] = {}
    try:
        def start() -> None:
            nonlocal session
            session = Session(
                args.driver,
                {
                    "browserName": "wry",
                    "tauri:options": {"application": args.app, "args": ["--db", str(db_path)]},
                },
            )

        runner.step("start the app on a fresh database", start)
        assert session is not None
        s = session

        def demo_notice() -> None:
            notice = wait_for(
                "the demo-data notice",
                lambda: s.find('[data-testid="demo-notice"]'),
                timeout=180,
                interval=0.5,
            )
            text = s.text(notice)
            assert "demo connections were generated" in text, f"unexpected notice: {text!r}"

        runner.step("first run generates demo data and says so", demo_notice)

        def overview_count() -> None:
            n = wait_for(
                "a non-zero connection count on the overview",
                lambda: int_attr(s, '[data-testid="ov-connections"]'),
                timeout=30,
            )
            state["initial"] = n
            print(f"     overview shows {n} connections", flush=True)
            # Let the chart draw before the screenshot.
            wait_for("the per-day chart", lambda: s.find(".uplot canvas"), timeout=10)
            time.sleep(0.8)
            screenshot(artifacts, "01-overview")

        runner.step("overview shows the connection count", overview_count)

        def open_connections() -> None:
            nav = wait_for("the Connections nav button", lambda: s.find('[data-testid="nav-connections"]'))
            s.click(nav)
            total = wait_for("the Connections total", lambda: settled_total(s), timeout=60)
            assert total == state["initial"], f"Connections total {total} != overview count {state['initial']}"
            wait_for("table rows", lambda: s.find_all('[data-testid="conn-row"]'), timeout=30)

        runner.step("Connections page shows the same total and a page of rows", open_connections)

        def import_fixture() -> None:
            used = "command"
            if not args.no_dialog and shutil.which("xdotool"):
                button = wait_for("the Import button", lambda: s.find('[data-testid="import-button"]'))
                s.click(button, retry=False)  # a repeated click would open a second dialog
                try:
                    pick_file_in_native_dialog(fixture, "Import connection logs")
                    used = "native dialog"
                except Exception as e:  # noqa: BLE001 - fall back below
                    screenshot(artifacts, "native-dialog-failure")
                    print(f"     native dialog could not be driven ({e}); invoking import_files instead", flush=True)
                    subprocess.run(["xdotool", "key", "Escape"], capture_output=True, timeout=10)
            if used == "command":
                reports = s.execute(
                    "return window.__TAURI_INTERNALS__.invoke('import_files',"
                    " {paths: [arguments[0]], options: {format: null, skip_invalid: false}});",
                    [str(fixture)],
                )
                inserted = sum(r["inserted"] for r in reports)
                assert inserted == fixture_rows, f"inserted {inserted}, expected {fixture_rows}"
                # The page did not start this import: re-open it so it reloads.
                s.click(wait_for("Overview nav", lambda: s.find('[data-testid="nav-overview"]')))
                s.click(wait_for("Connections nav", lambda: s.find('[data-testid="nav-connections"]')))
            else:
                inserted = wait_for(
                    "the import result",
                    lambda: int_attr(s, '[data-testid="import-inserted"]'),
                    timeout=60,
                )
                assert inserted == fixture_rows, f"import says {inserted} inserted, expected {fixture_rows}"
            print(f"     imported through the {used}", flush=True)

        runner.step(f"import the {fixture_rows}-row CSV fixture", import_fixture)

        def total_grew() -> None:
            expected = state["initial"] + fixture_rows
            wait_for(
                f"the total to become {expected}",
                lambda: settled_total(s) == expected,
                timeout=30,
            )

        runner.step(f"total grew by exactly {fixture_rows}", total_grew)

        def filter_by_user() -> None:
            field = wait_for("the user filter", lambda: s.find('[data-testid="filter-user"]'))
            s.clear(field)
            s.send_keys(field, fixture_user)
            wait_for(
                f"the total to become {user_rows} for {fixture_user}",
                lambda: settled_total(s) == user_rows,
                timeout=30,
            )

            def rows_shown() -> Optional[list[str]]:
                cells = [s.text(c) for c in s.find_all('[data-testid="cell-user"]')]
                return cells if len(cells) == user_rows and all(c == fixture_user for c in cells) else None

            wait_for(f"exactly {user_rows} rows of {fixture_user} in the table", rows_shown, timeout=15)
            time.sleep(0.5)
            screenshot(artifacts, "02-connections-filtered")

        runner.step(f"filtering by user {fixture_user} shows its {user_rows} rows", filter_by_user)

        # ---- the UEBA loop: dataset -> training -> analysis -> rescore -> anomalies -------------

        def create_dataset() -> None:
            s.click(wait_for("the Datasets nav button", lambda: s.find('[data-testid="nav-datasets"]')))
            s.click(wait_for("the New dataset button", lambda: s.find('[data-testid="ds-new"]')))
            start = wait_for("the default start", lambda: s.attribute(s.find('[data-testid="ds-start"]') or "", "value"))
            end = wait_for("the default end", lambda: s.attribute(s.find('[data-testid="ds-end"]') or "", "value"))

            def live_count() -> Optional[int]:
                element = s.find('[data-testid="ds-live-count"]')
                if element is None or s.attribute(element, "data-counting") != "false":
                    return None
                value = s.attribute(element, "data-value")
                return int(value) if value else None

            count = wait_for("the live connection count", live_count, timeout=30)
            print(f"     default window {start} -> {end} selects {count} connections", flush=True)
            assert count > 5000, f"the live count {count} is not above 5000"
            comment = wait_for("the comment field", lambda: s.find('[data-testid="ds-comment"]'))
            s.send_keys(comment, "e2e baseline")
            time.sleep(0.3)
            screenshot(artifacts, "03-dataset-form")
            s.click(wait_for("the Create button", lambda: s.find('[data-testid="ds-save"]')), retry=False)
            detail = wait_for("the new dataset's detail", lambda: s.find('[data-testid="ds-detail"]'), timeout=20)
            state["dataset"] = s.attribute(detail, "data-id")
            assert state["dataset"], "the detail names no dataset"
            rows = s.find_all('[data-testid="ds-row"]')
            assert any(s.attribute(r, "data-id") == state["dataset"] for r in rows), "the new dataset is not listed"

        runner.step("Datasets: create a dataset with the default window (live count > 5000)", create_dataset)

        def train() -> None:
            checkbox = wait_for("the activate checkbox", lambda: s.find('[data-testid="ds-activate"]'))
            if not s.cmd("GET", f"/element/{checkbox}/selected"):
                s.click(checkbox)
            assert s.cmd("GET", f"/element/{checkbox}/selected"), "activate after training is not checked"
            s.click(wait_for("the Train button", lambda: s.find('[data-testid="ds-train"]')), retry=False)
            seen: dict[str, Any] = {"progress": 0, "shot": False}

            def finished() -> Optional[str]:
                bar = s.find('[data-testid="train-progress"]')
                if bar is not None:
                    seen["progress"] += 1
                    if not seen["shot"] and float(s.attribute(bar, "data-fraction") or 0) > 0:
                        seen["shot"] = True
                        screenshot(artifacts, "04-training-progress")
                outcome = s.find('[data-testid="train-outcome"]')
                if outcome is None or s.attribute(outcome, "data-dataset") != state["dataset"]:
                    return None
                return s.attribute(outcome, "data-status")

            status = wait_for("the training outcome", finished, timeout=600, interval=0.3)
            outcome = s.find('[data-testid="train-outcome"]')
            assert outcome is not None
            text = s.text(outcome)
            events = int(s.attribute(outcome, "data-progress-events") or 0)
            print(f"     {text.strip()} ({events} progress events, progress bar seen {seen['progress']} times)", flush=True)
            assert status == "SUCCESS", f"training ended {status}: {text!r}"
            assert events > 0 or seen["progress"] > 0, "no training progress was shown"

        runner.step("train it with 'activate after training' and see progress and success", train)

        def training_charts() -> None:
            wait_for("the loss chart", lambda: s.find('[data-testid="loss-chart"] canvas'), timeout=20)
            wait_for("the histogram chart", lambda: s.find('[data-testid="histogram-chart"] canvas'), timeout=20)
            configs = s.find_all('[data-testid="ds-config"]')
            assert configs, "no feature config results shown"
            points = int(s.attribute(s.find('[data-testid="loss-chart"]') or "", "data-points") or 0)
            assert points > 0, "the loss chart has no points"
            cut = s.attribute(s.find('[data-testid="histogram-chart"]') or "", "data-cut")
            assert cut not in (None, ""), "the histogram has no threshold line"
            row = f'[data-testid="ds-row"][data-id="{state["dataset"]}"]'

            def trained_badge() -> bool:
                badge = s.find(f'{row} [data-testid="ds-status"]')
                return badge is not None and s.attribute(badge, "data-status") == "SUCCESS"

            wait_for("the Trained badge in the list", trained_badge, timeout=15)
            assert s.find(f'{row} [data-testid="ds-active"]'), "the trained dataset is not marked active"
            print(f"     {len(configs)} feature configs, {points} loss points, threshold line at raw {cut}", flush=True)
            s.execute(
                "document.querySelector('[data-testid=\"ds-config\"]').scrollIntoView({block: 'start'});",
                idempotent=True,
            )
            time.sleep(0.8)
            screenshot(artifacts, "05-dataset-trained")

        runner.step("loss chart, score histogram and threshold line are drawn", training_charts)

        def analysis_running() -> None:
            s.click(wait_for("the Analysis nav button", lambda: s.find('[data-testid="nav-analysis"]')))

            def running() -> Optional[str]:
                element = s.find('[data-testid="an-state"]')
                if element is None or s.attribute(element, "data-status") != "RUNNING":
                    return None
                return s.attribute(element, "data-dataset")

            dataset = wait_for("analysis to say RUNNING", running, timeout=20)
            assert dataset == state["dataset"], f"analysis runs with {dataset}, expected {state['dataset']}"
            text = s.text(s.find('[data-testid="an-state"]') or "")
            assert "Running" in text and "e2e baseline" in text, f"unexpected state text {text!r}"

        runner.step("Analysis says running with the trained dataset", analysis_running)

        def set_threshold() -> None:
            field = wait_for("the threshold field", lambda: s.find('[data-testid="an-threshold-number"]'))
            current = float(s.attribute(field, "value") or 0)
            target = "0.6" if abs(current - 0.6) > 1e-9 else "0.5"
            s.clear(field)
            s.send_keys(field, target)
            slider = s.find('[data-testid="an-threshold"]')
            assert slider is not None
            wait_for(f"the slider to follow to {target}", lambda: float(s.attribute(slider, "value") or -1) == float(target))
            rate = float(s.attribute(s.find('[data-testid="an-rate"]') or "", "data-value") or 0)
            expected = 10 ** (-3 + 2 * float(target))
            assert abs(rate - expected) < 1e-9, f"expected flag rate {rate} != {expected}"
            preview = wait_for(
                "the flag preview",
                lambda: s.text(s.find('[data-testid="an-preview"]') or "")
                if s.attribute(s.find('[data-testid="an-preview"]') or "", "data-value")
                else None,
                timeout=60,
            )
            print(f"     threshold {target}: {preview.strip()}", flush=True)
            s.click(wait_for("the Save button", lambda: s.find('[data-testid="an-save"]')))
            saved = wait_for("the saved message", lambda: s.find('[data-testid="an-saved"]'), timeout=15)
            assert target in s.text(saved), f"unexpected save message {s.text(saved)!r}"

        runner.step("set the threshold (live rate and preview) and save", set_threshold)

        def rescore() -> None:
            days = s.find('[data-testid="an-days"]')
            assert days is not None and s.attribute(days, "value") == "7", "the rescore range is not 7 days"
            button = wait_for("the Rescore button", lambda: s.find('[data-testid="an-rescore"]'))
            assert "7 days" in s.text(button), f"unexpected button {s.text(button)!r}"
            s.click(button, retry=False)
            report = wait_for("the rescore report", lambda: s.find('[data-testid="an-rescore-report"]'), timeout=300)
            anomalies = int(s.attribute(report, "data-anomalies") or 0)
            print(f"     {s.text(report).strip()}", flush=True)
            assert anomalies > 0, "the rescore found no anomalies"
            state["anomalies"] = anomalies
            time.sleep(0.5)
            screenshot(artifacts, "06-analysis")

        runner.step("rescore the last 7 days", rescore)

        def anomalies() -> None:
            s.click(wait_for("the Anomalies nav button", lambda: s.find('[data-testid="nav-anomalies"]')))
            rows = wait_for("anomaly rows", lambda: s.find_all('[data-testid="anomaly-row"]'), timeout=30)
            print(f"     {len(rows)} anomaly rows shown", flush=True)
            expander = s.find('[data-testid="anomaly-expand"]')
            assert expander is not None
            s.click(expander, retry=False)
            sentences = wait_for(
                "an explanation sentence",
                lambda: [t for t in (s.text(e) for e in s.find_all('[data-testid="anomaly-explanation"]')) if t.strip()],
                timeout=15,
            )
            scores = s.find_all('[data-testid="anomaly-feature-scores"] li')
            assert scores, "no per-feature-config scores shown"
            print(f"     first explanation: {sentences[0]!r}", flush=True)
            time.sleep(0.5)
            screenshot(artifacts, "07-anomalies")

        runner.step("Anomalies lists rows; expanding one shows its explanation", anomalies)

        close_note = "e2e: known maintenance window, not an attack"

        def alerts_listed() -> None:
            s.click(wait_for("the Alerts nav button", lambda: s.find('[data-testid="nav-alerts"]')))
            rows = wait_for("alert rows", lambda: s.find_all('[data-testid="alert-row"]'), timeout=30)
            statuses = {s.attribute(r, "data-status") for r in rows}
            assert statuses <= {"OPEN", "IN_PROGRESS"}, f"the default view shows statuses {statuses}"
            total = int_attr(s, '[data-testid="alert-total"]')
            assert total is not None and total > 0, f"alert total {total!r}"
            print(f"     {total} open alerts (rescore flagged {state.get('anomalies')} anomalies)", flush=True)
            state["alert"] = s.attribute(rows[0], "data-id")
            assert state["alert"], "the first alert row has no id"

        runner.step("Alerts lists the open alerts raised from the anomalies", alerts_listed)

        def close_alert() -> None:
            uuid = state["alert"]
            row = f'[data-testid="alert-row"][data-id="{uuid}"]'
            s.click(wait_for("the alert row's open button", lambda: s.find(f"{row} button.link")))  # safe to repeat
            wait_for("the alert's details", lambda: s.find(f'[data-testid="alert-detail"][data-id="{uuid}"]'), timeout=15)
            description = s.text(wait_for("the description", lambda: s.find('[data-testid="alert-description"]')))
            assert description.strip(), "the alert has no description"
            picked = s.execute(
                """
                const select = document.querySelector('[data-testid="al-close-reason"]');
                const option = [...select.options].find((o) => o.textContent.trim() === arguments[0]);
                if (!option) return false;
                option.selected = true;
                select.dispatchEvent(new Event('change', { bubbles: true }));
                return true;
                """,
                ["FALSE_POSITIVE"],
                idempotent=True,
            )
            assert picked, "FALSE_POSITIVE is not offered as a closing reason"
            s.send_keys(wait_for("the closing note", lambda: s.find('[data-testid="al-close-note"]')), close_note)
            button = wait_for("an enabled Close button", lambda: s.find('[data-testid="al-close"]:not([disabled])'), timeout=10)
            s.click(button, retry=False)
            wait_for(
                "the alert to show CLOSED",
                lambda: s.find(f'[data-testid="alert-detail"][data-id="{uuid}"][data-status="CLOSED"]'),
                timeout=15,
            )
            incident = s.text(wait_for("the incident status", lambda: s.find('[data-testid="alert-detail-incident"]')))
            assert incident.strip() == "False positive", f"incident status shown as {incident!r}"

            def closed_item() -> Optional[str]:
                for item in s.find_all('[data-testid="alert-history-item"][data-type="CLOSE_WITH_REASON"]'):
                    text = s.text(item)
                    if close_note in text and "FALSE_POSITIVE" in text:
                        return text
                return None

            item = wait_for("the close in the history", closed_item, timeout=15)
            print(f"     history: {' '.join(item.split())}", flush=True)
            # The default (open) list no longer holds it.
            wait_for("the closed alert to leave the open list", lambda: s.find(row) is None, timeout=15)
            time.sleep(0.3)
            screenshot(artifacts, "07b-alert-closed")

        runner.step("close an alert as FALSE_POSITIVE with a note; it shows CLOSED with the history", close_alert)

        def stale_view() -> None:
            uuid = state["alert"]
            # Someone else (here: the same command, without the update_time guard) adds a note.
            s.execute(
                "return window.__TAURI_INTERNALS__.invoke('investigate_alert', {uuid: arguments[0], request: "
                "{account_name: '', actor_uuid: '', alert_uuid: arguments[0], alert_update_time: 0, "
                "action: {action_type: 0, note: {card_id: '', note_text: 'note from elsewhere'}}}});",
                [uuid],
            )
            s.click(wait_for("the Reopen button", lambda: s.find('[data-testid="al-set-open"]')), retry=False)
            message = s.text(wait_for("the conflict message", lambda: s.find('[data-testid="alert-conflict"]'), timeout=15))
            assert "changed" in message, f"unexpected conflict message {message!r}"
            wait_for(
                "the other note in the refreshed history",
                lambda: any("note from elsewhere" in s.text(i) for i in s.find_all('[data-testid="alert-history-item"]')),
                timeout=15,
            )
            assert s.find(f'[data-testid="alert-detail"][data-id="{uuid}"][data-status="CLOSED"]'), "the refused reopen changed the alert"
            print(f"     {' '.join(message.split())[:160]}", flush=True)

        runner.step("a stale view's action is refused with a clear conflict message and refreshed", stale_view)

        def audit_event() -> None:
            uuid = state["alert"]
            s.click(wait_for("the Audit nav button", lambda: s.find('[data-testid="nav-audit"]')))
            row_css = f'[data-testid="audit-row"][data-object="{uuid}"][data-op="alert.investigate"][data-door="desktop"]'
            rows = wait_for("the alert's investigation events", lambda: s.find_all(row_css), timeout=20)
            assert len(rows) == 2, f"{len(rows)} investigation events for the alert (expected the close and the note)"
            object_filter = wait_for("the object filter", lambda: s.find('[data-testid="au-filter-object"]'))
            s.send_keys(object_filter, uuid)

            def only_object() -> bool:
                found = s.find_all('[data-testid="audit-row"]')
                return bool(found) and all(s.attribute(r, "data-object") == uuid for r in found)

            wait_for("only the alert's events", only_object, timeout=15)
            # Newest first: the close is the older of the two investigation events.
            close_row = s.find_all(row_css)[-1]
            s.click(s.find_all(f"{row_css} button.link")[-1])  # selecting is safe to repeat
            wait_for("the row to be selected", lambda: "selected" in (s.attribute(close_row, "class") or ""), timeout=10)
            wait_for("the before/after JSON", lambda: s.find('[data-testid="audit-before"]') and s.find('[data-testid="audit-after"]'))
            texts = s.execute(
                "return ['audit-before', 'audit-after'].map((t) => document.querySelector(`[data-testid=\"${t}\"]`).textContent);",
                idempotent=True,
            )
            before, after = (json.loads(t) for t in texts)
            assert before.get("status") != 3 and after.get("status") == 3, f"status {before.get('status')} -> {after.get('status')}"
            assert after.get("incident_status") == 3, f"incident_status {after.get('incident_status')} (FALSE_POSITIVE is 3)"
            print(f"     alert.investigate via desktop: status {before.get('status')} -> 3, incident_status 3", flush=True)
            time.sleep(1.0)
            screenshot(artifacts, "07c-audit")

        runner.step("Audit shows the desktop alert.investigate event with before/after", audit_event)

        def policy_editor() -> None:
            def click(what: str, css: str) -> None:
                try:
                    element = wait_for(what, lambda: s.find(css), timeout=15)
                    s.execute("arguments[0].scrollIntoView({block: 'center'});", [{ELEMENT_KEY: element}], idempotent=True)
                    s.click(element, retry=False)
                except Exception as e:  # noqa: BLE001 - say which element
                    raise AssertionError(f"clicking {what}: {e}") from e

            s.click(wait_for("the Policies nav button", lambda: s.find('[data-testid="nav-policies"]')))
            wait_for("the policy list", lambda: s.find('[data-testid="policy-table"]'))
            click("the New policy button", '[data-testid="pol-new"]')
            s.send_keys(wait_for("the name field", lambda: s.find('[data-testid="pol-name"]')), "e2e critical alerts")
            click("+ clause", '[data-testid="pol-session_filter-include_any-add"]')
            clause_css = '[data-testid="pol-session_filter-include_any-0"]'
            s.send_keys(wait_for("the first clause", lambda: s.find(clause_css)), "usr:alice")
            click("the test button", '[data-testid="pol-preview"]')
            error = s.text(wait_for("the filter error next to the form", lambda: s.find('[data-testid="pol-session_filter-error"]'), timeout=15))
            assert "usr:alice" in error and "include_any[0]" in error, f"the error does not name the term: {error!r}"
            print(f"     {error}", flush=True)
            clause = s.find(clause_css) or ""
            s.clear(clause)
            s.send_keys(clause, "severity:>=5")
            click("the test button", '[data-testid="pol-preview"]')
            result = wait_for("the preview result", lambda: s.find('[data-testid="pol-preview-result"]'), timeout=30)
            count = int(s.attribute(result, "data-count") or 0)
            assert count > 0, "no past CRITICAL alert matches severity:>=5"
            print(f"     {' '.join(s.text(result).split())[:120]}", flush=True)
            click("the Create button", '[data-testid="pol-save"]:not([disabled])')
            wait_for("the saved message", lambda: s.find('[data-testid="pol-saved"]'), timeout=15)
            row = wait_for("the policy in the list", lambda: s.find('[data-testid="policy-row"]'), timeout=15)
            cells = [s.text(c) for c in s.find_all('[data-testid="policy-row"] td')]
            assert cells[:5] == ["e2e critical alerts", "ACTIVE", "100", "ALERT_ONLY", "RESPONSE"], f"listed as {cells}"
            assert row
            # An update sends only the changed field.
            priority = wait_for("the priority field", lambda: s.find('[data-testid="pol-priority"]'))
            s.clear(priority)
            s.send_keys(priority, "50")
            click("the Save button", '[data-testid="pol-save"]:not([disabled])')
            saved = s.text(wait_for("the saved message", lambda: s.find('[data-testid="pol-saved"]'), timeout=15))
            assert saved.strip() == "Saved priority.", f"unexpected {saved!r}"
            time.sleep(1.0)
            screenshot(artifacts, "07d-policies")

        runner.step("Policies: a bad term is named next to the form; test, create, then update one field", policy_editor)

        def workflow_inbox() -> None:
            s.click(wait_for("the Workflows nav button", lambda: s.find('[data-testid="nav-workflows"]')))
            wait_for("the runs loaded", lambda: int_attr(s, '[data-testid="wf-total"]') is not None, timeout=20)
            rows = s.find_all('[data-testid="wf-row"]')
            if rows:
                statuses = {s.attribute(r, "data-status") for r in rows}
                assert statuses <= {"CREATED", "PENDING"}, f"the inbox shows statuses {statuses}"
                print(f"     {len(rows)} runs waiting for an answer", flush=True)
            else:
                empty = s.text(wait_for("the empty state", lambda: s.find('[data-testid="wf-empty"]')))
                assert "No workflow runs are waiting for an answer" in empty, f"unexpected empty state {empty!r}"
                print(f"     {' '.join(empty.split())[:120]}", flush=True)
            detail = s.text(s.find('[data-testid="wf-detail"]') or "")
            assert "Select a run" in detail, f"unexpected detail panel {detail!r}"
            time.sleep(0.3)
            screenshot(artifacts, "07e-workflows")

        runner.step("Workflows: the inbox renders (runs waiting for an answer, or its empty state)", workflow_inbox)

        # ---- sensors and their actions -----------------------------------------------------------

        def press(what: str, css: str, timeout: float = 15, idempotent: bool = False) -> None:
            """Clicks the element `css` (found afresh each attempt) scrolled into view; a click the
            page refused as not interactable (mid re-render) never happened, so it is tried again.
            An idempotent click (navigation, saving the same values, abort) is also sent again
            when the WebDriver connection drops."""
            for attempt in range(4):
                element = wait_for(what, lambda: s.find(css), timeout=timeout)
                try:
                    s.execute("arguments[0].scrollIntoView({block: 'center'});", [{ELEMENT_KEY: element}], idempotent=True)
                    s.click(element, retry=idempotent)
                    return
                except WebDriverError as e:
                    if "not interactable" not in str(e) and "stale element" not in str(e) or attempt == 3:
                        raise AssertionError(f"clicking {what}: {e}") from e
                    time.sleep(0.5)

        def pick_option(testid: str, text: str) -> None:
            picked = s.execute(
                """
                const select = document.querySelector(`[data-testid="${arguments[0]}"]`);
                const option = [...select.options].find((o) => o.textContent.trim() === arguments[1]);
                if (!option) return false;
                option.selected = true;
                select.dispatchEvent(new Event('change', { bubbles: true }));
                return true;
                """,
                [testid, text],
                idempotent=True,
            )
            assert picked, f"{text} is not offered in {testid}"

        def select_sensor(name: str) -> None:
            search = wait_for("the sensor search", lambda: s.find('[data-testid="sensor-search"]'))
            s.clear(search)
            s.send_keys(search, name)
            row = f'[data-testid="sensor-row"][data-name="{name}"]'
            wait_for(f"the row of {name}", lambda: s.find(f'{row} [data-testid="sensor-select"]'), timeout=15)
            names = s.execute(
                "return [...document.querySelectorAll('[data-testid=\"sensor-row\"]')].map((r) => r.dataset.name);",
                [],
                idempotent=True,
            )
            assert all(name.lower() in (n or "").lower() for n in names), f"the filter shows {names}"
            press(f"the checkbox of {name}", f'{row} [data-testid="sensor-select"]')
            wait_for("the selection", lambda: int_attr(s, '[data-testid="sensor-selected"]') == 1, timeout=10)

        def sensors_isolate() -> None:
            press("the Sensors nav button", '[data-testid="nav-sensors"]', idempotent=True)
            total = wait_for("the sensors", lambda: int_attr(s, '[data-testid="sensor-total"]'), timeout=20)
            assert total and total > 0, f"sensor total {total!r}"
            first = wait_for("a sensor row", lambda: s.find('[data-testid="sensor-row"]'), timeout=15)
            name = s.attribute(first, "data-name") or ""
            state["sensor"] = name
            select_sensor(name)
            press("the Isolate button", '[data-testid="sensor-isolate"]:not([disabled])')
            text = s.text(wait_for("the started notice", lambda: s.find('[data-testid="sensor-started"]'), timeout=15))
            assert "Isolate started as batch" in text, f"unexpected notice {text!r}"
            print(f"     {total} sensors; {' '.join(text.split())[:120]}", flush=True)
            screenshot(artifacts, "07f-sensors")

        runner.step("Sensors: every host has a sensor; filter, select one and isolate it", sensors_isolate)

        def actions_live() -> None:
            press("the Sensor actions nav button", '[data-testid="nav-actions"]', idempotent=True)
            row = '[data-testid="action-row"][data-type="Isolate"]'
            wait_for("the isolation in the list", lambda: s.find(row), timeout=15)
            wait_for("the isolation to finish (live)", lambda: s.find(f'{row}[data-outcome="done"]'), timeout=40, interval=0.5)
            assert s.find(f'{row} [data-testid="action-state"][data-state="Succeeded"]'), "the isolation did not succeed"
            press("the Sensors nav button", '[data-testid="nav-sensors"]', idempotent=True)
            name = state["sensor"]
            search = wait_for("the sensor search", lambda: s.find('[data-testid="sensor-search"]'))
            s.clear(search)
            s.send_keys(search, name)
            wait_for(f"{name} shown isolated", lambda: s.find(f'[data-testid="sensor-row"][data-name="{name}"][data-isolated="true"]'), timeout=15)

        runner.step("Sensor actions: the isolation runs live to Succeeded and the sensor shows isolated", actions_live)

        def abort_action() -> None:
            press("the Sensor actions nav button", '[data-testid="nav-actions"]', idempotent=True)
            pending = wait_for("the timeline form", lambda: s.find('[data-testid="tl-pending"]'), timeout=15)
            s.clear(pending)
            s.send_keys(pending, "600000")
            press("the timeline's Save button", '[data-testid="tl-save"]', idempotent=True)
            wait_for("the timeline saved", lambda: s.find('[data-testid="tl-saved"]'), timeout=10)
            press("the Sensors nav button", '[data-testid="nav-sensors"]', idempotent=True)
            select_sensor(state["sensor"])
            pick_option("sensor-action", "Restart")
            press("the Run button", '[data-testid="sensor-run"]:not([disabled])')
            wait_for("the started notice", lambda: "Restart started" in s.text(s.find('[data-testid="sensor-started"]') or ""), timeout=15)
            press("the Sensor actions nav button", '[data-testid="nav-actions"]', idempotent=True)
            row = '[data-testid="action-row"][data-type="Restart"]'
            press("the Abort button", f'{row}[data-outcome="running"] [data-testid="action-abort"]', idempotent=True)
            wait_for("the restart aborted", lambda: s.find(f'{row}[data-outcome="aborted"]'), timeout=15)
            assert s.find(f'{row} [data-testid="action-state"][data-state="Aborted"]'), "no sensor ended Aborted"
            # Back to a quick timeline for the rest of the run.
            pending = wait_for("the timeline form", lambda: s.find('[data-testid="tl-pending"]'))
            s.clear(pending)
            s.send_keys(pending, "0")
            press("the timeline's Save button", '[data-testid="tl-save"]', idempotent=True)
            time.sleep(0.3)
            screenshot(artifacts, "07g-sensor-actions")

        runner.step("Sensor actions: a long restart is aborted from the list; its sensor ends Aborted", abort_action)

        def delete_refused() -> None:
            s.click(wait_for("the Datasets nav button", lambda: s.find('[data-testid="nav-datasets"]')))
            row = f'[data-testid="ds-row"][data-id="{state["dataset"]}"]'
            s.click(wait_for("the dataset row", lambda: s.find(f'{row} [data-testid="ds-open"]'), timeout=15))
            s.click(wait_for("the Delete button", lambda: s.find('[data-testid="ds-delete"]')))
            s.click(wait_for("the delete confirmation", lambda: s.find('[data-testid="ds-delete-confirm"]')), retry=False)
            error = wait_for("the refusal", lambda: s.find('[data-testid="ds-delete-error"]'), timeout=15)
            text = s.text(error)
            assert "active" in text, f"unexpected refusal {text!r}"
            assert s.find(row), "the active dataset disappeared from the list"
            print(f"     {text.strip()}", flush=True)

        runner.step("deleting the active dataset is refused with the reason", delete_refused)

        # ---- the REST listener: accounts, OAuth client, start, token, call, journal, stop ----------

        account, account_password = "e2e-admin", "e2e-password-1"

        def add_account() -> None:
            s.click(wait_for("the Settings nav button", lambda: s.find('[data-testid="nav-settings"]')))
            name = wait_for("the account name field", lambda: s.find('[data-testid="account-name"]'))
            s.send_keys(name, account)
            s.click(wait_for("the admin role", lambda: s.find('[data-testid="account-role"] option[value="admin"]')))
            role = s.find('[data-testid="account-role"]')
            assert role is not None and s.cmd("GET", f"/element/{role}/property/value") == "admin", "admin not chosen"
            # Two different passwords are refused before anything is stored.
            s.send_keys(s.find('[data-testid="account-password"]') or "", account_password)
            s.send_keys(s.find('[data-testid="account-password2"]') or "", account_password + "x")
            s.click(s.find('[data-testid="account-add"]') or "", retry=False)
            refused = wait_for("the mismatch error", lambda: s.find('[data-testid="account-error"]'), timeout=10)
            assert "differ" in s.text(refused), f"unexpected error {s.text(refused)!r}"
            again = s.find('[data-testid="account-password2"]') or ""
            s.clear(again)
            s.send_keys(again, account_password)
            s.click(s.find('[data-testid="account-add"]') or "", retry=False)
            row = wait_for(
                f"the account row of {account}",
                lambda: s.find(f'[data-testid="account-row"][data-name="{account}"]'),
                timeout=20,
            )
            assert "admin" in s.text(row), f"unexpected account row {s.text(row)!r}"
            assert s.find('[data-testid="account-error"]') is None, "an error is still shown"

        runner.step("Settings: add an admin account (mismatched passwords refused first)", add_account)

        def add_client() -> None:
            name = wait_for("the client name field", lambda: s.find('[data-testid="client-name"]'))
            s.send_keys(name, "e2e-client")
            s.click(wait_for("the Add client button", lambda: s.find('[data-testid="client-add"]')), retry=False)
            box = wait_for("the secret box", lambda: s.find('[data-testid="client-secret-box"]'), timeout=20)
            assert "shown only now" in s.text(box), f"the box does not say the secret is shown once: {s.text(box)!r}"
            id_field = s.find('[data-testid="client-new-id"]')
            secret_field = s.find('[data-testid="client-new-secret"]')
            assert id_field is not None and secret_field is not None, "the box has no id or secret field"
            client_id = s.cmd("GET", f"/element/{id_field}/property/value")
            secret = s.cmd("GET", f"/element/{secret_field}/property/value")
            assert client_id and secret, "the box shows no client id or secret"
            state["client_id"], state["client_secret"] = str(client_id), str(secret)
            assert s.find(f'[data-testid="client-row"][data-id="{client_id}"]'), "the client is not listed"
            s.execute(
                "document.querySelector('[data-testid=\"client-secret-box\"]').scrollIntoView({block: 'center'});",
                idempotent=True,
            )
            time.sleep(0.5)
            screenshot(artifacts, "08-accounts-and-client")
            s.click(wait_for("the dismiss button", lambda: s.find('[data-testid="client-secret-dismiss"]')), retry=False)
            wait_for("the secret box to go", lambda: s.find('[data-testid="client-secret-box"]') is None, timeout=10)
            # Once dismissed, the secret is nowhere on the page, not even after reopening it.
            s.click(wait_for("Overview nav", lambda: s.find('[data-testid="nav-overview"]')))
            s.click(wait_for("Settings nav", lambda: s.find('[data-testid="nav-settings"]')))
            wait_for("the client row again", lambda: s.find(f'[data-testid="client-row"][data-id="{client_id}"]'), timeout=15)
            shown = s.execute(
                "return document.documentElement.outerHTML.includes(arguments[0]);", [state["client_secret"]], idempotent=True
            )
            assert shown is False, "the client secret is still on the page"
            assert s.find('[data-testid="client-secret-box"]') is None, "the secret box came back"

        runner.step("Settings: add an OAuth client; its secret is shown once", add_client)

        token_name = "e2e-token"

        def api_token() -> None:
            row_css = f'[data-testid="token-row"][data-name="{token_name}"]'
            field = wait_for("the token name field", lambda: s.find('[data-testid="token-name"]'))
            s.execute("arguments[0].scrollIntoView({block: 'center'});", [{ELEMENT_KEY: field}], idempotent=True)
            s.send_keys(field, token_name)
            picked = s.execute(
                """
                const select = document.querySelector('[data-testid="token-role"]');
                const option = [...select.options].find((o) => o.textContent.trim().startsWith(arguments[0] + ' '));
                if (!option) return false;
                option.selected = true;
                select.dispatchEvent(new Event('change', { bubbles: true }));
                return true;
                """,
                ["ANALYST"],
                idempotent=True,
            )
            assert picked, "ANALYST is not offered as a token role"
            s.send_keys(wait_for("the lifetime field", lambda: s.find('[data-testid="token-ttl"]')), "2")
            expires = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * 86400))
            s.click(wait_for("the Create token button", lambda: s.find('[data-testid="token-create"]')), retry=False)
            box = wait_for("the token secret box", lambda: s.find('[data-testid="token-secret-box"]'), timeout=20)
            text = s.text(box)
            assert "shown only now" in text and "not be shown again" in text, f"the box does not warn: {text!r}"
            secret_field = s.find('[data-testid="token-new-secret"]')
            assert secret_field is not None, "the box has no secret field"
            secret = str(s.cmd("GET", f"/element/{secret_field}/property/value") or "")
            assert len(secret) >= 20, f"the box shows no secret: {secret!r}"
            assert s.find('[data-testid="token-copy-secret"]'), "no copy button next to the secret"
            row = wait_for("the token in the list", lambda: s.find(f'{row_css}[data-status="ACTIVE"]'), timeout=15)
            cells = s.text(row)
            assert "ANALYST" in cells and expires in cells, f"unexpected token row {cells!r} (expected ANALYST, {expires})"
            s.execute(
                "document.querySelector('[data-testid=\"token-secret-box\"]').scrollIntoView({block: 'center'});",
                idempotent=True,
            )
            time.sleep(0.5)
            screenshot(artifacts, "08b-api-token")
            s.click(wait_for("the dismiss button", lambda: s.find('[data-testid="token-secret-dismiss"]')), retry=False)
            wait_for("the token secret box to go", lambda: s.find('[data-testid="token-secret-box"]') is None, timeout=10)
            shown = s.execute("return document.documentElement.outerHTML.includes(arguments[0]);", [secret], idempotent=True)
            assert shown is False, "the token secret is still on the page"
            # Suspending revokes it; the row then offers Activate.
            s.click(wait_for("the Suspend button", lambda: s.find(f'{row_css} [data-testid="token-suspend"]')), retry=False)
            suspended = wait_for("the token to show SUSPENDED", lambda: s.find(f'{row_css}[data-status="SUSPENDED"]'), timeout=15)
            status = s.text(s.find(f'{row_css} [data-testid="token-status"]') or "")
            assert status.strip() == "SUSPENDED", f"status shown as {status!r}"
            assert s.find(f'{row_css} [data-testid="token-activate"]'), "a suspended token offers no Activate"
            print(f"     {' '.join(s.text(suspended).split())}", flush=True)

        runner.step("Settings: create an API token (secret shown once), then suspend it", api_token)

        def set_port(port: int) -> None:
            field = wait_for("the port field", lambda: s.find('[data-testid="listener-port"]'))
            s.clear(field)
            s.send_keys(field, str(port))

        def taken_port() -> None:
            with socket.socket() as squatter:
                squatter.bind(("127.0.0.1", 0))
                squatter.listen(1)
                port = int(squatter.getsockname()[1])
                set_port(port)
                toggle = wait_for("the Start button", lambda: s.find('[data-testid="listener-toggle"][data-running="false"]'))
                s.click(toggle, retry=False)
                error = wait_for("the start error", lambda: s.find('[data-testid="listener-error"]'), timeout=20)
                text = s.text(error)
                assert "already in use" in text and str(port) in text, f"unexpected error {text!r}"
                status = s.find('[data-testid="listener-status"]')
                assert status is not None and s.attribute(status, "data-running") == "false", "the listener says it runs"
                print(f"     {text.strip()}", flush=True)

        runner.step("Settings: a taken port is refused with a clear message", taken_port)

        def start_listener() -> None:
            port = free_port()
            set_port(port)
            s.click(wait_for("the Start button", lambda: s.find('[data-testid="listener-toggle"][data-running="false"]')), retry=False)
            status = wait_for(
                "the listener to run",
                lambda: s.find('[data-testid="listener-status"][data-running="true"]'),
                timeout=30,
            )
            url = s.text(wait_for("the URL", lambda: s.find('[data-testid="listener-url"]'))).strip()
            assert url == s.attribute(status, "data-url"), f"shown URL {url!r} differs from {s.attribute(status, 'data-url')!r}"
            assert url == f"http://127.0.0.1:{port}", f"unexpected URL {url!r} for port {port}"
            addresses = s.text(s.find('[data-testid="listener-addresses"]') or "")
            assert f"127.0.0.1:{port}" in addresses, f"unexpected addresses {addresses!r}"
            assert s.find('[data-testid="listener-error"]') is None, "the old start error is still shown"
            state["url"] = url
            print(f"     running at {url} ({addresses.split('·')[0].strip()})", flush=True)
            time.sleep(0.3)
            screenshot(artifacts, "09-listener-running")

        runner.step("Settings: start the listener on a free port and read its URL", start_listener)

        def call_api() -> None:
            url = state["url"]
            basic = base64.b64encode(f"{state['client_id']}:{state['client_secret']}".encode()).decode()
            form = urllib.parse.urlencode(
                {"grant_type": "password", "username": account, "password": account_password}
            ).encode()
            status, token = http_call(
                "POST",
                f"{url}/auth/api/v1/oauth/token",
                {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
                form,
            )
            assert status == 200 and isinstance(token, dict), f"token request answered {status}: {token!r}"
            assert token.get("scope") == "admin", f"unexpected scope {token.get('scope')!r}"
            status, body = http_call(
                "GET",
                f"{url}/connection-manager/api/v1/ueba/status",
                {"Authorization": f"Bearer {token['access_token']}"},
            )
            assert status == 200, f"ueba/status answered {status}: {body!r}"
            state["access_token"] = token["access_token"]
            print(f"     ueba/status: {json.dumps(body)[:160]}", flush=True)

        runner.step("REST: password-grant token, then GET ueba/status answers 200", call_api)

        def start_workflow_run() -> None:
            url, bearer = state["url"], {"Authorization": f"Bearer {state['access_token']}", "Content-Type": "application/json"}
            alerts = s.execute(
                "return window.__TAURI_INTERNALS__.invoke('query_alerts', {filter: {start_time: null, end_time: null,"
                " statuses: [], user: null, limit: 1, offset: null}});",
                idempotent=True,
            )
            assert alerts, "no open alert to start a workflow run on"
            alert = alerts[0]["uuid"]
            status, workflow = http_call(
                "POST",
                f"{url}/api/v1/workflows",
                bearer,
                json.dumps({"name": "e2e approval", "justification_required": True}).encode(),
            )
            assert status == 201 and isinstance(workflow, dict), f"creating the workflow answered {status}: {workflow!r}"
            status, run = http_call(
                "POST",
                f"{url}/api/v1/workflow_runs",
                bearer,
                json.dumps({"workflow_run": {"workflow_uuid": workflow["uuid"], "details": {"alert_uuid": alert}}}).encode(),
            )
            assert status == 200 and isinstance(run, dict), f"starting the run answered {status}: {run!r}"
            assert run.get("status") == 2, f"the new run has status {run.get('status')} (PENDING is 2)"
            state["run"], state["run_alert"] = run["uuid"], alert
            print(f"     run {run['uuid']} of workflow {workflow['uuid']} on alert {alert}", flush=True)

        runner.step("REST: create a workflow that needs a justification and start a run on an open alert", start_workflow_run)

        def answer_workflow_run() -> None:
            run = state["run"]
            row_css = f'[data-testid="wf-row"][data-id="{run}"]'
            s.click(wait_for("the Workflows nav button", lambda: s.find('[data-testid="nav-workflows"]')))
            wait_for("the pending run in the inbox", lambda: s.find(f'{row_css}[data-status="PENDING"]'), timeout=20)
            s.click(wait_for("the run's open button", lambda: s.find(f"{row_css} button.link")))  # selecting is safe to repeat
            wait_for("the run's details", lambda: s.find(f'[data-testid="wf-detail"][data-id="{run}"]'), timeout=15)
            alert = s.text(wait_for("the run's alert", lambda: s.find('[data-testid="wf-alert"]')))
            assert alert.strip() == state["run_alert"], f"the run shows alert {alert!r}"
            expires = s.text(s.find('[data-testid="wf-expires"]') or "")
            assert "UTC (in " in expires, f"unexpected expiry {expires!r}"
            answers = [s.text(e).strip() for e in s.find_all('label.choice strong')]
            assert answers == ["Approve", "Deny", "Unsure"], f"answers offered: {answers}"
            s.click(wait_for("the Approve answer", lambda: s.find('[data-testid="wf-answer-0"]')))  # safe to repeat
            # Without the justification the workflow requires, the core refuses and says why (a
            # refused answer changes nothing, so the click is safe to repeat).
            s.click(wait_for("an enabled Submit button", lambda: s.find('[data-testid="wf-answer-submit"]:not([disabled])')))
            error = s.text(wait_for("the refusal next to the form", lambda: s.find('[data-testid="wf-answer-error"]'), timeout=15))
            assert "justification" in error, f"unexpected refusal {error!r}"
            assert s.find(f'[data-testid="wf-detail"][data-id="{run}"][data-status="PENDING"]'), "the refused answer changed the run"
            print(f"     refused: {error.strip()}", flush=True)
            s.send_keys(wait_for("the justification field", lambda: s.find('[data-testid="wf-justification"]')), "e2e: checked with the user")
            success_css = f'[data-testid="wf-detail"][data-id="{run}"][data-status="SUCCESS"]'
            submit_css = '[data-testid="wf-answer-submit"]:not([disabled])'
            try:
                s.click(wait_for("an enabled Submit button", lambda: s.find(submit_css)), retry=False)
            except WebDriverError as e:
                if "Remote end closed connection" not in str(e):
                    raise
                # The click may have landed: an answered run hides the form, so click again only
                # while the run still waits.
                target = wait_for(
                    "the answer, or the form ready again",
                    lambda: "answered" if s.find(success_css) else s.find(submit_css),
                    timeout=15,
                )
                if target != "answered":
                    print(f"     (submitting again after: {e})", flush=True)
                    s.click(target, retry=False)
            wait_for("the run to show SUCCESS", lambda: s.find(success_css), timeout=15)
            done = s.text(wait_for("the outcome message", lambda: s.find('[data-testid="wf-answer-done"]')))
            assert "Approve" in done and "SUCCESS" in done, f"unexpected outcome message {done!r}"
            wait_for("the answered run to leave the inbox", lambda: s.find(row_css) is None, timeout=15)
            s.click(wait_for("the show-all toggle", lambda: s.find('[data-testid="wf-show-all"]')), retry=False)
            wait_for("the run listed as SUCCESS", lambda: s.find(f'{row_css}[data-status="SUCCESS"]'), timeout=15)
            print(f"     {done.strip()}", flush=True)
            time.sleep(0.5)
            screenshot(artifacts, "09b-workflow-answered")

        runner.step("Workflows: a missing justification is refused with the reason, then the run is approved", answer_workflow_run)

        def journal() -> None:
            s.click(wait_for("the Journal nav button", lambda: s.find('[data-testid="nav-journal"]')))
            line = wait_for("the listener line saying it runs", lambda: s.find('[data-testid="journal-listener"][data-running="true"]'))
            assert line
            row_css = (
                '[data-testid="journal-row"][data-path="/connection-manager/api/v1/ueba/status"]'
                f'[data-caller="{account}"][data-status="200"]'
            )
            row = wait_for("the status request in the journal (auto-refreshed)", lambda: s.find(row_css), timeout=30, interval=0.5)
            token_row = s.find('[data-testid="journal-row"][data-path="/auth/api/v1/oauth/token"]')
            assert token_row is not None, "the token request is not listed"
            print(f"     {' | '.join(s.text(c) for c in s.find_all(row_css + ' td'))}", flush=True)
            chart = wait_for("the journal chart", lambda: s.find('[data-testid="journal-chart"] canvas'), timeout=15)
            assert chart
            requests = int(s.attribute(s.find('[data-testid="journal-chart"]') or "", "data-requests") or 0)
            assert requests >= 2, f"the chart counts {requests} requests"
            # Filtering by caller keeps the account's request and only the account's.
            caller = s.find('[data-testid="journal-filter-caller"]')
            assert caller is not None
            s.send_keys(caller, account)

            def only_account() -> bool:
                rows = s.find_all('[data-testid="journal-row"]')
                return bool(rows) and all(s.attribute(r, "data-caller") == account for r in rows) and s.find(row_css) is not None

            wait_for("only the account's requests", only_account, timeout=15)
            time.sleep(0.5)
            screenshot(artifacts, "10-journal")

        runner.step("Journal lists that request with the account as caller", journal)

        def stop_listener() -> None:
            s.click(wait_for("the Settings nav button", lambda: s.find('[data-testid="nav-settings"]')))
            toggle = wait_for("the Stop button", lambda: s.find('[data-testid="listener-toggle"][data-running="true"]'), timeout=15)
            s.click(toggle, retry=False)
            wait_for(
                "the listener to stop",
                lambda: s.find('[data-testid="listener-status"][data-running="false"]'),
                timeout=30,
            )
            try:
                status, _ = http_call("GET", f"{state['url']}/connection-manager/api/v1/ueba/status")
            except (urllib.error.URLError, ConnectionError) as e:
                print(f"     a new request fails: {getattr(e, 'reason', e)}", flush=True)
                return
            raise AssertionError(f"the stopped listener still answered {status}")

        runner.step("Settings: stop the listener; a new request fails to connect", stop_listener)

        def export_ca() -> None:
            button = wait_for("the Export CA button", lambda: s.find('[data-testid="listener-export-ca"]'))
            assert s.attribute(button, "disabled") is not None, "Export CA is offered without HTTPS"
            tls = wait_for("the HTTPS checkbox", lambda: s.find('[data-testid="listener-tls"]'))
            s.click(tls)
            wait_for("Export CA to be enabled", lambda: s.attribute(button, "disabled") is None, timeout=10)
            target = work / "exported-ca.pem"
            used = "command"
            if not args.no_dialog and shutil.which("xdotool"):
                s.click(button, retry=False)
                try:
                    pick_file_in_native_dialog(target, "Export the local CA certificate")
                    wait_for("the export message", lambda: s.find('[data-testid="listener-ca-result"]'), timeout=20)
                    used = "native dialog"
                except Exception as e:  # noqa: BLE001 - fall back below
                    screenshot(artifacts, "native-save-dialog-failure")
                    print(f"     native dialog could not be driven ({e}); invoking export_ca instead", flush=True)
                    subprocess.run(["xdotool", "key", "Escape"], capture_output=True, timeout=10)
            if used == "command":
                s.execute("return window.__TAURI_INTERNALS__.invoke('export_ca', {path: arguments[0]});", [str(target)])
            pem = wait_for("the exported file", lambda: target.exists() and target.read_text(), timeout=10)
            assert pem.startswith("-----BEGIN CERTIFICATE-----"), f"not a PEM certificate: {pem[:60]!r}"
            assert "PRIVATE KEY" not in pem, "the export holds a private key"
            s.click(tls)  # back to plain HTTP, as the other steps left it
            print(f"     CA certificate written through the {used}: {target.stat().st_size} bytes", flush=True)

        runner.step("Settings: with HTTPS ticked, Export CA certificate writes the CA PEM", export_ca)
    except StepFailed:
        if session is not None:
            screenshot(artifacts, "failure")
    finally:
        if session is not None:
            session.quit()

    print(f"{runner.passed} passed, {runner.failed} failed", flush=True)
    return 0 if runner.failed == 0 and runner.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
