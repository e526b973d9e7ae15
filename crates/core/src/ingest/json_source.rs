//! JSON inputs: JSON Lines, a JSON array of objects, and the PrivX export
//! `{"count": .., "items": [..]}`. Arrays are streamed element by element, so memory stays flat
//! whatever the file size.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{BufRead, Read};
use std::ops::ControlFlow;
use std::rc::Rc;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::record::{build_connection, FieldError, RawValue};
use super::{FileError, ParsedRow};

/// Validates one JSON value as a connection record.
fn record_from_value(line: u64, value: Value) -> ParsedRow {
    let result = match value {
        Value::Object(map) => from_object(&map),
        other => Err(FieldError {
            field: "",
            reason: format!("expected a JSON object, got {}", kind(&other)),
        }),
    };
    ParsedRow { line, result }
}

fn from_object(map: &Map<String, Value>) -> Result<crate::Connection, FieldError> {
    build_connection(|field| match map.get(field) {
        None | Some(Value::Null) => RawValue::Absent,
        Some(Value::String(s)) if s.trim().is_empty() => RawValue::Absent,
        Some(Value::String(s)) => RawValue::Text(Cow::Owned(s.clone())),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => RawValue::Int(i),
            None => RawValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Some(Value::Array(items)) => {
            let strings: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            strings.map_or(
                RawValue::Other("an array with non-string items"),
                RawValue::List,
            )
        }
        Some(other) => RawValue::Other(kind(other)),
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// JSON Lines: one object per line; blank lines are skipped. A line that is not JSON is a bad row,
/// not the end of the file.
pub(crate) fn parse_lines(
    mut input: impl BufRead,
    emit: &mut dyn FnMut(ParsedRow) -> ControlFlow<()>,
) -> Result<(), FileError> {
    let mut buf = Vec::with_capacity(1024);
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).map_err(|e| FileError {
            line: line + 1,
            reason: format!("cannot read: {e}"),
        })?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let text = if line == 1 {
            buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf)
        } else {
            &buf[..]
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let row = match serde_json::from_slice::<Value>(text) {
            Ok(value) => record_from_value(line, value),
            Err(e) => ParsedRow {
                line,
                result: Err(FieldError {
                    field: "",
                    reason: format!("not valid JSON (column {}): {e}", e.column()),
                }),
            },
        };
        if emit(row).is_break() {
            return Ok(());
        }
    }
}

/// Counts newlines as serde_json pulls bytes, so each array element can be given its line.
struct LineCounter<R> {
    inner: R,
    line: Rc<Cell<u64>>,
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.line.set(self.line.get() + newlines);
        Ok(n)
    }
}

/// Where a streamed array comes from.
#[derive(Clone, Copy)]
pub(crate) enum Envelope {
    /// The top-level value is the array.
    Array,
    /// The array is the `items` member of the top-level object (PrivX export).
    PrivxExport,
}

/// Streams a JSON array (bare or PrivX export) element by element.
pub(crate) fn parse_array(
    input: impl BufRead,
    envelope: Envelope,
    emit: &mut dyn FnMut(ParsedRow) -> ControlFlow<()>,
) -> Result<(), FileError> {
    let line = Rc::new(Cell::new(1u64));
    let mut input = input;
    // Skip a UTF-8 byte order mark.
    if input
        .fill_buf()
        .map(|b| b.starts_with(b"\xef\xbb\xbf"))
        .unwrap_or(false)
    {
        input.consume(3);
    }
    let reader = LineCounter {
        inner: input,
        line: Rc::clone(&line),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let state = StreamState {
        line: Rc::clone(&line),
        emit: RefCell::new(emit),
        stopped: Cell::new(false),
    };
    let outcome = match envelope {
        Envelope::Array => de.deserialize_seq(ElementsVisitor(&state)),
        Envelope::PrivxExport => de.deserialize_map(ExportVisitor(&state)),
    };
    match outcome {
        Ok(()) => de.end().map_err(|e| json_error(&e)),
        Err(_) if state.stopped.get() => Ok(()),
        Err(e) => Err(json_error(&e)),
    }
}

fn json_error(e: &serde_json::Error) -> FileError {
    let reason = if e.is_eof() {
        "the JSON ends before the array is closed (file truncated?)".to_owned()
    } else {
        format!("not valid JSON at column {}: {e}", e.column())
    };
    FileError {
        line: e.line() as u64,
        reason,
    }
}

struct StreamState<'e> {
    line: Rc<Cell<u64>>,
    emit: RefCell<&'e mut dyn FnMut(ParsedRow) -> ControlFlow<()>>,
    stopped: Cell<bool>,
}

/// Visits the elements of an array, emitting one row each.
struct ElementsVisitor<'s, 'e>(&'s StreamState<'e>);

impl<'de> Visitor<'de> for ElementsVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of connection objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ElementSeed(self.0))?.is_some() {
            if self.0.stopped.get() {
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

struct ElementSeed<'s, 'e>(&'s StreamState<'e>);

impl<'de> DeserializeSeed<'de> for ElementSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // serde_json has skipped the whitespace before the element, so this is its first line.
        let line = self.0.line.get();
        let value = <Value as serde::Deserialize>::deserialize(d)?;
        let mut emit = self.0.emit.borrow_mut();
        if (*emit)(record_from_value(line, value)).is_break() {
            self.0.stopped.set(true);
        }
        Ok(())
    }
}

/// Visits the PrivX export object, streaming its `items`.
struct ExportVisitor<'s, 'e>(&'s StreamState<'e>);

impl<'de> Visitor<'de> for ExportVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a PrivX export object {\"count\": .., \"items\": [..]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut saw_items = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "items" {
                map.next_value_seed(ItemsSeed(self.0))?;
                saw_items = true;
                if self.0.stopped.get() {
                    return Err(serde::de::Error::custom("stopped"));
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if saw_items {
            Ok(())
        } else {
            Err(serde::de::Error::custom(
                "the export object has no `items` array",
            ))
        }
    }
}

struct ItemsSeed<'s, 'e>(&'s StreamState<'e>);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(ElementsVisitor(self.0))
    }
}
