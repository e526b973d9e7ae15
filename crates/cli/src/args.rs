//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "Exit codes: 0 success, 2 usage error, 3 input rejected (invalid rows, \
malformed or unreadable file, invalid settings), 4 database unusable (not a workbench database, \
newer schema), 5 not found, 6 conflict (e.g. the dataset is active), 130 interrupted (nothing was \
changed), 1 anything else.";

/// UEBA Workbench: import remote-access connection logs into a local SQLite file and analyse them.
#[derive(Debug, Parser)]
#[command(name = "ueba-workbench", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Database file [default: the platform data directory, e.g. ~/.local/share/ueba-workbench/workbench.db].
    #[arg(long, global = true, env = "UEBA_WORKBENCH_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Print results as JSON (one document on stdout) for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// How to show progress of long work on stderr.
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Progress display on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, nothing otherwise.
    Auto,
    /// Always a bar.
    Bar,
    /// One JSON object per update (`{"rows":..,"bytes":..,"total_bytes":..,"percent":..}`).
    Json,
    /// Nothing.
    None,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database (or bring its schema up to date) and print where it is.
    Init,
    /// Import connection logs (CSV, JSON Lines, JSON array, PrivX export); all files in one transaction.
    Import(ImportArgs),
    /// Generate a realistic demo organisation's connections, with labelled attacks.
    Demo(DemoArgs),
    /// Count or list stored connections.
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// Past imports and the rows they rejected.
    #[command(subcommand)]
    Imports(ImportsCommand),
    /// Write a consistent copy of the database to PATH while it stays in use.
    Backup {
        /// The new file (must not exist).
        path: PathBuf,
    },
    /// Overview: counts, time span, top users and hosts.
    Stats,
    /// UEBA datasets: the time windows models are trained on.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Anomaly settings and the UEBA configuration.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Start or stop analyzing connections with a trained dataset.
    #[command(subcommand)]
    Analyze(AnalyzeCommand),
    /// Service status and internal (training and inference) status.
    Status,
    /// Train a dataset's models (one per feature config), showing progress; Ctrl-C cancels.
    Train(TrainArgs),
    /// Anomalies raised by analysis.
    #[command(subcommand)]
    Anomalies(AnomaliesCommand),
    /// Run the REST listener (PrivX UEBA API, workbench API) until Ctrl-C.
    Serve(ServeArgs),
    /// Local accounts that log in to the REST listener.
    #[command(subcommand)]
    User(UserCommand),
    /// OAuth clients that ask the REST listener for tokens.
    #[command(subcommand, name = "oauth-client")]
    OauthClient(ClientCommand),
    /// The REST listener's local TLS certificate authority.
    #[command(subcommand)]
    Tls(TlsCommand),
    /// The REST listener's request journal, newest first.
    Journal(JournalArgs),
    /// Score connections with a dataset's models: one CSV row per connection
    /// (`id,score,anomalous,feature_config,reasons`).
    Score(ScoreArgs),
    /// Measure detection quality against the `label` column: ROC-AUC, PR-AUC, recall at 1 %
    /// false-positive rate, per scenario.
    Evaluate(EvaluateArgs),
    /// Alerts raised from anomalies, and their investigation.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Response policies: which alerts they apply to and what happens then.
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// Audit events: every change made through any door, newest first.
    Audit(AuditArgs),
    /// The Lacework long tail (accesses, apps, connectors, devices, documents, gateways, users,
    /// groups, ...): list, show and store objects of any kind.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Lacework group membership (a user's groups feed policy `group:` terms).
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// The simulated Cybereason sensor fleet and its actions (isolate, archive, upgrade, ...).
    #[command(subcommand)]
    Sensors(SensorsCommand),
    /// The names this workbench gives the Lacework enumerations (integers on the wire).
    Enums {
        /// Print the table as Markdown (what docs/lacework-enums.md holds).
        #[arg(long)]
        markdown: bool,
    },
}

