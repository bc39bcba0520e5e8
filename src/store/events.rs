//! The `events` table: what happened to the archive's documents (new, revised, gone, …), each
//! with its payload as JSON.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::{Result, Store, Tx, execute_cached, format_time, query_all, query_row_cached, sql};
use crate::model::EventKind;

/// An event written during one ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub id: i64,
    pub kind: EventKind,
}

/// A row of `events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub document_id: Option<i64>,
    pub revision_id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub created_at: String,
    /// The payload as stored; [`crate::diff::EventPayload::decode`] reads it.
    pub payload: serde_json::Value,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventQuery<'a> {
    /// Only events with an id greater than this.
    pub after_id: Option<i64>,
    /// Only events created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events of these kinds (all when empty).
    pub types: &'a [EventKind],
    pub limit: u32,
}

/// An extractor failure as the operator's page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractorFailure {
    /// When the event was recorded, as stored.
    pub at: String,
    pub url: String,
    pub error: String,
}

impl Store {
    /// The latest `limit` extractor failures, newest first.
    pub fn extractor_failures(&self, limit: u32) -> Result<Vec<ExtractorFailure>> {
        query_all(
            self.connection(),
            "SELECT created_at, COALESCE(json_extract(payload, '$.url'), ''),
                    COALESCE(json_extract(payload, '$.error'), '')
             FROM events WHERE type = 'extractor_failed' ORDER BY id DESC LIMIT ?1",
            [limit],
            |row| {
                Ok(ExtractorFailure {
                    at: row.get(0)?,
                    url: row.get(1)?,
                    error: row.get(2)?,
                })
            },
            "reading extractor failures",
        )
    }

    /// The events of one document, oldest first.
    pub fn document_events(&self, document_id: i64) -> Result<Vec<Event>> {
        query_all(
            &self.conn,
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE document_id = ?1 ORDER BY id"),
            [document_id],
            event_from_row,
            "reading events",
        )
    }

    /// Events, newest first.
    pub fn events(&self, query: &EventQuery<'_>) -> Result<Vec<Event>> {
        let types = serde_json::to_string(query.types).unwrap_or_else(|_| "[]".into());
        query_all(
            &self.conn,
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events
                 WHERE (?1 IS NULL OR id > ?1) AND (?2 IS NULL OR created_at >= ?2)
                   AND (json_array_length(?3) = 0 OR type IN (SELECT value FROM json_each(?3)))
                 ORDER BY id DESC LIMIT ?4"
            ),
            params![
                query.after_id,
                query.since.map(format_time),
                types,
                query.limit
            ],
            event_from_row,
            "reading events",
        )
    }
}

/// The columns [`event_from_row`] reads, in its order.
pub const EVENT_COLUMNS: &str = "id, document_id, revision_id, type, created_at, payload";

/// An [`Event`] from the [`EVENT_COLUMNS`] at the start of a row.
pub fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let payload: String = row.get(5)?;
    let kind: String = row.get(3)?;
    let kind = EventKind::parse(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("{kind:?} is not an event type").into(),
        )
    })?;
    Ok(Event {
        id: row.get(0)?,
        document_id: row.get(1)?,
        revision_id: row.get(2)?,
        kind,
        created_at: row.get(4)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
    })
}

/// Writes an event on a connection inside a transaction.
pub(super) fn insert_event(
    tx: &Connection,
    document_id: Option<i64>,
    revision_id: Option<i64>,
    kind: EventKind,
    at: DateTime<Utc>,
    payload: &serde_json::Value,
) -> Result<EventRef> {
    execute_cached(
        tx,
        "INSERT INTO events (document_id, revision_id, type, created_at, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            document_id,
            revision_id,
            kind.as_str(),
            format_time(at),
            payload.to_string()
        ],
    )
    .map_err(sql("writing an event"))?;
    Ok(EventRef {
        id: tx.last_insert_rowid(),
        kind,
    })
}

impl Tx<'_> {
    /// Writes an event with its payload, ready-made.
    pub fn insert_event(
        &self,
        document_id: Option<i64>,
        revision_id: Option<i64>,
        kind: EventKind,
        at: DateTime<Utc>,
        payload: &serde_json::Value,
    ) -> Result<EventRef> {
        insert_event(&self.tx, document_id, revision_id, kind, at, payload)
    }

    /// Whether a document already has an `unpaired` event for the exchange whose question the
    /// payload's `exchange.question` holds.
    pub fn has_unpaired_event(
        &self,
        document_id: i64,
        payload: &serde_json::Value,
    ) -> Result<bool> {
        query_row_cached(
            &self.tx,
            "SELECT EXISTS (SELECT 1 FROM events WHERE document_id = ?1 AND type = 'unpaired'
               AND json_extract(payload, '$.exchange.question') = json_extract(?2, '$.exchange.question'))",
            params![document_id, payload.to_string()],
            |row| row.get(0),
        )
        .map_err(sql("reading events"))
    }
}
