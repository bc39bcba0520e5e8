//! The alert stage's side of the outbox: alerts (mails and webhook posts) queued in the transaction
//! that stored their cause, and the state machine the sender drives (`queued` → `sending` →
//! `sent`, or back to `queued` with a later `due_at`, or `dead`; `merged` when folded into a
//! rate-capped digest). The rows are read and written by the archive (`crate::store::outbox`);
//! this module turns them into typed alerts and back.
//!
//! Every function takes a `&Connection`, so the ingest pipeline can call [`enqueue`] with its open
//! transaction and the sender can use its own connection.

use chrono::{DateTime, Duration as ChronoDuration, NaiveDateTime, Utc};
use rand::Rng;
use rusqlite::Connection;
use serde::Serialize;

use super::AlertError;
use super::plan::{Alert, Channel, Delivery, Notice, PendingAlert};
use crate::store::outbox::{self as rows, NewOutboxRow, OutboxRecord};

/// The schema, as the archive's migrations create it (for tests that build an outbox alone).
pub const MIGRATION: &str = include_str!("../store/migrations/0002_outbox.sql");

/// The `channel` column, added by a later migration.
pub const CHANNEL_MIGRATION: &str = include_str!("../store/migrations/0009_outbox_channel.sql");

/// Where a row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    Queued,
    Sending,
    Sent,
    Dead,
    Merged,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
            OutboxState::Merged => "merged",
        }
    }

    fn parse(text: &str) -> Option<OutboxState> {
        [
            OutboxState::Queued,
            OutboxState::Sending,
            OutboxState::Sent,
            OutboxState::Dead,
            OutboxState::Merged,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One row of the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    /// The Message-ID of a mail, or the delivery id of a webhook post.
    pub message_id: String,
    pub channel: Channel,
    /// The e-mail address, or the webhook's name.
    pub recipient: String,
    pub state: OutboxState,
    pub digest_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub server_reply: Option<String>,
    pub merged_into: Option<i64>,
    pub alert: Alert,
}

const OVERFLOW_KEY: &str = "overflow";

/// Fixed-width UTC text, so that SQL string comparison orders timestamps.
fn timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3fZ")
        .ok()
        .map(|naive| naive.and_utc())
}

