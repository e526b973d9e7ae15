//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "Exit codes: 0 success, 2 usage error, 3 input rejected (invalid rows, \
malformed or unreadable file), 4 database unusable (not a workbench database, newer schema), \
130 interrupted (nothing was changed), 1 anything else.";

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

fn parse_time(text: &str) -> Result<i64, String> {
    ueba_core::ingest::parse_datetime(text)
        .ok_or_else(|| format!("`{text}` is not a date (2026-03-01) or RFC 3339 timestamp"))
}
