"""Conformance suite of the Cybereason surface: every `cybereason` row of spec/routes.tsv, the
form login and its session cookie, the sensor fleet and its query, the sensor action state
machine, isolation, abort, the seed's shape of Retrieve Sensor Actions (spec/cybereason/
schemas.json), the anomaly → policy → isolate → isolated path through the REST API, and the
`cybereason` client from PyPI (0.6.3) logging in and reading sensors and actions.

Without a valid session every /rest/ route (and logout) is sent to the login page with a 302,
as the vendor's server does; other refusals are JSON `{"status": "FAILURE", "message"}`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from support import CM, ROOT, WB, Env, Route, cli, expect, json_of, load_routes, poll

ROUTES = load_routes("cybereason")
SPEC = ROOT / "spec" / "cybereason"
SCHEMAS = json.loads((SPEC / "schemas.json").read_text())["$defs"]
HERE = Path(__file__).resolve().parent

# Roles (PrivX scopes of the fixture accounts) allowed to read the fleet, and to act on it.
READERS = ("admin", "user", "connectionsView", "service")
ACTORS = ("admin", "user")

# A concrete value for each path parameter of the route table.
UNKNOWN_BATCH = "123456789"


def fill(path: str, action: str = "restart", batch: str = UNKNOWN_BATCH) -> str:
    return path.replace("{action}", action).replace("{batchId}", batch)


def contract_errors(instance: Any, name: str = "SensorAction") -> list[str]:
    validator = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": SCHEMAS})
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(instance)]


class Cr:
    """Logged-in sessions of the main listener, one per account role."""

    def __init__(self, env: Env):
        self.env = env
        self.base = env.api.base
        self._sessions: dict[str, requests.Session] = {}

    def new_session(self, role: str = "admin") -> requests.Session:
        s = plain()
        account = self.env.accounts[role]
        r = s.post(self.base + "/login.html", data={"username": account.name, "password": account.password},
                   allow_redirects=False, timeout=60)
        assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
        assert "JSESSIONID" in s.cookies, r.headers
        return s

    def session(self, role: str = "admin") -> requests.Session:
        if role not in self._sessions:
            self._sessions[role] = self.new_session(role)
        return self._sessions[role]

    def call(self, method: str, path: str, role: str = "admin", body: Any = None,
             session: requests.Session | None = None) -> requests.Response:
        s = session or self.session(role)
        return s.request(method, self.base + path, json=body, allow_redirects=False, timeout=60,
                         headers={"Content-Type": "application/json"})

    def sensors(self, filters: list | None = None, **query) -> dict:
        body = {"limit": 10_000, "offset": 0, "filters": filters or [], **query}
        return json_of(expect(self.call("POST", "/rest/sensors/query", body=body), 200))

    def sensor(self, name: str) -> dict:
        found = self.sensors([{"fieldName": "machineName", "operator": "Equals", "values": [name]}])["sensors"]
        assert len(found) == 1, found
        return found[0]

    def actions(self) -> list[dict]:
        return json_of(expect(self.call("GET", "/rest/sensors/allActions"), 200))

    def act(self, action: str, body: dict, status: int = 200) -> dict | None:
        r = expect(self.call("POST", f"/rest/sensors/action/{action}", body=body), status)
        return json_of(r) if status == 200 else None

    def timeline(self, pending_ms: int, progress_ms: int, timeout_ms: int = 0) -> None:
        cli(self.env.db, "sensors", "timeline", "--pending-ms", str(pending_ms), "--progress-ms",
            str(progress_ms), "--jitter-ms", "0", "--timeout-ms", str(timeout_ms))

    def hosts(self) -> list[str]:
        with sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30) as c:
            return [r[0] for r in c.execute("SELECT DISTINCT target_host FROM connections")]


@pytest.fixture(scope="module")
def cr(main: Env) -> Cr:
    return Cr(main)


def plain() -> requests.Session:
    """A client with no session, and no proxy from the environment (the listener is local)."""
    s = requests.Session()
    s.trust_env = False
    return s


def expect_failure(resp: requests.Response, status: int) -> str:
    """`status` with the surface's error body; its message."""
    body = json_of(expect(resp, status))
    assert body.get("status") == "FAILURE" and isinstance(body.get("message"), str) and body["message"], body
    return body["message"]


