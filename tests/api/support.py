"""Shared plumbing of the black-box API suite: the binary, its CLI, a running listener, an HTTP
client, the route table and the vendor JSON Schemas.

Nothing here knows the listener's internals: it talks to the built `ueba-workbench` binary
through its command line and its HTTP(S) port only.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import jsonschema
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ROUTES_TSV = ROOT / "spec" / "routes.tsv"
SCHEMAS = json.loads((HERE / "schemas" / "privx.json").read_text())

CM = "/connection-manager/api/v1/ueba"
TOKEN_PATH = "/auth/api/v1/oauth/token"
WB = "/workbench/api/v1"

# A dataset id that never exists (well-formed UUID, so only "not found" can refuse it).
UNKNOWN_ID = "00000000-0000-4000-8000-00000000dead"


def binary() -> Path:
    """The listener binary: $UEBA_WORKBENCH_BIN, default target/debug/ueba-workbench."""
    raw = os.environ.get("UEBA_WORKBENCH_BIN", "target/debug/ueba-workbench")
    path = Path(raw)
    if not path.is_absolute():
        path = ROOT / path
    return path


# --------------------------------------------------------------------------------------------
# The route table (spec/routes.tsv)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    id: str
    api: str
    operation: str
    method: str
    path: str
    success_status: int
    auth: str

    @property
    def scopes(self) -> list[str]:
        """Scopes the table lists (any one suffices); empty for `none`."""
        return [] if self.auth == "none" else self.auth.split("|")

    @property
    def is_token_endpoint(self) -> bool:
        return self.auth == "none"


def load_routes(api: str = "privx") -> list[Route]:
    with ROUTES_TSV.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        Route(
            id=r["id"],
            api=r["api"],
            operation=r["operation"],
            method=r["method"],
            path=r["path"],
            success_status=int(r["success_status"]),
            auth=r["auth"],
        )
        for r in rows
        if r["api"] == api
    ]


# --------------------------------------------------------------------------------------------
# Vendor schemas
# --------------------------------------------------------------------------------------------

_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def schema_errors(instance: Any, name: str, *, nulls_as_absent: bool = True) -> list[str]:
    """Violations of the vendor schema `name` (a key of schemas/privx.json `$defs`).

    The vendor declares no field nullable. With `nulls_as_absent` (the default) an object
    member whose value is null is treated as absent before validation: a null optional field
    passes, a null *required* field still fails as missing. `test_optional_fields_are_omitted_not_null`
    checks the strict reading separately, so this relaxation hides nothing else.
    """
    schema = {"$ref": f"#/$defs/{name}", "$defs": SCHEMAS["$defs"]}
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    data = _drop_nulls(instance) if nulls_as_absent else instance
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in validator.iter_errors(data)
    ]


def assert_schema(instance: Any, name: str, *, nulls_as_absent: bool = True) -> None:
    errors = schema_errors(instance, name, nulls_as_absent=nulls_as_absent)
    assert not errors, f"body does not match vendor schema {name}:\n  " + "\n  ".join(
        errors[:20]
    ) + f"\nbody: {json.dumps(instance)[:2000]}"


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


class CliError(AssertionError):
    pass


def cli(db: Path, *args: str, stdin: str | None = None, as_json: bool = True, check: bool = True,
        timeout: float = 120) -> Any:
    """Runs `ueba-workbench --db DB [--json] ARGS...`; returns parsed JSON (or stdout)."""
    cmd = [str(binary()), "--db", str(db), "--progress", "none"]
    if as_json:
        cmd.append("--json")
    cmd.extend(args)
    env = {k: v for k, v in os.environ.items() if k != "UEBA_WORKBENCH_DB"}
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise CliError(f"{' '.join(cmd[1:])} exited {proc.returncode}: {proc.stderr.strip()}")
    if not check:
        return proc
    if as_json:
        return json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.stdout


# --------------------------------------------------------------------------------------------
# A running listener
# --------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, so no listener outlives a killed
    run (Linux; elsewhere a no-op)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Listener:
    """`ueba-workbench serve --port 0 [--tls]` on a database; stopped with SIGTERM."""

    def __init__(self, db: Path, workdir: Path, tls: bool = False):
        self.db = db
        self.tls = tls
        self.log_path = workdir / ("serve-tls.log" if tls else "serve.log")
        cmd = [str(binary()), "--db", str(db), "serve", "--port", "0"]
        if tls:
            cmd.append("--tls")
        env = {k: v for k, v in os.environ.items() if k != "UEBA_WORKBENCH_DB"}
        env.setdefault("RUST_LOG", "warn")
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, env=env,
                                     preexec_fn=_die_with_parent)
        self.stdout_lines: list[str] = []
        first = self._read_first_line(timeout=60)
        prefix = "listening on "
        if not first.startswith(prefix):
            self.stop(check=False)
            raise AssertionError(f"serve printed {first!r}, expected 'listening on URL'; log: {self.log_tail()}")
        self.url = first[len(prefix):].strip()
        expected = "https://127.0.0.1:" if tls else "http://127.0.0.1:"
        assert self.url.startswith(expected), self.url
        self.port = int(self.url.rsplit(":", 1)[1])
        # Keep draining stdout so the listener can never block on a full pipe.
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()

    def _read_first_line(self, timeout: float) -> str:
        box: list[bytes] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box:
            self.stop(check=False)
            raise AssertionError(f"serve printed nothing within {timeout}s; log: {self.log_tail()}")
        line = box[0].decode(errors="replace")
        self.stdout_lines.append(line)
        return line.rstrip("\n")

    def _drain_stdout(self) -> None:
        for raw in self.proc.stdout:
            self.stdout_lines.append(raw.decode(errors="replace"))

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, check: bool = True) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    raise AssertionError("serve did not stop within 30 s of SIGTERM")
        self._log.close()
        rc = self.proc.returncode
        if check:
            assert rc == 0, f"serve exited {rc} after SIGTERM; log: {self.log_tail()}"
            assert len(self.stdout_lines) == 1, f"serve printed more than one stdout line: {self.stdout_lines}"
        return rc


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class Api:
    """A thin HTTP client for one listener; `token` may be a bearer token or None."""

    def __init__(self, base: str, verify: Any = True):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.verify = verify
        # Loopback only: no proxies from the environment, and no REQUESTS_CA_BUNDLE overriding
        # the CA this client is told to trust.
        self.session.trust_env = False
        # One connection per request: the listener may close a kept-alive connection after a
        # refusal without saying so (see test_workbench.py::test_keep_alive_after_early_refusal),
        # and a pooled connection closed under a request would make unrelated tests flaky.
        self.session.headers["Connection"] = "close"

    def request(self, method: str, path: str, token: str | None = None, *, json_body: Any = None,
                data: Any = None, params: Any = None, headers: dict | None = None,
                timeout: float = 60) -> requests.Response:
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        elif data is not None and isinstance(data, (str, bytes)):
            h.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.base + path, data=data, params=params, headers=h,
                                    timeout=timeout)

    def get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        return self.request("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, **kw) -> requests.Response:
        return self.request("POST", path, token, **kw)

    def token(self, client_id: str, client_secret: str, **form: str) -> requests.Response:
        """POST the token endpoint with the client in HTTP Basic auth and `form` as the body."""
        return self.session.post(self.base + TOKEN_PATH, data=form, auth=(client_id, client_secret),
                                 timeout=60)


def json_of(resp: requests.Response) -> Any:
    ctype = resp.headers.get("content-type", "")
    assert ctype.split(";")[0].strip() == "application/json", (
        f"{resp.request.method} {resp.request.path_url} -> {resp.status_code} with content-type "
        f"{ctype!r}, expected application/json; body {resp.text[:300]!r}"
    )
    return resp.json()


def expect(resp: requests.Response, status: int) -> requests.Response:
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.path_url} -> {resp.status_code}, expected {status}; "
        f"body {resp.text[:600]!r}"
    )
    return resp


def expect_privx_error(resp: requests.Response, status: int, code: str | None = None,
                       prop: str | None = None) -> dict:
    """The answer is `status` with a PrivX error object (vendor schema), `code` and `property`."""
    expect(resp, status)
    body = json_of(resp)
    assert_schema(body, "PrivXError")
    if code is not None:
        assert body["error_code"] == code, f"error_code {body['error_code']}, expected {code}: {body}"
    if prop is not None:
        assert body.get("property") == prop, f"property {body.get('property')!r}, expected {prop!r}: {body}"
    return body


def expect_empty(resp: requests.Response, status: int = 200) -> None:
    expect(resp, status)
    assert resp.content == b"", f"expected an empty body, got {resp.content[:200]!r}"


def poll(fn: Callable[[], Any], timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    """Calls `fn` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


