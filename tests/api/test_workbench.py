"""The workbench's own endpoints (`/workbench/api/v1/...`), `/openapi.json`, and HTTP behaviour
shared by every route."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest

from support import (CM, WB, Env, expect, expect_privx_error, json_of, poll)

USER = "wb.conformance"


def _rows(prefix: str, user: str, n: int, day: str = "2026-01-10", **extra) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append({
            "id": f"{prefix}-{i}",
            "connected": f"{day}T0{i % 10}:1{i % 6}:00Z",
            "disconnected": f"{day}T0{i % 10}:5{i % 6}:00Z",
            "user": user,
            "type": "SSH" if i % 2 == 0 else "RDP",
            "target_host": f"wb-host-{i % 2}",
            "target_host_account": "ops",
            "remote_address": f"192.0.2.{10 + i}",
            "bytes_in": 1000 + i,
            "bytes_out": 2000 + i,
            **extra,
        })
    return rows


def _count(env: Env) -> int:
    return json_of(expect(env.api.post(f"{CM}/query-connection-count", env.admin, json_body={}), 200))["count"]


def _list(env: Env, token: str | None = None, **params) -> dict:
    return json_of(expect(env.api.get(f"{WB}/connections", token or env.admin, params=params), 200))


@pytest.fixture(scope="module")
def ingested(main: Env) -> dict:
    """Five connections of one user: three as a JSON array, two as NDJSON."""
    before = _count(main)
    array = _rows("wb-array", USER, 3)
    r = main.api.post(f"{WB}/connections", main.admin, json_body=array)
    report_array = json_of(expect(r, 200))
    ndjson_rows = _rows("wb-ndjson", USER, 2, day="2026-01-11")
    body = "".join(json.dumps(row) + "\n" for row in ndjson_rows)
    r = main.api.post(f"{WB}/connections", main.admin, data=body.encode(),
                      headers={"Content-Type": "application/x-ndjson"})
    report_ndjson = json_of(expect(r, 200))
    return {"before": before, "array": report_array, "ndjson": report_ndjson,
            "ids": [row["id"] for row in array + ndjson_rows]}


def test_ingest_json_array_and_ndjson(main: Env, ingested: dict):
    assert ingested["array"]["inserted"] == 3 and ingested["array"]["invalid"] == 0, ingested["array"]
    assert ingested["array"]["format"] == "json"
    assert ingested["ndjson"]["inserted"] == 2 and ingested["ndjson"]["format"] == "jsonl", ingested["ndjson"]
    # Stored and counted.
    assert _count(main) >= ingested["before"] + 5
    page = _list(main, user=USER, limit="100")
    assert sorted(r["id"] for r in page["rows"]) == sorted(ingested["ids"])
    stored = {r["id"]: r for r in page["rows"]}
    row = stored["wb-array-1"]
    assert row["user"] == USER and row["type"] == "RDP" and row["target_host"] == "wb-host-1"
    assert row["remote_address"] == "192.0.2.11" and row["bytes_out"] == 2001
    assert row["duration"] == pytest.approx(40 * 60)


def test_ingest_is_idempotent_by_id(main: Env, ingested: dict):
    before = _count(main)
    again = json_of(expect(main.api.post(f"{WB}/connections", main.admin, json_body=_rows("wb-array", USER, 3)), 200))
    assert again["inserted"] == 0 and again["duplicates"] == 3, again
    assert _count(main) == before


def test_ingest_invalid_row_stores_nothing(main: Env):
    before = _count(main)
    user = "wb.invalid"
    rows = _rows("wb-invalid", user, 3)
    rows[1]["remote_address"] = "not-an-ip"
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    r = main.api.post(f"{WB}/connections", main.admin, data=body, headers={"Content-Type": "application/x-ndjson"})
    error = expect_privx_error(r, 400, "INVALID_REQUEST_DATA")
    assert error["details"], error
    detail = error["details"][0]
    assert detail["property"] == "remote_address", detail
    assert "line 2" in detail["error_message"], detail
    assert _count(main) == before, "nothing may be stored when a row is invalid"
    assert _list(main, user=user)["rows"] == []

    # In a JSON array: a missing required field, named by field.
    rows = _rows("wb-invalid-array", user, 2)
    del rows[1]["user"]
    error = expect_privx_error(main.api.post(f"{WB}/connections", main.admin, json_body=rows), 400,
                               "INVALID_REQUEST_DATA")
    assert error["details"][0]["property"] == "user", error
    assert _count(main) == before

    # skip_invalid=true stores the valid rows and reports the others by line and field.
    rows = _rows("wb-skip", user, 2)
    rows[1]["connected"] = "not a time"
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    r = main.api.post(f"{WB}/connections", main.admin, data=body, params={"skip_invalid": "true"},
                      headers={"Content-Type": "application/x-ndjson"})
    report = json_of(expect(r, 200))
    assert report["inserted"] == 1 and report["invalid"] == 1, report
    assert report["errors"][0]["line"] == 2 and report["errors"][0]["field"] == "connected", report
    assert [x["id"] for x in _list(main, user=user)["rows"]] == ["wb-skip-0"]


def test_ingest_malformed_and_refused(main: Env):
    before = _count(main)
    expect_privx_error(main.api.post(f"{WB}/connections", main.admin, data=b'[{"id": "x", '), 400, "BAD_REQUEST")
    expect_privx_error(main.api.post(f"{WB}/connections", main.admin, data=b"[]", params={"format": "yaml"}),
                       400, "VALUE_OUT_OF_BOUNDS", "format")
    expect_privx_error(main.api.post(f"{WB}/connections", json_body=_rows("wb-anon", USER, 1)), 401, "PERMISSION_DENIED")
    expect_privx_error(main.api.post(f"{WB}/connections", main.tok("connectionsView"), json_body=_rows("wb-view", USER, 1)),
                       403, "PERMISSION_DENIED")
    assert _count(main) == before


def test_list_connections_filters_and_paging(main: Env, ingested: dict):
    # Pages of two, newest first, by cursor.
    seen, cursor, pages = [], None, []
    while True:
        params = {"user": USER, "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        page = _list(main, **params)
        pages.append(page)
        assert len(page["rows"]) <= 2
        seen += [r["id"] for r in page["rows"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert len(pages) < 10, "paging does not end"
    assert [len(p["rows"]) for p in pages] == [2, 2, 1], [len(p["rows"]) for p in pages]
    assert sorted(seen) == sorted(ingested["ids"]) and len(set(seen)) == 5
    times = [r["connected"] for p in pages for r in p["rows"]]
    assert times == sorted(times, reverse=True), "newest first"
    # Back from the second page to the first.
    back = _list(main, user=USER, limit="2", cursor=pages[1]["prev_cursor"], direction="prev")
    assert [r["id"] for r in back["rows"]] == [r["id"] for r in pages[0]["rows"]]

    assert {r["target_host"] for r in _list(main, user=USER, host="wb-host-0")["rows"]} == {"wb-host-0"}
    assert {r["type"] for r in _list(main, user=USER, type="RDP")["rows"]} == {"RDP"}
    window = _list(main, user=USER, **{"from": "2026-01-11T00:00:00Z", "to": "2026-01-12T00:00:00Z"})
    assert sorted(r["id"] for r in window["rows"]) == ["wb-ndjson-0", "wb-ndjson-1"]
    assert [r["id"] for r in _list(main, search="wb-array-2")["rows"]] == ["wb-array-2"]
    # connectionsView may read; a normal user may not.
    assert _list(main, main.tok("connectionsView"), user=USER)["rows"]
    expect_privx_error(main.api.get(f"{WB}/connections", main.tok("user")), 403)
    expect_privx_error(main.api.get(f"{WB}/connections"), 401)
    expect_privx_error(main.api.get(f"{WB}/connections", main.admin, params={"from": "someday"}), 400,
                       "VALUE_INCORRECT_FORMAT", "from")


def test_list_anomalies_shape_and_paging(main: Env):
    page = json_of(expect(main.api.get(f"{WB}/anomalies", main.admin, params={"limit": "1", "offset": "0"}), 200))
    assert set(page) >= {"count", "offset", "has_more", "items"}, page
    assert page["count"] == len(page["items"]) <= 1
    expect_privx_error(main.api.get(f"{WB}/anomalies", main.admin, params={"to": "tomorrow-ish"}), 400,
                       "VALUE_INCORRECT_FORMAT", "to")
    expect_privx_error(main.api.get(f"{WB}/anomalies"), 401)


def test_journal_records_requests(main: Env):
    marker = str(uuid.uuid4())
    alice = main.accounts["admin"].name
    expect(main.api.get(f"{CM}/datasets/{marker}", main.admin), 404)
    expect(main.api.post(f"{CM}/setup-script", main.tok("user")), 403)
    expect(main.api.get(f"{CM}/status/{marker}"), 404)  # unknown route, no credentials

    def lines(**params):
        page = json_of(expect(main.api.get(f"{WB}/journal", main.admin, params=params), 200))
        return page if page["items"] else None

    page = poll(lambda: lines(path=marker, caller=alice), timeout=5, what="journal line of the 404")
    line = page["items"][0]
    assert line["method"] == "GET" and line["path"] == f"{CM}/datasets/{marker}", line
    assert line["status"] == 404 and line["caller"] == alice and line["surface"] == "privx", line
    assert isinstance(line["latency_us"], int) and isinstance(line["time"], int)

    ursula = main.accounts["user"].name
    refused = poll(lambda: lines(caller=ursula, status_min="403", status_max="403", method="POST"), timeout=5,
                   what="journal line of the 403")
    assert refused["items"][0]["path"] == f"{CM}/setup-script" and refused["items"][0]["caller"] == ursula
    anonymous = poll(lambda: lines(path=f"status/{marker}"), timeout=5, what="journal line of the anonymous call")
    assert anonymous["items"][0]["caller"] != alice and anonymous["items"][0]["status"] == 404
    surfaces = json_of(main.api.get(f"{WB}/journal", main.admin, params={"surface": "auth", "limit": "5"}))
    assert all(i["surface"] == "auth" and i["path"] == "/auth/api/v1/oauth/token" for i in surfaces["items"])
    expect_privx_error(main.api.get(f"{WB}/journal", main.tok("connectionsView")), 403)


def test_openapi_document(main: Env):
    r = expect(main.api.get("/openapi.json"), 200)  # no credentials needed
    doc = json_of(r)
    assert doc["openapi"].startswith("3."), doc.get("openapi")
    for path in (f"{CM}/datasets", f"{WB}/connections", f"{WB}/anomalies", f"{WB}/journal", "/auth/api/v1/oauth/token"):
        assert path in doc["paths"], path


def _refs(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out.add(node["$ref"])
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)
    return out


def test_openapi_references_resolve(main: Env):
    doc = json_of(expect(main.api.get("/openapi.json"), 200))
    dangling = []
    for ref in sorted(_refs(doc, set())):
        node = doc
        for part in ref.lstrip("#/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            dangling.append(ref)
    assert not dangling, f"unresolvable $ref in /openapi.json: {dangling}"


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head, rest


def test_keep_alive_after_early_refusal(main: Env):
    body = json.dumps({"address": "x", "trust_anchors": "y"}).encode()
    with socket.create_connection(("127.0.0.1", main.listener.port), timeout=10) as sock:
        sock.sendall(b"POST " + CM.encode() + b"/configure HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        time.sleep(0.3)  # the 401 (no credentials) goes out before the body arrives
        sock.sendall(body)
        head, _ = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 401"), head
        announced_close = b"\r\nconnection: close" in head.lower()
        time.sleep(0.3)
        try:
            sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            second, _ = _read_response(sock)
        except OSError:
            second = b""
        assert second.startswith(b"HTTP/1.1 200") or announced_close, (
            "connection closed after the 401 without Connection: close; response head was:\n"
            + head.decode(errors="replace"))
