-- The REST listener: local accounts, OAuth clients, access tokens, the request journal and the
-- local TLS material. Secrets are never stored: passwords as Argon2id PHC strings, client secrets
-- and tokens as SHA-256 digests of high-entropy random values.
CREATE TABLE accounts (
    name          TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,  -- Argon2id PHC string
    created       INTEGER NOT NULL   -- epoch ms
) WITHOUT ROWID;

CREATE TABLE oauth_clients (
    client_id     TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    secret_sha256 BLOB    NOT NULL,
    role          TEXT,              -- set: client_credentials grants this role; NULL: password grant only
    created       INTEGER NOT NULL
) WITHOUT ROWID;

-- A token is "<token_id>.<secret>"; the id finds the row, the secret's digest is compared in
-- constant time.
CREATE TABLE access_tokens (
    token_id      TEXT    PRIMARY KEY,
    secret_sha256 BLOB    NOT NULL,
    subject       TEXT    NOT NULL,  -- account name, or "client:<client_id>"
    role          TEXT    NOT NULL,
    client_id     TEXT    NOT NULL,
    issued        INTEGER NOT NULL,
    expires       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires);

-- Bounded: the oldest rows are pruned when it grows past its limit.
CREATE TABLE request_journal (
    id         INTEGER PRIMARY KEY,
    time       INTEGER NOT NULL,     -- epoch ms when the request arrived
    method     TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    latency_us INTEGER NOT NULL,
    caller     TEXT    NOT NULL,     -- the authenticated subject, or the peer address
    surface    TEXT    NOT NULL      -- privx, workbench, auth, openapi, other
);
CREATE INDEX request_journal_by_time ON request_journal (time);

-- One row: the local CA and the server certificate it signed (PEM).
CREATE TABLE tls_material (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    ca_cert_pem     TEXT    NOT NULL,
    ca_key_pem      TEXT    NOT NULL,
    server_cert_pem TEXT    NOT NULL,
    server_key_pem  TEXT    NOT NULL,
    server_names    TEXT    NOT NULL, -- JSON array of the DNS names and IPs the server cert covers
    created         INTEGER NOT NULL
);
