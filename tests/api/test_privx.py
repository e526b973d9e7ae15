"""PrivX UEBA conformance, driven by the route table spec/routes.tsv.

For every row of the table with api == privx there must be a case in CASES below (a row without
one fails the suite). Each case is checked for:

  * success: the table's method, path and success status, and the body against the vendor
    schema (tests/api/schemas/privx.json), or an empty body where the vendor documents none;
  * 401 without credentials and with a garbage token, in the PrivX error shape;
  * 403 with a valid token whose scope the table does not list;
  * every bad input the route can receive, with the PrivX error code (and property) expected.

The rest of the file follows the real behaviour: the dataset lifecycle, the training on the demo
connections, analysis, and the OAuth token flows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from support import (CM, TOKEN_PATH, UNKNOWN_ID, WB, Env, Route, assert_schema, cli, expect,
                     expect_empty, expect_privx_error, json_of, load_routes, poll, schema_errors)

ROUTES = load_routes("privx")

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

TODAY = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def ts(days_ago: float) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def vendor_dataset_body(comment: str) -> dict:
    """A Dataset request body shaped exactly like the vendor's sample: every documented field,
    including the server-managed ones, which the server must ignore."""
    return {
        "id": "5bf77342-221c-11ee-be56-0242ac120002",
        "last_training": "2023-06-07T17:32:28Z",
        "is_active": True,
        "use_for_inference_once_trained": False,
        "time_range_settings": {
            "start": ts(20),
            "end": ts(10),
            "exclude": [{"start": ts(15), "end": ts(14)}],
        },
        "training_results": [{
            "created": "2023-06-07T17:32:28Z",
            "feature_config_name": "string",
            "status": "TRAINING",
            "error_code": "string",
            "error_details": "string",
            "num_connections": 123,
            "mean": 123.0,
            "std": 123.0,
            "quantile_99": 123.0,
            "quantile_999": 123.0,
            "training_log": "string",
            "training_dataset_loss": [123.0],
            "validation_dataset_loss": [123.0],
            "validation_dataset_histogram": {"hist": [123.0], "bin_edges": [123.0]},
        }],
        "comment": comment,
        "created": "2023-06-07T17:32:28Z",
        "created_by": "string",
        "updated": "2023-06-07T17:32:28Z",
        "updated_by": "string",
    }


OVERSIZED = 1_100_000  # bytes: past the documented 1 MiB limit of JSON bodies


def oversized_json(base: dict, key: str = "comment") -> bytes:
    doc = dict(base)
    doc[key] = "x" * OVERSIZED
    return json.dumps(doc).encode()


@dataclass
class Req:
    path_params: dict = field(default_factory=dict)
    params: dict | None = None
    json_body: Any = None
    data: Any = None
    headers: dict | None = None


class Ctx:
    """What a case needs: the main listener and lazily the trained dataset."""

    def __init__(self, env: Env, request: pytest.FixtureRequest):
        self.env = env
        self.api = env.api
        self.admin = env.admin
        self._request = request

    def trained(self):
        return self._request.getfixturevalue("trained")

    def send(self, route: Route, req: Req, token: str | None):
        path = route.path
        for name, value in req.path_params.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, f"unfilled path parameter in {path}"
        return self.api.request(route.method, path, token, json_body=req.json_body, data=req.data,
                                params=req.params, headers=req.headers)

    # Shortcuts for the snapshots that prove "nothing was stored / changed".
    def datasets(self) -> dict:
        body = json_of(expect(self.api.get(f"{CM}/datasets", self.admin), 200))
        return {d["id"]: d for d in body["items"]}

    def dataset(self, dataset_id: str):
        r = self.api.get(f"{CM}/datasets/{dataset_id}", self.admin)
        return json_of(r) if r.status_code == 200 else r.status_code

    def new_dataset(self, comment: str = "conformance", **trs) -> str:
        r = self.api.post(f"{CM}/datasets", self.admin, json_body={
            "time_range_settings": trs or {"start": ts(20), "end": ts(10)}, "comment": comment})
        return json_of(expect(r, 201))["id"]

    def configuration(self) -> dict:
        return json_of(expect(self.api.get(f"{CM}/configure", self.admin), 200))

    def anomaly_settings(self) -> dict:
        return json_of(expect(self.api.get(f"{CM}/anomaly-settings", self.admin), 200))

    def internal(self) -> dict:
        return json_of(expect(self.api.get(f"{CM}/status/internal", self.admin), 200))


@dataclass
class Bad:
    """A bad input and the PrivX answer it must get."""

    name: str
    build: Callable[[Ctx], Req]
    status: int
    code: str | None
    prop: str | None = None
    # Snapshot taken before and after: must not change ("nothing stored").
    unchanged: Callable[[Ctx], Any] | None = None
    bug: str | None = None


@dataclass
class Case:
    success: Callable[[Ctx], Req]
    # Checks the success answer (its status is the table's); default: a JSON body of `schema`.
    check: Callable[[Ctx, Req, Any], None]
    # The request used for the 401/403 checks (default: the success request) and the snapshot
    # that must not change when it is refused.
    guarded: Callable[[Ctx], Req] | None = None
    guarded_unchanged: Callable[[Ctx, Req], Any] | None = None
    bad: list[Bad] = field(default_factory=list)
    # True for routes that take no input at all (nothing to get wrong but the credentials).
    no_input: bool = False


def json_check(schema: str, extra: Callable[[Ctx, Req, Any], None] | None = None):
    def check(ctx: Ctx, req: Req, resp) -> None:
        body = json_of(resp)
        assert_schema(body, schema)
        if extra:
            extra(ctx, req, body)
    return check


def empty_check(extra: Callable[[Ctx, Req], None] | None = None):
    def check(ctx: Ctx, req: Req, resp) -> None:
        assert resp.content == b"", f"expected an empty body, got {resp.content[:200]!r}"
        if extra:
            extra(ctx, req)
    return check


# Bad bodies shared by the JSON routes ------------------------------------------------------


def malformed(build_path: Callable[[Ctx], dict] = lambda c: {}, unchanged=None) -> Bad:
    return Bad("malformed-json", lambda c: Req(path_params=build_path(c), data=b'{"time_range_settings": {'),
               400, "BAD_REQUEST", unchanged=unchanged)


def array_body(body: list, build_path: Callable[[Ctx], dict] = lambda c: {}) -> Bad:
    return Bad("array-instead-of-object", lambda c: Req(path_params=build_path(c), json_body=body),
               400, "VALUE_INCORRECT_TYPE")


def dataset_body_errors(build_path: Callable[[Ctx], dict], unchanged) -> list[Bad]:
    """Bad Dataset bodies (create and update)."""
    p = build_path
    return [
        malformed(p, unchanged),
        Bad("missing-time_range_settings", lambda c: Req(path_params=p(c), json_body={"comment": "x"}),
            400, "REQUIRED_VALUE_MISSING", "time_range_settings", unchanged),
        Bad("time_range_settings-wrong-type", lambda c: Req(path_params=p(c), json_body={"time_range_settings": 5}),
            400, "VALUE_INCORRECT_TYPE", "time_range_settings", unchanged),
        Bad("comment-wrong-type",
            lambda c: Req(path_params=p(c), json_body={"time_range_settings": {}, "comment": 5}),
            400, "VALUE_INCORRECT_TYPE", "comment", unchanged),
        Bad("bad-timestamp",
            lambda c: Req(path_params=p(c), json_body={"time_range_settings": {"start": "yesterday"}}),
            400, "VALUE_INCORRECT_FORMAT", "time_range_settings.start", unchanged),
        Bad("exclude-end-wrong-type",
            lambda c: Req(path_params=p(c), json_body={"time_range_settings": {"exclude": [{"start": ts(3), "end": True}]}}),
            400, "VALUE_INCORRECT_TYPE", "time_range_settings.exclude[0].end", unchanged),
        Bad("end-before-start",
            lambda c: Req(path_params=p(c), json_body={"time_range_settings": {"start": ts(2), "end": ts(3)}}),
            400, None, "time_range_settings.end", unchanged),
        Bad("oversized-body",
            lambda c: Req(path_params=p(c), data=oversized_json({"time_range_settings": {}})),
            413, None, None, unchanged),
    ]


# --------------------------------------------------------------------------------------------
# The cases, one per privx row of spec/routes.tsv
# --------------------------------------------------------------------------------------------


def _check_list(ctx: Ctx, req: Req, body: dict) -> None:
    assert body["count"] == len(body["items"]), body


def _check_created(ctx: Ctx, req: Req, body: dict) -> None:
    sent = req.json_body
    assert body["id"] != sent["id"], "the server must make the id, not take the posted one"
    stored = ctx.dataset(body["id"])
    assert_schema(stored, "Dataset")
    assert stored["comment"] == sent["comment"]
    assert stored["created_by"] == ctx.env.accounts["admin"].name
    assert stored["is_active"] is False, "is_active is server-managed"
    assert stored["training_results"] == [], "training_results are server-managed"
    trs, sent_trs = stored["time_range_settings"], sent["time_range_settings"]
    assert parse_ts(trs["start"]) == parse_ts(sent_trs["start"])
    assert parse_ts(trs["end"]) == parse_ts(sent_trs["end"])
    assert [(parse_ts(e["start"]), parse_ts(e["end"])) for e in trs["exclude"]] == \
        [(parse_ts(e["start"]), parse_ts(e["end"])) for e in sent_trs["exclude"]]


def _check_read(ctx: Ctx, req: Req, body: dict) -> None:
    assert body["id"] == req.path_params["dataset_id"], body
    assert body["comment"] == "read me" and body["training_results"] == [], body


def _update_req(ctx: Ctx) -> Req:
    dataset_id = ctx.new_dataset("before update")
    return Req(path_params={"dataset_id": dataset_id}, json_body={
        "time_range_settings": {"start": ts(9), "end": ts(2)}, "comment": "after update",
        "use_for_inference_once_trained": True})


def _check_updated(ctx: Ctx, req: Req) -> None:
    stored = ctx.dataset(req.path_params["dataset_id"])
    assert_schema(stored, "Dataset")
    assert stored["comment"] == "after update"
    assert stored["use_for_inference_once_trained"] is True
    assert parse_ts(stored["time_range_settings"]["start"]) == parse_ts(ts(9))
    assert stored["training_results"] == []
    assert stored["updated_by"] == ctx.env.accounts["admin"].name


def _check_deleted(ctx: Ctx, req: Req) -> None:
    assert ctx.dataset(req.path_params["dataset_id"]) == 404


def _train_success(ctx: Ctx) -> Req:
    return Req(path_params={"dataset_id": ctx.trained().dataset_id})


def _train_check(ctx: Ctx, req: Req, resp) -> None:
    # The training itself ran once, in the `trained` fixture; this is its answer.
    trained = ctx.trained()
    body = json_of(trained.train)
    assert_schema(body, "CountResponse")
    assert body["count"] == trained.connections, (body, trained.connections)


def _count_check(ctx: Ctx, req: Req, body: dict) -> None:
    assert body["count"] >= 20_000, body


CONFIG_SAMPLE = {
    "address": "https://ueba.example.test:8443",
    "trust_anchors": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUconformance\n-----END CERTIFICATE-----\n",
}


def _check_configured(ctx: Ctx, req: Req) -> None:
    assert ctx.configuration() == req.json_body


def _check_anomaly_settings(ctx: Ctx, req: Req) -> None:
    got = ctx.anomaly_settings()
    assert got == req.json_body, got
    # Back to the defaults the rest of the suite expects.
    expect_empty(ctx.api.post(f"{CM}/anomaly-settings", ctx.admin, json_body={"action": "AUDIT", "threshold": 0.5}))


def _start_success(ctx: Ctx) -> Req:
    return Req(path_params={"dataset_id": ctx.trained().dataset_id})


def _check_started(ctx: Ctx, req: Req) -> None:
    internal = ctx.internal()
    assert internal["inference_status"] == "RUNNING", internal
    assert internal.get("dataset_id") == req.path_params["dataset_id"], internal
    expect_empty(ctx.api.post(f"{CM}/stop-analyzing", ctx.admin))


def _check_stopped(ctx: Ctx, req: Req) -> None:
    assert ctx.internal()["inference_status"] == "STOPPED"


def _script_req(ctx: Ctx) -> Req:
    session = json_of(expect(ctx.api.post(f"{CM}/setup-script", ctx.admin), 200))["id"]
    return Req(path_params={"session_id": session})


def _check_script(ctx: Ctx, req: Req, resp) -> None:
    session = req.path_params["session_id"]
    assert resp.headers["content-type"].startswith("text/x-shellscript"), resp.headers
    disposition = resp.headers.get("content-disposition", "")
    assert f'filename="ueba-{session}-startup.sh"' in disposition, disposition
    script = resp.text
    assert script.startswith("#!/usr/bin/env bash\n") or script.startswith("#!/bin/bash\n"), script[:80]
    path = ctx.env.workdir / f"ueba-{session}-startup.sh"
    path.write_text(script)
    syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert syntax.returncode == 0, f"bash -n: {syntax.stderr}"
    assert ctx.env.url in script, "the script names the listener it sets up"


def _token_check(ctx: Ctx, req: Req, resp) -> None:
    body = json_of(resp)
    assert_schema(body, "TokenResponse")
    assert body["token_type"] == "Bearer"
    assert body.get("scope") == "admin"
    assert resp.headers.get("cache-control") == "no-store", "token answers must not be cached (RFC 6749 5.1)"
    expect(ctx.api.get(f"{CM}/status", body["access_token"]), 200)


def _token_req(ctx: Ctx) -> Req:
    account = ctx.env.accounts["admin"]
    client = ctx.env.clients["password"]
    return Req(data={"grant_type": "password", "username": account.name, "password": account.password},
               headers={"Authorization": basic(client["client_id"], client["client_secret"])})


def basic(user: str, secret: str) -> str:
    import base64
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def _path(dataset_id: Callable[[Ctx], str]) -> Callable[[Ctx], dict]:
    return lambda c: {"dataset_id": dataset_id(c)}


_known = _path(lambda c: c.new_dataset("target of a refused request"))


def _dataset_unchanged(ctx: Ctx, req: Req):
    return ctx.dataset(req.path_params["dataset_id"])


CASES: dict[str, Case] = {
    "000-01": Case(success=lambda c: Req(), check=json_check("ServiceStatus"), no_input=True),
    "000-02": Case(success=lambda c: Req(), check=json_check("UebaInternalStatus"), no_input=True),
    "001-01": Case(
        success=lambda c: Req(params={"logs": "true", "bin_count": "10"}),
        check=json_check("DatasetList", _check_list),
        bad=[
            Bad("bin_count-zero", lambda c: Req(params={"bin_count": "0"}), 400, "VALUE_OUT_OF_BOUNDS", "bin_count"),
            Bad("bin_count-too-large", lambda c: Req(params={"bin_count": "10001"}), 400, "VALUE_OUT_OF_BOUNDS", "bin_count"),
            Bad("bin_count-wrong-type", lambda c: Req(params={"bin_count": "many"}), 400, "VALUE_INCORRECT_TYPE", "bin_count"),
            Bad("logs-wrong-type", lambda c: Req(params={"logs": "maybe"}), 400, "VALUE_INCORRECT_TYPE", "logs"),
        ],
    ),
    "001-02": Case(
        success=lambda c: Req(json_body=vendor_dataset_body("created by the conformance suite")),
        check=json_check("IdResponse", _check_created),
        guarded_unchanged=lambda c, r: sorted(c.datasets()),
        bad=[*dataset_body_errors(lambda c: {}, lambda c: sorted(c.datasets())),
             array_body([{}, "array body", False])],
    ),
    "001-03": Case(
        success=lambda c: Req(path_params={"dataset_id": c.new_dataset("read me")}, params={"bin_count": "5", "logs": "false"}),
        check=json_check("Dataset", _check_read),
        bad=[
            Bad("unknown-dataset", lambda c: Req(path_params={"dataset_id": UNKNOWN_ID}), 404, None),
            Bad("bin_count-zero", lambda c: Req(path_params=_known(c), params={"bin_count": "0"}), 400, "VALUE_OUT_OF_BOUNDS", "bin_count"),
            Bad("logs-wrong-type", lambda c: Req(path_params=_known(c), params={"logs": "yes please"}), 400, "VALUE_INCORRECT_TYPE", "logs"),
        ],
    ),
    "001-04": Case(
        success=_update_req,
        check=empty_check(_check_updated),
        guarded_unchanged=_dataset_unchanged,
        bad=[
            Bad("unknown-dataset", lambda c: Req(path_params={"dataset_id": UNKNOWN_ID},
                                                 json_body={"time_range_settings": {}}), 404, None),
            *dataset_body_errors(_known, None),
            array_body([{}, "array body", False], _known),
        ],
    ),
    "001-05": Case(
        success=lambda c: Req(path_params={"dataset_id": c.new_dataset("delete me")}),
        check=empty_check(_check_deleted),
        guarded_unchanged=_dataset_unchanged,
        bad=[Bad("unknown-dataset", lambda c: Req(path_params={"dataset_id": UNKNOWN_ID}), 404, None)],
    ),
    "001-06": Case(
        success=_train_success,
        check=_train_check,
        # Refused requests name an unknown dataset: were the credentials not checked first, the
        # answer would be 404, never a training.
        guarded=lambda c: Req(path_params={"dataset_id": UNKNOWN_ID}),
        bad=[
            Bad("unknown-dataset", lambda c: Req(path_params={"dataset_id": UNKNOWN_ID}), 404, None),
            Bad("set_active_after_training-wrong-type",
                lambda c: Req(path_params={"dataset_id": UNKNOWN_ID}, params={"set_active_after_training": "sometimes"}),
                400, "VALUE_INCORRECT_TYPE", "set_active_after_training"),
        ],
    ),
    "001-07": Case(
        success=lambda c: Req(json_body={}),
        check=json_check("CountResponse", _count_check),
        bad=[
            malformed(),
            Bad("bad-timestamp", lambda c: Req(json_body={"start": "last tuesday"}), 400, "VALUE_INCORRECT_FORMAT", "start"),
            Bad("exclude-wrong-type", lambda c: Req(json_body={"exclude": 5}), 400, "VALUE_INCORRECT_TYPE", "exclude"),
            Bad("exclude-start-bad-timestamp", lambda c: Req(json_body={"exclude": [{"start": "soon", "end": ts(1)}]}),
                400, "VALUE_INCORRECT_FORMAT", "exclude[0].start"),
            Bad("end-before-start", lambda c: Req(json_body={"start": ts(2), "end": ts(3)}), 400, None, "end"),
            Bad("exclude-end-before-start", lambda c: Req(json_body={"exclude": [{"start": ts(2), "end": ts(3)}]}),
                400, None, "exclude[0].end"),
            Bad("oversized-body", lambda c: Req(data=oversized_json({}, "start")), 413, None),
            array_body([None, None, []]),
        ],
    ),
    "002-01": Case(success=lambda c: Req(), check=json_check("UebaConfigurations"), no_input=True),
    "002-02": Case(
        success=lambda c: Req(json_body=dict(CONFIG_SAMPLE)),
        check=empty_check(_check_configured),
        guarded=lambda c: Req(json_body={"address": "https://intruder.example.test", "trust_anchors": ""}),
        guarded_unchanged=lambda c, r: c.configuration(),
        bad=[
            malformed(unchanged=lambda c: c.configuration()),
            Bad("address-wrong-type", lambda c: Req(json_body={"address": 5}), 400, "VALUE_INCORRECT_TYPE", "address",
                lambda c: c.configuration()),
            Bad("trust_anchors-wrong-type", lambda c: Req(json_body={"trust_anchors": ["pem"]}), 400,
                "VALUE_INCORRECT_TYPE", "trust_anchors", lambda c: c.configuration()),
            Bad("oversized-body", lambda c: Req(data=oversized_json({"address": "a"}, "trust_anchors")), 413, None,
                None, lambda c: c.configuration()),
            array_body(list(CONFIG_SAMPLE.values())),
        ],
    ),
    "002-03": Case(success=lambda c: Req(), check=json_check("AnomalySettings"), no_input=True),
    "002-04": Case(
        success=lambda c: Req(json_body={"action": "BLOCK", "threshold": 0.42}),
        check=empty_check(_check_anomaly_settings),
        guarded=lambda c: Req(json_body={"action": "BLOCK", "threshold": 0.01}),
        guarded_unchanged=lambda c, r: c.anomaly_settings(),
        bad=[
            malformed(unchanged=lambda c: c.anomaly_settings()),
            Bad("missing-threshold", lambda c: Req(json_body={"action": "BLOCK"}), 400, "REQUIRED_VALUE_MISSING",
                "threshold", lambda c: c.anomaly_settings()),
            Bad("missing-action", lambda c: Req(json_body={"threshold": 0.5}), 400, "REQUIRED_VALUE_MISSING",
                "action", lambda c: c.anomaly_settings()),
            Bad("threshold-wrong-type", lambda c: Req(json_body={"action": "AUDIT", "threshold": "high"}), 400,
                "VALUE_INCORRECT_TYPE", "threshold", lambda c: c.anomaly_settings()),
            Bad("threshold-above-1", lambda c: Req(json_body={"action": "AUDIT", "threshold": 1.5}), 400,
                "VALUE_OUT_OF_BOUNDS", "threshold", lambda c: c.anomaly_settings()),
            Bad("threshold-below-0", lambda c: Req(json_body={"action": "AUDIT", "threshold": -0.1}), 400,
                "VALUE_OUT_OF_BOUNDS", "threshold", lambda c: c.anomaly_settings()),
            Bad("unknown-action", lambda c: Req(json_body={"action": "DROP", "threshold": 0.5}), 400,
                "VALUE_OUT_OF_BOUNDS", "action", lambda c: c.anomaly_settings()),
            Bad("oversized-body", lambda c: Req(data=oversized_json({"action": "AUDIT", "threshold": 0.5}, "padding")),
                413, None, None, lambda c: c.anomaly_settings()),
            # The defaults, so that even the buggy acceptance changes nothing for later tests.
            array_body(["AUDIT", 0.5]),
        ],
    ),
    "002-05": Case(
        success=_start_success,
        check=empty_check(_check_started),
        guarded=lambda c: Req(path_params={"dataset_id": UNKNOWN_ID}),
        guarded_unchanged=lambda c, r: c.internal()["inference_status"],
        bad=[
            Bad("unknown-dataset", lambda c: Req(path_params={"dataset_id": UNKNOWN_ID}), 404, None),
            # "Fails if training not done": a dataset never trained.
            Bad("untrained-dataset", lambda c: Req(path_params={"dataset_id": c.new_dataset("never trained")}),
                400, None, None, lambda c: c.internal()["inference_status"]),
        ],
    ),
    "002-06": Case(success=lambda c: Req(), check=empty_check(_check_stopped), no_input=True),
    "X-01": Case(success=lambda c: Req(), check=json_check("IdResponse"), no_input=True),
    "X-02": Case(
        success=_script_req,
        check=_check_script,
        bad=[Bad("unknown-session", lambda c: Req(path_params={"session_id": UNKNOWN_ID}), 404, None)],
    ),
    "X-03": Case(
        success=_token_req,
        check=_token_check,
        bad=[],  # the token endpoint's refusals are the OAuth cases below (test_token_*)
    ),
}

# The token endpoint takes input; its bad inputs are the OAuth errors, checked in the token
# tests further down (their names listed here so that the table check sees them).
TOKEN_BAD_INPUT_TESTS = [
    "test_token_wrong_client_secret", "test_token_wrong_password", "test_token_unsupported_grant",
    "test_token_missing_fields", "test_token_client_credentials_without_role",
]


def route_ids() -> list:
    return [r.id for r in ROUTES]


def case_of(route: Route) -> Case:
    case = CASES.get(route.id)
    if case is None:
        pytest.fail(f"route {route.id} ({route.method} {route.path}) of spec/routes.tsv has no test case")
    return case


ROUTE_BY_ID = {r.id: r for r in ROUTES}


# --------------------------------------------------------------------------------------------
# The table itself
# --------------------------------------------------------------------------------------------


def test_route_table_is_covered():
    """Every privx row has a case, and every case a row (a renamed row must not go unnoticed)."""
    assert ROUTES, "spec/routes.tsv has no privx rows"
    missing = [f"{r.id} {r.method} {r.path}" for r in ROUTES if r.id not in CASES]
    stale = sorted(set(CASES) - {r.id for r in ROUTES})
    assert not missing, f"privx rows without a test case: {missing}"
    assert not stale, f"test cases without a privx row: {stale}"
    for r in ROUTES:
        case = CASES[r.id]
        assert case.no_input or case.bad or r.is_token_endpoint, \
            f"{r.id} takes input but has no bad-input case"
        if r.is_token_endpoint:
            missing_tests = [t for t in TOKEN_BAD_INPUT_TESTS if not callable(globals().get(t))]
            assert not missing_tests, f"token endpoint bad-input tests missing: {missing_tests}"


def test_route_table_matches_openapi(main: Env):
    """Each privx row is served and documented with the table's method and success status."""
    doc = json_of(expect(main.api.get("/openapi.json"), 200))
    for r in ROUTES:
        op = doc["paths"].get(r.path, {}).get(r.method.lower())
        assert op is not None, f"{r.id}: {r.method} {r.path} is not in /openapi.json"
        assert str(r.success_status) in op["responses"], \
            f"{r.id}: /openapi.json does not document {r.success_status} for {r.method} {r.path}"