def route(op_id: str) -> Route:
    return next(r for r in ROUTES if r.id == op_id)


# --------------------------------------------------------------------------------------------
# Every route: served, documented, refused without a session
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("r", ROUTES, ids=[r.id for r in ROUTES])
def test_route_is_documented(main: Env, r: Route):
    doc = json_of(expect(main.api.get("/openapi.json"), 200))
    op = doc["paths"].get(r.path, {}).get(r.method.lower())
    assert op is not None, f"{r.method} {r.path} is not in /openapi.json"
    assert str(r.success_status) in op["responses"], op["responses"].keys()


SESSION_ROUTES = [r for r in ROUTES if r.auth == "session"]


@pytest.mark.parametrize("r", SESSION_ROUTES, ids=[r.id for r in SESSION_ROUTES])
def test_without_a_session_the_login_page(cr: Cr, main: Env, r: Route):
    """No cookie, a made-up one, or a PrivX Bearer token as the cookie: a redirect to the login
    page, and nothing happens."""
    before = len(cr.actions())
    for cookies in ({}, {"JSESSIONID": "made-up"}, {"JSESSIONID": main.admin}):
        body = {} if r.method == "POST" else None
        resp = plain().request(r.method, cr.base + fill(r.path), json=body, cookies=cookies,
                               allow_redirects=False, timeout=60)
        assert resp.status_code == 302, (cookies.keys(), resp.status_code, resp.text[:200])
        assert "/login.html" in resp.headers["Location"]
    assert len(cr.actions()) == before


@pytest.mark.parametrize("r", [r for r in ROUTES if r.auth == "session" and r.path.startswith("/rest/")],
                         ids=[r.id for r in ROUTES if r.auth == "session" and r.path.startswith("/rest/")])
def test_forbidden_roles(cr: Cr, r: Route):
    """A role that may not make the call: 403 in the surface's shape; allowed roles pass."""
    changing = r.method == "POST" and r.path != "/rest/sensors/query" or "abort" in r.path
    allowed = ACTORS if changing else READERS
    for role in ("admin", "user", "connectionsView", "connectionsManage", "service"):
        body = {"sensorsIds": ["no-such-sensor"]} if "action" in r.path else (
            {"pylumIds": ["no-such-sensor"]} if "commands" in r.path else {})
        resp = cr.call(r.method, fill(r.path), role, body=body if r.method == "POST" else None)
        if role in allowed:
            assert resp.status_code != 403, (role, resp.text[:200])
        else:
            assert "role" in expect_failure(resp, 403)


# --------------------------------------------------------------------------------------------
# Login and logout
# --------------------------------------------------------------------------------------------


def test_login_sets_a_session_cookie_and_logout_ends_it(cr: Cr):
    s = cr.new_session("user")
    cookie = next(c for c in s.cookies if c.name == "JSESSIONID")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    expect(cr.call("GET", "/rest/sensors/allActions", session=s), 200)
    out = s.get(cr.base + "/logout", allow_redirects=False, timeout=60)
    assert out.status_code == 200, out.text[:200]
    # The old cookie no longer works, even sent again by hand.
    again = plain().get(cr.base + "/rest/sensors/allActions", cookies={"JSESSIONID": cookie.value},
                        allow_redirects=False, timeout=60)
    assert again.status_code == 302


@pytest.mark.parametrize("form", [
    {"username": "alice", "password": "wrong"},
    {"username": "nobody", "password": "pw"},
    {"username": "alice"},
    {},
], ids=["wrong-password", "unknown-account", "no-password", "empty"])
def test_failed_login_redirects_to_an_error_url(cr: Cr, form: dict):
    """As the vendor's server: the client sees a final URL containing `error`, and no session."""
    s = plain()
    resp = s.post(cr.base + "/login.html", data=form, timeout=60)
    assert "error" in resp.url and resp.status_code == 200, (resp.url, resp.status_code)
    assert "JSESSIONID" not in s.cookies


# --------------------------------------------------------------------------------------------
# The fleet and the sensor query
# --------------------------------------------------------------------------------------------