/// `alerts` subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts whose event lies in the range, newest first.
    List {
        /// Events from (date or RFC 3339 timestamp).
        #[arg(long, value_parser = parse_time)]
        from: Option<i64>,
        /// Events before.
        #[arg(long, value_parser = parse_time)]
        to: Option<i64>,
        /// Statuses, comma separated: OPEN, IN_PROGRESS, CLOSED (default: the open ones).
        #[arg(long, default_value = "")]
        status: String,
        /// Only this user's alerts.
        #[arg(long)]
        user: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One alert, its explanation and its investigation history.
    Show {
        /// The alert uuid.
        uuid: String,
    },
    /// Promote an event (an event uuid or a connection id) to an alert.
    Promote {
        /// The event.
        event: String,
    },
    /// Take one investigation action on an alert.
    Act(ActArgs),
}

/// `alerts act` arguments: exactly one of --status, --close, --note (alone) or --owner.
#[derive(Debug, Args)]
pub struct ActArgs {
    /// The alert uuid.
    pub uuid: String,
    /// Set the status: OPEN or IN_PROGRESS (closing takes --close).
    #[arg(long, conflicts_with_all = ["close", "owner"])]
    pub status: Option<String>,
    /// Close with this incident status: UNDETERMINED, TRUE_POSITIVE, FALSE_POSITIVE,
    /// EXPECTED_ACTIVITY, DUPLICATE.
    #[arg(long, conflicts_with = "owner")]
    pub close: Option<String>,
    /// A note (alone: add it; with --close: the reason's text).
    #[arg(long)]
    pub note: Option<String>,
    /// Assign to this local account ("" unassigns).
    #[arg(long)]
    pub owner: Option<String>,
    /// Refuse if the alert changed since this update_time (epoch ms, as shown).
    #[arg(long)]
    pub expect_update_time: Option<i64>,
}

/// `catalog` subcommands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Every kind, with its schema, key and REST operations.
    Kinds,
    /// The objects of a kind, oldest first.
    List {
        /// The kind (see `catalog kinds`).
        kind: String,
        /// A filter, as the REST query takes it (repeatable): `status=2`, `tag=vip`.
        #[arg(long = "where", value_name = "PARAM=VALUE")]
        filters: Vec<String>,
    },
    /// One object.
    Show {
        /// The kind.
        kind: String,
        /// Its key (uuid, name or key, as the kind says).
        key: String,
    },
    /// Stores an object from a JSON file (- reads stdin), checked against the kind's schema;
    /// an object with the same key is replaced. Also for kinds the REST API cannot create,
    /// such as documents and gateways.
    Put {
        /// The kind.
        kind: String,
        /// The JSON file.
        file: PathBuf,
    },
}

/// `groups` subcommands.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Adds a user to a group.
    AddMember {
        /// The group uuid.
        group: String,
        /// The user uuid.
        user: String,
    },
    /// Removes a user from a group.
    RemoveMember {
        /// The group uuid.
        group: String,
        /// The user uuid.
        user: String,
    },
}

/// `policies` subcommands.
#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// Every policy, by priority.
    List,
    /// One policy.
    Show {
        /// The policy uuid.
        uuid: String,
    },
    /// Create a policy from a JSON file (the Lacework Policy fields; - reads stdin).
    Create {
        /// The JSON file.
        file: PathBuf,
    },
    /// Update a policy from a JSON file holding only the fields to change (- reads stdin).
    Update {
        /// The policy uuid.
        uuid: String,
        /// The JSON file.
        file: PathBuf,
        /// Fields to reset to their default (repeatable).
        #[arg(long = "delete")]
        delete: Vec<String>,
    },
    /// Which past alerts a policy in a JSON file would match, without saving it.
    Preview {
        /// The JSON file (- reads stdin).
        file: PathBuf,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// `audit` arguments.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// From (date or RFC 3339 timestamp).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<i64>,
    /// Before.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<i64>,
    /// Only changes of this object (uuid).
    #[arg(long)]
    pub object: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// Model families `train --model` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Gaussian mixture per feature config (the measured default).
    GaussianMixture,
    /// PCA reconstruction error per feature config.
    Pca,
}

/// `train` arguments.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The dataset id.
    pub dataset: String,
    /// Start analyzing with this dataset when training succeeds (PrivX set_active_after_training).
    #[arg(long)]
    pub activate: bool,
    /// Random seed: the same data and seed give the same models.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fail when the dataset has fewer connections than this.
    #[arg(long, default_value_t = 5_000)]
    pub min_connections: usize,
    /// Model family.
    #[arg(long, value_enum, default_value_t = ModelArg::GaussianMixture)]
    pub model: ModelArg,
}

