"""HTTPS with the local CA, and the PrivX SDKs' UEBA call sequences against the HTTPS listener.

The listener runs with `serve --tls` on its own database; `tls export-ca` writes the CA that
clients trust. `privx_sdk_like` puts the PrivX SDKs' requests on the wire (see its docstring).
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import socket
import ssl
import subprocess
import threading

import pytest

from privx_sdk_like import (GO_ZERO_TIME, GoSdkLikeClient, PythonSdkLikeClient, go_dataset, go_json,
                            go_query)
from support import (CM, TOKEN_PATH, UNKNOWN_ID, Env, assert_schema, expect, expect_privx_error,
                     json_of, poll)

TODAY = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def ts(days_ago: float) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_certificate_verifies_with_the_exported_ca(tls_env: Env, host: str):
    context = ssl.create_default_context(cafile=str(tls_env.ca_path))
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    conn = http.client.HTTPSConnection(host, tls_env.listener.port, context=context, timeout=10)
    try:
        conn.request("GET", "/openapi.json")
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
        cert = conn.sock.getpeercert()
        names = {value for kind, value in cert.get("subjectAltName", ())}
        assert {"127.0.0.1", "localhost"} <= names, cert.get("subjectAltName")
        assert conn.sock.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        conn.close()


def test_handshake_fails_without_the_ca(tls_env: Env):
    context = ssl.create_default_context()  # the system's trust store only
    with socket.create_connection(("127.0.0.1", tls_env.listener.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                pass


def test_exported_ca_is_a_ca_certificate(tls_env: Env):
    pem = tls_env.ca_pem
    assert pem.startswith("-----BEGIN CERTIFICATE-----") and pem.rstrip().endswith("-----END CERTIFICATE-----")
    text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem, capture_output=True, text=True)
    if text.returncode != 0:
        pytest.skip("openssl not available to read the certificate")
    assert "CA:TRUE" in text.stdout, text.stdout


def test_token_flow_and_privx_call_over_https(tls_env: Env):
    api = tls_env.api  # verifies against the exported CA
    account, client = tls_env.accounts["admin"], tls_env.clients["password"]
    body = json_of(expect(api.token(client["client_id"], client["client_secret"], grant_type="password",
                                    username=account.name, password=account.password), 200))
    assert_schema(body, "TokenResponse")
    status = json_of(expect(api.get(f"{CM}/status", body["access_token"]), 200))
    assert_schema(status, "ServiceStatus")
    cc = tls_env.clients["admin"]
    body = json_of(expect(api.token(cc["client_id"], cc["client_secret"], grant_type="client_credentials"), 200))
    assert_schema(json_of(expect(api.get(f"{CM}/status/internal", body["access_token"]), 200)), "UebaInternalStatus")
    expect_privx_error(api.get(f"{CM}/status", "garbage"), 401, "PERMISSION_DENIED")


# --------------------------------------------------------------------------------------------
# The Python SDK
# --------------------------------------------------------------------------------------------


def _sdk(env: Env, host: str = "127.0.0.1") -> PythonSdkLikeClient:
    client, account = env.clients["password"], env.accounts["admin"]
    sdk = PythonSdkLikeClient(host, env.listener.port, env.ca_pem, client["client_id"], client["client_secret"])
    sdk.authenticate(account.name, account.password)
    return sdk


def _ok(resp, schema: str | None = None):
    assert resp.ok, f"SDK call refused: {resp.status} {resp.data}"
    if schema:
        assert_schema(resp.data, schema)
    return resp.data


def test_python_sdk_ueba_sequence(tls_env: Env):
    """The PrivX Python SDK's UEBA calls, in the order an integration uses them."""
    sdk = _sdk(tls_env)
    _ok(sdk.get_ueba_status(), "ServiceStatus")
    assert _ok(sdk.get_ueba_internal_status(), "UebaInternalStatus")["training_status"] == "MODELS_MISSING"

    config = {"address": "https://ueba.example.test:8443", "trust_anchors": tls_env.ca_pem}
    assert _ok(sdk.set_ueba_configurations(config)) == {}
    assert _ok(sdk.get_ueba_configurations(), "UebaConfigurations") == config
    assert _ok(sdk.set_ueba_anomaly_settings({"action": "AUDIT", "threshold": 0.6})) == {}
    assert _ok(sdk.get_ueba_anomaly_settings(), "AnomalySettings") == {"action": "AUDIT", "threshold": 0.6}

    everything = _ok(sdk.get_ueba_connection_count(None), "CountResponse")["count"]  # body "{}"
    assert everything == 6000
    window = {"start": ts(6), "end": ts(2), "exclude": [{"start": ts(4), "end": ts(3)}]}
    assert 0 < _ok(sdk.get_ueba_connection_count(window), "CountResponse")["count"] < everything

    definition = {"time_range_settings": {}, "comment": "python sdk", "use_for_inference_once_trained": False}
    created = sdk.save_ueba_datasets(definition)  # the SDK expects 201 Created
    dataset_id = _ok(created, "IdResponse")["id"]
    listed = _ok(sdk.get_ueba_datasets(), "DatasetList")
    assert dataset_id in [d["id"] for d in listed["items"]]
    assert _ok(sdk.get_ueba_dataset(dataset_id), "Dataset")["comment"] == "python sdk"
    definition["comment"] = "python sdk, updated"
    assert _ok(sdk.update_ueba_dataset(dataset_id, definition)) == {}

    trained = _ok(sdk.train_ueba_dataset(dataset_id, True), "CountResponse")
    assert trained["count"] == everything

    def done():
        status = _ok(sdk.get_ueba_internal_status(), "UebaInternalStatus")
        return status if status["training_status"] not in ("TRAINING", "RETRAINING") else None

    status = poll(done, timeout=120, interval=0.25, what="the SDK-started training")
    # set_active_after_training: analysis runs with the new models at once.
    assert status["training_status"] == "MODELS_AVAILABLE" and status["inference_status"] == "RUNNING", status
    assert status["dataset_id"] == dataset_id
    dataset = _ok(sdk.get_ueba_dataset(dataset_id), "Dataset")
    assert dataset["is_active"] is True and dataset["comment"] == "python sdk, updated"
    assert dataset["training_results"] and all(r["status"] == "SUCCESS" for r in dataset["training_results"])

    assert _ok(sdk.start_ueba_analysis(dataset_id)) == {}
    assert _ok(sdk.get_ueba_internal_status())["inference_status"] == "RUNNING"
    assert _ok(sdk.stop_ueba_analysis()) == {}
    assert _ok(sdk.get_ueba_internal_status())["inference_status"] == "STOPPED"

    # Updating empties the training history and deletes the trained weights.
    assert _ok(sdk.update_ueba_dataset(dataset_id, definition)) == {}
    assert _ok(sdk.get_ueba_dataset(dataset_id), "Dataset")["training_results"] == []
    assert _ok(sdk.get_ueba_internal_status())["training_status"] == "MODELS_MISSING"

    session = _ok(sdk.create_id_for_ueba_script(), "IdResponse")["id"]
    script = sdk.download_ueba_script(session)
    assert script.ok and script.data == {}, script  # not JSON: the SDK's data is {}, the bytes in content
    assert script.content.startswith(b"#!") and b"ca.pem" in script.content
    assert f"ueba-{session}-startup.sh" in script.headers["content-disposition"]

    assert _ok(sdk.delete_ueba_dataset(dataset_id)) == {}
    missing = sdk.get_ueba_dataset(dataset_id)
    assert not missing.ok and missing.status == 404
    assert_schema(missing.data["details"], "PrivXError")
    refused = sdk.set_ueba_anomaly_settings({"action": "AUDIT", "threshold": 7})
    assert refused.status == 400 and refused.data["details"]["error_code"] == "VALUE_OUT_OF_BOUNDS"
    assert _ok(sdk.set_ueba_anomaly_settings({"action": "AUDIT", "threshold": 0.5})) == {}


