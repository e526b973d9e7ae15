//! Turning one raw record (a CSV row or a JSON object) into a validated [`Connection`].
//!
//! Both formats go through the same rules, so a field means the same thing in every format and
//! every error names the field and the reason in the same words.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::model::{split_list, Connection};

/// A field value as read from the file, before validation.
#[derive(Debug, Clone)]
pub(crate) enum RawValue<'a> {
    /// The field is not there, is empty, or is JSON `null`.
    Absent,
    /// Text (all CSV fields, JSON strings).
    Text(Cow<'a, str>),
    /// A JSON integer.
    Int(i64),
    /// A JSON number with a fraction or exponent.
    Float(f64),
    /// A JSON array of strings.
    List(Vec<String>),
    /// Any other JSON value; the name of its type, for the error message.
    Other(&'static str),
}

/// The reason one field was rejected.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    /// The field (column / key) name.
    pub field: &'static str,
    /// What is wrong, in words.
    pub reason: String,
}

fn err(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

/// Namespace of the ids derived for rows that carry none (UUID v5 of the row's content), so that
/// re-importing the same id-less file does not duplicate its rows.
const DERIVED_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6d1f_4c1e_9a0b_4c7e_8f3e_5b2a_1c9d_0e47);

/// Validates a record. `get` returns the raw value of a field by its canonical name.
pub(crate) fn build_connection<'a>(
    get: impl Fn(&'static str) -> RawValue<'a>,
) -> Result<Connection, FieldError> {
    let connected = timestamp("connected", get("connected"))?
        .ok_or_else(|| err("connected", "required field is missing"))?;
    let disconnected = timestamp("disconnected", get("disconnected"))?;
    if let Some(d) = disconnected {
        if d < connected {
            return Err(err("disconnected", "is earlier than `connected`"));
        }
    }
    let mut duration = number("duration", get("duration"))?;
    if let Some(d) = duration {
        if d < 0.0 {
            return Err(err("duration", format!("must not be negative, got {d}")));
        }
    } else if let Some(d) = disconnected {
        duration = Some((d - connected) as f64 / 1000.0);
    }
    let user = required_text("user", get("user"))?;
    let conn_type = protocol(get("type"))?;
    let target_host = required_text("target_host", get("target_host"))?;
    let target_host_address = optional_ip("target_host_address", get("target_host_address"))?;
    let remote_address = optional_ip("remote_address", get("remote_address"))?
        .ok_or_else(|| err("remote_address", "required field is missing"))?;
    let bytes_in = counter("bytes_in", get("bytes_in"))?;
    let bytes_out = counter("bytes_out", get("bytes_out"))?;
    let mut conn = Connection {
        id: String::new(),
        connected,
        disconnected,
        duration,
        user,
        user_roles: list("user_roles", get("user_roles"))?,
        conn_type,
        target_host,
        target_host_address,
        target_host_account: optional_text("target_host_account", get("target_host_account"))?,
        remote_address,
        bytes_in,
        bytes_out,
        status: optional_text("status", get("status"))?.map(|s| s.to_ascii_uppercase()),
        authentication_method: optional_text(
            "authentication_method",
            get("authentication_method"),
        )?,
        termination_reason: optional_text("termination_reason", get("termination_reason"))?,
        mode: optional_text("mode", get("mode"))?,
        user_agent: optional_text("user_agent", get("user_agent"))?,
        tags: list("tags", get("tags"))?,
        label: optional_text("label", get("label"))?,
    };
    conn.id = match get("id") {
        RawValue::Absent => derived_id(&conn),
        RawValue::Text(t) => t.trim().to_owned(),
        RawValue::Int(i) => i.to_string(),
        other => return Err(type_error("id", "a string", &other)),
    };
    if conn.id.is_empty() {
        conn.id = derived_id(&conn);
    }
    Ok(conn)
}

/// A stable id from the fields that identify a connection.
fn derived_id(c: &Connection) -> String {
    let key = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        c.connected,
        c.user,
        c.conn_type,
        c.target_host,
        c.remote_address,
        c.target_host_account.as_deref().unwrap_or(""),
        c.disconnected.map(|d| d.to_string()).unwrap_or_default(),
    );
    uuid::Uuid::new_v5(&DERIVED_ID_NAMESPACE, key.as_bytes()).to_string()
}