def test_every_target_host_has_a_sensor(cr: Cr):
    found = cr.sensors()
    names = sorted(s["machineName"] for s in found["sensors"])
    assert names == sorted(cr.hosts())
    assert found["totalResults"] == len(names) and found["hasMoreResults"] is False
    for s in found["sensors"]:
        assert s["sensorId"].endswith(":" + s["pylumId"]) and s["guid"] and s["fqdn"]
        assert s["osType"] in ("WINDOWS", "LINUX", "UNKNOWN")
        assert s["status"] in ("Online", "Offline", "Archived")
        assert isinstance(s["isolated"], bool) and isinstance(s["disconnected"], bool)


def test_query_pages_sorting_and_filters(cr: Cr):
    every = cr.sensors()["sensors"]
    # `offset` is a page number, as the vendor's clients count it: pages do not overlap.
    seen = []
    page = 0
    while True:
        got = cr.sensors(limit=7, offset=page)
        seen += [s["sensorId"] for s in got["sensors"]]
        if not got["hasMoreResults"]:
            break
        page += 1
    assert seen == [s["sensorId"] for s in every]
    desc = cr.sensors(sortingFieldName="machineName", sortDirection="DESC")["sensors"]
    assert [s["machineName"] for s in desc] == sorted((s["machineName"] for s in every),
                                                      key=str.lower, reverse=True)
    linux = cr.sensors([{"fieldName": "osType", "operator": "Equals", "values": ["LINUX"]}])
    assert linux["totalResults"] == sum(s["osType"] == "LINUX" for s in every)
    part = every[0]["machineName"][:3].upper()
    contains = cr.sensors([{"fieldName": "machineName", "operator": "ContainsIgnoreCase", "values": [part]},
                           {"fieldName": "status", "operator": "NotEquals", "values": ["Archived"]}])
    assert contains["sensors"] and all(part in s["machineName"].upper() and s["status"] != "Archived"
                                       for s in contains["sensors"])


@pytest.mark.parametrize("body,named", [
    ({"filters": [{"fieldName": "colour", "operator": "Equals", "values": ["x"]}]}, "filters[0].fieldName"),
    ({"filters": [{"fieldName": "status", "operator": "Resembles", "values": ["x"]}]}, "filters[0].operator"),
    ({"filters": [{"fieldName": "status", "operator": "Equals", "values": []}]}, "filters[0].values"),
    ({"sortingFieldName": "colour"}, "sortingFieldName"),
    ({"sortDirection": "UP"}, "sortDirection"),
    ({"limit": 0}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"colour": "blue"}, "colour"),
], ids=["field", "operator", "values", "sort-field", "sort-direction", "zero-limit", "limit-type", "unknown"])
def test_bad_queries_are_refused_by_name(cr: Cr, body: dict, named: str):
    assert named in expect_failure(cr.call("POST", "/rest/sensors/query", body=body), 400)


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------


def test_action_lifecycle_in_the_seed_shape(cr: Cr, main: Env):
    """An action answers, and is listed in Retrieve Sensor Actions, exactly in the seed's shape;
    its counters move from Pending to Succeeded on the configured timeline, and the sensor's
    actionsInProgress follows."""
    name = cr.hosts()[0]
    sensor = cr.sensor(name)
    cr.timeline(pending_ms=700, progress_ms=700)
    action = cr.act("restart", {"sensorsIds": [sensor["pylumId"]]})
    assert not contract_errors(action), contract_errors(action)
    assert action["actionType"] == "Restart" and action["finalState"] is False
    assert action["globalStats"]["stats"]["Pending"] == 1 and action["totalNumberOfProbes"] == 1
    assert action["initiatorUser"] == main.accounts["admin"].name
    assert abs(action["startTime"] - int(dt.datetime.now().timestamp() * 1000)) < 60_000
    assert cr.sensor(name)["actionsInProgress"] >= 1

    def listed():
        found = [a for a in cr.actions() if a["batchId"] == action["batchId"]]
        assert len(found) == 1
        return found[0] if found[0]["finalState"] else None

    done = poll(listed, timeout=20, interval=0.2, what="the restart to finish")
    assert not contract_errors(done), contract_errors(done)
    assert done["globalStats"]["stats"]["Succeeded"] == 1
    assert sum(done["globalStats"]["stats"].values()) == 1
    assert cr.sensor(name)["actionsInProgress"] == 0
    for a in cr.actions():
        assert not contract_errors(a), (a["batchId"], contract_errors(a))