def test_python_sdk_by_host_name(tls_env: Env):
    sdk = _sdk(tls_env, host="localhost")
    _ok(sdk.get_ueba_status(), "ServiceStatus")


def test_python_sdk_refuses_an_untrusted_listener(tls_env: Env):
    client, account = tls_env.clients["password"], tls_env.accounts["admin"]
    other_ca = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                               "-nodes", "-keyout", "/dev/null", "-subj", "/CN=not the workbench CA", "-days", "1"],
                              capture_output=True, text=True)
    if other_ca.returncode != 0:
        pytest.skip("openssl not available to make a foreign CA")
    sdk = PythonSdkLikeClient("127.0.0.1", tls_env.listener.port, other_ca.stdout, client["client_id"],
                              client["client_secret"])
    with pytest.raises(ssl.SSLCertVerificationError):
        sdk.authenticate(account.name, account.password)


class _Recorder:
    """A plain-TCP stand-in for the listener that keeps the raw bytes of each request."""

    def __init__(self):
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
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
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest)
                target = head.split(b" ")[1]
                if target == TOKEN_PATH.encode():
                    status, body = b"200 OK", b'{"access_token":"T0KEN","token_type":"Bearer","expires_in":3600}'
                elif head.startswith(b"POST") and target.endswith(b"/datasets"):
                    status, body = b"201 Created", b'{"id":"5bf77342-221c-11ee-be56-0242ac120002"}'
                else:
                    status, body = b"200 OK", b""
                conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)

    def close(self):
        self.sock.close()