# --------------------------------------------------------------------------------------------
# Table-driven checks
# --------------------------------------------------------------------------------------------


@pytest.fixture
def ctx(main: Env, request) -> Ctx:
    return Ctx(main, request)


@pytest.mark.parametrize("route_id", route_ids())
def test_success(ctx: Ctx, route_id: str):
    route = ROUTE_BY_ID[route_id]
    case = case_of(route)
    req = case.success(ctx)
    if route.is_token_endpoint:
        resp = ctx.api.session.request(route.method, ctx.api.base + route.path, data=req.data, headers=req.headers)
    elif route.id == "001-06":
        resp = ctx.trained().train  # the one training of the suite (see conftest.trained)
    else:
        resp = ctx.send(route, req, ctx.admin)
    assert resp.status_code == route.success_status, (
        f"{route.id} {route.method} {route.path}: {resp.status_code}, the table says "
        f"{route.success_status}; body {resp.text[:500]!r}")
    case.check(ctx, req, resp)


def _guarded(ctx: Ctx, case: Case) -> Req:
    return (case.guarded or case.success)(ctx)


def _refused(ctx: Ctx, route: Route, token_header: dict | None, status: int) -> None:
    case = case_of(route)
    req = _guarded(ctx, case)
    before = case.guarded_unchanged(ctx, req) if case.guarded_unchanged else None
    headers = dict(req.headers or {})
    headers.update(token_header or {})
    req.headers = headers
    resp = ctx.send(route, req, None)
    body = expect_privx_error(resp, status)
    if status == 401:
        assert body["error_code"] == "PERMISSION_DENIED", body
        assert resp.headers.get("www-authenticate", "").lower().startswith("bearer"), resp.headers
    if case.guarded_unchanged:
        assert case.guarded_unchanged(ctx, req) == before, "a refused request changed state"


