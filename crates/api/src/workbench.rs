//! The workbench's own endpoints (`/workbench/api/v1/...`): streamed connection ingest, connection
//! and anomaly lists with filters and paging, and the request journal.

use std::io::Read;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::io::{StreamReader, SyncIoBridge};
use ueba_core::connections::{self, ConnectionFilter, Direction, Page, PageRequest};
use ueba_core::ingest::{self, Format, ImportOptions, ImportReport, ImportSource, IngestError};
use ueba_core::journal::{self, JournalFilter, JournalPage};
use ueba_core::ueba::scoring::{self, Anomaly, AnomalyFilter};
use ueba_core::CancelToken;

use crate::auth::{AdminScope, Authorized, ViewScope};
use crate::error::{ApiError, ErrorCode, PrivxError};
use crate::extract::Query;
use crate::privx::blocking;
use crate::state::ApiState;

/// Largest ingest body (streamed, never held in memory whole).
pub const MAX_INGEST_BODY: usize = 4 << 30;

/// Query of the ingest route.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// Format of the body: `json` (array), `jsonl` (NDJSON), `csv` or `privx` (PrivX export).
    /// Default: from the Content-Type (`application/x-ndjson`, `text/csv`), else detected.
    pub format: Option<String>,
    /// Store the valid rows and report the invalid ones, instead of storing nothing when any
    /// row is invalid. Default false.
    pub skip_invalid: Option<bool>,
}

fn format_of(query: &IngestQuery, headers: &HeaderMap) -> Result<Option<Format>, ApiError> {
    if let Some(name) = &query.format {
        return name
            .parse::<Format>()
            .map(Some)
            .map_err(|e| ApiError::invalid(ErrorCode::ValueOutOfBounds, "format", e));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    Ok(
        if content_type.contains("ndjson") || content_type.contains("jsonl") {
            Some(Format::JsonLines)
        } else if content_type.starts_with("text/csv") {
            Some(Format::Csv)
        } else {
            None
        },
    )
}

fn too_large(e: &IngestError) -> bool {
    matches!(e, IngestError::Io { source, .. }
        if source.get_ref().is_some_and(|inner| inner.is::<http_body_util::LengthLimitError>()))
}

/// Ingest connections: a JSON array or NDJSON (also CSV or a PrivX export) in the body, read as
/// a stream, validated like a file import (all or nothing unless `skip_invalid`), stored in one
/// transaction and scored at once while analysis runs.
#[utoipa::path(post, path = "/workbench/api/v1/connections", tag = "workbench",
    params(IngestQuery),
    request_body(content = Vec<ueba_core::Connection>, description = "Connections: a JSON array, or one JSON object per line (application/x-ndjson)", content_type = "application/json"),
    responses(
        (status = 200, description = "Stored; the import report", body = ImportReport),
        (status = 400, description = "Invalid rows (each named by line and field in `details`) or a malformed body; nothing was stored", body = PrivxError),
        (status = 401, description = "Missing or invalid token", body = PrivxError),
        (status = 403, description = "Token without the admin scope", body = PrivxError),
        (status = 413, description = "Body larger than the limit; nothing was stored", body = PrivxError),
        (status = 500, description = "Database error; nothing was stored", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn ingest_connections(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Query(query): Query<IngestQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<ImportReport>, ApiError> {
    let format = format_of(&query, &headers)?;
    let expected_bytes = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if expected_bytes.is_some_and(|n| n > MAX_INGEST_BODY as u64) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::OutOfResources,
            format!("request body is larger than the {MAX_INGEST_BODY} bytes accepted; nothing was stored"),
        ));
    }
    let limited = http_body_util::Limited::new(body, MAX_INGEST_BODY);
    let stream = http_body_util::BodyDataStream::new(limited).map_err(std::io::Error::other);
    let reader: Box<dyn Read + Send> = Box::new(SyncIoBridge::new(StreamReader::new(stream)));
    let options = ImportOptions {
        format,
        skip_invalid: query.skip_invalid.unwrap_or(false),
    };
    let mut reports = blocking(&state.store, move |s| {
        let source = ImportSource::Stream {
            name: "request body".into(),
            reader,
            expected_bytes,
        };
        ingest::import_sources(s, vec![source], &options, &|_| {}, &CancelToken::new()).map_err(|e| {
            if too_large(&e) {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::OutOfResources,
                    format!("request body is larger than the {MAX_INGEST_BODY} bytes accepted; nothing was stored"),
                )
            } else {
                ApiError::from(e)
            }
        })
    })
    .await?;
    reports.pop().map(axum::Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::GeneralError,
            "the import produced no report",
        )
    })
}

/// Parses a time filter: RFC 3339 or epoch milliseconds.
fn parse_time(property: &str, value: &Option<String>) -> Result<Option<i64>, ApiError> {
    let Some(text) = value.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(Some(ms));
    }
    ingest::parse_datetime(text).map(Some).ok_or_else(|| {
        ApiError::invalid(
            ErrorCode::ValueIncorrectFormat,
            property,
            format!("{property}: `{text}` is neither an RFC 3339 date-time nor epoch milliseconds"),
        )
    })
}