fn type_name(v: &RawValue<'_>) -> &'static str {
    match v {
        RawValue::Absent => "nothing",
        RawValue::Text(_) => "a string",
        RawValue::Int(_) | RawValue::Float(_) => "a number",
        RawValue::List(_) => "an array",
        RawValue::Other(name) => name,
    }
}

fn type_error(field: &'static str, expected: &str, got: &RawValue<'_>) -> FieldError {
    err(
        field,
        format!("expected {expected}, got {}", type_name(got)),
    )
}

fn required_text(field: &'static str, v: RawValue<'_>) -> Result<String, FieldError> {
    optional_text(field, v)?.ok_or_else(|| err(field, "required field is missing"))
}

fn optional_text(field: &'static str, v: RawValue<'_>) -> Result<Option<String>, FieldError> {
    match v {
        RawValue::Absent => Ok(None),
        RawValue::Text(t) => {
            let t = t.trim();
            Ok((!t.is_empty()).then(|| t.to_owned()))
        }
        RawValue::Int(i) => Ok(Some(i.to_string())),
        other => Err(type_error(field, "a string", &other)),
    }
}

fn protocol(v: RawValue<'_>) -> Result<String, FieldError> {
    let t = required_text("type", v)?;
    if t.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(t.to_ascii_uppercase())
    } else {
        Err(err(
            "type",
            format!("`{t}` is not a protocol name (such as SSH, RDP, VNC, WEB, DB)"),
        ))
    }
}

fn optional_ip(field: &'static str, v: RawValue<'_>) -> Result<Option<String>, FieldError> {
    match optional_text(field, v)? {
        None => Ok(None),
        Some(t) => match t.parse::<IpAddr>() {
            Ok(ip) => Ok(Some(ip.to_string())),
            Err(_) => Err(err(field, format!("`{t}` is not an IPv4 or IPv6 address"))),
        },
    }
}

fn list(field: &'static str, v: RawValue<'_>) -> Result<Vec<String>, FieldError> {
    match v {
        RawValue::Absent => Ok(Vec::new()),
        RawValue::Text(t) => Ok(split_list(&t)),
        RawValue::List(items) => Ok(items.into_iter().filter(|s| !s.trim().is_empty()).collect()),
        other => Err(type_error(
            field,
            "an array of strings or a `;`-separated string",
            &other,
        )),
    }
}

fn number(field: &'static str, v: RawValue<'_>) -> Result<Option<f64>, FieldError> {
    match v {
        RawValue::Absent => Ok(None),
        RawValue::Int(i) => Ok(Some(i as f64)),
        RawValue::Float(f) if f.is_finite() => Ok(Some(f)),
        RawValue::Text(t) => match t.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(err(field, format!("`{t}` is not a number"))),
        },
        other => Err(type_error(field, "a number", &other)),
    }
}

fn counter(field: &'static str, v: RawValue<'_>) -> Result<Option<i64>, FieldError> {
    let value = match v {
        RawValue::Absent => return Ok(None),
        RawValue::Int(i) => i,
        RawValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
        RawValue::Text(t) => t
            .trim()
            .parse::<i64>()
            .map_err(|_| err(field, format!("`{t}` is not a whole number of bytes")))?,
        other => return Err(type_error(field, "a whole number", &other)),
    };
    if value < 0 {
        return Err(err(field, format!("must not be negative, got {value}")));
    }
    Ok(Some(value))
}

/// Earliest and latest accepted timestamps (years 1970–9999), so that a number in the wrong unit
/// (seconds instead of milliseconds) is not silently accepted as 1970.
const MIN_TIMESTAMP_MS: i64 = 100_000_000_000; // 1973-03-03
const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999; // 9999-12-31