def _token_refused(ctx: Ctx, route: Route, authorization: str | None, form: dict, status: int, error: str) -> None:
    """The token endpoint's credentials are the OAuth client's (HTTP Basic); its refusals carry
    the OAuth error and the PrivX error fields."""
    headers = {"Authorization": authorization} if authorization else {}
    resp = ctx.api.session.request(route.method, ctx.api.base + route.path, data=form, headers=headers)
    expect(resp, status)
    body = json_of(resp)
    assert_schema(body, "TokenError")
    assert body["error"] == error, body
    assert body["error_code"] == "PERMISSION_DENIED", body
    assert "access_token" not in body


def _password_form(ctx: Ctx) -> dict:
    account = ctx.env.accounts["admin"]
    return {"grant_type": "password", "username": account.name, "password": account.password}


GARBAGE = {
    "garbage": "Bearer garbage",
    "token-shaped": "Bearer AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
    "empty": "Bearer ",
    "basic": "Basic YWxpY2U6c2VjcmV0",
}


@pytest.mark.parametrize("route_id", route_ids())
def test_401_without_credentials(ctx: Ctx, route_id: str):
    route = ROUTE_BY_ID[route_id]
    if route.is_token_endpoint:
        _token_refused(ctx, route, None, _password_form(ctx), 401, "invalid_client")
    else:
        _refused(ctx, route, None, 401)


