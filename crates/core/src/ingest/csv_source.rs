//! CSV with a header row; header names are the canonical field names (any order, any subset that
//! includes the required ones). Extra columns are ignored and reported.

use std::borrow::Cow;
use std::io::Read;
use std::ops::ControlFlow;

use super::record::{build_connection, RawValue};
use super::{FileError, ParsedRow};
use crate::model::CONNECTION_COLUMNS;

/// Fields that must have a column.
const REQUIRED_COLUMNS: [&str; 5] = ["connected", "user", "type", "target_host", "remote_address"];

/// Reads every row of `input`, handing each to `emit` until it says stop. Returns the names of
/// header columns that were ignored.
pub(crate) fn parse(
    input: impl Read,
    emit: &mut dyn FnMut(ParsedRow) -> ControlFlow<()>,
) -> Result<Vec<String>, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = reader.byte_headers().map_err(|e| csv_error(&e, 1))?.clone();
    // Column index of each canonical field (by position in CONNECTION_COLUMNS).
    let mut columns: [Option<usize>; CONNECTION_COLUMNS.len()] = [None; CONNECTION_COLUMNS.len()];
    let mut ignored = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw);
        let name = name
            .trim_start_matches('\u{feff}')
            .trim()
            .to_ascii_lowercase();
        match CONNECTION_COLUMNS.iter().position(|c| *c == name) {
            Some(field) if columns[field].is_some() => {
                return Err(FileError {
                    line: 1,
                    reason: format!("column `{name}` appears twice in the header"),
                });
            }
            Some(field) => columns[field] = Some(i),
            None => ignored.push(name),
        }
    }
    for required in REQUIRED_COLUMNS {
        let index = CONNECTION_COLUMNS.iter().position(|c| *c == required);
        if index.and_then(|i| columns[i]).is_none() {
            return Err(FileError {
                line: 1,
                reason: format!(
                    "the header has no `{required}` column (required columns: {})",
                    REQUIRED_COLUMNS.join(", ")
                ),
            });
        }
    }
    let width = header.len();
    let mut record = csv::ByteRecord::new();
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            csv_error(&e, line)
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
            continue; // a blank line
        }
        let result = if record.len() != width {
            Err(super::record::FieldError {
                field: "",
                reason: format!(
                    "expected {width} fields as in the header, found {}",
                    record.len()
                ),
            })
        } else {
            build_connection(|field| {
                let Some(index) = CONNECTION_COLUMNS.iter().position(|c| *c == field) else {
                    return RawValue::Absent;
                };
                match columns[index].and_then(|i| record.get(i)) {
                    None | Some(b"") => RawValue::Absent,
                    Some(bytes) => match std::str::from_utf8(bytes) {
                        Ok(text) => RawValue::Text(Cow::Borrowed(text)),
                        Err(_) => RawValue::Other("text that is not valid UTF-8"),
                    },
                }
            })
        };
        if emit(ParsedRow { line, result }).is_break() {
            break;
        }
    }
    Ok(ignored)
}

fn csv_error(e: &csv::Error, line: u64) -> FileError {
    FileError {
        line,
        reason: format!("unreadable CSV: {e}"),
    }
}