def test_actions_change_the_fleet(cr: Cr):
    cr.timeline(0, 0)
    name = cr.hosts()[1]
    s = cr.sensor(name)
    # `sensorIds` (the seed's archive sample) works like `sensorsIds`.
    archived = cr.act("archive", {"sensorIds": [s["sensorId"]], "argument": "decommissioned"})
    assert archived["actionArguments"] == ["decommissioned"]
    after = cr.sensor(name)
    assert (after["status"], after["archiveReason"]) == ("Archived", "decommissioned")
    # Archived: what needs the sensor ends NotSupported.
    assert cr.act("restart", {"sensorsIds": [s["pylumId"]]})["globalStats"]["stats"]["NotSupported"] == 1
    cr.act("unarchive", {"filters": [{"fieldName": "machineName", "operator": "Equals", "values": [name]}]})
    assert cr.sensor(name)["status"] == "Online"
    cr.act("setPreventionMode", {"sensorsIds": [s["pylumId"]], "argument": "ENABLE"})
    cr.act("upgrade", {"sensorsIds": [s["pylumId"]]})
    again = cr.act("upgrade", {"sensorsIds": [s["pylumId"]]})
    assert again["globalStats"]["stats"]["AlreadyUpdated"] == 1
    changed = cr.sensor(name)
    assert changed["preventionStatus"] == "ENABLED" and changed["lastUpgradeResult"] == "AlreadyUpdated"
    assert changed["version"] != s["version"]
    # A disconnected sensor times out.
    cli(cr.env.db, "sensors", "disconnect", name)
    timed_out = cr.act("fetchLogs", {"sensorsIds": [s["pylumId"], "no-such-sensor"]})
    assert timed_out["globalStats"]["stats"]["Timeout"] == 1
    assert timed_out["globalStats"]["stats"]["UnknownProbe"] == 1
    cli(cr.env.db, "sensors", "disconnect", name, "--connected")


def test_no_sensor_selected_is_204(cr: Cr):
    before = len(cr.actions())
    cr.act("restart", {"sensorsIds": ["no-such-sensor"]}, status=204)
    cr.act("restart", {"filters": [{"fieldName": "machineName", "operator": "Equals", "values": ["nowhere"]}]},
           status=204)
    assert len(cr.actions()) == before


@pytest.mark.parametrize("action,body,named", [
    ("explode", {"sensorsIds": ["x"]}, "action"),
    ("isolate", {"sensorsIds": ["x"]}, "action"),
    ("setPreventionMode", {"sensorsIds": ["x"], "argument": "MAYBE"}, "argument"),
    ("addToGroup", {"sensorsIds": ["x"]}, "argument"),
    ("restart", {"sensorsIds": ["x"], "argument": 5}, "argument"),
    ("restart", {}, "sensorsIds"),
    ("restart", {"sensorsIds": ["x"], "filters": [{"fieldName": "status", "operator": "Equals",
                                                   "values": ["Online"]}]}, "sensorsIds"),
    ("restart", {"sensorsIds": "x"}, "sensorsIds"),
    ("restart", {"sensorsIds": ["x"], "colour": 1}, "colour"),
], ids=["unknown", "isolation-path", "bad-argument", "missing-argument", "argument-type", "no-sensors",
        "ids-and-filters", "ids-type", "unknown-field"])
def test_bad_actions_are_refused_by_name(cr: Cr, action: str, body: dict, named: str):
    before = len(cr.actions())
    assert named in expect_failure(cr.call("POST", f"/rest/sensors/action/{action}", body=body), 400)
    assert len(cr.actions()) == before


def test_isolate_and_unisolate(cr: Cr):
    cr.timeline(0, 0)
    name = cr.hosts()[2]
    s = cr.sensor(name)
    answer = json_of(expect(cr.call("POST", "/rest/monitor/global/commands/isolate",
                                    body={"pylumIds": [s["pylumId"], "ghost"]}), 200))
    assert answer == {s["pylumId"]: "Succeeded", "ghost": "UnknownProbe"}
    assert cr.sensor(name)["isolated"] is True
    assert cr.actions()[0]["actionType"] == "Isolate"
    expect(cr.call("POST", "/rest/monitor/global/commands/un-isolate", body={"pylumIds": [s["pylumId"]]}), 200)
    assert cr.sensor(name)["isolated"] is False
    expect(cr.call("POST", "/rest/monitor/global/commands/isolate", body={"pylumIds": ["ghost"]}), 204)
    assert "pylumIds" in expect_failure(cr.call("POST", "/rest/monitor/global/commands/isolate", body={}), 400)