@pytest.mark.parametrize("route_id", route_ids())
@pytest.mark.parametrize("garbage", list(GARBAGE))
def test_401_with_garbage_token(ctx: Ctx, route_id: str, garbage: str):
    route = ROUTE_BY_ID[route_id]
    if route.is_token_endpoint:
        # Garbage client credentials: a bearer token, an unknown client, a broken Basic value.
        value = {"garbage": "Basic Z2FyYmFnZQ==", "token-shaped": "Bearer " + ctx.admin,
                 "empty": "Basic ", "basic": "Basic YWxpY2U6c2VjcmV0"}[garbage]
        _token_refused(ctx, route, value, _password_form(ctx), 401, "invalid_client")
    else:
        _refused(ctx, route, {"Authorization": GARBAGE[garbage]}, 401)


def _outsider_role(route: Route) -> str:
    for role in ("user", "connectionsManage", "connectionsView", "service"):
        if role not in route.scopes:
            return role
    raise AssertionError(f"{route.id}: every role is allowed")


@pytest.mark.parametrize("route_id", route_ids())
def test_403_scope_insufficient(ctx: Ctx, route_id: str):
    route = ROUTE_BY_ID[route_id]
    if route.is_token_endpoint:
        # A client without a role of its own may not use client_credentials.
        client = ctx.env.clients["password"]
        _token_refused(ctx, route, basic(client["client_id"], client["client_secret"]),
                       {"grant_type": "client_credentials"}, 403, "unauthorized_client")
        return
    role = _outsider_role(route)
    _refused(ctx, route, {"Authorization": f"Bearer {ctx.env.tok(role)}"}, 403)