/// `anomalies` subcommands.
#[derive(Debug, Subcommand)]
pub enum AnomaliesCommand {
    /// List anomalies, newest connection first, with their explanations.
    List {
        /// Connected at or after (date or RFC 3339 timestamp).
        #[arg(long, value_parser = parse_time)]
        from: Option<i64>,
        /// Connected before (date or RFC 3339 timestamp).
        #[arg(long, value_parser = parse_time)]
        to: Option<i64>,
        /// Only this user.
        #[arg(long)]
        user: Option<String>,
        /// At most this many (up to 10000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// Which connections to score: a stored range, or a file read without storing it.
#[derive(Debug, Args)]
pub struct ScoreInputArgs {
    /// The dataset whose trained models score.
    #[arg(long)]
    pub dataset: String,
    /// Stored connections connected at or after (date or RFC 3339 timestamp).
    #[arg(long, value_parser = parse_time, conflicts_with = "input")]
    pub from: Option<i64>,
    /// Stored connections connected before (date or RFC 3339 timestamp).
    #[arg(long, value_parser = parse_time, conflicts_with = "input")]
    pub to: Option<i64>,
    /// Score the connections of this file instead (CSV, JSON Lines, JSON array, PrivX export).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Format of --input instead of detecting it: csv, jsonl, json, privx.
    #[arg(long, requires = "input")]
    pub format: Option<ueba_core::ingest::Format>,
}

/// `score` arguments.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub source: ScoreInputArgs,
    /// Where to write the CSV (`-` for standard output); written whole or not at all.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Threshold for the `anomalous` column [default: the anomaly settings' threshold].
    #[arg(long)]
    pub threshold: Option<f64>,
}

/// `evaluate` arguments.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub source: ScoreInputArgs,
}

/// `analyze` subcommands.
#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// Make a trained dataset active and score new connections with it.
    Start {
        /// The dataset id.
        dataset: String,
    },
    /// Stop analyzing and release the active dataset.
    Stop,
    /// Rescore a past range with the active dataset, replacing its anomalies.
    Rescore {
        /// Connected at or after (date or RFC 3339 timestamp) [default: the first connection].
        #[arg(long, value_parser = parse_time)]
        from: Option<i64>,
        /// Connected before (date or RFC 3339 timestamp) [default: after the last connection].
        #[arg(long, value_parser = parse_time)]
        to: Option<i64>,
    },
    /// What analysis is doing.
    Status,
}

/// A dataset's time window.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Start of the window (inclusive) [default: the first connection].
    #[arg(long, value_parser = parse_time)]
    pub start: Option<i64>,
    /// End of the window (exclusive) [default: after the last connection].
    #[arg(long, value_parser = parse_time)]
    pub end: Option<i64>,
    /// A range to leave out, `START..END` (repeatable).
    #[arg(long, value_parser = parse_range, value_name = "START..END")]
    pub exclude: Vec<(i64, i64)>,
}

/// A dataset's settings.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// A comment describing the dataset.
    #[arg(long)]
    pub comment: Option<String>,
    /// Make the dataset active automatically when its training succeeds.
    #[arg(long)]
    pub use_for_inference: bool,
}

/// How to show training results.
#[derive(Debug, Args)]
pub struct ResultArgs {
    /// Include the training logs.
    #[arg(long)]
    pub logs: bool,
    /// Bins of the validation-score histogram.
    #[arg(long, default_value_t = 50)]
    pub bins: usize,
}

/// `dataset` subcommands.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Save a new dataset (training is a separate step); prints its id.
    Create(DatasetArgs),
    /// List datasets.
    List(ResultArgs),
    /// Show one dataset with its training history.
    Show {
        /// The dataset id.
        id: String,
        #[command(flatten)]
        view: ResultArgs,
    },
    /// Change a dataset; its training history and trained models are deleted.
    Update {
        /// The dataset id.
        id: String,
        #[command(flatten)]
        settings: DatasetArgs,
    },
    /// Delete a dataset (not while it is active).
    Delete {
        /// The dataset id.
        id: String,
    },
    /// Count the connections a window would train on.
    Count(WindowArgs),
}