def test_abort_at_each_stage(cr: Cr, main: Env):
    name = cr.hosts()[3]
    s = cr.sensor(name)

    def isolate() -> dict:
        expect(cr.call("POST", "/rest/monitor/global/commands/isolate", body={"pylumIds": [s["pylumId"]]}), 200)
        return cr.actions()[0]

    for pending, progress, stage in ((3_600_000, 0, "Pending"), (0, 3_600_000, "InProgress")):
        cr.timeline(pending, progress)
        running = isolate()
        assert running["globalStats"]["stats"][stage] == 1, running
        aborted = json_of(expect(cr.call("GET", f"/rest/sensors/abort/{running['batchId']}"), 200))
        assert not contract_errors(aborted)
        assert aborted["finalState"] and aborted["globalStats"]["stats"]["Aborted"] == 1
        assert aborted["aborterUser"] == main.accounts["admin"].name
        assert aborted["abortTime"] > 0 and aborted["abortHttpStatusCode"] == 200
        assert cr.sensor(name)["isolated"] is False and cr.sensor(name)["actionsInProgress"] == 0
        # Idempotent: aborting again answers the same.
        assert json_of(expect(cr.call("GET", f"/rest/sensors/abort/{running['batchId']}"), 200)) == aborted
    # A finished action: nothing to abort.
    cr.timeline(0, 0)
    done = isolate()
    unchanged = json_of(expect(cr.call("GET", f"/rest/sensors/abort/{done['batchId']}"), 200))
    assert unchanged["aborterUser"] is None and unchanged["globalStats"]["stats"]["Succeeded"] == 1
    expect(cr.call("POST", "/rest/monitor/global/commands/un-isolate", body={"pylumIds": [s["pylumId"]]}), 200)
    for bad in (UNKNOWN_BATCH, "not-a-number"):
        assert "UNKNOWN BATCH" in expect_failure(cr.call("GET", f"/rest/sensors/abort/{bad}"), 400)


def test_every_change_is_one_audit_event(cr: Cr, main: Env):
    cr.timeline(3_600_000, 0)
    s = cr.sensor(cr.hosts()[4])
    start = int(dt.datetime.now().timestamp() * 1000) - 1
    action = cr.act("restart", {"sensorsIds": [s["pylumId"]]})
    expect(cr.call("GET", f"/rest/sensors/abort/{action['batchId']}"), 200)
    events = json_of(expect(main.api.get("/api/v1/audit_events", main.admin, params={
        "start_time": str(start), "end_time": str(start + 3_600_000)}), 200))["audit_events"]
    mine = [e for e in events if e["object_uuid"] == str(action["batchId"])]
    assert sorted(e["op"] for e in mine) == ["sensor_action.abort", "sensor_action.start"], mine
    assert all(e["user_login"] == main.accounts["admin"].name and e["protocol"] == "rest" for e in mine)
    cr.timeline(0, 0)


# --------------------------------------------------------------------------------------------
# Anomaly → policy → isolate → isolated, through the REST API
# --------------------------------------------------------------------------------------------