@pytest.mark.parametrize("route_id,role", [(r.id, s) for r in ROUTES for s in r.scopes if s != "admin"])
def test_each_listed_scope_is_accepted(ctx: Ctx, route_id: str, role: str):
    """Any one of the scopes the table lists suffices (stop-analyzing: admin, connectionsView,
    service, user)."""
    route = ROUTE_BY_ID[route_id]
    case = case_of(route)
    req = case.success(ctx)
    resp = ctx.send(route, req, ctx.env.tok(role))
    assert resp.status_code == route.success_status, f"{role}: {resp.status_code} {resp.text[:300]}"
    case.check(ctx, req, resp)


def _bad_params():
    params = []
    for r in ROUTES:
        case = CASES.get(r.id)
        if case is None:
            params.append(pytest.param(r.id, None, id=f"{r.id}-NO-CASE"))
            continue
        for bad in case.bad:
            marks = [pytest.mark.xfail(strict=True, reason=bad.bug)] if bad.bug else []
            params.append(pytest.param(r.id, bad.name, id=f"{r.id}-{bad.name}", marks=marks))
    return params


@pytest.mark.parametrize("route_id,bad_name", _bad_params())
def test_bad_input(ctx: Ctx, route_id: str, bad_name: str | None):
    route = ROUTE_BY_ID[route_id]
    case = case_of(route)
    bad = next(b for b in case.bad if b.name == bad_name)
    before = bad.unchanged(ctx) if bad.unchanged else None
    req = bad.build(ctx)
    resp = ctx.send(route, req, ctx.admin)
    expect_privx_error(resp, bad.status, bad.code, bad.prop)
    if bad.unchanged:
        assert bad.unchanged(ctx) == before, f"{bad.name}: the refused request changed what is stored"


def test_refused_update_changes_nothing(ctx: Ctx):
    """A refused update (malformed, bad timestamp, oversized) leaves the dataset as it was."""
    dataset_id = ctx.new_dataset("keep me")
    before = ctx.dataset(dataset_id)
    for body in (b'{"time_range_settings": {', json.dumps({"time_range_settings": {"start": "nope"}}),
                 oversized_json({"time_range_settings": {}})):
        r = ctx.api.request("PUT", f"{CM}/datasets/{dataset_id}", ctx.admin, data=body)
        assert r.status_code in (400, 413), r.text
    assert ctx.dataset(dataset_id) == before


def test_unknown_path_and_method_answer_in_privx_shape(ctx: Ctx):
    expect_privx_error(ctx.api.get(f"{CM}/no-such-route", ctx.admin), 404)
    expect_privx_error(ctx.api.request("PATCH", f"{CM}/datasets", ctx.admin), 405)


# --------------------------------------------------------------------------------------------
# The real behaviour
# --------------------------------------------------------------------------------------------