/// `settings` subcommands.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show or change the anomaly settings (threshold 0 = loose … 1 = strict, action).
    Anomaly {
        /// Threshold between 0.0 and 1.0; flags about 10^(-3+2t) of normal traffic.
        #[arg(long)]
        threshold: Option<f64>,
        /// What to do with an anomalous connection.
        #[arg(long, value_parser = ["AUDIT", "BLOCK", "audit", "block"])]
        action: Option<String>,
    },
    /// Show or change the UEBA configuration.
    Ueba {
        /// Address of the UEBA server.
        #[arg(long)]
        address: Option<String>,
        /// PEM file with the trust anchors for the UEBA server certificate.
        #[arg(long, value_name = "FILE")]
        trust_anchors: Option<PathBuf>,
    },
}

/// `import` arguments.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Force the format instead of detecting it: csv, jsonl, json, privx.
    #[arg(long)]
    pub format: Option<ueba_core::ingest::Format>,
    /// Import the valid rows and report the invalid ones (default: import nothing if any row is invalid).
    #[arg(long)]
    pub skip_invalid: bool,
}

/// `demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of connections.
    #[arg(long, default_value_t = 50_000)]
    pub connections: u64,
    /// Days covered, ending at --end.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Random seed; the same seed and settings give the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction of connections in the attack window that are attacks (0–1).
    #[arg(long, default_value_t = 0.002)]
    pub attack_rate: f64,
    /// End of the span (exclusive), a date or timestamp [default: today 00:00 UTC].
    #[arg(long, value_parser = parse_time)]
    pub end: Option<i64>,
    /// Start of the attack window [default: the last quarter of the span].
    #[arg(long, value_parser = parse_time, requires = "attack_end")]
    pub attack_start: Option<i64>,
    /// End of the attack window.
    #[arg(long, value_parser = parse_time, requires = "attack_start")]
    pub attack_end: Option<i64>,
    /// Write to this file (.csv, or .jsonl for JSON Lines) instead of the database.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Filters shared by `connections count` and `connections list`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Connected at or after (date or RFC 3339 timestamp).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<i64>,
    /// Connected before (date or RFC 3339 timestamp).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<i64>,
    /// Only this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only this target host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only this protocol (SSH, RDP, ...).
    #[arg(long = "type")]
    pub conn_type: Option<String>,
    /// Text contained in user, host, account, source address, id or label.
    #[arg(long)]
    pub search: Option<String>,
}

/// `connections` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Count matching connections.
    Count(FilterArgs),
    /// List matching connections, newest first.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Rows to show (at most 1000 per page).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Continue after this cursor (printed by the previous page).
        #[arg(long)]
        cursor: Option<String>,
    },
}

/// `imports` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImportsCommand {
    /// List finished imports.
    List,
    /// List the rows an import rejected (imports run with --skip-invalid).
    Errors {
        /// The import id (from `imports list`).
        id: i64,
    },
}

fn parse_range(text: &str) -> Result<(i64, i64), String> {
    let (start, end) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not a range START..END"))?;
    Ok((parse_time(start)?, parse_time(end)?))
}

fn parse_time(text: &str) -> Result<i64, String> {
    ueba_core::ingest::parse_datetime(text)
        .ok_or_else(|| format!("`{text}` is not a date (2026-03-01) or RFC 3339 timestamp"))
}

/// `serve` arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP port (0 picks a free one).
    #[arg(long, default_value_t = ueba_api::DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on instead of 127.0.0.1 and ::1 (repeatable). Anything but loopback
    /// exposes the listener to the network.
    #[arg(long, value_name = "ADDR")]
    pub bind: Vec<std::net::IpAddr>,
    /// Speak HTTPS with the local CA (export it with `tls export-ca FILE`).
    #[arg(long)]
    pub tls: bool,
}

