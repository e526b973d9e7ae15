"""Clients that put on the wire what the official PrivX SDKs put on the wire, for the UEBA calls.

`PythonSdkLikeClient` makes, request for request, the same bytes as the PrivX Python SDK
(`privx_api.PrivXAPI`): the same connection handling (a new HTTPS connection per request,
trusting the CA given as PEM text), the same token request (password grant as a form body, the
OAuth client in HTTP Basic auth), the same headers in the same order, the same JSON and query
encoding, and the same reading of answers (`ok` when the status is the one the SDK expects,
`data` the parsed JSON or `{}`, `{"status", "details"}` on failure).

`GoSdkLikeClient` reproduces the request shapes of the PrivX Go SDK where they differ from the
Python SDK: sorted form fields, a `privx-sdk-go` User-Agent, gzip accepted, query strings built
from structs (a bare `?` when empty), compact JSON bodies of Go structs (zero values written,
`null` for nil slices), and `POST` without body or Content-Type for the action routes.

Both are written for these tests; they share no code with the SDKs.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable

TOKEN = "/auth/api/v1/oauth/token"
UEBA = "/connection-manager/api/v1/ueba"

# ---------------------------------------------------------------------------------------------
# Python SDK
# ---------------------------------------------------------------------------------------------


class SdkError(Exception):
    pass


@dataclass
class SdkResponse:
    """What the Python SDK hands back: `ok`, `status`, `data` and the raw `content`."""

    status: int
    ok: bool
    data: Any
    content: bytes
    headers: dict


def _json_or_empty(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {}


class PythonSdkLikeClient:
    """The UEBA part of the PrivX Python SDK, request for request."""

    def __init__(self, hostname: str, hostport: int, ca_cert: str, oauth_client_id: str,
                 oauth_client_secret: str, re_auth_margin: int = 3,
                 connection_factory: Callable[[str, int, ssl.SSLContext | None], http.client.HTTPConnection] | None = None):
        self.host, self.port, self.ca_cert = hostname, hostport, ca_cert
        self.client_id, self.client_secret = oauth_client_id, oauth_client_secret
        self.margin = re_auth_margin
        self.token = ""
        self.deadline: int | None = None
        self.username: str | None = None
        self.password: str | None = None
        # Tests may swap the transport (plain TCP) to look at the bytes; the default is HTTPS.
        self._connect = connection_factory or (
            lambda host, port, context: http.client.HTTPSConnection(host, port=port, context=context))

    # -- transport ----------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        # The CA comes as PEM text (not a file name).
        return ssl.create_default_context(cadata=self.ca_cert)

    def _exchange(self, method: str, url: str, body: str | None, headers: dict) -> tuple[int, bytes, dict]:
        conn = self._connect(self.host, self.port, self._context())
        try:
            if body is None:
                conn.request(method, url, headers=headers)
            else:
                conn.request(method, url, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, raw, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    # -- authentication -----------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> None:
        if not username or not password:
            raise SdkError("api client credentials are not valid")
        self.username, self.password = username, password
        form = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": password})
        digest = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode("utf-8")).decode("utf-8")
        headers = {
            "Content-type": "application/x-www-form-urlencoded",
            "Authorization": f"Basic {digest}",
        }
        status, raw, _ = self._exchange("POST", TOKEN, form, headers)
        if status != 200:
            raise SdkError(f"Invalid response: {status}")
        data = json.loads(raw)
        lifetime = data.get("expires_in")
        self.deadline = int(time.time()) + lifetime - self.margin
        self.token = data.get("access_token")
        if self.token == "":
            raise SdkError("Failed to get access token")

    def _ensure_token(self) -> None:
        if self.deadline is None or int(time.time()) >= self.deadline:
            self.authenticate(self.username, self.password)

    # -- requests -----------------------------------------------------------------------------

    def _call(self, method: str, template: str, expected: int, *, path: dict | None = None,
              query: dict | None = None, body: Any = None) -> SdkResponse:
        self._ensure_token()
        url = template
        if path:
            url = url.format(**{k: urllib.parse.quote(v, safe="") for k, v in path.items()})
        if query:
            url = f"{url}?{urllib.parse.urlencode(query)}"
        headers = {"Content-type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        status, raw, response_headers = self._exchange(method, url, payload, headers)
        ok = status == expected
        data = _json_or_empty(raw) if ok else {"status": status, "details": _json_or_empty(raw)}
        return SdkResponse(status=status, ok=ok, data=data, content=raw, headers=response_headers)

    @staticmethod
    def _flags(**values) -> dict:
        """Query values as the SDK writes them: None left out, booleans as true/false."""
        out = {}
        for key, value in values.items():
            if value is None:
                continue
            out[key] = ("true" if value else "false") if isinstance(value, bool) else value
        return out

    # UEBA management
    def get_ueba_configurations(self) -> SdkResponse:
        return self._call("GET", f"{UEBA}/configure", 200)

    def set_ueba_configurations(self, payload) -> SdkResponse:
        return self._call("POST", f"{UEBA}/configure", 200, body={} if payload is None else payload)

    def get_ueba_anomaly_settings(self) -> SdkResponse:
        return self._call("GET", f"{UEBA}/anomaly-settings", 200)

    def set_ueba_anomaly_settings(self, payload) -> SdkResponse:
        return self._call("POST", f"{UEBA}/anomaly-settings", 200, body={} if payload is None else payload)

    def start_ueba_analysis(self, dataset_id: str) -> SdkResponse:
        return self._call("POST", UEBA + "/start-analyzing/{dataset_id}", 200, path={"dataset_id": dataset_id})

    def stop_ueba_analysis(self) -> SdkResponse:
        return self._call("POST", f"{UEBA}/stop-analyzing", 200)

    # UEBA setup
    def create_id_for_ueba_script(self) -> SdkResponse:
        return self._call("POST", f"{UEBA}/setup-script", 200)

    def download_ueba_script(self, session_id: str) -> SdkResponse:
        return self._call("GET", UEBA + "/setup-script/{session_id}", 200, path={"session_id": session_id})

    # UEBA train
    def get_ueba_datasets(self) -> SdkResponse:
        return self._call("GET", f"{UEBA}/datasets", 200)

    def save_ueba_datasets(self, dataset_definition) -> SdkResponse:
        return self._call("POST", f"{UEBA}/datasets", 201,
                          body={} if dataset_definition is None else dataset_definition)

    def get_ueba_dataset(self, dataset_id: str) -> SdkResponse:
        return self._call("GET", UEBA + "/datasets/{dataset_id}", 200, path={"dataset_id": dataset_id})

    def update_ueba_dataset(self, dataset_id: str, dataset_definition) -> SdkResponse:
        return self._call("PUT", UEBA + "/datasets/{dataset_id}", 200, path={"dataset_id": dataset_id},
                          body={} if dataset_definition is None else dataset_definition)

    def delete_ueba_dataset(self, dataset_id: str) -> SdkResponse:
        return self._call("DELETE", UEBA + "/datasets/{dataset_id}", 200, path={"dataset_id": dataset_id})

    def train_ueba_dataset(self, dataset_id: str, set_active_after_training: bool) -> SdkResponse:
        return self._call("POST", UEBA + "/train/{dataset_id}", 200, path={"dataset_id": dataset_id},
                          query=self._flags(set_active_after_training=set_active_after_training))

    def get_ueba_connection_count(self, payload) -> SdkResponse:
        return self._call("POST", f"{UEBA}/query-connection-count", 200, body={} if payload is None else payload)

    # UEBA status
    def get_ueba_status(self) -> SdkResponse:
        return self._call("GET", f"{UEBA}/status", 200)

    def get_ueba_internal_status(self) -> SdkResponse:
        return self._call("GET", f"{UEBA}/status/internal", 200)


# ---------------------------------------------------------------------------------------------
# Go SDK
# ---------------------------------------------------------------------------------------------

GO_USER_AGENT = "privx-sdk-go"


def go_json(value: Any) -> bytes:
    """encoding/json.Marshal: compact, UTF-8, with <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode("utf-8")


