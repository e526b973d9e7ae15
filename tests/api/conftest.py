"""Fixtures: the listeners under test (plain HTTP on a demo database, HTTPS on another), their
accounts and tokens, and the one dataset trained on the main listener."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import (CM, Api, Env, Listener, binary, cli, expect, json_of, login, poll,
                     provision)

# Accounts of the main listener: name -> role (PrivX scope).
MAIN_ROLES = {
    "alice": "admin",
    "ursula": "user",
    "victor": "connectionsView",
    "manny": "connectionsManage",
    "sam": "service",
}
MAIN_CONNECTIONS = 20_000
MAIN_DAYS = 30
# The HTTPS listener trains too (the SDK call sequence): enough connections for a real
# training (the trainer needs at least 5000), few enough for it to take under a second.
TLS_CONNECTIONS = 6_000


def pytest_configure(config):
    if not binary().is_file():
        raise pytest.UsageError(
            f"listener binary not found: {binary()} (build it with `cargo build -p ueba-workbench-cli` "
            "or point UEBA_WORKBENCH_BIN at it)"
        )


def _start(tmp: Path, connections: int, days: int, roles: dict[str, str], tls: bool) -> Env:
    db = tmp / "workbench.db"
    demo = cli(db, "demo", "--connections", str(connections), "--days", str(days))
    assert demo["inserted"] == connections, demo
    accounts, clients = provision(db, roles)
    ca_pem = ca_path = None
    if tls:
        ca_path = tmp / "ca.pem"
        cli(db, "tls", "export-ca", str(ca_path), as_json=False)
        ca_pem = ca_path.read_text()
    listener = Listener(db, tmp, tls=tls)
    try:
        api = Api(listener.url, verify=str(ca_path) if tls else True)
        env = Env(workdir=tmp, db=db, listener=listener, api=api, accounts=accounts, clients=clients,
                  ca_pem=ca_pem, ca_path=ca_path)
        for account in accounts.values():
            account.token = login(api, clients["password"], account)
    except BaseException:
        listener.stop(check=False)  # never leave a listener behind
        raise
    return env


@pytest.fixture(scope="session")
def main(tmp_path_factory) -> Env:
    """The plain-HTTP listener on a demo database of 20 000 connections."""
    env = _start(tmp_path_factory.mktemp("main"), MAIN_CONNECTIONS, MAIN_DAYS, MAIN_ROLES, tls=False)
    yield env
    env.listener.stop()


@pytest.fixture(scope="session")
def tls_env(tmp_path_factory) -> Env:
    """The HTTPS listener (`serve --tls`) on its own database, with the exported CA."""
    env = _start(tmp_path_factory.mktemp("tls"), TLS_CONNECTIONS, 10, {"tina": "admin"}, tls=True)
    yield env
    env.listener.stop()


@dataclass
class Trained:
    """The dataset trained once on the main listener, and what the listener said meanwhile."""

    dataset_id: str
    connections: int
    train: object          # response of the first POST train/{id}
    train_again: object    # POST train/{id} while that training ran
    start_early: object    # POST start-analyzing/{id} while it ran
    internal_during: dict  # status/internal while it ran
    seconds: float


@pytest.fixture(scope="session")
def trained(main: Env) -> Trained:
    """Trains one dataset over every connection of the main listener (the only long training
    of the suite) and waits for it to finish."""
    api, admin = main.api, main.admin
    count = json_of(expect(api.post(f"{CM}/query-connection-count", admin, json_body={}), 200))["count"]
    created = json_of(expect(api.post(f"{CM}/datasets", admin, json_body={
        "time_range_settings": {},
        "comment": "conformance suite: every connection",
    }), 201))
    dataset_id = created["id"]
    started = time.monotonic()
    train = api.post(f"{CM}/train/{dataset_id}", admin)
    train_again = api.post(f"{CM}/train/{dataset_id}", admin)
    start_early = api.post(f"{CM}/start-analyzing/{dataset_id}", admin)
    internal_during = json_of(api.get(f"{CM}/status/internal", admin))
    expect(train, 200)

    def finished():
        status = json_of(expect(api.get(f"{CM}/status/internal", admin), 200))
        return status if status["training_status"] not in ("TRAINING", "RETRAINING") else None

    poll(finished, timeout=240, interval=0.25, what="training of the main dataset")
    return Trained(dataset_id=dataset_id, connections=count, train=train, train_again=train_again,
                   start_early=start_early, internal_during=internal_during,
                   seconds=time.monotonic() - started)