fn parse_role(text: &str) -> Result<ueba_core::auth::Role, String> {
    ueba_core::auth::Role::parse(text).ok_or_else(|| {
        let names: Vec<&str> = ueba_core::auth::Role::ALL
            .iter()
            .map(|r| r.scope())
            .collect();
        format!(
            "unknown role `{text}` (expected one of: {})",
            names.join(", ")
        )
    })
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from the first line of stdin.
    Add {
        /// Login name (letters, digits, '.', '_', '-', '@').
        name: String,
        /// Role, which is the PrivX scope its tokens carry: admin, connectionsManage,
        /// connectionsPlayback, connectionsTerminate, connectionsTrail, connectionsView, service, user.
        #[arg(long, value_parser = parse_role)]
        role: ueba_core::auth::Role,
        /// Read the password from stdin (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Delete an account and revoke its tokens.
    Remove {
        /// Login name.
        name: String,
    },
}

/// `oauth-client` subcommands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create an OAuth client and print its id and secret (the secret is shown only now).
    Add {
        /// A name to recognise it by.
        name: String,
        /// Let the client use the client_credentials grant with this role; without it, the
        /// client can only pass on an account's password grant.
        #[arg(long, value_parser = parse_role)]
        role: Option<ueba_core::auth::Role>,
    },
    /// List OAuth clients.
    List,
    /// Delete an OAuth client (by name or id) and revoke its tokens.
    Remove {
        /// Name or client id.
        name: String,
    },
}

/// `tls` subcommands.
#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Write the local CA certificate (PEM) for HTTPS clients to trust; creates it if needed.
    ExportCa {
        /// The PEM file to write.
        file: PathBuf,
    },
    /// Forget the CA and server certificate; the next HTTPS start makes new ones (clients must
    /// import the new CA).
    Reset,
}

/// `journal` arguments.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Only this HTTP method.
    #[arg(long)]
    pub method: Option<String>,
    /// Only paths containing this text.
    #[arg(long)]
    pub path: Option<String>,
    /// Only statuses at or above this (e.g. 400 for failures).
    #[arg(long)]
    pub status_min: Option<u16>,
    /// Only this caller (account, `client:<id>` or peer address).
    #[arg(long)]
    pub caller: Option<String>,
    /// Lines to show.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// `sensors` subcommands.
#[derive(Debug, Subcommand)]
pub enum SensorsCommand {
    /// The sensors, by machine name (filters as the REST query takes them).
    List {
        /// A condition FIELD=VALUE (Equals; repeatable), e.g. `status=Online`, `isolated=true`.
        #[arg(long = "where", value_name = "FIELD=VALUE")]
        filters: Vec<String>,
    },
    /// One sensor (sensorId, pylumId or machine name).
    Show {
        /// The sensor.
        sensor: String,
    },
    /// Adds a sensor for a host the connections have not shown.
    Add {
        /// The host name.
        machine_name: String,
        /// Its address.
        #[arg(long, default_value = "")]
        ip: String,
        /// WINDOWS, LINUX, MAC_OS or UNKNOWN.
        #[arg(long, default_value = "UNKNOWN")]
        os: String,
        /// Added disconnected (its actions time out).
        #[arg(long)]
        disconnected: bool,
    },
    /// Marks a sensor disconnected (its actions time out) or, with --connected, connected again.
    Disconnect {
        /// The sensor.
        sensor: String,
        /// Connect it again instead.
        #[arg(long)]
        connected: bool,
    },
    /// Starts an action (upgrade, restart, archive, unarchive, delete, stopCollection,
    /// startCollection, setPreventionMode, schedulerScan, fetchLogs, addToGroup,
    /// removeFromGroup, isolate, un-isolate) on sensors.
    Act {
        /// The action.
        action: String,
        /// The sensors (sensorId, pylumId or machine name).
        #[arg(required = true)]
        sensors: Vec<String>,
        /// Its argument (archive reason, ENABLE/DISABLE, FULL/QUICK/STOP, group id).
        #[arg(long)]
        argument: Option<String>,
    },
    /// Every action, newest first, with its counters.
    Actions,
    /// Aborts an unfinished action.
    Abort {
        /// Its batch id.
        #[arg(allow_negative_numbers = true)]
        batch_id: i64,
    },
    /// Shows, or sets, the simulated timeline of actions started from now on.
    Timeline {
        /// Pending before a sensor starts (ms).
        #[arg(long)]
        pending_ms: Option<i64>,
        /// InProgress before it ends (ms).
        #[arg(long)]
        progress_ms: Option<i64>,
        /// Up to this much more per sensor (ms).
        #[arg(long)]
        jitter_ms: Option<i64>,
        /// When a disconnected sensor times out (ms).
        #[arg(long)]
        timeout_ms: Option<i64>,
    },
}