/// Filters and paging of the connection list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionQuery {
    /// Connected at or after (RFC 3339 or epoch ms).
    pub from: Option<String>,
    /// Connected before (RFC 3339 or epoch ms).
    pub to: Option<String>,
    /// Exactly this user.
    pub user: Option<String>,
    /// Exactly this target host.
    pub host: Option<String>,
    /// Exactly this protocol (SSH, RDP, ...).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub conn_type: Option<String>,
    /// Text contained in the user, host, account, source address, id or label.
    pub search: Option<String>,
    /// Rows per page (1-1000, default 100).
    pub limit: Option<u32>,
    /// Cursor from a previous page (`next_cursor` or `prev_cursor`).
    pub cursor: Option<String>,
    /// `next` (older, default) or `prev` (newer).
    #[param(inline)]
    pub direction: Option<Direction>,
}

/// List stored connections, newest first, with filters and cursor paging.
#[utoipa::path(get, path = "/workbench/api/v1/connections", tag = "workbench",
    params(ConnectionQuery),
    responses(
        (status = 200, description = "One page of connections", body = Page),
        (status = 400, description = "Bad filter", body = PrivxError),
        (status = 401, description = "Missing or invalid token", body = PrivxError),
        (status = 403, description = "Token without the admin or connectionsView scope", body = PrivxError),
        (status = 500, description = "Database error", body = PrivxError),
    ),
    security(("oauth" = ["admin", "connectionsView"])))]
pub async fn list_connections(
    _auth: Authorized<ViewScope>,
    State(state): State<ApiState>,
    Query(query): Query<ConnectionQuery>,
) -> Result<axum::Json<Page>, ApiError> {
    let filter = ConnectionFilter {
        from: parse_time("from", &query.from)?,
        to: parse_time("to", &query.to)?,
        user: query.user,
        host: query.host,
        conn_type: query.conn_type,
        search: query.search,
    };
    if let Some(cursor) = query
        .cursor
        .as_deref()
        .filter(|c| !connections::is_valid_cursor(c))
    {
        return Err(ApiError::invalid(
            ErrorCode::ValueIncorrectFormat,
            "cursor",
            format!("cursor `{cursor}` is not one this listener handed out (use next_cursor or prev_cursor of a page)"),
        ));
    }
    let page = PageRequest {
        limit: query.limit.unwrap_or(100),
        cursor: query.cursor,
        direction: query.direction.unwrap_or_default(),
    };
    blocking(&state.store, move |s| {
        Ok(connections::list(s, &filter, &page)?)
    })
    .await
    .map(axum::Json)
}

/// Filters and paging of the anomaly list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomalyQuery {
    /// Connected at or after (RFC 3339 or epoch ms).
    pub from: Option<String>,
    /// Connected before (RFC 3339 or epoch ms).
    pub to: Option<String>,
    /// Only this user.
    pub user: Option<String>,
    /// Anomalies per page (1-1000, default 100).
    pub limit: Option<u32>,
    /// Anomalies to skip (newest first).
    pub offset: Option<u32>,
}

/// A page of anomalies, newest connection first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnomalyPage {
    /// Anomalies on this page.
    pub count: usize,
    /// Where this page starts.
    pub offset: u32,
    /// Whether more anomalies follow.
    pub has_more: bool,
    /// The anomalies, with their scores and explanations.
    pub items: Vec<Anomaly>,
}

/// List anomalies raised by analysis, with filters and paging.
#[utoipa::path(get, path = "/workbench/api/v1/anomalies", tag = "workbench",
    params(AnomalyQuery),
    responses(
        (status = 200, description = "One page of anomalies", body = AnomalyPage),
        (status = 400, description = "Bad filter", body = PrivxError),
        (status = 401, description = "Missing or invalid token", body = PrivxError),
        (status = 403, description = "Token without the admin or connectionsView scope", body = PrivxError),
        (status = 500, description = "Database error", body = PrivxError),
    ),
    security(("oauth" = ["admin", "connectionsView"])))]
pub async fn list_anomalies(
    _auth: Authorized<ViewScope>,
    State(state): State<ApiState>,
    Query(query): Query<AnomalyQuery>,
) -> Result<axum::Json<AnomalyPage>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let offset = query.offset.unwrap_or(0);
    let filter = AnomalyFilter {
        from: parse_time("from", &query.from)?,
        to: parse_time("to", &query.to)?,
        user: query.user,
        limit: Some(limit + 1),
        offset: Some(offset),
    };
    let mut items = blocking(&state.store, move |s| {
        Ok(scoring::list_anomalies(s, &filter)?)
    })
    .await?;
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    Ok(axum::Json(AnomalyPage {
        count: items.len(),
        offset,
        has_more,
        items,
    }))
}

/// The request journal, newest first: method, path, status, latency, caller and time of each
/// request this listener answered (lines reach it within a second).
#[utoipa::path(get, path = "/workbench/api/v1/journal", tag = "workbench",
    params(JournalFilter),
    responses(
        (status = 200, description = "One page of journal lines", body = JournalPage),
        (status = 400, description = "Bad filter", body = PrivxError),
        (status = 401, description = "Missing or invalid token", body = PrivxError),
        (status = 403, description = "Token without the admin scope", body = PrivxError),
        (status = 500, description = "Database error", body = PrivxError),
    ),
    security(("oauth" = ["admin"])))]
pub async fn get_journal(
    _auth: Authorized<AdminScope>,
    State(state): State<ApiState>,
    Query(filter): Query<JournalFilter>,
) -> Result<axum::Json<JournalPage>, ApiError> {
    blocking(&state.store, move |s| Ok(journal::query(s, &filter)?))
        .await
        .map(axum::Json)
}