def test_python_sdk_like_requests_byte_for_byte():
    """The exact bytes of the SDK's requests (transport swapped for plain TCP to see them)."""
    rec = _Recorder()
    try:
        sdk = PythonSdkLikeClient("127.0.0.1", rec.port, "", "client-id", "client secret",
                                  connection_factory=lambda host, port, context: http.client.HTTPConnection(host, port=port))
        sdk._context = lambda: None  # no TLS on the recorder
        sdk.authenticate("alice", "p&ss wörd")
        sdk.train_ueba_dataset("a/b", True)
        sdk.get_ueba_connection_count(None)
        sdk.save_ueba_datasets({"time_range_settings": {"start": "2026-01-01T00:00:00Z"}, "comment": "x"})
        sdk.stop_ueba_analysis()
        sdk.get_ueba_status()
    finally:
        rec.close()
    host = f"127.0.0.1:{rec.port}".encode()
    basic = base64.b64encode(b"client-id:client secret")
    form = b"grant_type=password&username=alice&password=p%26ss+w%C3%B6rd"
    bearer = b"Authorization: Bearer T0KEN\r\n"
    dataset = b'{"time_range_settings": {"start": "2026-01-01T00:00:00Z"}, "comment": "x"}'
    common = b"Host: " + host + b"\r\nAccept-Encoding: identity\r\n"
    expected = [
        b"POST /auth/api/v1/oauth/token HTTP/1.1\r\n" + common + b"Content-Length: " + str(len(form)).encode()
        + b"\r\nContent-type: application/x-www-form-urlencoded\r\nAuthorization: Basic " + basic + b"\r\n\r\n" + form,
        b"POST /connection-manager/api/v1/ueba/train/a%2Fb?set_active_after_training=true HTTP/1.1\r\n" + common
        + b"Content-Length: 0\r\nContent-type: application/json\r\n" + bearer + b"\r\n",
        b"POST /connection-manager/api/v1/ueba/query-connection-count HTTP/1.1\r\n" + common
        + b"Content-Length: 2\r\nContent-type: application/json\r\n" + bearer + b"\r\n{}",
        b"POST /connection-manager/api/v1/ueba/datasets HTTP/1.1\r\n" + common
        + b"Content-Length: " + str(len(dataset)).encode() + b"\r\nContent-type: application/json\r\n" + bearer
        + b"\r\n" + dataset,
        b"POST /connection-manager/api/v1/ueba/stop-analyzing HTTP/1.1\r\n" + common
        + b"Content-Length: 0\r\nContent-type: application/json\r\n" + bearer + b"\r\n",
        b"GET /connection-manager/api/v1/ueba/status HTTP/1.1\r\n" + common
        + b"Content-type: application/json\r\n" + bearer + b"\r\n",
    ]
    assert rec.requests == expected


