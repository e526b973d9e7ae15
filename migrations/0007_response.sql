-- The response loop: alerts raised from anomalies, their investigation history, and the audit
-- trail of every change made through any door (desktop, CLI, REST).

-- One alert per flagged event. `uuid` is the event's uuid (a v5 uuid of the connection id), so
-- rescoring a range never raises the same alert twice. Alerts outlive the anomalies that raised
-- them: rescoring replaces anomalies, not the analyst's work.
CREATE TABLE alerts (
    uuid                TEXT    PRIMARY KEY,
    connection_id       TEXT,             -- the connection behind the event
    event_type          TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    severity            INTEGER NOT NULL,  -- enums::ALERT_SEVERITY
    status              INTEGER NOT NULL,  -- enums::ALERT_STATUS
    incident_status     INTEGER NOT NULL,  -- enums::INCIDENT_STATUS
    owner_uuid          TEXT    NOT NULL DEFAULT '',
    owner_display_name  TEXT    NOT NULL DEFAULT '',
    policy_action_taken INTEGER NOT NULL DEFAULT 0,  -- enums::POLICY_ACTION
    policy_uuid         TEXT,
    score               REAL,
    user                TEXT    NOT NULL,
    host                TEXT    NOT NULL,
    source              TEXT    NOT NULL,
    features            TEXT    NOT NULL DEFAULT '[]',  -- JSON: feature configs that flagged it
    explanation         TEXT    NOT NULL DEFAULT '[]',  -- JSON: plain-words reasons
    start_time          INTEGER NOT NULL,  -- the event: connection opened (epoch ms)
    end_time            INTEGER NOT NULL,  -- connection closed, or opened when unknown
    create_time         INTEGER NOT NULL,
    update_time         INTEGER NOT NULL,  -- strictly increases with every change
    assignment_time     INTEGER NOT NULL DEFAULT 0,
    closed_time         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX alerts_by_start ON alerts (start_time);
CREATE INDEX alerts_by_status ON alerts (status, start_time);

-- Investigation actions taken on an alert, in order.
CREATE TABLE alert_history (
    uuid               TEXT    PRIMARY KEY,
    alert_uuid         TEXT    NOT NULL REFERENCES alerts (uuid) ON DELETE CASCADE,
    seq                INTEGER NOT NULL,  -- order within the alert
    timestamp          INTEGER NOT NULL,
    actor_uuid         TEXT    NOT NULL,
    actor_display_name TEXT    NOT NULL,
    action             TEXT    NOT NULL   -- JSON proto.InvestigationAction, action_type set
) WITHOUT ROWID;
CREATE UNIQUE INDEX alert_history_by_alert ON alert_history (alert_uuid, seq);

-- Every change made through a door: who, when, through what, on which object, before and after.
-- Written in the transaction of the change itself, so a change without its event cannot exist.
CREATE TABLE audit_events (
    uuid          TEXT    PRIMARY KEY,
    create_time   INTEGER NOT NULL,
    door          TEXT    NOT NULL CHECK (door IN ('desktop', 'cli', 'rest', 'engine')),
    actor_uuid    TEXT    NOT NULL,
    actor_login   TEXT    NOT NULL,
    actor_name    TEXT    NOT NULL,
    actor_role    INTEGER NOT NULL DEFAULT 0,  -- enums::TOKEN_ROLE
    auth_type     TEXT    NOT NULL,            -- how the actor proved who they are
    client_ip     TEXT    NOT NULL DEFAULT '',
    method        TEXT    NOT NULL DEFAULT '',
    path          TEXT    NOT NULL DEFAULT '',
    op            TEXT    NOT NULL,            -- e.g. alert.investigate
    object_type   TEXT    NOT NULL,
    object_uuid   TEXT    NOT NULL,
    request_body  TEXT    NOT NULL DEFAULT '',
    before        TEXT,                        -- JSON, NULL when the object was created
    after         TEXT                         -- JSON, NULL when the object was deleted
) WITHOUT ROWID;
CREATE INDEX audit_events_by_time ON audit_events (create_time);
CREATE INDEX audit_events_by_object ON audit_events (object_uuid, create_time);

-- Response policies (Lacework Policy model). The body is the whole policy as JSON; the columns
-- beside it are what evaluation selects and orders by.
CREATE TABLE policies (
    uuid        TEXT    PRIMARY KEY,
    body        TEXT    NOT NULL,
    status      INTEGER NOT NULL,  -- enums::ENUM_STATUS; 2 ACTIVE is evaluated
    type        INTEGER NOT NULL,  -- enums::POLICY_TYPE; 0 and 1 are evaluated
    priority    INTEGER NOT NULL,  -- smaller wins
    create_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX policies_by_priority ON policies (priority, create_time);

-- What a policy asked of a host's sensor (isolation), for the sensor fleet to carry out.
CREATE TABLE sensor_requests (
    uuid        TEXT    PRIMARY KEY,
    alert_uuid  TEXT    NOT NULL REFERENCES alerts (uuid) ON DELETE CASCADE,
    policy_uuid TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    action      TEXT    NOT NULL,   -- isolate
    status      TEXT    NOT NULL,   -- PENDING until a sensor action carries it out
    create_time INTEGER NOT NULL,
    UNIQUE (alert_uuid, action)
) WITHOUT ROWID;

-- Workflows (Lacework Workflow model), stored whole as JSON.
CREATE TABLE workflows (
    uuid        TEXT    PRIMARY KEY,
    body        TEXT    NOT NULL,
    create_time INTEGER NOT NULL
) WITHOUT ROWID;

-- Workflow runs, whole as JSON, with the columns the seed's query filters and expiry select on.
CREATE TABLE workflow_runs (
    uuid          TEXT    PRIMARY KEY,
    body          TEXT    NOT NULL,
    status        INTEGER NOT NULL,  -- enums::WORKFLOW_RUN_STATUS
    workflow_uuid TEXT    NOT NULL,
    user_uuid     TEXT    NOT NULL,
    app_protocol  TEXT    NOT NULL,
    app_host      TEXT    NOT NULL,
    app_port      TEXT    NOT NULL,
    app_uuid      TEXT    NOT NULL,
    alert_uuid    TEXT,              -- the alert it is about, if any
    expires_ms    INTEGER NOT NULL,  -- when a PENDING run ends FAILURE
    create_time   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX workflow_runs_pending ON workflow_runs (status, expires_ms);
CREATE INDEX workflow_runs_by_alert ON workflow_runs (alert_uuid);

-- Customer datasets (named lists that `list:NAME` policy terms use), and their items.
CREATE TABLE customer_datasets (
    uuid TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL            -- the CustomerDataset as JSON
) WITHOUT ROWID;
CREATE TABLE customer_dataset_items (
    dataset_uuid TEXT    NOT NULL REFERENCES customer_datasets (uuid) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    value        TEXT    NOT NULL,
    PRIMARY KEY (dataset_uuid, position)
) WITHOUT ROWID;

-- Lacework API tokens. The secret's digest lives with the other Bearer credentials in
-- access_tokens (client_id 'api-token:<uuid>'); this table keeps what the tokens resource shows.
CREATE TABLE lacework_tokens (
    uuid        TEXT    PRIMARY KEY,
    token_id    TEXT    NOT NULL UNIQUE,  -- access_tokens.token_id
    owner       TEXT    NOT NULL,         -- the account it acts for
    status      INTEGER NOT NULL,         -- enums::ENUM_STATUS; only ACTIVE is accepted
    body        TEXT    NOT NULL,         -- the Token as JSON, without its secret
    create_time INTEGER NOT NULL
) WITHOUT ROWID;