def go_query(values: dict) -> str:
    """url.Values.Encode: keys sorted, `+` for spaces."""
    return urllib.parse.urlencode(sorted(values.items()))


GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_dataset(read_back: dict) -> dict:
    """A dataset as the Go SDK holds it after reading it (its Dataset struct) and writes it back
    (json.Marshal): zero values for nulls, struct field order, omitempty where the struct says so."""
    def result(r: dict) -> dict:
        hist = r.get("validation_dataset_histogram") or {}
        return {
            "dataset_id": r.get("dataset_id") or "",
            "created": r.get("created") or GO_ZERO_TIME,
            "feature_config_name": r.get("feature_config_name") or "",
            "status": r.get("status") or "",
            "error_code": r.get("error_code") or "",
            "error_details": r.get("error_details") or "",
            "num_connections": r.get("num_connections") or 0,
            "mean": r.get("mean") or 0,
            "std": r.get("std") or 0,
            "quantile_99": r.get("quantile_99") or 0,
            "quantile_999": r.get("quantile_999") or 0,
            "training_log": r.get("training_log") or "",
            "training_dataset_loss": r.get("training_dataset_loss"),
            "validation_dataset_loss": r.get("validation_dataset_loss"),
            "validation_dataset_histogram": {"hist": hist.get("hist"), "bin_edges": hist.get("bin_edges")},
        }

    out: dict = {"id": read_back.get("id") or ""}
    if read_back.get("last_training"):
        out["last_training"] = read_back["last_training"]
    out["is_active"] = bool(read_back.get("is_active"))
    out["use_for_inference_once_trained"] = bool(read_back.get("use_for_inference_once_trained"))
    trs = read_back.get("time_range_settings")
    if trs is not None:
        out["time_range_settings"] = {k: v for k, v in trs.items() if v not in (None, [])}
    results = read_back.get("training_results")
    out["training_results"] = None if not results else [result(r) for r in results]
    for key in ("created", "created_by", "updated", "updated_by", "comment"):
        if read_back.get(key):
            out[key] = read_back[key]
    return out