# --------------------------------------------------------------------------------------------
# The Go SDK: what its requests add (query strings built from structs, Go JSON bodies)
# --------------------------------------------------------------------------------------------


def _go(env: Env, host: str = "127.0.0.1") -> GoSdkLikeClient:
    client, account = env.clients["password"], env.accounts["admin"]
    return GoSdkLikeClient(host, env.listener.port, env.ca_pem, client["client_id"], client["client_secret"],
                           account.name, account.password)


def test_go_sdk_helpers_encode_like_go():
    assert go_json({"a": "<&>", "b": None, "c": [1.5]}) == b'{"a":"\\u003c\\u0026\\u003e","b":null,"c":[1.5]}'
    assert go_query({"logs": "true", "bin_count": "20"}) == "bin_count=20&logs=true"
    assert go_query({}) == ""


def test_go_sdk_ueba_shapes(tls_env: Env):
    go = _go(tls_env)
    token = go.authenticate()  # form fields sorted, client in Basic auth, privx-sdk-go agent
    assert_schema(token, "TokenResponse")
    U = CM

    # CreateUebaDataset posts its whole Dataset struct: zero values and a null slice included.
    created = go.call("POST", f"{U}/datasets", body={
        "id": "", "is_active": False, "use_for_inference_once_trained": False,
        "time_range_settings": {"start": ts(8), "end": ts(1)}, "training_results": None})
    assert created.status == 201, created.body
    dataset_id = created.json()["id"]
    # The older SDK's body struct: id, time_range_settings, comment.
    older = go.call("POST", f"{U}/datasets", body={"id": "", "time_range_settings": {"start": ts(8)},
                                                   "comment": "go v1"})
    assert older.status == 201, older.body
    # Its time_range_settings is a pointer without omitempty: nil goes out as null.
    nil_range = go.call("POST", f"{U}/datasets", body={"id": "", "time_range_settings": None})
    assert nil_range.status == 400, nil_range.body
    assert "error: " in nil_range.go_error()

    # Dataset reads with the logs/bin_count query (the older SDK sends both; zero values are
    # omitted, leaving a bare `?`).
    with_query = go.call("GET", f"{U}/datasets", query={"bin_count": "20", "logs": "true"})
    assert with_query.status == 200, with_query.body
    assert_schema(with_query.json(), "DatasetList")
    bare = go.call("GET", f"{U}/datasets", query={})
    assert bare.status == 200, bare.body
    one = go.call("GET", f"{U}/datasets/{dataset_id}", query={"bin_count": "20", "logs": "true"})
    assert one.status == 200 and one.json()["id"] == dataset_id
    for stamp in ("created", "updated"):
        # time.Time decodes RFC 3339 only.
        dt.datetime.strptime(one.json()[stamp][:19], "%Y-%m-%dT%H:%M:%S")
        assert one.json()[stamp].endswith("Z") or "+" in one.json()[stamp]

    # UpdateUebaDataset writes back the struct it read (zero values for what was null).
    round_trip = go_dataset(one.json())
    round_trip["comment"] = "updated by go"
    updated = go.call("PUT", f"{U}/datasets/{dataset_id}", body=round_trip)
    assert updated.status == 200 and updated.body == b"", updated.body
    assert go.call("GET", f"{U}/datasets/{dataset_id}").json()["comment"] == "updated by go"

    # A read-back dataset with a training history (zero-time `created`, empty strings) is
    # accepted as an update body too.
    fake_history = dict(round_trip, training_results=[{
        "dataset_id": "", "created": GO_ZERO_TIME, "feature_config_name": "", "status": "",
        "error_code": "", "error_details": "", "num_connections": 0, "mean": 0, "std": 0,
        "quantile_99": 0, "quantile_999": 0, "training_log": "", "training_dataset_loss": None,
        "validation_dataset_loss": None, "validation_dataset_histogram": {"hist": None, "bin_edges": None}}])
    assert go.call("PUT", f"{U}/datasets/{dataset_id}", body=fake_history).status == 200

    # Connection counts: the zero TimeRange is {}; excluded ranges carry both ends.
    everything = go.call("POST", f"{U}/query-connection-count", body={})
    assert everything.status == 200 and everything.json()["count"] >= 6000
    windowed = go.call("POST", f"{U}/query-connection-count", body={
        "start": ts(6), "end": ts(2), "exclude": [{"start": ts(4), "end": ts(3)}]})
    assert windowed.status == 200 and 0 < windowed.json()["count"] < everything.json()["count"]

    # Settings: float32 threshold, and the configuration struct with both strings.
    assert go.call("POST", f"{U}/anomaly-settings", body={"action": "BLOCK", "threshold": 0.7}).status == 200
    assert go.call("GET", f"{U}/anomaly-settings").json() == {"action": "BLOCK", "threshold": 0.7}
    assert go.call("POST", f"{U}/anomaly-settings", body={"action": "AUDIT", "threshold": 0.5}).status == 200
    assert go.call("POST", f"{U}/configure", body={"address": "ueba.example.test:8443", "trust_anchors": ""}).status == 200
    assert go.call("GET", f"{U}/configure").json()["address"] == "ueba.example.test:8443"

    # Post(nil): no body, no Content-Type.
    assert go.call("POST", f"{U}/stop-analyzing").status == 200
    untrained = go.call("POST", f"{U}/start-analyzing/{dataset_id}")
    assert untrained.status == 400 and untrained.go_error().startswith("error: ")
    # Train with a query from its options struct: the older SDK always sends the flag, the
    # newer one a bare `?` when no option is given. A dataset of too few connections keeps this
    # a refusal-free, instant (failing) training.
    short = go.call("POST", f"{U}/datasets", body={"id": "", "time_range_settings": {"start": ts(1.5), "end": ts(1)}})
    short_id = short.json()["id"]
    assert go.call("POST", f"{U}/train/{short_id}", query={"set_active_after_training": "false"}).status == 200
    poll(lambda: all(r["status"] != "TRAINING" for r in
                     go.call("GET", f"{U}/datasets/{short_id}").json()["training_results"]),
         timeout=30, what="the short training to end")
    assert go.call("POST", f"{U}/train/{short_id}", query={}).status == 200
    poll(lambda: all(r["status"] != "TRAINING" for r in
                     go.call("GET", f"{U}/datasets/{short_id}").json()["training_results"]),
         timeout=30, what="the short training to end")

    # Setup script: Post(nil, &identifier), then a download that must answer exactly 200.
    session = go.call("POST", f"{U}/setup-script")
    assert session.status == 200 and session.json()["id"]
    script = go.call("GET", f"{U}/setup-script/{session.json()['id']}")
    assert script.status == 200 and script.body.startswith(b"#!")

    # Errors decode into the SDK's ErrorResponse.
    missing = go.call("GET", f"{U}/datasets/{UNKNOWN_ID}")
    assert missing.status == 404 and missing.go_error().startswith("error: GENERAL_ERROR")
    bad = go.call("POST", f"{U}/anomaly-settings", body={"action": "DROP", "threshold": 0.5})
    assert bad.status == 400 and bad.go_error().endswith("property: action")

    for dataset in (dataset_id, older.json()["id"], short_id):
        deleted = go.call("DELETE", f"{U}/datasets/{dataset}")
        assert deleted.status == 200 and deleted.body == b""