fn sql(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> AlertError {
    move |source| AlertError::Outbox { operation, source }
}

/// A fresh Message-ID: time plus 64 random bits, under the sender's domain.
pub fn new_message_id(now: DateTime<Utc>, domain: &str) -> String {
    let random: u64 = rand::thread_rng().r#gen();
    format!("<{}.{random:016x}@{domain}>", now.timestamp_millis())
}

/// A fresh delivery id for a webhook post: time plus 64 random bits, e.g. `1593748538000-4f2a…`.
pub fn new_delivery_id(now: DateTime<Utc>) -> String {
    let random: u64 = rand::thread_rng().r#gen();
    format!("{}-{random:016x}", now.timestamp_millis())
}

fn new_id(channel: Channel, now: DateTime<Utc>, domain: &str) -> String {
    match channel {
        Channel::Mail => new_message_id(now, domain),
        Channel::Webhook => new_delivery_id(now),
    }
}

/// Queues the planned alerts; call it inside the transaction that stores the revision they are
/// about. Digest alerts join the recipient's open digest for the same window.
pub fn enqueue(
    conn: &Connection,
    pending: &[PendingAlert],
    now: DateTime<Utc>,
    message_id_domain: &str,
) -> Result<Vec<i64>, AlertError> {
    let mut ids = Vec::with_capacity(pending.len());
    for alert in pending {
        let id = match alert.delivery {
            Delivery::Immediate => insert(
                conn,
                alert.channel,
                &Alert {
                    message_id: new_id(alert.channel, now, message_id_domain),
                    recipient: alert.recipient.clone(),
                    queued_at: now,
                    window: None,
                    briefings: vec![alert.content.clone()],
                    notice: None,
                },
                None,
                now,
            )?,
            Delivery::Digest { window } => {
                let seconds = window.as_secs().max(60) as i64;
                let start_secs = now.timestamp().div_euclid(seconds) * seconds;
                let start = DateTime::from_timestamp(start_secs, 0).unwrap_or(now);
                let end = start + ChronoDuration::seconds(seconds);
                let key = format!("{seconds}:{}", timestamp(start));
                let open = rows::open_digest(conn, &alert.recipient, &key, alert.channel.as_str())
                    .map_err(sql("find open digest"))?
                    .map(typed);
                match open {
                    Some(row) => {
                        let mut row = row?;
                        row.alert.briefings.push(alert.content.clone());
                        store_alert(conn, row.id, &row.alert)?;
                        row.id
                    }
                    None => insert(
                        conn,
                        alert.channel,
                        &Alert {
                            message_id: new_id(alert.channel, now, message_id_domain),
                            recipient: alert.recipient.clone(),
                            queued_at: now,
                            window: Some((start, end)),
                            briefings: vec![alert.content.clone()],
                            notice: None,
                        },
                        Some((&key, end)),
                        now,
                    )?,
                }
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

fn insert(
    conn: &Connection,
    channel: Channel,
    alert: &Alert,
    digest: Option<(&str, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<i64, AlertError> {
    let json = serde_json::to_string(alert).expect("alerts serialize");
    let due_at = digest.map_or(now, |(_, due)| due);
    rows::insert(
        conn,
        &NewOutboxRow {
            channel: channel.as_str(),
            message_id: &alert.message_id,
            recipient: &alert.recipient,
            digest_key: digest.map(|(key, _)| key),
            alert: &json,
            created_at: &timestamp(now),
            due_at: &timestamp(due_at),
        },
    )
    .map_err(sql("insert"))
}

/// Queues a mail to the operator about the service itself.
pub fn enqueue_notice(
    conn: &Connection,
    recipient: &str,
    notice: Notice,
    now: DateTime<Utc>,
    message_id_domain: &str,
) -> Result<i64, AlertError> {
    let alert = Alert {
        message_id: new_message_id(now, message_id_domain),
        recipient: recipient.to_string(),
        queued_at: now,
        window: None,
        briefings: Vec::new(),
        notice: Some(notice),
    };
    insert(conn, Channel::Mail, &alert, None, now)
}

/// When a notice about `key` was last queued for `recipient`, if ever.
pub fn last_notice_at(
    conn: &Connection,
    recipient: &str,
    key: &str,
) -> Result<Option<DateTime<Utc>>, AlertError> {
    let at = rows::last_notice_at(conn, recipient, key).map_err(sql("last notice"))?;
    Ok(at.and_then(|text| parse_timestamp(&text)))
}

fn store_alert(conn: &Connection, id: i64, alert: &Alert) -> Result<(), AlertError> {
    let json = serde_json::to_string(alert).expect("alerts serialize");
    rows::set_alert(conn, id, &json).map_err(sql("update alert"))
}

/// A stored row as a typed one; an alert that does not read back is an error naming the row.
fn typed(record: OutboxRecord) -> Result<OutboxRow, AlertError> {
    let time = |text: &Option<String>| text.as_deref().and_then(parse_timestamp);
    let alert = serde_json::from_str::<Alert>(&record.alert).map_err(|source| {
        AlertError::OutboxRecord {
            id: record.id,
            source,
        }
    })?;
    Ok(OutboxRow {
        id: record.id,
        message_id: record.message_id,
        channel: Channel::parse(&record.channel).unwrap_or_default(),
        recipient: record.recipient,
        state: OutboxState::parse(&record.state).unwrap_or(OutboxState::Dead),
        digest_key: record.digest_key,
        created_at: time(&record.created_at).unwrap_or_default(),
        due_at: time(&record.due_at).unwrap_or_default(),
        attempts: record.attempts,
        last_error: record.last_error,
        sent_at: time(&record.sent_at),
        server_reply: record.server_reply,
        merged_into: record.merged_into,
        alert,
    })
}

fn typed_rows(
    records: rusqlite::Result<Vec<OutboxRecord>>,
    operation: &'static str,
) -> Result<Vec<OutboxRow>, AlertError> {
    records
        .map_err(sql(operation))?
        .into_iter()
        .map(typed)
        .collect()
}

/// Queued rows whose time has come, oldest first; only mail rows unless `mail` is set, only
/// webhook rows if `webhooks` is set (a process without `[smtp]` leaves mail where it is).
pub fn due(
    conn: &Connection,
    now: DateTime<Utc>,
    limit: usize,
    mail: bool,
    webhooks: bool,
) -> Result<Vec<OutboxRow>, AlertError> {
    typed_rows(
        rows::due(conn, &timestamp(now), limit, mail, webhooks),
        "list due",
    )
}

/// When the queued rows of each target next fall due: (channel, recipient, time).
pub fn next_due_by_target(
    conn: &Connection,
) -> Result<Vec<(Channel, String, DateTime<Utc>)>, AlertError> {
    let targets = rows::next_due_by_target(conn).map_err(sql("next due"))?;
    Ok(targets
        .into_iter()
        .filter_map(|(channel, recipient, due)| {
            Some((Channel::parse(&channel)?, recipient, parse_timestamp(&due)?))
        })
        .collect())
}

/// Every row, newest first, optionally only those in one state.
pub fn list(
    conn: &Connection,
    state: Option<OutboxState>,
    limit: usize,
) -> Result<Vec<OutboxRow>, AlertError> {
    typed_rows(
        rows::list(conn, state.map(OutboxState::as_str), limit),
        "list",
    )
}

/// Number of rows in each state.
pub fn counts(conn: &Connection) -> Result<Vec<(OutboxState, u64)>, AlertError> {
    let counts = rows::counts(conn).map_err(sql("count"))?;
    Ok(counts
        .into_iter()
        .filter_map(|(state, count)| Some((OutboxState::parse(&state)?, count)))
        .collect())
}

/// Moves a queued row to `sending`; false if someone else already moved it.
pub fn claim(conn: &Connection, id: i64) -> Result<bool, AlertError> {
    rows::claim(conn, id).map_err(sql("claim"))
}

/// The server accepted the message.
pub fn mark_sent(
    conn: &Connection,
    id: i64,
    now: DateTime<Utc>,
    reply: &str,
) -> Result<(), AlertError> {
    rows::mark_sent(conn, id, &timestamp(now), reply).map_err(sql("mark sent"))
}

/// A transient failure: count the attempt and try again at `due_at`.
pub fn mark_retry(
    conn: &Connection,
    id: i64,
    due_at: DateTime<Utc>,
    error: &str,
) -> Result<(), AlertError> {
    rows::mark_retry(conn, id, &timestamp(due_at), error).map_err(sql("mark retry"))
}

/// A permanent failure or exhausted retries: keep the row and the server's reply for `alerts outbox`.
pub fn mark_dead(conn: &Connection, id: i64, error: &str) -> Result<(), AlertError> {
    rows::mark_dead(conn, id, error).map_err(sql("mark dead"))
}

/// Rows left in `sending` by a process that died mid-delivery go back to the queue. The server
/// may have accepted one of them already; resending it keeps its Message-ID.
pub fn requeue_interrupted(conn: &Connection) -> Result<usize, AlertError> {
    rows::requeue_interrupted(conn).map_err(sql("requeue interrupted"))
}

/// Mails accepted for a recipient since `since`, and the oldest of their send times.
pub fn sent_since(
    conn: &Connection,
    recipient: &str,
    since: DateTime<Utc>,
) -> Result<(u32, Option<DateTime<Utc>>), AlertError> {
    let (count, oldest) =
        rows::sent_since(conn, recipient, &timestamp(since)).map_err(sql("count sent"))?;
    Ok((count, oldest.as_deref().and_then(parse_timestamp)))
}

/// Folds a queued row over the recipient's hourly cap into the recipient's overflow digest, due
/// when the cap allows another message. Returns the id of the digest row.
pub fn defer_to_overflow(
    conn: &Connection,
    row: &OutboxRow,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
    message_id_domain: &str,
) -> Result<i64, AlertError> {
    let failed = |step, source| AlertError::Outbox {
        operation: match step {
            "begin" => "begin overflow",
            _ => "commit overflow",
        },
        source,
    };
    rows::in_transaction(conn, failed, |tx| {
        if row.digest_key.as_deref() == Some(OVERFLOW_KEY) {
            rows::postpone(tx, row.id, &timestamp(due_at)).map_err(sql("postpone overflow"))?;
            return Ok(row.id);
        }
        let open = rows::open_digest(tx, &row.recipient, OVERFLOW_KEY, Channel::Mail.as_str())
            .map_err(sql("find overflow"))?
            .map(typed);
        let target = match open {
            Some(existing) => {
                let mut existing = existing?;
                existing
                    .alert
                    .briefings
                    .extend(row.alert.briefings.iter().cloned());
                if let Some((start, end)) = existing.alert.window.as_mut() {
                    *start = (*start).min(row.alert.window.map_or(row.created_at, |w| w.0));
                    *end = (*end).max(due_at);
                }
                store_alert(tx, existing.id, &existing.alert)?;
                existing.id
            }
            None => insert(
                tx,
                Channel::Mail,
                &Alert {
                    message_id: new_message_id(now, message_id_domain),
                    recipient: row.recipient.clone(),
                    queued_at: now,
                    window: Some((row.alert.window.map_or(row.created_at, |w| w.0), due_at)),
                    briefings: row.alert.briefings.clone(),
                    notice: row.alert.notice.clone(),
                },
                Some((OVERFLOW_KEY, due_at)),
                now,
            )?,
        };
        rows::mark_merged(tx, row.id, target).map_err(sql("mark merged"))?;
        Ok(target)
    })
}

/// A row as `alerts outbox` shows it: the state and history without the quoted text.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxSummary {
    pub id: i64,
    pub state: OutboxState,
    /// `mail` or `webhook`.
    pub channel: Channel,
    /// The e-mail address, or the webhook's name.
    pub recipient: String,
    /// The Message-ID of a mail, or the `X-Briefwatch-Delivery` id of a webhook post.
    pub message_id: String,
    pub subject: String,
    pub briefings: usize,
    pub exchanges: usize,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub server_reply: Option<String>,
    pub last_error: Option<String>,
    pub merged_into: Option<i64>,
}

impl OutboxRow {
    pub fn summary(&self) -> OutboxSummary {
        OutboxSummary {
            id: self.id,
            state: self.state,
            channel: self.channel,
            recipient: self.recipient.clone(),
            message_id: self.message_id.clone(),
            subject: super::compose::subject(&self.alert),
            briefings: self.alert.briefings.len(),
            exchanges: self.alert.briefings.iter().map(|b| b.items.len()).sum(),
            created_at: self.created_at,
            due_at: self.due_at,
            attempts: self.attempts,
            sent_at: self.sent_at,
            server_reply: self.server_reply.clone(),
            last_error: self.last_error.clone(),
            merged_into: self.merged_into,
        }
    }
}
