//! Writing connections as CSV or JSON Lines, in the same shape the importer reads.

use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::{json, Value};

use crate::model::{format_timestamp, join_list, Connection, CONNECTION_COLUMNS};

/// Output formats for connection files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl FileFormat {
    /// Chooses the format from a file name (`.jsonl`/`.ndjson` → JSON Lines, anything else CSV).
    pub fn from_path(path: &std::path::Path) -> FileFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("jsonl" | "ndjson" | "json") => FileFormat::JsonLines,
            _ => FileFormat::Csv,
        }
    }
}

/// Writes connections to a sink in one format.
pub enum ConnectionSink<W: Write> {
    /// CSV rows after a header.
    Csv(Box<csv::Writer<W>>),
    /// One JSON object per line.
    JsonLines(W),
}

impl<W: Write> ConnectionSink<W> {
    /// Starts the output (writes the CSV header).
    pub fn new(out: W, format: FileFormat) -> csv::Result<Self> {
        Ok(match format {
            FileFormat::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(out);
                w.write_record(CONNECTION_COLUMNS)?;
                ConnectionSink::Csv(Box::new(w))
            }
            FileFormat::JsonLines => ConnectionSink::JsonLines(out),
        })
    }

    /// Writes one connection.
    pub fn write(&mut self, c: &Connection) -> csv::Result<()> {
        match self {
            ConnectionSink::Csv(w) => {
                let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
                w.write_record([
                    c.id.as_str(),
                    &format_timestamp(c.connected),
                    &c.disconnected.map(format_timestamp).unwrap_or_default(),
                    &c.duration.map(|d| d.to_string()).unwrap_or_default(),
                    &c.user,
                    &join_list(&c.user_roles).unwrap_or_default(),
                    &c.conn_type,
                    &c.target_host,
                    c.target_host_address.as_deref().unwrap_or(""),
                    c.target_host_account.as_deref().unwrap_or(""),
                    &c.remote_address,
                    &num(c.bytes_in),
                    &num(c.bytes_out),
                    c.status.as_deref().unwrap_or(""),
                    c.authentication_method.as_deref().unwrap_or(""),
                    c.termination_reason.as_deref().unwrap_or(""),
                    c.mode.as_deref().unwrap_or(""),
                    c.user_agent.as_deref().unwrap_or(""),
                    &join_list(&c.tags).unwrap_or_default(),
                    c.label.as_deref().unwrap_or(""),
                ])
            }
            ConnectionSink::JsonLines(w) => {
                serde_json::to_writer(&mut *w, &to_json(c)).map_err(std::io::Error::from)?;
                w.write_all(b"\n")?;
                Ok(())
            }
        }
    }

    /// Flushes the output.
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            ConnectionSink::Csv(mut w) => w.flush(),
            ConnectionSink::JsonLines(mut w) => w.flush(),
        }
    }
}

/// A connection as a JSON object with RFC 3339 timestamps (the import format).
pub fn to_json(c: &Connection) -> Value {
    json!({
        "id": c.id,
        "connected": format_timestamp(c.connected),
        "disconnected": c.disconnected.map(format_timestamp),
        "duration": c.duration,
        "user": c.user,
        "user_roles": c.user_roles,
        "type": c.conn_type,
        "target_host": c.target_host,
        "target_host_address": c.target_host_address,
        "target_host_account": c.target_host_account,
        "remote_address": c.remote_address,
        "bytes_in": c.bytes_in,
        "bytes_out": c.bytes_out,
        "status": c.status,
        "authentication_method": c.authentication_method,
        "termination_reason": c.termination_reason,
        "mode": c.mode,
        "user_agent": c.user_agent,
        "tags": c.tags,
        "label": c.label,
    })
}

/// Writes a file that appears only when complete: `write` fills a temporary file beside `path`,
/// which is renamed into place once flushed. On any error the temporary file is removed and an
/// existing `path` is left as it was. `io_error` turns I/O failures into the caller's error.
pub fn write_atomically<T, E>(
    path: &Path,
    io_error: impl Fn(std::io::Error) -> E,
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, E> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(&io_error)?;
    let value = {
        let mut out = BufWriter::with_capacity(1 << 20, tmp.as_file());
        let value = write(&mut out)?;
        out.flush().map_err(&io_error)?;
        value
    };
    tmp.persist(path).map_err(|e| io_error(e.error))?;
    Ok(value)
}
