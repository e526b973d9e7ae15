-- UEBA datasets (PrivX `Dataset`): the time window a model is trained on, and its training history.
-- Times are epoch milliseconds (UTC); `exclude` is a JSON array of {"start": ms, "end": ms}.
CREATE TABLE datasets (
    id                             TEXT    PRIMARY KEY,
    time_start                     INTEGER,
    time_end                       INTEGER,
    exclude                        TEXT    NOT NULL DEFAULT '[]',
    comment                        TEXT,
    is_active                      INTEGER NOT NULL DEFAULT 0,
    use_for_inference_once_trained INTEGER NOT NULL DEFAULT 0,
    last_training                  INTEGER,
    created                        INTEGER NOT NULL,
    created_by                     TEXT,
    updated                        INTEGER NOT NULL,
    updated_by                     TEXT
) WITHOUT ROWID;

-- At most one dataset drives inference.
CREATE UNIQUE INDEX datasets_one_active ON datasets (is_active) WHERE is_active = 1;

-- One row per feature config per training run (PrivX `TrainingResult`).
CREATE TABLE training_results (
    id                      TEXT    PRIMARY KEY,
    dataset_id              TEXT    NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    feature_config_name     TEXT    NOT NULL,
    status                  TEXT    NOT NULL CHECK (status IN ('TRAINING', 'SUCCESS', 'FAILURE')),
    error_code              TEXT,
    error_details           TEXT,
    num_connections         INTEGER,
    mean                    REAL,
    std                     REAL,
    quantile_99             REAL,
    quantile_999            REAL,
    training_log            TEXT,
    training_dataset_loss   TEXT,   -- JSON array of numbers
    validation_dataset_loss TEXT,   -- JSON array of numbers
    validation_scores       BLOB,   -- sorted little-endian f64s, re-binned on request
    created                 INTEGER NOT NULL
);
CREATE INDEX training_results_by_dataset ON training_results (dataset_id, created);

-- Trained weights of a dataset's models (deleted when the dataset is updated or deleted).
CREATE TABLE model_weights (
    dataset_id TEXT    PRIMARY KEY REFERENCES datasets (id) ON DELETE CASCADE,
    format     TEXT    NOT NULL,
    weights    BLOB    NOT NULL,
    created    INTEGER NOT NULL
) WITHOUT ROWID;
