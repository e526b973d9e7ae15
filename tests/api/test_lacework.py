"""Lacework Edge conformance (`/api/v1/...`), driven by the route table spec/routes.tsv and the
contract in spec/lacework/ (operations.json: one entry per route id; schemas.json: the `$defs`
its schemas point into).

For every row of the table with api == lacework there must be a case in CASES below (a row
without one fails the suite). Every row is checked for:

  * 401 without credentials and with a garbage token, as `{"message": ...}`. Login and
    TokenLogin take their own credentials: a wrong password, a bad or suspended token, or none
    at all is refused with 403;
  * 403 for every account role the route does not allow, changing nothing; a reading route also
    lets every role it allows through;
  * success as admin: the table's status, the fields sent coming back when read again (store
    and return), and the body against the operation's `response_schema`;
  * bad input: a documented body field of the wrong type → 400 naming the field, with nothing
    (half-)stored; an unknown query parameter on any read, or a bad parameter value →
    400 naming it; an unknown key in the path → 404;
  * the audit trail: one successful change adds exactly one audit event about it (a batch adds
    one per object it changes; a validation-only route adds none), which keeps no secret in clear.

Besides: the routes that read their bodies field by field accept every documented field, and
Create Connector takes its individual fields rather than the deprecated `connector` object.

The requests need objects to act on: the suite makes them through the API itself (the
contract's request samples, with unique names), promotes its own ingested connections to
alerts, and stores documents, which the API cannot create, with `ueba-workbench catalog put`.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import itertools
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import jsonschema
import pytest
import requests

from support import (ROOT, UNKNOWN_ID, WB, Env, Route, cli, expect, json_of, load_routes)

ROUTES = load_routes("lacework")
SPEC = ROOT / "spec" / "lacework"
OPERATIONS = json.loads((SPEC / "operations.json").read_text())
VENDOR_DEFS = json.loads((SPEC / "schemas.json").read_text())["$defs"]
# The workbench's documented additions to vendor shapes (spec/lacework/extensions.json): answers
# are checked against the vendor's definitions with these fields added, and no others.
EXTENSIONS = {name: fields for name, fields in
              json.loads((SPEC / "extensions.json").read_text()).items() if not name.startswith("$")}
LW_DEFS = {name: ({**d, "properties": {**d["properties"], **EXTENSIONS[name]}} if name in EXTENSIONS else d)
           for name, d in VENDOR_DEFS.items()}

# The account this workbench answers for (`account_name`, Login's `account`).
ACCOUNT = "workbench"
# A placeholder for name-like keys (`{name}`, `{key}`, `{view}`) that never exists.
UNKNOWN_NAME = "lw-conformance-no-such-object"

# Roles (PrivX scopes of the fixture accounts) each kind of route allows.
READERS = ("admin", "user", "connectionsView", "service")
TRIAGE = ("admin", "user")
ADMIN_ONLY = ("admin",)
ANY_ACCOUNT = ("admin", "user", "connectionsView", "connectionsManage", "service")

# Routes whose roles differ from the default (reading: READERS; changing: ADMIN_ONLY).
ALLOWED_ROLES = {
    # Alert triage: promoting events, investigation actions, starting and answering runs.
    **{rid: TRIAGE for rid in ("003-010", "003-013", "003-014", "003-101", "003-103")},
    # The audit trail is for admins.
    "003-023": ADMIN_ONLY,
    "003-024": ADMIN_ONLY,
    # Every account manages its own API tokens.
    **{rid: ANY_ACCOUNT for rid in ("003-090", "003-092", "003-093", "003-094")},
}
# Login and TokenLogin: they authenticate with their own credentials, not a Bearer token of a role.
LOGIN_ROUTES = ("003-073", "003-091")

# Routes that check something and change nothing: they must leave no audit event.
VALIDATION_ONLY = ("003-052", "003-053", "003-072")

# The day the suite's own connections are dated (outside the demo data, like test_workbench's).
DAY = dt.datetime(2026, 1, 12, tzinfo=dt.timezone.utc)
DAY_MS = int(DAY.timestamp() * 1000)
DAY_END_MS = DAY_MS + 86_400_000

# --------------------------------------------------------------------------------------------
# Known listener bugs (each marks the tests that show it; strict, so a fix is noticed)
# --------------------------------------------------------------------------------------------

# (none at present; add a reason here and mark the tests it explains)

SUCCESS_BUGS: dict[str, str] = {}
SCHEMA_BUGS: dict[str, str] = {}
WRONG_TYPE_BUGS: dict[str, str] = {}


def xfail(reason: str | None) -> list:
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


# --------------------------------------------------------------------------------------------
# The contract
# --------------------------------------------------------------------------------------------


def full_schema(schema: Any) -> dict | None:
    """A contract schema made self-contained: a name means that `$defs` entry."""
    if schema is None:
        return None
    if isinstance(schema, str):
        schema = {"$ref": f"#/$defs/{schema}"}
    return {**schema, "$defs": LW_DEFS}


def contract_errors(schema: Any, instance: Any) -> list[str]:
    """Where `instance` breaks a contract schema (an operation's schema or a `$defs` name)."""
    validator = jsonschema.Draft202012Validator(full_schema(schema))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in validator.iter_errors(instance)]


def resolve(schema: dict) -> dict:
    """Follows `$ref`s to the schema they name."""
    while "$ref" in schema:
        schema = LW_DEFS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def documented_type(route_id: str, path: tuple) -> str | None:
    """The type the contract's request schema gives the field at `path` (names and indexes)."""
    schema = full_schema(OPERATIONS[route_id]["request_schema"])
    if schema is None:
        return None
    node = resolve(schema)
    for step in path:
        node = resolve(node["items"] if isinstance(step, int) else node["properties"][step])
    return node.get("type")


def properties(schema_name: str) -> set[str]:
    return set(LW_DEFS[schema_name]["properties"])


def expect_message(resp: requests.Response, status: int) -> str:
    """The answer is `status` with the contract's error body `{"message": <non-empty text>}`."""
    expect(resp, status)
    body = json_of(resp)
    assert not contract_errors("ErrorMessage", body), f"not an ErrorMessage: {body}"
    assert isinstance(body.get("message"), str) and body["message"].strip(), body
    return body["message"]


def now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------------------------
# Requests and the suite's context
# --------------------------------------------------------------------------------------------


@dataclass
class Req:
    """One request of a route: its path parameters, query, body and (for the login routes) its
    own Authorization header; `ctx` holds what the case made to build it, for its check."""

    path_params: dict = field(default_factory=dict)
    params: dict | None = None
    json_body: Any = None
    headers: dict | None = None
    as_admin: bool = True
    ctx: dict = field(default_factory=dict)


@dataclass
class Outcome:
    """The one successful call of a route, shared by the tests that examine it."""

    req: Req
    path: str
    resp: requests.Response
    audit: list[dict] | None  # the audit events it added (changing routes only)

    @property
    def body(self) -> Any:
        return json_of(self.resp)


def route_by_id(route_id: str) -> Route:
    return next(r for r in ROUTES if r.id == route_id)


def fill(path: str, path_params: dict) -> str:
    for name, value in path_params.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"unfilled path parameter in {path}"
    return path


def path_names(route: Route) -> list[str]:
    return [seg[1:-1] for seg in route.path.split("/") if seg.startswith("{")]


