//! Importing connection logs: CSV, JSON Lines, JSON arrays and PrivX exports.
//!
//! A parser thread reads and validates rows while the calling thread inserts them, so both cores
//! work and memory stays flat (a few bounded batches in flight). All files of one import go into
//! one transaction: either everything is committed or nothing is visible, even if the process is
//! killed half-way (SQLite's journal discards the open transaction).

mod csv_source;
pub mod history;
mod json_source;
mod record;
pub mod writer;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::cancel::CancelToken;
use crate::model::Connection;
use crate::store::{Store, StoreError};

pub use record::parse_datetime;
pub use writer::{BulkIndexes, BulkJournal, ConnectionWriter};

/// Rows handed from the parser to the writer at a time.
const BATCH_ROWS: usize = 4096;
/// Batches in flight between parser and writer (bounds memory).
const BATCHES_IN_FLIGHT: usize = 4;
/// A typical connection row's size in a file, to estimate row counts from file sizes.
const ESTIMATED_BYTES_PER_ROW: u64 = 200;
/// Errors kept in memory per file for the report; with `skip_invalid` all are also stored in the
/// database (`import_errors`).
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub enum Format {
    /// CSV with a header row.
    #[serde(rename = "csv")]
    Csv,
    /// One JSON object per line.
    #[serde(rename = "jsonl")]
    JsonLines,
    /// A JSON array of objects.
    #[serde(rename = "json")]
    JsonArray,
    /// PrivX connections export `{"count": .., "items": [..]}`.
    #[serde(rename = "privx")]
    PrivxExport,
}

impl Format {
    /// The short name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
            Format::JsonArray => "json",
            Format::PrivxExport => "privx",
        }
    }

    /// Recognises the format from the first bytes of a file.
    pub fn detect(head: &[u8]) -> Format {
        let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        let start = head
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(head.len());
        let head = &head[start..];
        match head.first() {
            Some(b'[') => Format::JsonArray,
            Some(b'{') => {
                let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
                match serde_json::from_slice::<serde_json::Value>(first_line) {
                    Ok(v) if v.get("items").is_some_and(|i| i.is_array()) => Format::PrivxExport,
                    Ok(_) => Format::JsonLines,
                    // An object spanning several lines: a (pretty-printed) export document.
                    Err(_) => Format::PrivxExport,
                }
            }
            _ => Format::Csv,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json-lines" => Ok(Format::JsonLines),
            "json" | "json-array" => Ok(Format::JsonArray),
            "privx" => Ok(Format::PrivxExport),
            _ => Err(format!(
                "unknown format `{s}` (expected csv, jsonl, json or privx)"
            )),
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ImportOptions {
    /// Force a format instead of detecting it from the content.
    pub format: Option<Format>,
    /// Import the good rows and report the bad ones, instead of importing nothing when any row is
    /// bad.
    pub skip_invalid: bool,
}

/// Progress of a running import, reported after every batch.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ImportProgress {
    /// The file being read.
    pub file: String,
    /// Its position among the files of this import (0-based).
    pub file_index: u32,
    /// How many files this import has.
    pub file_count: u32,
    /// Rows read so far, all files together.
    #[ts(type = "number")]
    pub rows: u64,
    /// Bytes read so far, all files together.
    #[ts(type = "number")]
    pub bytes: u64,
    /// Size of all files together.
    #[ts(type = "number")]
    pub total_bytes: u64,
    /// `bytes / total_bytes` in percent.
    pub percent: f64,
}

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct RowError {
    /// The file it came from.
    pub file: String,
    /// Its line (1-based; for multi-line records, the first line).
    #[ts(type = "number")]
    pub line: u64,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(
                f,
                "{}, line {}, field `{}`: {}",
                self.file, self.line, field, self.reason
            ),
            None => write!(f, "{}, line {}: {}", self.file, self.line, self.reason),
        }
    }
}

