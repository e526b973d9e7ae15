-- Connections imported from remote-access logs (PrivX connection model, flattened).
-- Column order is the CSV column order of `ueba-workbench demo --out file.csv`.
-- Timestamps are epoch milliseconds (UTC); list fields (`user_roles`, `tags`) are `;`-separated.

-- Marks the file as a UEBA Workbench database ("UEBA" in ASCII), inside the migration's transaction.
PRAGMA application_id = 1430602305;

CREATE TABLE connections (
    id                    TEXT    NOT NULL UNIQUE,
    connected             INTEGER NOT NULL,
    disconnected          INTEGER,
    duration              REAL,
    user                  TEXT    NOT NULL,
    user_roles            TEXT,
    type                  TEXT    NOT NULL,
    target_host           TEXT    NOT NULL,
    target_host_address   TEXT,
    target_host_account   TEXT,
    remote_address        TEXT    NOT NULL,
    bytes_in              INTEGER,
    bytes_out             INTEGER,
    status                TEXT,
    authentication_method TEXT,
    termination_reason    TEXT,
    mode                  TEXT,
    user_agent            TEXT,
    tags                  TEXT,
    label                 TEXT
);

CREATE INDEX connections_by_time ON connections (connected);
CREATE INDEX connections_by_user ON connections (user, connected);
CREATE INDEX connections_by_host ON connections (target_host, connected);

-- One row per finished import (committed together with the rows it added).
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    file        TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    skip_invalid INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    rows_read   INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    duplicates  INTEGER NOT NULL,
    invalid     INTEGER NOT NULL
);

-- Every row an import with --skip-invalid left out, and why.
CREATE TABLE import_errors (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    field     TEXT,
    reason    TEXT    NOT NULL
);
CREATE INDEX import_errors_by_import ON import_errors (import_id, line);

-- Small key/value facts about this database (e.g. when demo data was generated).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