class Lw:
    """The main listener as the Lacework tests use it: requests by route id, objects to act on,
    and the outcome of each route's successful call (made once)."""

    def __init__(self, env: Env):
        self.env = env
        self.api = env.api
        self.admin = env.admin
        self.admin_name = env.accounts["admin"].name
        self.marker = uuid.uuid4().hex[:8]
        self._counter = itertools.count(1)
        self._outcomes: dict[str, Outcome] = {}

    # -- plumbing ------------------------------------------------------------------------------

    def unique(self, what: str) -> str:
        """A name no other object of this run has."""
        return f"lw-{what}-{self.marker}-{next(self._counter)}"

    def send(self, route: Route, req: Req, token: str | None) -> requests.Response:
        return self.api.request(route.method, fill(route.path, req.path_params), token,
                                json_body=req.json_body, params=req.params, headers=req.headers)

    def call(self, route_id: str, req: Req | None = None, token: str | None = None) -> Any:
        """Calls a route as admin (or `token`); it must succeed with the table's status."""
        route = route_by_id(route_id)
        resp = self.send(route, req or Req(), token or self.admin)
        return json_of(expect(resp, route.success_status))

    def audit_since(self, start: int) -> list[dict]:
        """The audit events from `start` (epoch ms) on, newest first."""
        return self.call("003-023", Req(params={"start_time": str(start),
                                                 "end_time": str(now_ms() + 3_600_000)}))["audit_events"]

    def outcome(self, route: Route) -> Outcome:
        """The route's successful call, made once: the case prepares it, then it is sent as admin
        (the login routes with their own credentials), counting the audit events it adds."""
        if route.id not in self._outcomes:
            req = CASES[route.id].prepare(self)
            changing = route.method != "GET"
            if changing:
                start = now_ms()
                before = {e["uuid"] for e in self.audit_since(start)}
            resp = self.send(route, req, self.admin if req.as_admin else None)
            added = None
            if changing:
                # The engine writes events on its own schedule (directory sync, expiring workflow
                # runs): they are not the call's.
                added = [e for e in self.audit_since(start)
                         if e["uuid"] not in before and e["protocol"] != "engine"]
            self._outcomes[route.id] = Outcome(req, fill(route.path, req.path_params), resp, added)
        return self._outcomes[route.id]

    # -- objects to act on ---------------------------------------------------------------------

    def connection(self, user: str = "lw.conformance", host: str = "lw-host-1") -> str:
        """Ingests one new connection of DAY (through the workbench API) and returns its id."""
        n = next(self._counter)
        row = {
            "id": f"lw-{self.marker}-{n}",
            "connected": (DAY + dt.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "disconnected": (DAY + dt.timedelta(minutes=n + 5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "user": user, "type": "SSH", "target_host": host, "target_host_account": "ops",
            "remote_address": "192.0.2.77", "bytes_in": 1000, "bytes_out": 2000,
        }
        report = json_of(expect(self.api.post(f"{WB}/connections", self.admin, json_body=[row]), 200))
        assert report["inserted"] == 1, report
        return row["id"]

    def alert(self) -> dict:
        """A new alert: one of the suite's own connections, promoted."""
        return self.call("003-010", Req(json_body={"event_id": self.connection()}))

    def note(self, alert_uuid: str, text: str) -> dict:
        return self.call("003-013", Req(path_params={"uuid": alert_uuid},
                                        json_body={"action": {"note": {"note_text": text}}}))

    def sample_body(self, kind: "Kind") -> dict:
        """The contract's sample body of the kind's create route, its names and secrets made
        unique (so that a secret can be looked for where it must not appear). Create Connector's
        deprecated copy of the object, `connector`, gets the same values, so it cannot clash."""
        body = copy.deepcopy(OPERATIONS[kind.create]["request_sample"])
        copies = [body[kind.wrapper] if kind.wrapper else body]
        if isinstance(body.get("connector"), dict):
            copies.append(body["connector"])
        for name in (*UNIQUE_FIELDS, *kind.secrets):
            value = next((c[name] for c in copies if name in c), None)
            if isinstance(value, str):
                value = self.unique(name)
            elif isinstance(value, dict) and name in kind.secrets:
                value = {k: self.unique(f"{name}-{k}") if isinstance(v, str) else v for k, v in value.items()}
            else:
                continue
            for c in copies:
                if name in c:
                    c[name] = value
        return body

    def new(self, kind_name: str, **fields) -> "Created":
        """A new object of a long-tail kind: its sample (plus `fields`) through its create route,
        or stored with the CLI for the kinds the API cannot create."""
        kind = KINDS[kind_name]
        if kind.create is None:
            return self.stored_with_cli(kind_name, fields)
        body = self.sample_body(kind)
        (body[kind.wrapper] if kind.wrapper else body).update(fields)
        answer = self.call(kind.create, Req(json_body=body))
        return Created(kind, kind.object_sent(body), kind.object_of(answer))

    def stored_with_cli(self, kind_name: str, fields: dict) -> "Created":
        """`ueba-workbench catalog put KIND FILE` of the kind's CLI_SEEDED object under a unique key
        (the CLI writes to the listener's database while it runs)."""
        kind = KINDS[kind_name]
        sent = {**copy.deepcopy(CLI_SEEDED[kind_name]), **fields}
        *parents, last = kind.key.split(".")
        holder = sent
        for part in parents:
            holder = holder[part]
        holder[last] = self.unique(kind_name)
        path = self.env.workdir / f"{holder[last]}.json"
        path.write_text(json.dumps(sent))
        return Created(kind, sent, cli(self.env.db, "catalog", "put", kind_name, str(path)))

    def read_back(self, kind: "Kind", key: str) -> dict:
        """An object as the API answers it now: by its read route, else from its query."""
        if kind.read:
            return self.call(kind.read, Req(path_params={path_names(route_by_id(kind.read))[0]: key},
                                            params=documented_params(kind.read)))
        listed = self.call(kind.query, Req(params=documented_params(kind.query)))[kind.list_field]
        found = [o for o in listed if kind.key_of(o) == key]
        assert len(found) == 1, f"{kind.schema} {key} listed {len(found)} times"
        return found[0]

    def keys(self, kind: "Kind") -> list[str]:
        """The keys its query lists now."""
        listed = self.call(kind.query, Req(params=documented_params(kind.query)))[kind.list_field]
        return sorted(kind.key_of(o) for o in listed)

    def policy(self, **fields) -> dict:
        return self.call("003-077", Req(json_body={**inert_policy(self), **fields}))

    def workflow(self, **fields) -> dict:
        return self.call("003-105", Req(json_body={**workflow_body(self), **fields}))

    def run(self, alert_uuid: str | None = None) -> dict:
        details = {"alert_uuid": alert_uuid} if alert_uuid else {}
        return self.call("003-101", Req(json_body={"workflow_run": {
            "workflow_uuid": self.workflow()["uuid"], "details": details}}))

    def token(self, **fields) -> dict:
        return self.call("003-093", Req(json_body={"name": self.unique("token"),
                                                   "description": "conformance", **fields}))

    def login(self) -> dict:
        """A Login session of the admin account (its `user_uuid` is the account's uuid)."""
        account = self.env.accounts["admin"]
        resp = self.api.session.get(self.api.base + "/api/v1/login", auth=(account.name, account.password),
                                    timeout=60)
        return json_of(expect(resp, 200))

    def customer_dataset(self) -> dict:
        return self.call("003-055", Req(json_body={"dataset_name": self.unique("list"),
                                                   "description": "conformance list",
                                                   "items": ["lw.conformance", "10.9.0.0/16"]}))


@pytest.fixture(scope="module")
def lw(main: Env) -> Lw:
    return Lw(main)


def documented_params(route_id: str) -> dict | None:
    """`resolveDisplayNames=true` where the contract marks it required (a required *string*).
    The other required parameters select something; each case gives them."""
    params = {name: "true" for name, q in OPERATIONS[route_id]["query_params"].items()
              if q.get("required") and name == "resolveDisplayNames"}
    return params or None


# --------------------------------------------------------------------------------------------
# The long tail: kinds and how their objects are compared
# --------------------------------------------------------------------------------------------

# Fields that must be unique per object (keys, names); the suite makes them unique.
UNIQUE_FIELDS = ("name", "key", "description", "display_name", "source_user_id", "unique_name")
# Fields the workbench keeps itself, whatever a request says.
MANAGED = {"account_name", "uuid", "create_time", "update_time", "creator_uuid", "creator_display_name",
           "updater_uuid", "updater_display_name", "record_update_time"}


@dataclass(frozen=True)
class Kind:
    """How the suite reaches the objects of one long-tail kind."""

    schema: str                   # the contract's object schema
    create: str | None = None     # route id of its create
    read: str | None = None       # route id of GET .../{key}
    query: str | None = None      # route id of its query
    list_field: str = ""          # the array of the query's answer
    key: str = "uuid"             # the field naming an object (a dotted path for documents)
    wrapper: str | None = None    # create bodies hold the object in this field
    update_wrapper: str | None = None  # update bodies hold the fields to change in this field
    secrets: tuple[str, ...] = () # sent secrets are answered blank

    def key_of(self, obj: dict) -> str:
        for part in self.key.split("."):
            obj = obj[part]
        return obj

    def object_sent(self, body: dict) -> dict:
        """The object a create or update body describes (a wrapped one, or its own fields)."""
        if self.wrapper:
            return body[self.wrapper]
        return {k: v for k, v in body.items() if k in properties(self.schema)}

    def object_of(self, answer: dict) -> dict:
        """The object in an answer (some answers wrap it: `{user, user_pii}`, `{group, ...}`)."""
        for holder in (self.wrapper, "group"):
            if holder and isinstance(answer.get(holder), dict):
                return answer[holder]
        return answer


KINDS: dict[str, Kind] = {
    "access": Kind("Access", create="003-003", read="003-004", query="003-001", list_field="accesses",
                   update_wrapper="access"),
    "alert_config": Kind("AlertConfig", create="003-007", read="003-008", query="003-006",
                         list_field="configs"),
    "app_control_policy": Kind("AppControlPolicy", create="003-018", read="003-016", query="003-015",
                               list_field="app_control_policies"),
    "app": Kind("proto.App", create="003-020", read="003-021", query="003-019", list_field="apps",
                wrapper="app"),
    "blob": Kind("Blob", create="003-026", read="003-027", query="003-025", list_field="blobs", key="key"),
    "ca_certificate": Kind("CaCertificate", create="003-029", read="003-030", query="003-028",
                           list_field="certificates"),
    "card": Kind("proto.Card", create="003-033", read="003-034", query="003-032", list_field="cards",
                 wrapper="card"),
    "notification_channel": Kind("NotificationChannel", create="003-036", read="003-037",
                                 query="003-035", list_field="channels"),
    "client_config": Kind("ClientConfig", create="003-039", read="003-040",
                          secrets=("guest_user_api_token",)),
    "connector": Kind("Connector", create="003-043", read="003-044", query="003-042",
                      list_field="connectors", key="name", secrets=("access_token", "secret_hash")),
    "dashboard": Kind("proto.Dashboard", create="003-047", read="003-048", query="003-046",
                      list_field="dashboards", wrapper="dashboard"),
    "data_export": Kind("DataExportConfig", create="003-050", query="003-049",
                        list_field="data_export_configs"),
    "device": Kind("proto.Device", create="003-060", read="003-061", wrapper="device",
                   secrets=("private_key_encrypted",)),
    "document": Kind("DocumentMetadata", read="003-062", key="identity.id"),
    "group": Kind("Group", create="X-10", read="003-067", query="003-066", list_field="groups"),
    "integration": Kind("Integration", create="003-069", query="003-070", list_field="integrations",
                        secrets=("credentials", "encrypted_credentials")),
    "posture_attribute": Kind("PostureAttribute", create="003-081", read="003-082", query="003-080",
                              list_field="posture_attributes"),
    "posture_profile": Kind("PostureProfile", create="003-085", read="003-086", query="003-084",
                            list_field="posture_profiles"),
    "user": Kind("proto.User", create="003-096", read="003-097", query="003-095", list_field="users",
                 wrapper="user", update_wrapper="user", secrets=("mfa_encrypted_secret",)),
}

# What the CLI stores for the kinds the API cannot create.
CLI_SEEDED = {
    "document": {
        "identity": {"id": "", "display": "Quarterly report", "type": 1},
        "file_extension": "xlsx", "file_size": 1234, "is_shared": True, "is_shared_externally": True,
        "external_access": [
            {"access_id": "acc-external", "target_domain": "example.org",
             "target_identity": {"id": "guest@example.org", "external": True}},
            {"access_id": "acc-internal", "target_identity": {"id": "bob@corp.example", "external": False}},
        ],
    },
}


@dataclass
class Created:
    """An object the suite made: what it sent and what the API answered."""

    kind: Kind
    sent: dict
    stored: dict

    @property
    def key(self) -> str:
        return self.kind.key_of(self.stored)


def blank(value: Any) -> bool:
    """A redacted secret: empty strings all the way down."""
    if isinstance(value, dict):
        return all(blank(v) for v in value.values())
    if isinstance(value, list):
        return all(blank(v) for v in value)
    return value in ("", None)


def assert_stored(kind: Kind, sent: dict, stored: dict) -> None:
    """Every field sent comes back as sent, except those the workbench manages (a status 0 means
    "unset" and becomes ACTIVE); secrets come back blank, never as sent."""
    compared = 0
    for name, value in sent.items():
        if name in MANAGED or (name == "status" and value == 0):
            continue
        compared += 1
        if name in kind.secrets:
            assert blank(stored.get(name)), f"secret {name} answered: {stored.get(name)!r}"
            continue
        assert stored.get(name) == value, (
            f"{kind.schema}.{name}: sent {json.dumps(value)[:300]}, answered {json.dumps(stored.get(name))[:300]}")
    assert compared, f"nothing to compare: every field sent is managed by the workbench ({sorted(sent)})"


# --------------------------------------------------------------------------------------------
# Cases: how each route is called successfully, and what must be true afterwards
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    # Builds the successful request (making what it needs first).
    prepare: Callable[[Lw], Req]
    # Checks the effect: the answer's body and what reads back (store and return).
    check: Callable[[Lw, Req, Any], None] | None = None
    # A documented body field (names and indexes) to send with a wrong type; `wrong_value` for a
    # body the contract does not document.
    wrong_type: tuple | None = None
    wrong_value: Any = None
    # A bad query parameter value and the parameter the 400 must name.
    bad_query: tuple[dict, str] | None = None
    # What a refused create must not add to (the keys a query lists), whatever the request.
    listing: Callable[[Lw], Any] | None = None
    # The object the request names, as read: a refused change must leave it as it was.
    state: Callable[[Lw, Req], Any] | None = None
    # The audited object's key (default: the path's key, else the answer's key or uuid).
    audited: Callable[[Outcome], set] | None = None
    # Why the route takes no input that could be wrong, when it takes none.
    no_input: str | None = None


def kind_listing(kind_name: str) -> Callable[[Lw], Any]:
    """The keys the kind's query lists."""
    return lambda lw: lw.keys(KINDS[kind_name])


def object_state(kind_name: str) -> Callable[[Lw, Req], Any]:
    """The object of the kind the request's path names, as read."""
    return lambda lw, req: lw.read_back(KINDS[kind_name], next(iter(req.path_params.values())))


def create_case(kind_name: str, wrong_type: tuple) -> Case:
    """Create an object from the contract's sample; it reads back as sent."""
    kind = KINDS[kind_name]

    def prepare(lw: Lw) -> Req:
        return Req(json_body=lw.sample_body(kind))

    def check(lw: Lw, req: Req, body: dict) -> None:
        created = kind.object_of(body)
        sent = kind.object_sent(req.json_body)
        assert_stored(kind, sent, created)
        assert_stored(kind, sent, lw.read_back(kind, kind.key_of(created)))

    return Case(prepare, check, wrong_type=wrong_type, listing=kind_listing(kind_name) if kind.query else None)


def read_case(kind_name: str) -> Case:
    """Read one object the suite made; it comes back as sent."""
    kind = KINDS[kind_name]

    def prepare(lw: Lw) -> Req:
        created = lw.new(kind_name)
        name = path_names(route_by_id(kind.read))[0]
        return Req(path_params={name: created.key}, params=documented_params(kind.read),
                   ctx={"created": created})

    def check(lw: Lw, req: Req, body: dict) -> None:
        created = req.ctx["created"]
        assert kind.key_of(body) == created.key
        assert_stored(kind, created.sent, body)

    return Case(prepare, check)


def query_case(kind_name: str, params: Callable[[Created], dict] | None = None) -> Case:
    """Query the kind: an object the suite made is listed as sent (with `params` selecting it)."""
    kind = KINDS[kind_name]
    query_id = kind.query

    def prepare(lw: Lw) -> Req:
        created = lw.new(kind_name)
        chosen = {**(documented_params(query_id) or {}), **(params(created) if params else {})}
        return Req(params=chosen or None, ctx={"created": created})

    def check(lw: Lw, req: Req, body: dict) -> None:
        created = req.ctx["created"]
        found = [o for o in body[kind.list_field] if kind.key_of(o) == created.key]
        assert len(found) == 1, f"{created.key} listed {len(found)} times in {kind.list_field}"
        assert_stored(kind, created.sent, found[0])

    return Case(prepare, check)


def update_case(kind_name: str, change: Callable[[Lw], dict], wrong_type: tuple) -> Case:
    """Change some fields of an object the suite made: they read back changed, and the fields
    the change left out read back as they were."""
    kind = KINDS[kind_name]

    def prepare(lw: Lw) -> Req:
        created = lw.new(kind_name)
        fields = change(lw)
        body = {kind.update_wrapper: fields} if kind.update_wrapper else {**fields}
        body["uuid"] = created.key
        return Req(path_params={"uuid": created.key}, json_body=body, ctx={"created": created, "fields": fields})

    def check(lw: Lw, req: Req, body: dict) -> None:
        created, fields = req.ctx["created"], req.ctx["fields"]
        assert_stored(kind, fields, kind.object_of(body))
        now = lw.read_back(kind, created.key)
        assert_stored(kind, fields, now)
        assert_stored(kind, {k: v for k, v in created.sent.items() if k not in fields}, now)

    return Case(prepare, check, wrong_type=wrong_type, state=object_state(kind_name))


def listed(body: dict, field_name: str, key: str, value: str) -> dict:
    """The one entry of `body[field_name]` whose `key` is `value`."""
    found = [o for o in body[field_name] if o.get(key) == value]
    assert len(found) == 1, f"{key}={value} listed {len(found)} times in {field_name}"
    return found[0]


# Alerts and investigation ---------------------------------------------------------------------


def _alerts_prepare(lw: Lw) -> Req:
    alert = lw.alert()
    return Req(params={"start_time": str(DAY_MS), "end_time": str(DAY_END_MS), "status_filter": "OPEN"},
               ctx={"alert": alert})


def _alerts_check(lw: Lw, req: Req, body: dict) -> None:
    alert = req.ctx["alert"]
    assert listed(body, "alerts", "uuid", alert["uuid"]) == alert
    assert all(a["status"] == 1 for a in body["alerts"]), "status_filter=OPEN lists only open alerts"


def _promote_prepare(lw: Lw) -> Req:
    event = lw.connection()
    return Req(json_body={"event_id": event, "bypass_notifications": True}, ctx={"event": event})


def _promote_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["status"] == 1, "a promoted event is an OPEN alert"
    assert body["related_entities"]["users_count"] == 1 and body["related_entities"]["devices_count"] == 1
    assert "lw.conformance" in body["description"] and "lw-host-1" in body["description"], body["description"]
    assert lw.call("003-011", Req(path_params={"uuid": body["uuid"]})) == body
    again = lw.call("003-010", Req(json_body={"event_id": req.ctx["event"]}))
    assert again["uuid"] == body["uuid"], "promoting the same event again answers its alert"


def _alert_prepare(lw: Lw) -> Req:
    alert = lw.alert()
    return Req(path_params={"uuid": alert["uuid"]}, ctx={"alert": alert})


def _history_prepare(lw: Lw) -> Req:
    alert = lw.alert()
    text = lw.unique("note")
    lw.note(alert["uuid"], text)
    return Req(path_params={"uuid": alert["uuid"]}, ctx={"text": text})


def _history_check(lw: Lw, req: Req, body: dict) -> None:
    last = body["investigation_actions"][-1]
    assert last["action"]["note"]["note_text"] == req.ctx["text"], last
    assert last["action"]["action_type"] == 3 and last["actor_display_name"] == lw.admin_name, last


def _action_prepare(lw: Lw) -> Req:
    alert = lw.alert()
    text = lw.unique("note")
    return Req(path_params={"uuid": alert["uuid"]}, ctx={"text": text},
               json_body={"alert_uuid": alert["uuid"], "alert_update_time": alert["update_time"],
                          "action": {"action_type": 3, "note": {"note_text": text}}})


def _action_check(lw: Lw, req: Req, body: dict) -> None:
    alert_uuid = req.path_params["uuid"]
    assert body["alert_uuid"] == alert_uuid
    assert body["history_item"]["action"]["note"]["note_text"] == req.ctx["text"]
    assert lw.call("003-011", Req(path_params={"uuid": alert_uuid}))["update_time"] == body["alert_update_time"]
    history = lw.call("003-012", Req(path_params={"uuid": alert_uuid}))["investigation_actions"]
    assert history[-1] == body["history_item"]


def _batch_prepare(lw: Lw) -> Req:
    first, second = lw.alert(), lw.alert()
    text = lw.unique("note")
    return Req(ctx={"text": text, "alerts": (first["uuid"], second["uuid"])}, json_body={
        "investigation_actions": [
            {"alert_uuid": first["uuid"], "action": {"note": {"note_text": text}}},
            {"alert_uuid": second["uuid"], "action": {"alert_status_change": {"new_status": 2}}},
        ]})


def _batch_check(lw: Lw, req: Req, body: dict) -> None:
    first, second = req.ctx["alerts"]
    assert [r["alert_uuid"] for r in body["responses"]] == [first, second]
    history = lw.call("003-012", Req(path_params={"uuid": first}))["investigation_actions"]
    assert history[-1]["action"]["note"]["note_text"] == req.ctx["text"]
    assert lw.call("003-011", Req(path_params={"uuid": second}))["status"] == 2, "IN_PROGRESS now"


# Audit events ---------------------------------------------------------------------------------


def _audit_prepare(lw: Lw) -> Req:
    start = now_ms()
    blob = lw.new("blob")
    return Req(params={"start_time": str(start), "end_time": str(now_ms() + 60_000)}, ctx={"blob": blob})


def _audit_check(lw: Lw, req: Req, body: dict) -> None:
    blob = req.ctx["blob"]
    event = listed(body, "audit_events", "object_uuid", blob.key)
    assert event["op"] == "blob.create" and event["user_login"] == lw.admin_name, event
    times = [e["create_time"] for e in body["audit_events"]]
    assert times == sorted(times, reverse=True), "newest first"
    start, end = int(req.params["start_time"]), int(req.params["end_time"])
    assert all(start <= t < end for t in times), "only events of [start_time, end_time)"


def _audit_event_prepare(lw: Lw) -> Req:
    start = now_ms()
    blob = lw.new("blob")
    event = listed({"e": lw.audit_since(start)}, "e", "object_uuid", blob.key)
    return Req(path_params={"uuid": event["uuid"]}, ctx={"event": event})


# Customer datasets ----------------------------------------------------------------------------


def _datasets_prepare(lw: Lw) -> Req:
    return Req(ctx={"dataset": lw.customer_dataset()})


def _datasets_check(lw: Lw, req: Req, body: dict) -> None:
    dataset = req.ctx["dataset"]
    assert listed(body, "customer_datasets", "dataset_name", dataset["dataset_name"]) == dataset


def _new_dataset_prepare(lw: Lw) -> Req:
    return Req(json_body={"dataset_name": lw.unique("list"), "description": "admin hosts",
                          "items": ["db-01", "10.9.0.0/16", "alice"]})


def _new_dataset_check(lw: Lw, req: Req, body: dict) -> None:
    sent = req.json_body
    assert body["dataset_name"] == sent["dataset_name"] and body["description"] == sent["description"]
    assert body["num_items"] == 3 and body["current_version"] == 1, body
    stored = lw.call("003-056", Req(path_params={"name": sent["dataset_name"]}))
    assert stored["dataset"] == body
    assert [i["list_item"]["value"] for i in stored["customer_dataset_items"]] == sent["items"]


def _dataset_prepare(lw: Lw) -> Req:
    dataset = lw.customer_dataset()
    return Req(path_params={"name": dataset["dataset_name"]}, ctx={"dataset": dataset})


def _dataset_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["dataset"] == req.ctx["dataset"]
    assert [i["list_item"]["value"] for i in body["customer_dataset_items"]] == ["lw.conformance", "10.9.0.0/16"]
    assert all(i["dataset_uuid"] == body["dataset"]["uuid"] for i in body["customer_dataset_items"])


# Policies -------------------------------------------------------------------------------------


def inert_policy(lw: Lw) -> dict:
    """A policy that can never act on another test's alerts: an ACCESS policy (not evaluated
    against alerts), suspended, for a user that does not exist."""
    return {"name": lw.unique("policy"), "description": "conformance", "action": 3, "status": 3, "type": 2,
            "priority": 7, "session_filter": {"include_any": [{"all": ["user:lw-nobody"]}], "exclude_any": []},
            "constraints": {"origin": "conformance"}, "mitm_settings": {"fail_close": True}}


def _policies_prepare(lw: Lw) -> Req:
    return Req(params={"appid": "any", "userid": "any", "resolveDisplayNames": "true"},
               ctx={"policy": lw.policy()})


def _policies_check(lw: Lw, req: Req, body: dict) -> None:
    policy = req.ctx["policy"]
    assert listed(body, "policies", "uuid", policy["uuid"]) == policy


def _new_policy_prepare(lw: Lw) -> Req:
    return Req(json_body={**inert_policy(lw), "allow_guest_access": False, "data_source": 0,
                          "integration_id": "", "metadata": "{}", "workflow_uuid": "",
                          "account_name": ACCOUNT, "app_filter": {"include_any": [], "exclude_any": []}})


def _new_policy_check(lw: Lw, req: Req, body: dict) -> None:
    sent = {k: v for k, v in req.json_body.items() if k not in MANAGED}
    assert {k: body[k] for k in sent} == sent
    assert lw.call("003-078", Req(path_params={"uuid": body["uuid"]})) == body


def _policy_prepare(lw: Lw) -> Req:
    sent = inert_policy(lw)
    policy = lw.call("003-077", Req(json_body=sent))
    return Req(path_params={"uuid": policy["uuid"]}, ctx={"policy": policy, "sent": sent})


def _policy_check(lw: Lw, req: Req, body: dict) -> None:
    assert body == req.ctx["policy"]
    sent = req.ctx["sent"]
    assert {k: body[k] for k in sent} == sent


def _policy_update_prepare(lw: Lw) -> Req:
    policy = lw.policy()
    return Req(path_params={"uuid": policy["uuid"]}, ctx={"policy": policy}, json_body={
        "policy": {"description": lw.unique("description"), "priority": 42},
        "expected_update_time": policy["update_time"]})


def _policy_update_check(lw: Lw, req: Req, body: dict) -> None:
    before, change = req.ctx["policy"], req.json_body["policy"]
    now = lw.call("003-078", Req(path_params={"uuid": before["uuid"]}))
    assert now == body
    assert now["description"] == change["description"] and now["priority"] == 42
    assert now["name"] == before["name"] and now["session_filter"] == before["session_filter"]
    assert now["update_time"] > before["update_time"]


# Tokens and login -----------------------------------------------------------------------------


def _works(lw: Lw, token: str) -> None:
    """The token is a Bearer credential of the admin account."""
    expect(lw.api.get("/api/v1/tokens", token), 200)


def _temporary_prepare(lw: Lw) -> Req:
    return Req(json_body={"account_name": ACCOUNT, "ttl_sec": 600, "user_uuid": lw.login()["user_uuid"]})


def _temporary_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["secret"], "a new token's secret is in the answer that creates it"
    _works(lw, body["secret"])
    assert abs(body["expire_time_sec"] - (time.time() + 600)) < 120, body["expire_time_sec"]
    assert listed(lw.call("003-092"), "tokens", "uuid", body["uuid"])["secret"] == ""


def _login_prepare(lw: Lw) -> Req:
    account = lw.env.accounts["admin"]
    basic = base64.b64encode(f"{account.name}:{account.password}".encode()).decode()
    return Req(params={"account": ACCOUNT}, headers={"Authorization": f"Basic {basic}"}, as_admin=False)


def _session_check(login_type: int):
    def check(lw: Lw, req: Req, body: dict) -> None:
        assert body["login_type"] == login_type and body["status"] == 2, body
        assert body["account_name"] == ACCOUNT and body["user_role"] == 1, body
        _works(lw, body["token"])
    return check


def _token_login_prepare(lw: Lw) -> Req:
    token = lw.token()
    return Req(params={"account": ACCOUNT}, headers={"Authorization": f"Bearer {token['secret']}"},
               as_admin=False)


def _tokens_prepare(lw: Lw) -> Req:
    return Req(params={"get_all": "true"}, ctx={"token": lw.token()})


def _tokens_check(lw: Lw, req: Req, body: dict) -> None:
    token = req.ctx["token"]
    found = listed(body, "tokens", "uuid", token["uuid"])
    assert found["secret"] == "", "secrets are shown once, when the token is made"
    assert found == {**token, "secret": ""}


def _new_token_prepare(lw: Lw) -> Req:
    return Req(json_body={"account_name": ACCOUNT, "name": lw.unique("token"), "description": "viewer token",
                          "role": 3, "status": 2, "ttl_sec": 3600})


def _new_token_check(lw: Lw, req: Req, body: dict) -> None:
    sent = req.json_body
    assert body["name"] == sent["name"] and body["description"] == sent["description"] and body["status"] == 2
    assert listed(lw.call("003-092"), "tokens", "uuid", body["uuid"]) == {**body, "secret": ""}
    # Role 3 (VIEWER) may read, and not change anything.
    expect(lw.api.get("/api/v1/alerts", body["secret"]), 200)
    expect_message(lw.api.post("/api/v1/groups", body["secret"], json_body={"name": lw.unique("group")}), 403)


def _token_update_prepare(lw: Lw) -> Req:
    token = lw.token()
    return Req(path_params={"uuid": token["uuid"]}, ctx={"token": token},
               json_body={"uuid": token["uuid"], "name": lw.unique("token"), "description": "renamed"})


def _token_update_check(lw: Lw, req: Req, body: dict) -> None:
    now = listed(lw.call("003-092"), "tokens", "uuid", req.path_params["uuid"])
    assert now == body
    assert now["name"] == req.json_body["name"] and now["description"] == "renamed"
    assert now["create_time"] == req.ctx["token"]["create_time"]


def _token_listing(lw: Lw) -> Any:
    return sorted(t["uuid"] for t in lw.call("003-092", Req(params={"get_all": "true"}))["tokens"])


# Workflows and their runs ---------------------------------------------------------------------


def workflow_body(lw: Lw) -> dict:
    return {"name": lw.unique("workflow"), "title": "Was this you?", "description": "conformance",
            "approval_ttl_sec": 3600, "execution_ttl_sec": 600, "recipients": ["role:admin"],
            "answers": [{"answer": "Approve", "actions": [{"run": 0, "on_object": 0, "target": ""}]},
                        {"answer": "Deny", "actions": []}]}


def _runs_prepare(lw: Lw) -> Req:
    run = lw.run()
    return Req(params={"workflow_uuid": run["workflow_uuid"], "status": "PENDING"}, ctx={"run": run})


def _runs_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["workflow_runs"] == [req.ctx["run"]]


def _new_run_prepare(lw: Lw) -> Req:
    alert, workflow = lw.alert(), lw.workflow()
    return Req(ctx={"alert": alert, "workflow": workflow}, json_body={
        "workflow_run": {"workflow_uuid": workflow["uuid"], "details": {"alert_uuid": alert["uuid"]},
                         "tags": ["conformance"]}})


def _new_run_check(lw: Lw, req: Req, body: dict) -> None:
    alert, workflow = req.ctx["alert"], req.ctx["workflow"]
    assert body["status"] == 2 and body["can_user_approve"] is True, "a new run waits for an answer"
    assert body["workflow_uuid"] == workflow["uuid"] and body["workflow_name"] == workflow["name"]
    assert body["details"] == {"alert_uuid": alert["uuid"]} and body["tags"] == ["conformance"]
    assert body["answers"] == workflow["answers"] and body["recipients"] == workflow["recipients"]
    assert lw.call("003-102", Req(path_params={"uuid": body["uuid"]})) == body


def _run_prepare(lw: Lw) -> Req:
    run = lw.run()
    return Req(path_params={"uuid": run["uuid"]}, ctx={"run": run})


def _answer_prepare(lw: Lw) -> Req:
    run = lw.run(lw.alert()["uuid"])
    return Req(path_params={"uuid": run["uuid"]}, ctx={"run": run},
               json_body={"answer_index": "0", "justification": "it was me"})


def _answer_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["status"] == 3, "Approve → SUCCESS"
    assert body["answer_index"] == "0" and body["approver_justification"] == "it was me"
    assert body["approver_display_name"] == lw.admin_name and body["can_user_approve"] is False
    assert lw.call("003-102", Req(path_params={"uuid": req.path_params["uuid"]})) == body
    expect_message(lw.send(route_by_id("003-103"), req, lw.admin), 409)


def _workflows_prepare(lw: Lw) -> Req:
    return Req(ctx={"workflow": lw.workflow()})


def _workflows_check(lw: Lw, req: Req, body: dict) -> None:
    workflow = req.ctx["workflow"]
    assert listed(body, "workflows", "uuid", workflow["uuid"]) == workflow


def _new_workflow_prepare(lw: Lw) -> Req:
    return Req(json_body=workflow_body(lw))


def _new_workflow_check(lw: Lw, req: Req, body: dict) -> None:
    sent = req.json_body
    assert {k: body[k] for k in sent} == sent
    assert body["status"] == 2, "ACTIVE unless given"
    assert lw.call("003-106", Req(path_params={"uuid": body["uuid"]})) == body


def _workflow_prepare(lw: Lw) -> Req:
    workflow = lw.workflow()
    return Req(path_params={"uuid": workflow["uuid"]}, ctx={"workflow": workflow})


def _workflow_update_prepare(lw: Lw) -> Req:
    workflow = lw.workflow()
    return Req(path_params={"uuid": workflow["uuid"]}, ctx={"workflow": workflow},
               json_body={"description": lw.unique("description"), "approval_ttl_sec": 7200})


def _workflow_update_check(lw: Lw, req: Req, body: dict) -> None:
    before = req.ctx["workflow"]
    now = lw.call("003-106", Req(path_params={"uuid": before["uuid"]}))
    assert now == body
    assert now["description"] == req.json_body["description"] and now["approval_ttl_sec"] == 7200
    assert now["name"] == before["name"] and now["answers"] == before["answers"]


def _equals_ctx(name: str):
    """The answer is the object the case made (read back unchanged)."""
    def check(lw: Lw, req: Req, body: dict) -> None:
        assert body == req.ctx[name]
    return check


def _listing(route_id: str, field_name: str, key: str = "uuid"):
    """The keys a query route lists."""
    return lambda lw: sorted(o[key] for o in lw.call(route_id)[field_name])


def _read_state(route_id: str):
    """What a read route answers for the request's path."""
    return lambda lw, req: lw.call(route_id, Req(path_params=req.path_params))


# The long tail's special operations -----------------------------------------------------------


def _account_prepare(lw: Lw) -> Req:
    return Req(path_params={"name": ACCOUNT}, ctx={"onboarding": lw.call("003-074")})


def _account_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["name"] == ACCOUNT and body["status"] == 2, body
    assert body["onboarding"] == req.ctx["onboarding"], "the account holds its onboarding"


def _deploy_app_prepare(lw: Lw) -> Req:
    return Req(json_body=lw.sample_body(KINDS["app"]))


def _deploy_app_check(lw: Lw, req: Req, body: dict) -> None:
    kind = KINDS["app"]
    assert body["new_policies"] == []
    assert body["app"]["status"] == 2, "a deployed app is ACTIVE"
    sent = {k: v for k, v in req.json_body["app"].items() if k != "status"}
    assert_stored(kind, sent, lw.read_back(kind, body["app"]["uuid"]))


def _blobs_params(created: Created) -> dict:
    return {"prefix": created.key}


def _countries_check(lw: Lw, req: Req, body: dict) -> None:
    codes = [c["country_code"] for c in body["countries"]]
    assert {"FI", "US", "DE"} <= set(codes) and len(codes) == len(set(codes)), codes[:20]
    assert all(c["country"] for c in body["countries"])


def _download_prepare(lw: Lw) -> Req:
    created = lw.new("client_config")
    return Req(path_params={"uuid": created.key}, ctx={"created": created})


def _download_check(lw: Lw, req: Req, body: dict) -> None:
    assert body == lw.read_back(KINDS["client_config"], req.path_params["uuid"])
    assert_stored(KINDS["client_config"], req.ctx["created"].sent, body)


def _s3_policy_check(lw: Lw, req: Req, body: dict) -> None:
    bucket = req.json_body["s3_bucket_name"]
    assert f"arn:aws:s3:::{bucket}" in json.dumps(body), body


def _valid_export(lw: Lw) -> Created:
    return lw.new("data_export", s3_bucket_name="lw-conformance-bucket", s3_bucket_account_id="123456789012",
                  data_export_types=[1])


def _validate_export_prepare(lw: Lw) -> Req:
    return Req(json_body={"account_name": ACCOUNT, "uuid": _valid_export(lw).key})


def _validate_export_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["status"] == "VALID", body
    broken = lw.new("data_export", s3_bucket_name="Not A Bucket", s3_bucket_account_id="12",
                    data_export_types=[1])
    invalid = lw.call("003-053", Req(json_body={"uuid": broken.key}))
    assert invalid["status"] == "INVALID" and "s3_bucket_name" in invalid["error_message"], invalid


def _deploy_connector_prepare(lw: Lw) -> Req:
    return Req(json_body={"name": lw.unique("connector")})


def _deploy_connector_check(lw: Lw, req: Req, body: dict) -> None:
    name = req.json_body["name"]
    assert body["connector"]["name"] == name and body["success"] is True
    assert body["connector"]["access_token"], "the new connector's access token is shown once"
    stored = lw.read_back(KINDS["connector"], name)
    assert stored["access_token"] == "", "and never again"


def _options_prepare(lw: Lw) -> Req:
    return Req(ctx={"connector": lw.new("connector", status=2)})


def _options_check(lw: Lw, req: Req, body: dict) -> None:
    option = listed(body, "options", "entity_id", req.ctx["connector"].key)
    assert option["valid"] is True, option


def _delete_devices_prepare(lw: Lw) -> Req:
    device = lw.new("device")
    return Req(json_body={"account_name": ACCOUNT, "devices": [
        {"uuid": device.key, "user_uuid": device.stored["user_uuid"]}]}, ctx={"device": device})


def _delete_devices_check(lw: Lw, req: Req, body: dict) -> None:
    device = req.ctx["device"]
    assert body["uuid"] == device.key
    expect_message(lw.api.get(f"/api/v1/devices/{device.key}", lw.admin), 404)


def _document_prepare(lw: Lw, body: dict | None = None) -> Req:
    document = lw.new("document")
    return Req(path_params={"uuid": document.key}, json_body=body, ctx={"document": document})


def _document_check(lw: Lw, req: Req, body: dict) -> None:
    assert_stored(KINDS["document"], req.ctx["document"].sent, body)


def _revoke_access_check(lw: Lw, req: Req, body: dict) -> None:
    now = lw.read_back(KINDS["document"], req.path_params["uuid"])
    assert [a["access_id"] for a in now["external_access"]] == ["acc-internal"]
    assert now["is_shared_externally"] is False and now["is_shared"] is True, now


def _revoke_sharing_check(lw: Lw, req: Req, body: dict) -> None:
    now = lw.read_back(KINDS["document"], req.path_params["uuid"])
    assert now["external_access"] == [] and now["is_shared"] is False and now["is_shared_externally"] is False


def _gateways_check(lw: Lw, req: Req, body: dict) -> None:
    local = listed(body, "gateways", "name", "local")
    assert local["key"] == "" and local["secret"] == "", "gateway secrets are never answered"


def _validate_integration_prepare(lw: Lw) -> Req:
    return Req(json_body={"account_name": ACCOUNT, "uuid": lw.new("integration").key})


def _validate_integration_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["status"] == "SUCCESS" and body["error_message"] == "", body


def _onboarding_prepare(lw: Lw) -> Req:
    steps = [lw.unique("step")]
    lw.call("003-075", Req(json_body={"onboarding": {"completed_steps": steps}}))
    return Req(ctx={"steps": steps})


def _onboarding_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["completed_steps"] == req.ctx["steps"], body


def _onboarding_update_prepare(lw: Lw) -> Req:
    return Req(json_body={"account_name": ACCOUNT, "onboarding": {
        "completed_steps": [lw.unique("step"), lw.unique("step")], "eula_version": lw.unique("eula"),
        "eula_signed": True}})


def _onboarding_update_check(lw: Lw, req: Req, body: dict) -> None:
    sent = req.json_body["onboarding"]
    now = lw.call("003-074")
    assert now == body
    assert {k: now[k] for k in sent} == sent
    assert now["eula_signing_time"] > 0 and now["eula_signing_user_display_name"], "signing is recorded"


def _qs_view_prepare(lw: Lw) -> Req:
    user = lw.unique("qs.user")
    connections = [lw.connection(user=user, host=host) for host in ("lw-qs-a", "lw-qs-a", "lw-qs-b")]
    # A promoted event is an INFO alert of DAY, for the alerts_by_severity view.
    lw.call("003-010", Req(json_body={"event_id": connections[0]}))
    return Req(path_params={"view": "connections_by_user"},
               params={"start_time": str(DAY_MS), "end_time": str(DAY_END_MS)}, ctx={"user": user})


def _qs_view_check(lw: Lw, req: Req, body: dict) -> None:
    assert body["view"] == "connections_by_user"
    row = listed(body, "rows", "user", req.ctx["user"])
    assert row["connections"] == 3 and row["hosts"] == 2, row
    # The other views answer over the same window.
    by_host = lw.call("003-088", Req(path_params={"view": "connections_by_host"}, params=req.params))
    assert listed(by_host, "rows", "target_host", "lw-qs-b")["connections"] >= 1
    by_severity = lw.call("003-088", Req(path_params={"view": "alerts_by_severity"}, params=req.params))
    assert listed(by_severity, "rows", "severity", 1)["alerts"] >= 1, by_severity


def _group_users_prepare(lw: Lw) -> Req:
    groups = lw.call("003-066")["groups"]
    roles = [g for g in groups if "role" in g.get("tags", []) and g.get("user_count", 0) > 0]
    assert roles, "the connection data makes one group per user role, holding its users"
    return Req(path_params={"uuid": roles[0]["uuid"]}, ctx={"group": roles[0]})


def _group_users_check(lw: Lw, req: Req, body: dict) -> None:
    assert len(body["users"]) == req.ctx["group"]["user_count"]
    assert all(u["source_user_id"] for u in body["users"]), "members are the connection users"


def _user_devices_prepare(lw: Lw) -> Req:
    user = lw.new("user")
    device = lw.new("device", user_uuid=user.key)
    return Req(path_params={"uuid": user.key}, ctx={"device": device})


def _user_devices_check(lw: Lw, req: Req, body: dict) -> None:
    device = req.ctx["device"]
    assert [d["uuid"] for d in body["devices"]] == [device.key]
    assert_stored(KINDS["device"], device.sent, body["devices"][0])


def _change(**fields) -> Callable[[Lw], dict]:
    """An update's fields; values given as "*" are made unique."""
    return lambda lw: {k: (lw.unique(k) if v == "*" else v) for k, v in fields.items()}


CASES: dict[str, Case] = {
    # Accesses.
    "003-001": query_case("access", lambda c: {"appid": c.sent["app_list"][0], "userid": c.sent["user_list"][0]}),
    "003-002": update_case("access", _change(description="*", user_list=["lw-user", "lw-user-2"]),
                           ("access", "access_type")),
    "003-003": create_case("access", ("access_type",)),
    "003-004": read_case("access"),
    "003-005": Case(_account_prepare, _account_check),
    # Alert configs.
    "003-006": query_case("alert_config", lambda c: {"status": "2"}),
    "003-007": create_case("alert_config", ("skip_alerts",)),
    "003-008": read_case("alert_config"),
    # Alerts and their investigation.
    "003-009": Case(_alerts_prepare, _alerts_check, bad_query=({"start_time": "yesterday"}, "start_time")),
    "003-010": Case(_promote_prepare, _promote_check, wrong_type=("start_time",)),
    "003-011": Case(_alert_prepare, _equals_ctx("alert")),
    "003-012": Case(_history_prepare, _history_check),
    "003-013": Case(_action_prepare, _action_check, wrong_type=("alert_update_time",),
                    state=_read_state("003-012")),
    "003-014": Case(_batch_prepare, _batch_check, wrong_type=("investigation_actions", 0, "alert_update_time"),
                    audited=lambda o: set(o.req.ctx["alerts"])),
    # App control policies.
    "003-015": query_case("app_control_policy", lambda c: {"status": "2"}),
    "003-016": read_case("app_control_policy"),
    "003-017": update_case("app_control_policy", _change(description="*", name="*"), ("status",)),
    "003-018": create_case("app_control_policy", ("status",)),
    # Apps.
    "003-019": query_case("app", lambda c: {"tag": c.sent["tags"][0], "status": "2", "datasource": "0,1"}),
    "003-020": create_case("app", ("app", "port")),
    "003-021": read_case("app"),
    "003-022": Case(_deploy_app_prepare, _deploy_app_check, wrong_type=("app", "port"),
                    listing=kind_listing("app"), audited=lambda o: {o.body["app"]["uuid"]}),
    # Audit events.
    "003-023": Case(_audit_prepare, _audit_check, bad_query=({"end_time": "tomorrow"}, "end_time")),
    "003-024": Case(_audit_event_prepare, _equals_ctx("event")),
    # Blobs.
    "003-025": query_case("blob", _blobs_params),
    "003-026": create_case("blob", ("expire_time_sec",)),
    "003-027": read_case("blob"),
    # CA certificates.
    "003-028": query_case("ca_certificate"),
    "003-029": create_case("ca_certificate", ("purpose",)),
    "003-030": read_case("ca_certificate"),
    "003-031": update_case("ca_certificate", _change(description="*", chain=["-----BEGIN CERTIFICATE-----"]),
                           ("status",)),
    # Cards.
    "003-032": query_case("card"),
    "003-033": create_case("card", ("card", "chart_type")),
    "003-034": read_case("card"),
    # Notification channels.
    "003-035": query_case("notification_channel", lambda c: {"status": "2"}),
    "003-036": create_case("notification_channel", ("type",)),
    "003-037": read_case("notification_channel"),
    # Client configurations.
    "003-038": Case(_download_prepare, _download_check),
    "003-039": create_case("client_config", ("enable_auto_updates",)),
    "003-040": read_case("client_config"),
    "003-041": update_case("client_config", _change(description="*", dns_search_domains=["corp.example"]),
                           ("enable_auto_updates",)),
    # Connectors.
    "003-042": query_case("connector"),
    "003-043": create_case("connector", ("tcp_on_layer_three_vpn",)),
    "003-044": read_case("connector"),
    "003-045": Case(lambda lw: Req(), _countries_check),
    # Dashboards.
    "003-046": query_case("dashboard", lambda c: {"tag": c.sent["tags"][0], "status": "2"}),
    "003-047": create_case("dashboard", ("dashboard", "status")),
    "003-048": read_case("dashboard"),
    # Data exports.
    "003-049": query_case("data_export"),
    "003-050": create_case("data_export", ("data_export_types",)),
    "003-051": update_case("data_export", _change(data_export_types=[1, 2]), ("data_export_types",)),
    "003-052": Case(lambda lw: Req(json_body={"account_name": ACCOUNT, "s3_bucket_name": "lw-conformance-bucket"}),
                    _s3_policy_check, wrong_type=("s3_bucket_name",)),
    "003-053": Case(_validate_export_prepare, _validate_export_check, wrong_type=("uuid",)),
    # Customer datasets.
    "003-054": Case(_datasets_prepare, _datasets_check),
    "003-055": Case(_new_dataset_prepare, _new_dataset_check, wrong_type=("dataset_name",), wrong_value=5,
                    listing=_listing("003-054", "customer_datasets", "dataset_name")),
    "003-056": Case(_dataset_prepare, _dataset_check),
    # Connector deployments.
    "003-057": Case(_deploy_connector_prepare, _deploy_connector_check,
                    no_input="has no parameter and no body in the contract",
                    audited=lambda o: {o.req.json_body["name"]}),
    "003-058": Case(_options_prepare, _options_check),
    # Devices.
    "003-059": Case(_delete_devices_prepare, _delete_devices_check, wrong_type=("devices", 0, "uuid"),
                    state=lambda lw, req: lw.read_back(KINDS["device"], req.ctx["device"].key),
                    audited=lambda o: {o.req.ctx["device"].key}),
    "003-060": create_case("device", ("device", "status")),
    "003-061": read_case("device"),
    # Documents (stored with the CLI: the API has no create route for them).
    "003-062": Case(_document_prepare, _document_check),
    "003-063": Case(lambda lw: _document_prepare(lw, {"account_name": ACCOUNT, "access_id": "acc-external"}),
                    _revoke_access_check, wrong_type=("access_id",), state=object_state("document")),
    "003-064": Case(lambda lw: _document_prepare(lw, {"account_name": ACCOUNT, "external_only": False}),
                    _revoke_sharing_check, wrong_type=("external_only",), state=object_state("document")),
    "003-065": Case(lambda lw: Req(), _gateways_check),
    # Groups (role groups come from the connection data; analysts add their own).
    "003-066": query_case("group", lambda c: {"status": "2"}),
    "003-067": read_case("group"),
    "003-068": update_case("group", _change(name="*", tags=["soc"]), ("status",)),
    # Integrations.
    "003-069": create_case("integration", ("data_source",)),
    "003-070": query_case("integration", lambda c: {"data_source": str(c.sent["data_source"])}),
    "003-071": update_case("integration", _change(filter_domains=["corp.example"]), ("filter_domains",)),
    "003-072": Case(_validate_integration_prepare, _validate_integration_check, wrong_type=("uuid",)),
    # Login.
    "003-073": Case(_login_prepare, _session_check(1)),
    # Onboarding.
    "003-074": Case(_onboarding_prepare, _onboarding_check),
    "003-075": Case(_onboarding_update_prepare, _onboarding_update_check, wrong_type=("onboarding", "eula_signed"),
                    state=lambda lw, req: lw.call("003-074"), audited=lambda o: {ACCOUNT}),
    # Policies.
    "003-076": Case(_policies_prepare, _policies_check),
    "003-077": Case(_new_policy_prepare, _new_policy_check, wrong_type=("priority",),
                    listing=_listing("003-076", "policies")),
    "003-078": Case(_policy_prepare, _policy_check),
    "003-079": Case(_policy_update_prepare, _policy_update_check, wrong_type=("policy", "priority"),
                    state=_read_state("003-078")),
    # Posture attributes and profiles.
    "003-080": query_case("posture_attribute"),
    "003-081": create_case("posture_attribute", ("attribute_type",)),
    "003-082": read_case("posture_attribute"),
    "003-083": update_case("posture_attribute", _change(description="*", supported_platforms=[1, 2]),
                           ("supported_platforms",)),
    "003-084": query_case("posture_profile"),
    "003-085": create_case("posture_profile", ("platform",)),
    "003-086": read_case("posture_profile"),
    "003-087": update_case("posture_profile", _change(description="*", attribute_uuids=["attr-1"]),
                           ("attribute_uuids",)),
    # QS views.
    "003-088": Case(_qs_view_prepare, _qs_view_check, bad_query=({"start_time": "0", "end_time": "noon"}, "end_time")),
    "003-089": Case(_group_users_prepare, _group_users_check),
    # Tokens.
    "003-090": Case(_temporary_prepare, _temporary_check, wrong_type=("ttl_sec",), listing=_token_listing),
    "003-091": Case(_token_login_prepare, _session_check(2)),
    "003-092": Case(_tokens_prepare, _tokens_check, bad_query=({"get_all": "maybe"}, "get_all")),
    "003-093": Case(_new_token_prepare, _new_token_check, wrong_type=("ttl_sec",), listing=_token_listing),
    "003-094": Case(_token_update_prepare, _token_update_check, wrong_type=("status",),
                    state=lambda lw, req: listed(lw.call("003-092"), "tokens", "uuid", req.path_params["uuid"])),
    # Users.
    "003-095": query_case("user", lambda c: {"tag": c.sent["tags"][0], "status": "2", "datasource": "0"}),
    "003-096": create_case("user", ("user", "status")),
    "003-097": read_case("user"),
    "003-098": update_case("user", _change(display_name="*", tags=["soc", "on-call"]), ("user", "status")),
    "003-099": Case(_user_devices_prepare, _user_devices_check),
    # Workflow runs and workflows.
    "003-100": Case(_runs_prepare, _runs_check, bad_query=({"status": "LOST"}, "status")),
    "003-101": Case(_new_run_prepare, _new_run_check, wrong_type=("workflow_run", "app_port"),
                    listing=_listing("003-100", "workflow_runs")),
    "003-102": Case(_run_prepare, _equals_ctx("run")),
    "003-103": Case(_answer_prepare, _answer_check, wrong_type=("token",), state=_read_state("003-102")),
    "003-104": Case(_workflows_prepare, _workflows_check),
    "003-105": Case(_new_workflow_prepare, _new_workflow_check, wrong_type=("approval_ttl_sec",),
                    listing=_listing("003-104", "workflows")),
    "003-106": Case(_workflow_prepare, _equals_ctx("workflow")),
    "003-107": Case(_workflow_update_prepare, _workflow_update_check, wrong_type=("approval_ttl_sec",),
                    state=_read_state("003-106")),
    # Groups, created by analysts.
    "X-10": Case(lambda lw: Req(json_body={"name": lw.unique("group"), "description": "on-call analysts"}),
                 lambda lw, req, body: assert_stored(KINDS["group"], req.json_body,
                                                     lw.read_back(KINDS["group"], body["uuid"])),
                 wrong_type=("name",), listing=kind_listing("group")),
}


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


def allowed_roles(route: Route) -> tuple[str, ...]:
    return ALLOWED_ROLES.get(route.id, READERS if route.method == "GET" else ADMIN_ONLY)


def placeholder(route: Route) -> Req:
    """A request that only credentials can refuse: unknown keys, and the contract's sample body."""
    params = {name: (UNKNOWN_ID if name == "uuid" else UNKNOWN_NAME) for name in path_names(route)}
    op = OPERATIONS[route.id]
    body = copy.deepcopy(op["request_sample"]) if op["request_schema"] is not None and route.method != "GET" else None
    return Req(path_params=params, json_body=body)


def unchanged_after(lw: Lw, looks: list[Callable[[], Any]], send: Callable[[], None]) -> None:
    """Runs `send` (a refused request): each look must see the same before and after."""
    before = [look() for look in looks]
    send()
    assert [look() for look in looks] == before, "a refused request changed something"


def listing_looks(lw: Lw, route: Route) -> list[Callable[[], Any]]:
    """What a refused request of the route must not add to (its kind's listing, for creates)."""
    listing = CASES[route.id].listing
    return [lambda: listing(lw)] if listing else []


def test_every_lacework_route_has_a_case():
    ids = [r.id for r in ROUTES]
    assert len(ids) == 108 and len(set(ids)) == len(ids), ids
    assert sorted(CASES) == sorted(ids), (
        f"rows without a case: {sorted(set(ids) - set(CASES))}; cases without a row: {sorted(set(CASES) - set(ids))}")
    for route in ROUTES:
        op = OPERATIONS[route.id]
        assert (op["method"], op["path"], op["success_status"]) == (route.method, route.path, route.success_status), (
            f"{route.id}: the contract and the route table disagree")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_unauthenticated(lw: Lw, route: Route):
    """Without credentials, or with a garbage token: 401 `{"message"}`, nothing changed. Login
    and TokenLogin refuse missing or wrong credentials of their own with 403."""
    if route.id == "003-073":
        account = lw.env.accounts["admin"]
        for auth in (None, (account.name, "not-the-password"), ("nobody-at-all", account.password)):
            resp = lw.api.session.get(lw.api.base + route.path, auth=auth, params={"account": ACCOUNT}, timeout=60)
            expect_message(resp, 403)
        return
    if route.id == "003-091":
        suspended = lw.token()
        lw.call("003-094", Req(path_params={"uuid": suspended["uuid"]}, json_body={"status": 3}))
        for token in (None, "garbage-token", suspended["secret"]):
            expect_message(lw.api.get(route.path, token, params={"account": ACCOUNT}), 403)
        return
    req = placeholder(route)

    def send() -> None:
        for token in (None, "garbage-token"):
            expect_message(lw.send(route, req, token), 401)

    unchanged_after(lw, listing_looks(lw, route), send)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_forbidden_roles(lw: Lw, route: Route):
    """Every account role the route does not allow gets 403 `{"message"}` and changes nothing; a
    reading route lets each role it allows through."""
    case = CASES[route.id]
    if route.id in LOGIN_ROUTES:
        # Valid credentials, but for another account than this workbench's.
        req = case.prepare(lw)
        req.params = {"account": "another-account"}
        expect_message(lw.send(route, req, None), 403)
        return
    allowed = allowed_roles(route)
    refused = [role for role in lw.env.accounts if role not in allowed]
    if not refused:
        pytest.skip("every account role may call it (each account manages its own API tokens)")
    req = placeholder(route)
    for role in refused:
        unchanged_after(lw, listing_looks(lw, route),
                        lambda: expect_message(lw.send(route, req, lw.env.tok(role)), 403))
    if route.method == "GET":
        # A good request made for this check (the shared outcome is checked where it is made).
        ok = case.prepare(lw)
        for role in allowed:
            expect(lw.send(route, ok, lw.env.tok(role)), route.success_status)


@pytest.mark.parametrize("route", [pytest.param(r, id=r.id, marks=xfail(SUCCESS_BUGS.get(r.id))) for r in ROUTES])
def test_success(lw: Lw, route: Route):
    """As admin: the table's status, and the effect (what was sent reads back as sent)."""
    outcome = lw.outcome(route)
    expect(outcome.resp, route.success_status)
    body = outcome.body
    case = CASES[route.id]
    if case.check:
        case.check(lw, outcome.req, body)


@pytest.mark.parametrize("route", [pytest.param(r, id=r.id, marks=xfail(SCHEMA_BUGS.get(r.id))) for r in ROUTES])
def test_success_body_matches_contract(lw: Lw, route: Route):
    """The success body validates against the operation's response_schema."""
    schema = OPERATIONS[route.id]["response_schema"]
    if schema is None:
        pytest.skip("the contract documents no success body for this operation")
    outcome = lw.outcome(route)
    expect(outcome.resp, route.success_status)
    errors = contract_errors(schema, outcome.body)
    assert not errors, "success body breaks the contract:\n  " + "\n  ".join(errors[:15]) + (
        f"\nbody: {json.dumps(outcome.body)[:1500]}")


# Bad input: one parametrized test, one parameter per (route, bad input) ------------------------


WRONG_VALUES = {"integer": "not-a-number", "number": "not-a-number", "boolean": "not-a-boolean",
                "array": "not-an-array", "object": "not-an-object", "string": 12345}


def set_path(body: dict, path: tuple, value: Any) -> None:
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def replace_value(value: Any, old: str, new: str) -> Any:
    """`value` with every string equal to `old` replaced by `new`."""
    if isinstance(value, dict):
        return {k: replace_value(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_value(v, old, new) for v in value]
    return new if value == old else value


def bad_wrong_type(lw: Lw, route: Route) -> None:
    """A documented body field of the wrong type in an otherwise good request (made afresh, so
    that what it names exists): 400 naming the field, nothing stored or changed."""
    case = CASES[route.id]
    documented = documented_type(route.id, case.wrong_type) if OPERATIONS[route.id]["request_schema"] else None
    assert documented or case.wrong_value is not None, f"{case.wrong_type} is not in the contract's request body"
    value = case.wrong_value if case.wrong_value is not None else WRONG_VALUES[documented]
    req = case.prepare(lw)
    set_path(req.json_body, case.wrong_type, value)
    name = case.wrong_type[-1]

    def send() -> None:
        message = expect_message(lw.send(route, req, lw.admin), 400)
        assert name in message, f"the message does not name the field {name}: {message!r}"

    looks = listing_looks(lw, route) + ([lambda: case.state(lw, req)] if case.state else [])
    unchanged_after(lw, looks, send)


def bad_unknown_query(lw: Lw, route: Route) -> None:
    """An unknown query parameter on a read: 400 naming it (a misspelt filter must not quietly
    answer everything)."""
    ok = lw.outcome(route).req
    req = copy.deepcopy(ok)
    req.params = {**(ok.params or {}), "lw_unknown_filter": "1"}
    message = expect_message(lw.send(route, req, lw.admin), 400)
    assert "lw_unknown_filter" in message, message


def bad_query_value(lw: Lw, route: Route) -> None:
    """A query parameter with a value it cannot take: 400 naming the parameter."""
    params, name = CASES[route.id].bad_query
    req = copy.deepcopy(lw.outcome(route).req)
    req.params = {**(req.params or {}), **params}
    message = expect_message(lw.send(route, req, lw.admin), 400)
    assert name in message, message


def bad_unknown_key(lw: Lw, route: Route) -> None:
    """An unknown key in the path (everything else valid): 404 `{"message"}`."""
    ok = lw.outcome(route).req
    req = copy.deepcopy(ok)
    for name, value in ok.path_params.items():
        unknown = UNKNOWN_ID if name == "uuid" else UNKNOWN_NAME
        req.path_params[name] = unknown
        req.json_body = replace_value(req.json_body, value, unknown)
    expect_message(lw.send(route, req, lw.admin), 404)


def bad_inputs(route: Route) -> list:
    """The bad inputs that apply to a route, as test parameters."""
    case = CASES[route.id]
    out = []
    if case.wrong_type:
        out.append(pytest.param(route, bad_wrong_type, id=f"{route.id}-wrong-type",
                                marks=xfail(WRONG_TYPE_BUGS.get(route.id))))
    if route.method == "GET":
        out.append(pytest.param(route, bad_unknown_query, id=f"{route.id}-unknown-query-parameter"))
    if case.bad_query:
        out.append(pytest.param(route, bad_query_value, id=f"{route.id}-bad-query-value"))
    if path_names(route):
        out.append(pytest.param(route, bad_unknown_key, id=f"{route.id}-unknown-key"))
    assert not (out and case.no_input), f"{route.id}: bad input applies; drop its no_input"
    if not out:
        reason = case.no_input
        if route.id in LOGIN_ROUTES:
            reason = ("authenticates with its own credentials: wrong ones, and another account, are refused "
                      "in test_unauthenticated and test_forbidden_roles")
        assert reason, f"{route.id}: no bad input applies; say why in its case (no_input)"
        out.append(pytest.param(route, None, id=f"{route.id}-none",
                                marks=pytest.mark.skip(reason=f"no bad input applies: it {reason}")))
    return out


@pytest.mark.parametrize("route, bad", [p for r in ROUTES for p in bad_inputs(r)])
def test_bad_input(lw: Lw, route: Route, bad):
    bad(lw, route)


# The audit trail ------------------------------------------------------------------------------

CHANGING = [r for r in ROUTES if r.method != "GET"]


def audited_objects(route: Route, outcome: Outcome) -> set:
    """The keys of the objects a successful change must leave an audit event about."""
    case = CASES[route.id]
    if case.audited:
        return case.audited(outcome)
    if outcome.req.path_params:
        return set(outcome.req.path_params.values())
    created = [k for k in KINDS.values() if k.create == route.id]
    if created:
        return {created[0].key_of(created[0].object_of(outcome.body))}
    return {outcome.body["uuid"]}


@pytest.mark.parametrize("route", [pytest.param(r, id=r.id, marks=xfail(SUCCESS_BUGS.get(r.id))) for r in CHANGING])
def test_audit_trail(lw: Lw, route: Route):
    """One successful change adds exactly one audit event (one per object for a batch), about
    the object it changed, by the caller, through this request; a validation adds none."""
    outcome = lw.outcome(route)
    expect(outcome.resp, route.success_status)
    events = outcome.audit
    if route.id in VALIDATION_ONLY:
        assert events == [], f"a validation changed something: {[e['op'] for e in events]}"
        return
    objects = audited_objects(route, outcome)
    assert len(events) == len(objects), (
        f"expected {len(objects)} audit event(s), got {[(e['op'], e['object_uuid']) for e in events]}")
    assert {e["object_uuid"] for e in events} == objects, [e["object_uuid"] for e in events]
    for event in events:
        assert event["op"] and event["object_type"], event
        assert event["protocol"] == "rest" and event["method"] == route.method, event
        assert event["path"] == outcome.path, (event["path"], outcome.path)
        assert event["user_login"] == lw.admin_name and event["auth_role"] == 1, event
        assert event["account_name"] == ACCOUNT
    leaked = [secret for secret in secrets_sent(route, outcome.req) if secret in json.dumps(events)]
    assert not leaked, f"the audit trail keeps secrets in clear: {leaked}"


def secrets_sent(route: Route, req: Req) -> list[str]:
    """The secret values (see Kind.secrets) anywhere in a create request of the long tail."""
    kinds = [k for k in KINDS.values() if k.create == route.id]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if name in kinds[0].secrets:
                    values = value.values() if isinstance(value, dict) else [value]
                    found.extend(v for v in values if isinstance(v, str) and v)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if kinds:
        walk(req.json_body)
    return found


AUDITED = [r for r in CHANGING if r.id not in VALIDATION_ONLY]


@pytest.mark.parametrize("route", [
    pytest.param(r, id=r.id, marks=xfail(SUCCESS_BUGS.get(r.id))) for r in AUDITED])
def test_audit_event_describes_the_answer(lw: Lw, route: Route):
    """The event records the status the change answered with and the route it matched."""
    outcome = lw.outcome(route)
    expect(outcome.resp, route.success_status)
    assert outcome.audit, "no audit event"
    for event in outcome.audit:
        assert event["response_status"] == outcome.resp.status_code, event["response_status"]
        assert event["matched_path"] == route.path, event["matched_path"]


# Documented request fields --------------------------------------------------------------------

# The routes whose bodies the listener reads field by field (not through the contract's schema,
# as the long tail does): each documented field must be accepted.
# Partial updates are left out: there a neutral value is a change, not "not set".
FIELD_BY_FIELD = ("003-010", "003-013", "003-014", "003-077", "003-079", "003-090", "003-093",
                  "003-101", "003-103", "003-105")
NEUTRAL = {"integer": 0, "number": 0, "boolean": False, "string": "", "array": [], "object": {}}


@pytest.mark.parametrize("route", [pytest.param(route_by_id(rid), id=rid) for rid in FIELD_BY_FIELD])
def test_documented_request_fields_accepted(lw: Lw, route: Route):
    """A successful body plus every other documented top-level field, each at its neutral value
    ("", 0, false, [], {}: "not set"), still succeeds: no documented field is refused as unknown."""
    req = CASES[route.id].prepare(lw)
    schema = resolve(full_schema(OPERATIONS[route.id]["request_schema"]))
    added = []
    for name, prop in schema["properties"].items():
        if name not in req.json_body and name not in ("uuid", "attributes_to_delete"):
            req.json_body[name] = NEUTRAL[resolve(prop)["type"]]
            added.append(name)
    resp = lw.send(route, req, lw.admin)
    assert resp.status_code == route.success_status, (
        f"with the documented fields {added}: {resp.status_code} {resp.text[:300]}")



def test_connector_individual_fields(lw: Lw):
    """Create Connector takes the individual fields; the deprecated whole `connector` object is
    optional and does not override them."""
    name = lw.unique("connector")
    alone = lw.call("003-043", Req(json_body={"name": name, "description": "individual fields only"}))
    assert alone["name"] == name and alone["description"] == "individual fields only", alone
    name = lw.unique("connector")
    both = lw.call("003-043", Req(json_body={
        "name": name, "description": "individual",
        "connector": {"name": lw.unique("deprecated"), "description": "deprecated"}}))
    assert both["name"] == name and both["description"] == "individual", both


# The contract files and the workbench's additions --------------------------------------------


def test_contract_files_are_consistent():
    """spec/lacework/check.py: the schemas, operations, samples and extensions agree with each
    other and with the route table."""
    done = subprocess.run([sys.executable, str(SPEC / "check.py")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", sorted(EXTENSIONS))
def test_additions_are_documented_and_the_only_ones(lw: Lw, name: str):
    """The listener's own OpenAPI shape of a vendor object has exactly the vendor's fields plus
    the additions declared in extensions.json: nothing undeclared creeps in, nothing is lost."""
    doc = json_of(expect(lw.api.get("/openapi.json"), 200))
    ours = doc["components"]["schemas"][name]
    assert set(ours["properties"]) == set(VENDOR_DEFS[name]["properties"]) | set(EXTENSIONS[name]), (
        sorted(set(ours["properties"]) ^ (set(VENDOR_DEFS[name]["properties"]) | set(EXTENSIONS[name]))))


def test_policy_workflow_by_name(lw: Lw):
    """Create a Policy may name its workflow instead of giving its uuid: the one workflow of that
    name is used; no workflow or two of that name is refused by field, and nothing is stored."""
    workflow = lw.workflow()
    policy = lw.policy(action=101, workflow_name=workflow["name"])
    assert policy["workflow_uuid"] == workflow["uuid"], policy
    assert "workflow_name" not in policy, policy
    assert lw.call("003-078", Req(path_params={"uuid": policy["uuid"]})) == policy

    query = Req(params={"appid": "any", "userid": "any"})
    before = {p["uuid"] for p in lw.call("003-076", query)["policies"]}
    route = route_by_id("003-077")
    unknown = lw.send(route, Req(json_body={**inert_policy(lw), "action": 101,
                                            "workflow_name": lw.unique("no-such-workflow")}), lw.admin)
    assert "workflow_name" in expect_message(unknown, 400)
    twin = lw.unique("twin")
    lw.workflow(name=twin)
    lw.workflow(name=twin)
    ambiguous = lw.send(route, Req(json_body={**inert_policy(lw), "action": 101, "workflow_name": twin}),
                        lw.admin)
    message = expect_message(ambiguous, 400)
    assert "workflow_name" in message and "2 workflows" in message, message
    assert {p["uuid"] for p in lw.call("003-076", query)["policies"]} == before


def test_token_for_its_creator_only(lw: Lw):
    """Create Token takes `user_uuid`: the caller's own uuid is accepted, another's is refused by
    field and no token is made."""
    own = lw.token(user_uuid=lw.login()["user_uuid"])
    assert own["secret"], own
    every = Req(params={"get_all": "true"})
    before = {t["uuid"] for t in lw.call("003-092", every)["tokens"]}
    resp = lw.send(route_by_id("003-093"), Req(json_body={"name": lw.unique("token"),
                                                          "user_uuid": str(uuid.uuid4())}), lw.admin)
    assert "user_uuid" in expect_message(resp, 400)
    assert {t["uuid"] for t in lw.call("003-092", every)["tokens"]} == before


def test_unset_nested_fields_are_empty_not_null(lw: Lw):
    """A run started without device or location details, and a dataset created without
    properties, answer them as {} and [] (the contract's types), never null."""
    run = lw.run()
    assert run["client_geoip_location"] == {} and run["mfa_details"] == {}, run
    assert run["device_details"] == [] and run["geoip_details"] == [], run
    assert lw.customer_dataset()["properties"] == {}