fn timestamp(field: &'static str, v: RawValue<'_>) -> Result<Option<i64>, FieldError> {
    let ms = match v {
        RawValue::Absent => return Ok(None),
        RawValue::Int(i) => i,
        RawValue::Float(f) if f.is_finite() => f as i64,
        RawValue::Text(t) => {
            let t = t.trim();
            if t.bytes().all(|b| b.is_ascii_digit()) {
                t.parse::<i64>()
                    .map_err(|_| err(field, format!("`{t}` is out of range")))?
            } else {
                parse_datetime(t).ok_or_else(|| {
                    err(
                        field,
                        format!("`{t}` is not an RFC 3339 timestamp or epoch milliseconds"),
                    )
                })?
            }
        }
        other => {
            return Err(type_error(
                field,
                "an RFC 3339 timestamp or epoch milliseconds",
                &other,
            ))
        }
    };
    if !(MIN_TIMESTAMP_MS..=MAX_TIMESTAMP_MS).contains(&ms) {
        return Err(err(
            field,
            format!("{ms} is outside 1973–9999 as epoch milliseconds (seconds given instead of milliseconds?)"),
        ));
    }
    Ok(Some(ms))
}

/// Parses a timestamp into epoch milliseconds: RFC 3339 (`2026-03-01T08:15:00Z`, `…+02:00`),
/// also with a space for `T` or without a zone (taken as UTC), or a bare date (midnight UTC).
pub fn parse_datetime(t: &str) -> Option<i64> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Some(naive.and_utc().timestamp_millis());
        }
    }
    let date = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn build(fields: &[(&'static str, &'static str)]) -> Result<Connection, FieldError> {
        let map: HashMap<&str, &str> = fields.iter().copied().collect();
        build_connection(|f| match map.get(f) {
            Some(v) if !v.is_empty() => RawValue::Text(Cow::Borrowed(v)),
            _ => RawValue::Absent,
        })
    }

    const GOOD: [(&str, &str); 5] = [
        ("connected", "2026-03-01T08:15:00Z"),
        ("user", "alice"),
        ("type", "ssh"),
        ("target_host", "web-01"),
        ("remote_address", "10.0.0.7"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = GOOD
            .iter()
            .copied()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .collect();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn minimal_record_is_completed() {
        let c = build(&GOOD).unwrap();
        assert_eq!(c.connected, 1_772_352_900_000);
        assert_eq!(c.conn_type, "SSH");
        assert!(uuid::Uuid::parse_str(&c.id).is_ok());
        assert_eq!(build(&GOOD).unwrap().id, c.id, "derived ids are stable");
    }

    #[test]
    fn duration_is_derived_from_timestamps() {
        let c = build(&with(&[("disconnected", "2026-03-01T08:16:30.500Z")])).unwrap();
        assert_eq!(c.duration, Some(90.5));
    }

    #[test]
    fn epoch_milliseconds_and_zone_offsets_are_accepted() {
        let c = build(&with(&[("connected", "1772352900000")])).unwrap();
        assert_eq!(c.connected, 1_772_352_900_000);
        let c = build(&with(&[("connected", "2026-03-01T10:15:00+02:00")])).unwrap();
        assert_eq!(c.connected, 1_772_352_900_000);
    }

    #[test]
    fn each_error_names_field_and_reason() {
        type Case = (
            &'static [(&'static str, &'static str)],
            &'static str,
            &'static str,
        );
        let cases: [Case; 10] = [
            (
                &[("connected", "")],
                "connected",
                "required field is missing",
            ),
            (
                &[("connected", "2026-13-01")],
                "connected",
                "not an RFC 3339",
            ),
            (
                &[("connected", "1772352900")],
                "connected",
                "seconds given instead of milliseconds",
            ),
            (
                &[("disconnected", "2026-03-01T08:00:00Z")],
                "disconnected",
                "earlier than",
            ),
            (&[("user", " ")], "user", "required field is missing"),
            (
                &[("remote_address", "10.0.0.300")],
                "remote_address",
                "not an IPv4 or IPv6",
            ),
            (&[("bytes_out", "-5")], "bytes_out", "must not be negative"),
            (&[("bytes_in", "12kb")], "bytes_in", "not a whole number"),
            (&[("duration", "abc")], "duration", "not a number"),
            (&[("type", "S SH")], "type", "not a protocol name"),
        ];
        for (fields, field, reason) in cases {
            let e = build(&with(fields)).unwrap_err();
            assert_eq!(e.field, field, "{fields:?}");
            assert!(e.reason.contains(reason), "{fields:?}: {}", e.reason);
        }
    }
}