def test_dataset_lifecycle(ctx: Ctx):
    """create → get → list → train (fails: too few connections) → update empties the training
    history → delete."""
    api, admin = ctx.api, ctx.admin
    # One day of demo traffic: far below what a training needs, so it fails at once (no model
    # is trained here) but leaves a training history to empty.
    body = {"time_range_settings": {"start": ts(2), "end": ts(1)}, "comment": "lifecycle"}
    dataset_id = json_of(expect(api.post(f"{CM}/datasets", admin, json_body=body), 201))["id"]
    got = ctx.dataset(dataset_id)
    assert_schema(got, "Dataset")
    assert got["id"] == dataset_id and got["comment"] == "lifecycle"
    assert got["training_results"] == [] and got["is_active"] is False
    listed = json_of(expect(api.get(f"{CM}/datasets", admin), 200))
    assert dataset_id in [d["id"] for d in listed["items"]]

    count = json_of(expect(api.post(f"{CM}/train/{dataset_id}", admin), 200))
    assert_schema(count, "CountResponse")
    window = json_of(expect(api.post(f"{CM}/query-connection-count", admin,
                                     json_body=body["time_range_settings"]), 200))
    assert count["count"] == window["count"]

    def failed():
        d = ctx.dataset(dataset_id)
        return d if d["training_results"] and all(r["status"] != "TRAINING" for r in d["training_results"]) else None

    done = poll(failed, timeout=60, what="the short training to end")
    assert_schema(done, "Dataset")
    assert {r["status"] for r in done["training_results"]} == {"FAILURE"}, done["training_results"]
    assert all(r.get("error_code") for r in done["training_results"])
    expect_privx_error(api.post(f"{CM}/start-analyzing/{dataset_id}", admin), 400)

    expect_empty(api.request("PUT", f"{CM}/datasets/{dataset_id}", admin,
                             json_body={"time_range_settings": {"start": ts(3), "end": ts(1)}, "comment": "updated"}))
    updated = ctx.dataset(dataset_id)
    assert updated["training_results"] == [], "update must empty the training history"
    assert updated["comment"] == "updated"
    assert parse_ts(updated["updated"]) >= parse_ts(got["updated"])

    expect_empty(api.request("DELETE", f"{CM}/datasets/{dataset_id}", admin))
    expect_privx_error(api.get(f"{CM}/datasets/{dataset_id}", admin), 404)
    expect_privx_error(api.request("DELETE", f"{CM}/datasets/{dataset_id}", admin), 404)


def test_training_conflicts_while_it_runs(ctx: Ctx):
    trained = ctx.trained()
    assert trained.internal_during["training_status"] in ("TRAINING", "RETRAINING"), trained.internal_during
    assert_schema(trained.internal_during, "UebaInternalStatus")
    # "Training is already on-going"
    expect_privx_error(trained.train_again, 409)
    # "Fails if training ... has not finished"
    assert trained.start_early.status_code in (400, 409), trained.start_early.text
    expect_privx_error(trained.start_early, trained.start_early.status_code)


def test_trained_dataset_results(ctx: Ctx):
    """After the training: SUCCESS results with losses and a histogram honouring bin_count;
    logs=true adds the training log."""
    trained = ctx.trained()
    api, admin = ctx.api, ctx.admin
    internal = ctx.internal()
    assert internal["training_status"] == "MODELS_AVAILABLE", internal
    for bins in (7, 50):
        d = json_of(expect(api.get(f"{CM}/datasets/{trained.dataset_id}", admin, params={"bin_count": str(bins)}), 200))
        assert_schema(d, "Dataset")
        assert d["last_training"], d
        results = d["training_results"]
        assert results and all(r["status"] == "SUCCESS" for r in results), results
        for r in results:
            assert r["num_connections"] == trained.connections
            assert r["training_dataset_loss"] and r["validation_dataset_loss"], r
            assert all(isinstance(x, (int, float)) for x in r["training_dataset_loss"])
            hist = r["validation_dataset_histogram"]
            assert len(hist["hist"]) == bins, (bins, hist)
            assert len(hist["bin_edges"]) == bins + 1, (bins, hist)
            assert hist["bin_edges"] == sorted(hist["bin_edges"])
            assert not r.get("training_log"), "training_log only with logs=true"
            for q in ("mean", "std", "quantile_99", "quantile_999"):
                assert isinstance(r[q], (int, float)), (q, r[q])
    default = json_of(api.get(f"{CM}/datasets/{trained.dataset_id}", admin))
    assert all(len(r["validation_dataset_histogram"]["hist"]) == 50 for r in default["training_results"]), \
        "bin_count defaults to 50"
    with_logs = json_of(expect(api.get(f"{CM}/datasets/{trained.dataset_id}", admin, params={"logs": "true"}), 200))
    assert_schema(with_logs, "Dataset")
    assert all(isinstance(r.get("training_log"), str) and r["training_log"] for r in with_logs["training_results"])
    listed = json_of(expect(api.get(f"{CM}/datasets", admin, params={"logs": "true", "bin_count": "3"}), 200))
    mine = next(d for d in listed["items"] if d["id"] == trained.dataset_id)
    assert all(len(r["validation_dataset_histogram"]["hist"]) == 3 and r["training_log"] for r in mine["training_results"])


UNUSUAL_USER = "mallory.conformance"