def test_an_anomaly_on_a_host_isolates_its_sensor(cr: Cr, main: Env, trained):
    """An ISOLATE_DEVICE policy for a host, an unusual connection to it while analysis runs: the
    alert's response isolates the host's sensor, and the alert's history names the action."""
    api, admin = main.api, main.admin
    cr.timeline(0, 0)
    host = f"cr-vault-{uuid.uuid4().hex[:6]}"
    policy = json_of(expect(api.post("/api/v1/policies", admin, json_body={
        "name": f"isolate {host}", "action": 4, "status": 2, "type": 1, "priority": 1,
        "session_filter": {"include_any": [{"all": [f"host:{host}"]}], "exclude_any": []}}), 201))
    expect(api.post(f"{CM}/start-analyzing/{trained.dataset_id}", admin), 200)
    try:
        day = dt.datetime.now(dt.timezone.utc).replace(hour=3, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
        rows = [{
            "id": f"cr-unusual-{host}-{i}",
            "connected": (day + dt.timedelta(minutes=9 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "disconnected": (day + dt.timedelta(minutes=9 * i, hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "user": "mallory.cybereason", "user_roles": ["contractor"], "type": "RDP",
            "target_host": host, "target_host_address": "10.66.0.9", "target_host_account": "root",
            "remote_address": f"203.0.113.{40 + i}", "bytes_in": 9_000_000_000, "bytes_out": 14_000_000_000,
            "status": "DISCONNECTED", "authentication_method": "password",
        } for i in range(6)]
        report = json_of(expect(api.post(f"{WB}/connections", admin, json_body=rows), 200))
        assert report["inserted"] == 6, report

        def isolated():
            found = cr.sensors([{"fieldName": "machineName", "operator": "Equals", "values": [host]}])["sensors"]
            return found[0] if found and found[0]["isolated"] else None

        sensor = poll(isolated, timeout=20, interval=0.25, what=f"the sensor of {host} isolated")
        assert sensor["osType"] == "WINDOWS"
        isolations = [a for a in cr.actions() if a["actionType"] == "Isolate"
                      and a["initiatorUser"] == "engine"]
        assert isolations, "no Isolate action started by the engine"
        alerts = json_of(expect(api.get("/api/v1/alerts", admin, params={
            "start_time": str(int(day.timestamp() * 1000)), "end_time": str(int(day.timestamp() * 1000) + 86_400_000),
            "status_filter": "OPEN,IN_PROGRESS,CLOSED"}), 200))["alerts"]
        mine = [a for a in alerts if host in a["related_entities"]["devices"]]
        assert mine and all(a["policy_action_taken"] == 4 for a in mine), mine
        history = json_of(expect(api.get(f"/api/v1/alerts/{mine[0]['uuid']}/investigation_actions", admin),
                                 200))["investigation_actions"]
        notes = " ".join(h["action"]["note"]["note_text"] for h in history if h["action"].get("note"))
        assert "sensor action" in notes, notes
    finally:
        expect(api.post(f"{CM}/stop-analyzing", admin), 200)
        expect(api.request("PUT", f"/api/v1/policies/{policy['uuid']}", admin,
                           json_body={"policy": {"status": 3}}), 200)


# --------------------------------------------------------------------------------------------
# The `cybereason` client from PyPI
# --------------------------------------------------------------------------------------------

CLIENT_VENV = HERE / ".venv-cybereason"
CLIENT_REQUIREMENTS = HERE / "cybereason-client.txt"


def client_python() -> Path:
    """The virtualenv with the pinned `cybereason` client (made on first use)."""
    python = CLIENT_VENV / "bin" / "python"
    stamp = CLIENT_VENV / ".requirements"
    want = CLIENT_REQUIREMENTS.read_text()
    if not python.exists() or not stamp.exists() or stamp.read_text() != want:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CLIENT_VENV)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL")}
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-input", "-r", str(CLIENT_REQUIREMENTS)], check=True, env=env, timeout=600)
        stamp.write_text(want)
    return python


def test_the_pypi_client_logs_in_and_reads_sensors_and_actions(cr: Cr, main: Env):
    cr.timeline(0, 0)
    s = cr.sensor(cr.hosts()[5])
    started = cr.act("restart", {"sensorsIds": [s["pylumId"]]})
    account = main.accounts["connectionsView"]
    done = subprocess.run(
        [str(client_python()), str(HERE / "cybereason_client_check.py"), cr.base, account.name, account.password],
        capture_output=True, text=True, timeout=300, env={**os.environ, "NO_PROXY": "*"})
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout)
    # Every sensor, each once, as the query answers them.
    assert sorted(x["sensorId"] for x in seen["sensors"]) == sorted(x["sensorId"] for x in cr.sensors()["sensors"])
    assert any(a["batchId"] == started["batchId"] and a["actionType"] == "Restart" for a in seen["actions"])
    assert seen["bad_login"] == "AuthenticationError"