@dataclass
class Account:
    name: str
    role: str
    password: str
    token: str = ""


@dataclass
class Env:
    """One listener with its database, accounts (by role) and OAuth clients."""

    workdir: Path
    db: Path
    listener: Listener
    api: Api
    accounts: dict[str, Account] = field(default_factory=dict)
    clients: dict[str, dict] = field(default_factory=dict)
    ca_pem: str | None = None
    ca_path: Path | None = None

    @property
    def url(self) -> str:
        return self.listener.url

    def tok(self, role: str) -> str:
        return self.accounts[role].token

    @property
    def admin(self) -> str:
        return self.tok("admin")


def provision(db: Path, roles: dict[str, str]) -> tuple[dict[str, Account], dict[str, dict]]:
    """Creates one account per role (name → role) and the OAuth clients the tests use."""
    accounts = {}
    for name, role in roles.items():
        password = f"pw-{name}-{role}-0123"
        cli(db, "user", "add", name, "--role", role, "--password-stdin", stdin=password + "\n", as_json=False)
        accounts[role] = Account(name=name, role=role, password=password)
    clients = {
        # Without a role: can only pass on an account's password grant.
        "password": cli(db, "oauth-client", "add", "conformance-password-client"),
        # With a role: may use client_credentials and gets that role's scope.
        "admin": cli(db, "oauth-client", "add", "conformance-admin-client", "--role", "admin"),
    }
    return accounts, clients


def login(api: Api, client: dict, account: Account) -> str:
    r = api.token(client["client_id"], client["client_secret"], grant_type="password",
                  username=account.name, password=account.password)
    expect(r, 200)
    body = json_of(r)
    assert_schema(body, "TokenResponse")
    return body["access_token"]