/// What one file of an import did.
#[derive(Debug, Clone, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ImportReport {
    /// The file.
    pub file: String,
    /// The format it was read as.
    pub format: Format,
    /// Data rows read.
    #[ts(type = "number")]
    pub rows_read: u64,
    /// New connections stored.
    #[ts(type = "number")]
    pub inserted: u64,
    /// Rows whose id was already stored (or repeated in the file); not stored again.
    #[ts(type = "number")]
    pub duplicates: u64,
    /// Rows rejected.
    #[ts(type = "number")]
    pub invalid: u64,
    /// The first rejected rows (at most [`MAX_REPORTED_ERRORS`]).
    pub errors: Vec<RowError>,
    /// Whether more rows were rejected than `errors` lists.
    pub errors_truncated: bool,
    /// Header columns (CSV) that are not connection fields and were ignored.
    pub ignored_columns: Vec<String>,
    /// The import's id in the `imports` table (when committed).
    #[ts(type = "number | null")]
    pub import_id: Option<i64>,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A file could not be opened or read.
    #[error("cannot read {file}: {source}; nothing was imported")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file's structure is broken where reading cannot go on (a bad header, broken JSON).
    #[error("{file}, line {line}: {reason}; nothing was imported")]
    Malformed {
        /// The file.
        file: String,
        /// Where.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A file read without importing it (to score it) has an invalid row or broken structure.
    #[error("{file}, line {line}: {reason}")]
    Unreadable {
        /// The file.
        file: String,
        /// Where.
        line: u64,
        /// What is wrong (the field first, when one is at fault).
        reason: String,
    },
    /// Rows were invalid and the import was all-or-nothing.
    #[error("{}", invalid_message(.0))]
    Invalid(Box<ImportReport>),
    /// Settings of the job are invalid (e.g. demo settings).
    #[error("{0}")]
    Settings(String),
    /// The user cancelled.
    #[error("import cancelled; nothing was imported")]
    Cancelled,
    /// The database failed.
    #[error("{0}; nothing was imported")]
    Store(#[from] StoreError),
}

fn invalid_message(report: &ImportReport) -> String {
    let first = report
        .errors
        .first()
        .map(|e| format!(" (first: {e})"))
        .unwrap_or_default();
    format!(
        "{} invalid row(s) in {}{first}; nothing was imported (use --skip-invalid to import the valid rows)",
        report.invalid, report.file
    )
}

impl IngestError {
    /// The failing file's report, when the import failed on invalid rows.
    pub fn report(&self) -> Option<&ImportReport> {
        match self {
            IngestError::Invalid(report) => Some(report),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for IngestError {
    fn from(e: rusqlite::Error) -> Self {
        IngestError::Store(StoreError::Sqlite(e))
    }
}

/// A fatal structural error inside a file.
#[derive(Debug)]
pub(crate) struct FileError {
    pub line: u64,
    pub reason: String,
}

/// One validated (or rejected) row and the line it started on.
#[derive(Debug)]
pub(crate) struct ParsedRow {
    pub line: u64,
    pub result: Result<Connection, record::FieldError>,
}

/// Counts the bytes read from a file, for progress.
struct CountingReader<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where an import reads from: a file, or a stream such as an HTTP request body.
pub enum ImportSource {
    /// A file on disk.
    File(PathBuf),
    /// A stream, named in reports and errors by `name`; `expected_bytes` (if known) sizes the
    /// bulk-load strategy and the progress.
    Stream {
        /// The name reports and errors use (e.g. `request body`).
        name: String,
        /// The bytes.
        reader: Box<dyn Read + Send>,
        /// Its length, when announced.
        expected_bytes: Option<u64>,
    },
}

impl ImportSource {
    fn name(&self) -> String {
        match self {
            ImportSource::File(path) => display(path),
            ImportSource::Stream { name, .. } => name.clone(),
        }
    }

    fn size(&self) -> Result<u64, IngestError> {
        match self {
            ImportSource::File(path) => {
                std::fs::metadata(path)
                    .map(|m| m.len())
                    .map_err(|source| IngestError::Io {
                        file: display(path),
                        source,
                    })
            }
            ImportSource::Stream { expected_bytes, .. } => Ok(expected_bytes.unwrap_or(0)),
        }
    }

    fn open(self) -> Result<Box<dyn Read + Send>, IngestError> {
        match self {
            ImportSource::File(path) => File::open(&path)
                .map(|f| Box::new(f) as Box<dyn Read + Send>)
                .map_err(|source| IngestError::Io {
                    file: display(&path),
                    source,
                }),
            ImportSource::Stream { reader, .. } => Ok(reader),
        }
    }
}

/// Imports `paths` in one transaction. See the module documentation.
pub fn import_files(
    store: &Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
    progress: &(dyn Fn(&ImportProgress) + Sync),
    cancel: &CancelToken,
) -> Result<Vec<ImportReport>, IngestError> {
    let sources = paths.iter().cloned().map(ImportSource::File).collect();
    import_sources(store, sources, opts, progress, cancel)
}

/// Imports `sources` (files or streams) in one transaction, with the same validation and
/// all-or-nothing rule as [`import_files`]; new connections are scored while analysis runs.
pub fn import_sources(
    store: &Store,
    sources: Vec<ImportSource>,
    opts: &ImportOptions,
    progress: &(dyn Fn(&ImportProgress) + Sync),
    cancel: &CancelToken,
) -> Result<Vec<ImportReport>, IngestError> {
    let mut total_bytes = 0u64;
    for source in &sources {
        total_bytes += source.size()?;
    }
    let mark = crate::ueba::scoring::arrival_mark(store)?;
    let reports = store.write(|conn| {
        let journal = BulkJournal::enter(conn, total_bytes / ESTIMATED_BYTES_PER_ROW);
        let result = import_in_transaction(conn, sources, total_bytes, opts, progress, cancel);
        journal.leave(conn)?;
        result
    })?;
    score_arrivals(store, mark);
    Ok(reports)
}

/// While analysis runs, new connections are scored as they arrive. The import itself has
/// committed, so a scoring failure is reported but does not undo it; the range can be
/// rescored later.
pub(crate) fn score_arrivals(store: &Store, mark: i64) {
    match crate::ueba::scoring::score_arrivals(store, mark) {
        Ok(Some(r)) => tracing::info!(
            scored = r.scored,
            anomalies = r.anomalies,
            seconds = r.seconds,
            "scored new connections"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!("new connections were stored but could not be scored: {e}"),
    }
}

fn import_in_transaction(
    conn: &mut rusqlite::Connection,
    sources: Vec<ImportSource>,
    total_bytes: u64,
    opts: &ImportOptions,
    progress: &(dyn Fn(&ImportProgress) + Sync),
    cancel: &CancelToken,
) -> Result<Vec<ImportReport>, IngestError> {
    let started = std::time::Instant::now();
    let tx = conn.transaction()?;
    let count = sources.len() as u32;
    let mut reports = Vec::with_capacity(sources.len());
    let indexes = BulkIndexes::suspend_if_worthwhile(&tx, total_bytes / ESTIMATED_BYTES_PER_ROW)?;
    {
        let mut writer = ConnectionWriter::new(&tx)?;
        let mut done_bytes = 0u64;
        let mut done_rows = 0u64;
        for (index, source) in sources.into_iter().enumerate() {
            let job = FileJob {
                name: source.name(),
                index: index as u32,
                count,
                bytes_before: done_bytes,
                rows_before: done_rows,
                total_bytes,
            };
            let input = source.open()?;
            let (report, read) = import_one(&mut writer, &job, input, opts, progress, cancel)?;
            done_bytes += read;
            done_rows += report.rows_read;
            reports.push(report);
        }
        writer.finish()?;
    }
    if cancel.is_cancelled() {
        return Err(IngestError::Cancelled);
    }
    let loaded = started.elapsed();
    indexes.restore(&tx)?;
    let indexed = started.elapsed();
    tx.commit()?;
    tracing::debug!(
        load_s = loaded.as_secs_f64(),
        index_rebuild_s = (indexed - loaded).as_secs_f64(),
        commit_s = (started.elapsed() - indexed).as_secs_f64(),
        "import phases"
    );
    Ok(reports)
}

struct FileJob {
    name: String,
    index: u32,
    count: u32,
    bytes_before: u64,
    rows_before: u64,
    total_bytes: u64,
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Imports one source; answers its report and the bytes read.
fn import_one(
    writer: &mut ConnectionWriter<'_>,
    job: &FileJob,
    source: Box<dyn Read + Send>,
    opts: &ImportOptions,
    progress: &(dyn Fn(&ImportProgress) + Sync),
    cancel: &CancelToken,
) -> Result<(ImportReport, u64), IngestError> {
    let name = job.name.clone();
    let io_err = |source| IngestError::Io {
        file: name.clone(),
        source,
    };
    let bytes = Arc::new(AtomicU64::new(0));
    let mut input = BufReader::with_capacity(
        256 * 1024,
        CountingReader {
            inner: source,
            bytes: Arc::clone(&bytes),
        },
    );
    let format = match opts.format {
        Some(f) => f,
        None => Format::detect(input.fill_buf().map_err(io_err)?),
    };
    let mut report = ImportReport {
        file: name.clone(),
        format,
        rows_read: 0,
        inserted: 0,
        duplicates: 0,
        invalid: 0,
        errors: Vec::new(),
        errors_truncated: false,
        ignored_columns: Vec::new(),
        import_id: None,
    };
    report.import_id = Some(writer.begin_file(&name, format.name(), opts.skip_invalid)?);
    let (inserted_before, duplicates_before) = (writer.inserted(), writer.duplicates());
    let (sender, receiver) = mpsc::sync_channel::<Vec<ParsedRow>>(BATCHES_IN_FLIGHT);
    let outcome = std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            let mut emit = |row: ParsedRow| {
                batch.push(row);
                if batch.len() >= BATCH_ROWS {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                    if sender.send(full).is_err() {
                        return ControlFlow::Break(()); // the writer stopped
                    }
                }
                ControlFlow::Continue(())
            };
            let result = match format {
                Format::Csv => csv_source::parse(input, &mut emit),
                Format::JsonLines => {
                    json_source::parse_lines(input, &mut emit).map(|()| Vec::new())
                }
                Format::JsonArray => {
                    json_source::parse_array(input, json_source::Envelope::Array, &mut emit)
                        .map(|()| Vec::new())
                }
                Format::PrivxExport => {
                    json_source::parse_array(input, json_source::Envelope::PrivxExport, &mut emit)
                        .map(|()| Vec::new())
                }
            };
            if !batch.is_empty() {
                let _ = sender.send(batch);
            }
            result
        });
        let written = consume(
            writer,
            &receiver,
            &mut report,
            job,
            &bytes,
            opts,
            progress,
            cancel,
        );
        drop(receiver); // unblocks the parser if the writer stopped early
        let parsed = parser.join().map_err(|_| IngestError::Malformed {
            file: name.clone(),
            line: 0,
            reason: "the parser failed unexpectedly".into(),
        })?;
        written?;
        parsed.map_err(|e| IngestError::Malformed {
            file: name.clone(),
            line: e.line,
            reason: e.reason,
        })
    });
    report.ignored_columns = outcome?;
    if cancel.is_cancelled() {
        return Err(IngestError::Cancelled);
    }
    if report.invalid > 0 && !opts.skip_invalid {
        return Err(IngestError::Invalid(Box::new(report)));
    }
    writer.flush()?;
    report.inserted = writer.inserted() - inserted_before;
    report.duplicates = writer.duplicates() - duplicates_before;
    writer.end_file(&report)?;
    progress(&ImportProgress {
        file: name,
        file_index: job.index,
        file_count: job.count,
        rows: job.rows_before + report.rows_read,
        bytes: job.bytes_before + bytes.load(Ordering::Relaxed),
        total_bytes: job.total_bytes,
        percent: percent(
            job.bytes_before + bytes.load(Ordering::Relaxed),
            job.total_bytes,
        ),
    });
    Ok((report, bytes.load(Ordering::Relaxed)))
}

fn percent(done: u64, total: u64) -> f64 {
    if total == 0 {
        100.0
    } else {
        (done as f64 * 100.0 / total as f64).min(100.0)
    }
}

/// Inserts the parser's batches; in all-or-nothing mode stops inserting at the first bad row but
/// keeps validating, so the report lists every problem of the file at once.
#[allow(clippy::too_many_arguments)]
fn consume(
    writer: &mut ConnectionWriter<'_>,
    receiver: &mpsc::Receiver<Vec<ParsedRow>>,
    report: &mut ImportReport,
    job: &FileJob,
    bytes: &AtomicU64,
    opts: &ImportOptions,
    progress: &(dyn Fn(&ImportProgress) + Sync),
    cancel: &CancelToken,
) -> Result<(), IngestError> {
    for batch in receiver {
        if cancel.is_cancelled() {
            return Err(IngestError::Cancelled);
        }
        for row in batch {
            report.rows_read += 1;
            match row.result {
                Ok(conn) if report.invalid == 0 || opts.skip_invalid => writer.insert(conn)?,
                Ok(_) => {}
                Err(e) => {
                    report.invalid += 1;
                    let error = RowError {
                        file: report.file.clone(),
                        line: row.line,
                        field: (!e.field.is_empty()).then(|| e.field.to_owned()),
                        reason: e.reason,
                    };
                    if opts.skip_invalid {
                        writer.push_error(&error)?;
                    }
                    if report.errors.len() < MAX_REPORTED_ERRORS {
                        report.errors.push(error);
                    } else {
                        report.errors_truncated = true;
                    }
                }
            }
        }
        let read = bytes.load(Ordering::Relaxed);
        progress(&ImportProgress {
            file: report.file.clone(),
            file_index: job.index,
            file_count: job.count,
            rows: job.rows_before + report.rows_read,
            bytes: job.bytes_before + read,
            total_bytes: job.total_bytes,
            percent: percent(job.bytes_before + read, job.total_bytes),
        });
    }
    Ok(())
}

/// Stores connections from any iterator (the demo generator) in one transaction, reporting
/// `(rows done, rows expected)` after every batch. Returns how many were new.
pub fn store_connections(
    store: &Store,
    connections: impl Iterator<Item = Connection>,
    expected: u64,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &CancelToken,
) -> Result<u64, IngestError> {
    let mark = crate::ueba::scoring::arrival_mark(store)?;
    let inserted = store.write(|conn| {
        let journal = BulkJournal::enter(conn, expected);
        let result = store_in_transaction(conn, connections, expected, progress, cancel);
        journal.leave(conn)?;
        result
    })?;
    score_arrivals(store, mark);
    Ok(inserted)
}

fn store_in_transaction(
    conn: &mut rusqlite::Connection,
    connections: impl Iterator<Item = Connection>,
    expected: u64,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &CancelToken,
) -> Result<u64, IngestError> {
    let tx = conn.transaction()?;
    let indexes = BulkIndexes::suspend_if_worthwhile(&tx, expected)?;
    let inserted;
    {
        let mut writer = ConnectionWriter::new(&tx)?;
        for (i, c) in connections.enumerate() {
            writer.insert(c)?;
            if (i + 1) % BATCH_ROWS == 0 {
                if cancel.is_cancelled() {
                    return Err(IngestError::Cancelled);
                }
                progress(i as u64 + 1, expected);
            }
        }
        inserted = writer.finish()?;
    }
    if cancel.is_cancelled() {
        return Err(IngestError::Cancelled);
    }
    indexes.restore(&tx)?;
    tx.commit()?;
    progress(expected, expected);
    Ok(inserted)
}

/// Reads and validates a connections file without storing it (scoring a file, evaluating
/// one): `on_row` gets every row in order. The first invalid row stops reading with an error
/// naming the file, line, field and reason.
pub fn read_file(
    path: &Path,
    format: Option<Format>,
    on_row: &mut dyn FnMut(Connection),
) -> Result<u64, IngestError> {
    let name = display(path);
    let io_err = |source| IngestError::Io {
        file: name.clone(),
        source,
    };
    let mut input = BufReader::with_capacity(256 * 1024, File::open(path).map_err(io_err)?);
    let format = match format {
        Some(f) => f,
        None => Format::detect(input.fill_buf().map_err(io_err)?),
    };
    let mut rows = 0u64;
    let mut invalid: Option<RowError> = None;
    let mut emit = |row: ParsedRow| match row.result {
        Ok(c) => {
            rows += 1;
            on_row(c);
            ControlFlow::Continue(())
        }
        Err(e) => {
            invalid = Some(RowError {
                file: name.clone(),
                line: row.line,
                field: Some(e.field.to_owned()),
                reason: e.reason,
            });
            ControlFlow::Break(())
        }
    };
    let parsed = match format {
        Format::Csv => csv_source::parse(input, &mut emit).map(|_| ()),
        Format::JsonLines => json_source::parse_lines(input, &mut emit),
        Format::JsonArray => {
            json_source::parse_array(input, json_source::Envelope::Array, &mut emit)
        }
        Format::PrivxExport => {
            json_source::parse_array(input, json_source::Envelope::PrivxExport, &mut emit)
        }
    };
    if let Some(e) = invalid {
        return Err(IngestError::Unreadable {
            file: e.file,
            line: e.line,
            reason: match e.field {
                Some(f) => format!("{f}: {}", e.reason),
                None => e.reason,
            },
        });
    }
    parsed.map_err(|e| IngestError::Unreadable {
        file: name.clone(),
        line: e.line,
        reason: e.reason,
    })?;
    Ok(rows)
}
