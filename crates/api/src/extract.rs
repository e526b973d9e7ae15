//! Request extractors that refuse bad input with the PrivX error codes: malformed JSON →
//! BAD_REQUEST, a missing field → REQUIRED_VALUE_MISSING, a wrong type → VALUE_INCORRECT_TYPE,
//! a bad timestamp → VALUE_INCORRECT_FORMAT, an unknown enum value → VALUE_OUT_OF_BOUNDS; each
//! names the property (`time_range_settings.exclude[0].start`).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// Largest JSON body accepted by the PrivX and workbench JSON routes (the ingest route streams
/// and has its own limit).
pub const MAX_JSON_BODY: usize = 1 << 20;

/// A JSON request body; an empty body reads as `{}` ("all connections, if json empty in body").
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| body_rejection(rejection.status(), rejection.body_text()))?;
        parse_json(&bytes).map(Json)
    }
}

/// Maps a body-reading failure (too large, broken stream).
pub fn body_rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            ErrorCode::OutOfResources,
            format!("request body is larger than the {MAX_JSON_BODY} bytes accepted"),
        )
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, text)
    }
}

/// Parses a JSON document into `T` with PrivX error codes.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    // serde reads a struct from an array too (fields by position); every body here is an
    // object, so anything else is the wrong type (or malformed).
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ValueIncorrectType,
                "the request body must be a JSON object",
            ),
            Err(e) => classify(&e, "."),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        classify(&e.into_inner(), &path)
    })?;
    de.end().map_err(|e| classify(&e, "."))?;
    Ok(value)
}

/// Turns a serde error into the PrivX code and property.
fn classify(e: &serde_json::Error, path: &str) -> ApiError {
    use serde_json::error::Category;
    let message = e.to_string();
    let property = if path == "." {
        None
    } else {
        Some(path.to_owned())
    };
    let (code, property) = match e.classify() {
        Category::Io | Category::Syntax | Category::Eof => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                format!("malformed JSON: {message}"),
            )
        }
        Category::Data => {
            if let Some(field) = between(&message, "missing field `", "`") {
                let full = match &property {
                    Some(parent) => format!("{parent}.{field}"),
                    None => field.to_owned(),
                };
                (ErrorCode::RequiredValueMissing, Some(full))
            } else if message.contains("unknown variant") || message.contains("out of range") {
                (ErrorCode::ValueOutOfBounds, property)
            } else if message.contains("RFC 3339") || message.contains("invalid value") {
                (ErrorCode::ValueIncorrectFormat, property)
            } else {
                (ErrorCode::ValueIncorrectType, property)
            }
        }
    };
    let clean = strip_position(&message);
    let text = match &property {
        Some(p) => format!("{p}: {clean}"),
        None => clean,
    };
    let mut error = ApiError::new(StatusCode::BAD_REQUEST, code, text);
    error.body.property = property;
    error
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// serde_json appends " at line 1 column 42"; the property already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters; a bad value is VALUE_INCORRECT_TYPE naming the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                let property = if path == "." {
                    between(&inner, "missing field `", "`").map(str::to_owned)
                } else {
                    Some(path)
                };
                let code = if inner.contains("missing field") {
                    ErrorCode::RequiredValueMissing
                } else if inner.contains("unknown variant") {
                    ErrorCode::ValueOutOfBounds
                } else {
                    ErrorCode::ValueIncorrectType
                };
                let text = match &property {
                    Some(p) => format!("query parameter {p}: {inner}"),
                    None => format!("query string: {inner}"),
                };
                let mut error = ApiError::new(StatusCode::BAD_REQUEST, code, text);
                error.body.property = property;
                error
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ueba_core::ueba::{AnomalySettings, DatasetInput};

    fn code_of<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (ErrorCode, Option<String>) {
        let e = parse_json::<T>(body.as_bytes()).expect_err("must be refused");
        (e.body.error_code, e.body.property)
    }

    #[test]
    fn errors_name_the_code_and_property() {
        assert_eq!(code_of::<DatasetInput>("{"), (ErrorCode::BadRequest, None));
        assert_eq!(
            code_of::<DatasetInput>("{}"),
            (
                ErrorCode::RequiredValueMissing,
                Some("time_range_settings".into())
            )
        );
        assert_eq!(
            code_of::<DatasetInput>(r#"{"time_range_settings": 5}"#),
            (
                ErrorCode::ValueIncorrectType,
                Some("time_range_settings".into())
            )
        );
        assert_eq!(
            code_of::<DatasetInput>(r#"{"time_range_settings": {"start": "yesterday"}}"#),
            (
                ErrorCode::ValueIncorrectFormat,
                Some("time_range_settings.start".into())
            )
        );
        assert_eq!(
            code_of::<DatasetInput>(
                r#"{"time_range_settings": {"exclude": [{"start": "2026-01-01T00:00:00Z", "end": true}]}}"#
            ),
            (
                ErrorCode::ValueIncorrectType,
                Some("time_range_settings.exclude[0].end".into())
            )
        );
        assert_eq!(
            code_of::<AnomalySettings>(r#"{"action": "DROP", "threshold": 0.5}"#),
            (ErrorCode::ValueOutOfBounds, Some("action".into()))
        );
        assert_eq!(
            code_of::<AnomalySettings>(r#"{"action": "BLOCK"}"#),
            (ErrorCode::RequiredValueMissing, Some("threshold".into()))
        );
        assert_eq!(
            code_of::<AnomalySettings>(r#"{"action": "BLOCK", "threshold": "high"}"#),
            (ErrorCode::ValueIncorrectType, Some("threshold".into()))
        );
        assert_eq!(
            code_of::<AnomalySettings>(r#"{"action": "BLOCK", "threshold": 1} x"#).0,
            ErrorCode::BadRequest
        );
    }

    #[test]
    fn an_empty_body_reads_as_an_empty_object() {
        let settings: ueba_core::ueba::TimeRangeSettings = parse_json(b"").expect("empty = {}");
        assert_eq!(settings, Default::default());
    }
}