def _unusual_connections(n: int = 6) -> list[dict]:
    day = TODAY - dt.timedelta(days=1)
    rows = []
    for i in range(n):
        start = day + dt.timedelta(hours=3, minutes=7 * i)
        rows.append({
            "id": f"conformance-unusual-{i}",
            "connected": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "disconnected": (start + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "user": UNUSUAL_USER,
            "user_roles": ["contractor"],
            "type": "RDP",
            "target_host": "db-prod-01",
            "target_host_address": "10.10.1.5",
            "target_host_account": "root",
            "remote_address": f"198.51.100.{20 + i}",
            "bytes_in": 9_000_000_000,
            "bytes_out": 12_000_000_000,
            "status": "DISCONNECTED",
            "authentication_method": "password",
        })
    return rows


def test_analysis_lifecycle(ctx: Ctx):
    """start-analyzing → status/internal RUNNING with the dataset → an active dataset can be
    neither deleted nor updated → unusual connections become anomalies → stop-analyzing."""
    trained = ctx.trained()
    api, admin = ctx.api, ctx.admin
    dataset_id = trained.dataset_id
    expect_empty(api.post(f"{CM}/start-analyzing/{dataset_id}", admin))
    try:
        internal = ctx.internal()
        assert_schema(internal, "UebaInternalStatus")
        assert internal["inference_status"] == "RUNNING"
        assert internal["dataset_id"] == dataset_id
        assert internal["model_instance_status"], internal
        assert all(m["status"] == "RUNNING" for m in internal["model_instance_status"]), internal
        status = json_of(expect(api.get(f"{CM}/status", admin), 200))
        assert_schema(status, "ServiceStatus")
        assert status["status"] == "RUNNING", status
        d = ctx.dataset(dataset_id)
        assert d["is_active"] is True

        # An active dataset is refused: deleted or changed, nothing happens.
        expect_privx_error(api.request("DELETE", f"{CM}/datasets/{dataset_id}", admin), 409)
        expect_privx_error(api.request("PUT", f"{CM}/datasets/{dataset_id}", admin,
                                       json_body={"time_range_settings": {}}), 409)
        assert ctx.dataset(dataset_id) == d

        report = json_of(expect(api.post(f"{WB}/connections", admin, json_body=_unusual_connections()), 200))
        assert report["inserted"] == 6, report

        def anomalies():
            page = json_of(expect(api.get(f"{WB}/anomalies", admin, params={"user": UNUSUAL_USER}), 200))
            return page if page["count"] >= 1 else None

        page = poll(anomalies, timeout=10, what="anomalies of the unusual connections")
        for a in page["items"]:
            assert a["user"] == UNUSUAL_USER and a["dataset_id"] == dataset_id, a
            assert a["connection_id"].startswith("conformance-unusual-")
            assert 0.0 <= a["score"] <= 1.0 and a["score"] >= a["threshold"], a
        # connectionsView may read anomalies too.
        expect(api.get(f"{WB}/anomalies", ctx.env.tok("connectionsView")), 200)
        expect_privx_error(api.get(f"{WB}/anomalies", ctx.env.tok("user")), 403)
    finally:
        expect_empty(api.post(f"{CM}/stop-analyzing", admin))
    internal = ctx.internal()
    assert internal["inference_status"] == "STOPPED", internal
    assert ctx.dataset(dataset_id)["is_active"] is False


def test_query_connection_count(ctx: Ctx):
    api, admin = ctx.api, ctx.admin
    everything = json_of(expect(api.post(f"{CM}/query-connection-count", admin, json_body={}), 200))["count"]
    empty_body = json_of(expect(api.post(f"{CM}/query-connection-count", admin, data=b""), 200))["count"]
    stored = cli(ctx.env.db, "connections", "count")["count"]
    assert everything == empty_body == stored, (everything, empty_body, stored)
    window = {"start": ts(10), "end": ts(5)}
    windowed = json_of(expect(api.post(f"{CM}/query-connection-count", admin, json_body=window), 200))["count"]
    assert 0 < windowed < everything, (windowed, everything)
    excluded = json_of(expect(api.post(f"{CM}/query-connection-count", admin, json_body={
        **window, "exclude": [{"start": ts(8), "end": ts(7)}]}), 200))["count"]
    assert 0 < excluded < windowed, (excluded, windowed)


def test_setup_script_session_flow(ctx: Ctx):
    api, admin = ctx.api, ctx.admin
    first = json_of(expect(api.post(f"{CM}/setup-script", admin), 200))["id"]
    second = json_of(expect(api.post(f"{CM}/setup-script", admin), 200))["id"]
    assert first != second
    for session in (first, second):
        r = expect(api.get(f"{CM}/setup-script/{session}", admin), 200)
        assert f"ueba-{session}-startup.sh" in r.headers["content-disposition"]
    expect_privx_error(api.get(f"{CM}/setup-script/{UNKNOWN_ID}", admin), 404)
    expect_privx_error(api.get(f"{CM}/setup-script/{first}", ctx.env.tok("user")), 403)


def test_optional_fields_are_omitted_not_null(ctx: Ctx):
    """The strict reading of the vendor schemas: an optional field without a value is left out,
    never null."""
    api, admin = ctx.api, ctx.admin
    dataset_id = ctx.new_dataset("nulls?", start=ts(3))
    bodies = {
        "Dataset": ctx.dataset(dataset_id),
        "UebaInternalStatus": ctx.internal(),
        "UebaConfigurations": ctx.configuration(),
        "ServiceStatus": json_of(api.get(f"{CM}/status", admin)),
    }
    problems = []
    for name, body in bodies.items():
        problems += [f"{name}: {e}" for e in schema_errors(body, name, nulls_as_absent=False)]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# OAuth token flows
# --------------------------------------------------------------------------------------------


def _token_error(resp, status: int, error: str) -> dict:
    expect(resp, status)
    body = json_of(resp)
    assert_schema(body, "TokenError")
    assert body["error"] == error, body
    assert body.get("error_description"), body
    return body


def test_token_password_grant(main: Env):
    client, account = main.clients["password"], main.accounts["connectionsView"]
    r = main.api.token(client["client_id"], client["client_secret"], grant_type="password",
                       username=account.name, password=account.password)
    body = json_of(expect(r, 200))
    assert_schema(body, "TokenResponse")
    assert body["token_type"] == "Bearer" and body["scope"] == "connectionsView"
    assert body["expires_in"] > 60
    # The client in the form instead of Basic auth works too (RFC 6749 2.3.1).
    r = main.api.session.post(main.api.base + TOKEN_PATH, data={
        "grant_type": "password", "username": account.name, "password": account.password,
        "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert_schema(json_of(expect(r, 200)), "TokenResponse")


def test_token_client_credentials(main: Env):
    client = main.clients["admin"]
    r = main.api.token(client["client_id"], client["client_secret"], grant_type="client_credentials")
    body = json_of(expect(r, 200))
    assert_schema(body, "TokenResponse")
    assert body["scope"] == "admin"
    expect(main.api.get(f"{CM}/status", body["access_token"]), 200)


def test_token_client_credentials_without_role(main: Env):
    client = main.clients["password"]
    r = main.api.token(client["client_id"], client["client_secret"], grant_type="client_credentials")
    _token_error(r, 403, "unauthorized_client")


def test_token_wrong_client_secret(main: Env):
    client, account = main.clients["password"], main.accounts["admin"]
    r = main.api.token(client["client_id"], client["client_secret"] + "x", grant_type="password",
                       username=account.name, password=account.password)
    _token_error(r, 401, "invalid_client")
    r = main.api.token("not-a-client", "nope", grant_type="client_credentials")
    _token_error(r, 401, "invalid_client")
    r = main.api.session.post(main.api.base + TOKEN_PATH, data={"grant_type": "client_credentials"})
    _token_error(r, 401, "invalid_client")


def test_token_wrong_password(main: Env):
    client, account = main.clients["password"], main.accounts["admin"]
    r = main.api.token(client["client_id"], client["client_secret"], grant_type="password",
                       username=account.name, password=account.password + "x")
    body = _token_error(r, 401, "invalid_grant")
    assert account.password not in json.dumps(body)
    r = main.api.token(client["client_id"], client["client_secret"], grant_type="password",
                       username="nobody-here", password="whatever-123")
    _token_error(r, 401, "invalid_grant")


def test_token_unsupported_grant(main: Env):
    client = main.clients["password"]
    for grant in ("authorization_code", "refresh_token", "implicit"):
        r = main.api.token(client["client_id"], client["client_secret"], grant_type=grant)
        _token_error(r, 400, "unsupported_grant_type")


def test_token_missing_fields(main: Env):
    client, account = main.clients["password"], main.accounts["admin"]
    r = main.api.token(client["client_id"], client["client_secret"], username=account.name, password=account.password)
    body = _token_error(r, 400, "invalid_request")
    assert body["error_code"] == "REQUIRED_VALUE_MISSING" and body.get("property") == "grant_type"
    r = main.api.token(client["client_id"], client["client_secret"], grant_type="password", password=account.password)
    body = _token_error(r, 400, "invalid_request")
    assert body.get("property") == "username"


def test_revoked_and_expired_tokens_are_refused(main: Env):
    """A token of a removed account, and a token past its expiry, are 401 in the PrivX shape."""
    db = main.db
    cli(db, "user", "add", "temp.user", "--role", "admin", "--password-stdin", stdin="temporary-pass-1\n", as_json=False)
    client = main.clients["password"]
    fresh = lambda: json_of(expect(main.api.token(  # noqa: E731
        client["client_id"], client["client_secret"], grant_type="password",
        username="temp.user", password="temporary-pass-1"), 200))["access_token"]
    revoked = fresh()
    cli(db, "user", "remove", "temp.user", as_json=False)
    body = expect_privx_error(main.api.get(f"{CM}/status", revoked), 401, "PERMISSION_DENIED")
    assert "invalid or expired" in body["error_message"], body

    # Expiry: the token store lives in the listener's database; pushing one token's expiry into
    # the past is the only way to test expiry without waiting an hour.
    cli(db, "user", "add", "temp.user2", "--role", "admin", "--password-stdin", stdin="temporary-pass-2\n", as_json=False)
    r = main.api.token(client["client_id"], client["client_secret"], grant_type="password",
                       username="temp.user2", password="temporary-pass-2")
    expiring = json_of(expect(r, 200))["access_token"]
    import sqlite3
    token_id = expiring.split(".", 1)[0]
    with sqlite3.connect(db, timeout=10) as conn:
        changed = conn.execute("UPDATE access_tokens SET expires = 1 WHERE token_id = ?", (token_id,)).rowcount
    assert changed == 1, "the token store has changed shape; adapt this test"
    expect_privx_error(main.api.get(f"{CM}/status", expiring), 401, "PERMISSION_DENIED")


def test_401_error_shape_has_no_stack_or_internals(main: Env):
    for r in (main.api.get(f"{CM}/status"), main.api.get(f"{CM}/status", "garbage")):
        body = expect_privx_error(r, 401, "PERMISSION_DENIED")
        text = json.dumps(body).lower()
        assert not re.search(r"panicked|backtrace|sqlite|\.rs:", text), text


# --------------------------------------------------------------------------------------------
# The vendor schemas themselves (so that a passing schema check means something)
# --------------------------------------------------------------------------------------------

VENDOR_SAMPLES = {
    "ServiceStatus": {
        "version": "string", "api_version": "string", "status": "RUNNING", "status_message": "string",
        "issues": [{"severity": "NOTICE", "code": "string", "message": "string",
                    "created": "2023-06-07T17:32:28Z", "updated": "2023-06-07T17:32:28Z"}],
        "status_details": [{"k": "string", "v": "string"}],
        "app_id": "5bf77342-221c-11ee-be56-0242ac120002", "start_time": "2023-06-07T17:32:28Z"},
    "UebaInternalStatus": {
        "training_status": "MODELS_MISSING", "inference_status": "RUNNING",
        "dataset_id": "5bf77342-221c-11ee-be56-0242ac120002",
        "model_instance_status": [{"id": "5bf77342-221c-11ee-be56-0242ac120002", "feature_config_name": "string",
                                   "status": "RUNNING", "created": "2023-06-07T17:32:28Z"}]},
    "Dataset": vendor_dataset_body("string"),
    "DatasetList": {"count": 123, "items": [vendor_dataset_body("string")]},
    "IdResponse": {"id": "5bf77342-221c-11ee-be56-0242ac120002"},
    "CountResponse": {"count": 123},
    "UebaConfigurations": {"address": "string", "trust_anchors": "string"},
    "AnomalySettings": {"action": "BLOCK", "threshold": 0.5},
    "PrivXError": {"error_code": "GENERAL_ERROR", "error_message": "string", "property": "string",
                   "details": [{"error_code": "BAD_REQUEST"}]},
}

VIOLATIONS = [
    ("ServiceStatus", {"version": "1", "status": "FINE"}),
    ("ServiceStatus", {"status": "RUNNING"}),
    ("ServiceStatus", {"version": "1", "issues": [{"severity": "INFO", "code": "c", "message": "m"}]}),
    ("ServiceStatus", {"version": "1", "start_time": "yesterday"}),
    ("UebaInternalStatus", {"training_status": "DONE", "inference_status": "RUNNING"}),
    ("UebaInternalStatus", {"training_status": "TRAINING"}),
    ("Dataset", {"comment": "no time range"}),
    ("Dataset", {"time_range_settings": {}, "training_results": [{"feature_config_name": "x", "status": "OK"}]}),
    ("Dataset", {"time_range_settings": {}, "training_results": [{"feature_config_name": "x", "status": "SUCCESS",
                                                                 "validation_dataset_histogram": {"hist": []}}]}),
    ("Dataset", {"time_range_settings": {}, "id": "not-a-uuid"}),
    ("IdResponse", {"id": 5}),
    ("CountResponse", {"count": "5"}),
    ("AnomalySettings", {"action": "DROP", "threshold": 0.5}),
    ("AnomalySettings", {"action": "AUDIT", "threshold": 1.5}),
    ("AnomalySettings", {"action": "AUDIT"}),
    ("PrivXError", {"error_code": "NOT_A_CODE"}),
    ("PrivXError", {"error_message": "no code"}),
    ("PrivXError", {"error_code": "BAD_REQUEST", "details": [{"error_code": "NOPE"}]}),
]


@pytest.mark.parametrize("name", sorted(VENDOR_SAMPLES))
def test_vendor_schema_accepts_vendor_sample(name: str):
    assert_schema(VENDOR_SAMPLES[name], name, nulls_as_absent=False)


@pytest.mark.parametrize("name,body", VIOLATIONS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VIOLATIONS)])
def test_vendor_schema_rejects_violation(name: str, body: dict):
    assert schema_errors(body, name), f"{name} accepted {body}"
