-- Anomalies raised by analysis: one row per flagged connection, replaced when a range is rescored.
-- `blocked` is the BLOCK action's mark on the connection; it lives here rather than on
-- `connections` so the connections table stays exactly the imported data.
CREATE TABLE anomalies (
    connection_id TEXT    PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    connected     INTEGER NOT NULL,  -- copy of connections.connected, for range queries
    user          TEXT    NOT NULL,  -- copy of connections.user, for per-user queries
    dataset_id    TEXT    NOT NULL,  -- whose models flagged it
    score         REAL    NOT NULL,  -- normalized score in [0, 1]
    threshold     REAL    NOT NULL,  -- the threshold in force when it was flagged
    action        TEXT    NOT NULL CHECK (action IN ('BLOCK', 'AUDIT')),
    blocked       INTEGER NOT NULL,
    feature_scores TEXT   NOT NULL,  -- JSON [{feature_config_name, raw, normalized}]
    explanation   TEXT    NOT NULL,  -- JSON array of plain-words reasons
    detected      INTEGER NOT NULL   -- when it was flagged (epoch ms)
) WITHOUT ROWID;
CREATE INDEX anomalies_by_time ON anomalies (connected);
CREATE INDEX anomalies_by_user ON anomalies (user, connected);