@dataclass
class GoResponse:
    status: int
    body: bytes
    headers: dict

    def json(self) -> Any:
        return json.loads(self.body)

    def go_error(self) -> str:
        """The error text the Go SDK builds from a PrivX error answer (restapi.ErrorFromResponse)."""
        if not self.body:
            return f"HTTP error: {self.status}"
        e = json.loads(self.body)
        msg = f"error: {e.get('error_code', '')}"
        if e.get("error_message"):
            msg += f", message: {e['error_message']}"
        if e.get("property"):
            msg += f", property: {e['property']}"
        for d in e.get("details") or []:
            msg += f", {{error: {d.get('error_code', '')}"
            if d.get("error_message"):
                msg += f", message: {d['error_message']}"
            if d.get("property"):
                msg += f", property: {d['property']}"
            msg += "}"
        return msg


class GoSdkLikeClient:
    """The request shapes of the PrivX Go SDK's connection-manager UEBA calls."""

    def __init__(self, hostname: str, hostport: int, ca_cert: str, oauth_client_id: str,
                 oauth_client_secret: str, username: str, password: str):
        self.host, self.port = hostname, hostport
        self.context = ssl.create_default_context(cadata=ca_cert)
        self.digest = base64.b64encode(f"{oauth_client_id}:{oauth_client_secret}".encode()).decode()
        self.username, self.password = username, password
        self.token: str | None = None

    def _send(self, method: str, url: str, body: bytes | None, headers: dict) -> GoResponse:
        conn = http.client.HTTPSConnection(self.host, port=self.port, context=self.context)
        try:
            # net/http's order: Host, User-Agent, Content-Length (every method but GET and
            # HEAD, 0 for an empty body), the request's headers sorted, then the transport's
            # Accept-Encoding.
            conn.putrequest(method, url, skip_accept_encoding=True)
            conn.putheader("User-Agent", GO_USER_AGENT)
            if body or method not in ("GET", "HEAD"):
                conn.putheader("Content-Length", str(len(body or b"")))
            for name in sorted(headers):
                conn.putheader(name, headers[name])
            conn.putheader("Accept-Encoding", "gzip")
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            raw = resp.read()
            return GoResponse(resp.status, raw, {k.lower(): v for k, v in resp.getheaders()})
        finally:
            conn.close()

    def authenticate(self) -> dict:
        form = go_query({"grant_type": "password", "username": self.username, "password": self.password})
        resp = self._send("POST", TOKEN, form.encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + self.digest,
        })
        if resp.status >= 400:
            raise SdkError(resp.go_error())
        token = resp.json()
        self.token = token["access_token"]
        return token

    def call(self, method: str, path: str, *, query: dict | None = None, body: Any = None,
             send_body: bool = True) -> GoResponse:
        """One API call: `query` None = no Query() in the SDK call, {} = Query() with nothing set
        (a bare `?`); `body` None with send_body = Post(nil)."""
        if self.token is None:
            self.authenticate()
        url = path if query is None else f"{path}?{go_query(query)}"
        headers = {"Authorization": f"Bearer {self.token}"}
        payload = None
        if body is not None and send_body:
            payload = go_json(body)
            headers["Content-Type"] = "application/json"
        return self._send(method, url, payload, headers)
