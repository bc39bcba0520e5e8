//! The `outbox` table: alerts (mails and webhook posts) queued in the transaction that stored their
//! cause, and the states the sender moves them through (`queued` → `sending` → `sent`, or back to
//! `queued` with a later `due_at`, or `dead`; `merged` when folded into a digest).
//!
//! Rows carry their alert as JSON text, ready-made by the alert stage, and their times as that
//! stage's fixed-width text. Every function takes the connection it runs on: the ingest
//! transaction's ([`super::Tx::connection`]) when alerts are queued, the sender's own otherwise.
//! Errors are SQLite's, for the alert stage to name the operation.

use rusqlite::{Connection, OptionalExtension, Result, Row, params};

use super::{Result as StoreResult, Store, query_all, sql};

/// One row of the outbox, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub id: i64,
    pub message_id: String,
    pub recipient: String,
    pub state: String,
    pub digest_key: Option<String>,
    pub created_at: Option<String>,
    pub due_at: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub server_reply: Option<String>,
    pub merged_into: Option<i64>,
    /// The alert, as JSON.
    pub alert: String,
    /// `mail` or `webhook`.
    pub channel: String,
}

/// A row to queue.
#[derive(Debug, Clone)]
pub struct NewOutboxRow<'a> {
    pub channel: &'a str,
    pub message_id: &'a str,
    pub recipient: &'a str,
    pub digest_key: Option<&'a str>,
    /// The alert, as JSON.
    pub alert: &'a str,
    pub created_at: &'a str,
    pub due_at: &'a str,
}

/// How many rows are in one state, and when the first queued one falls due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStateCount {
    pub state: String,
    pub count: i64,
    /// The earliest `due_at` of the queued rows, as stored.
    pub next_due: Option<String>,
}

/// The last failure of a row not yet sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxFailure {
    pub recipient: String,
    pub attempts: i64,
    pub error: String,
}

impl Store {
    /// Whether this database has an outbox at all.
    pub fn has_outbox(&self) -> StoreResult<bool> {
        self.connection()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox')",
                [],
                |row| row.get(0),
            )
            .map_err(sql("looking for the outbox"))
    }

    /// The rows of each state, by state.
    pub fn outbox_state_counts(&self) -> StoreResult<Vec<OutboxStateCount>> {
        query_all(
            self.connection(),
            "SELECT state, COUNT(*), MIN(CASE WHEN state = 'queued' THEN due_at END)
             FROM outbox GROUP BY state ORDER BY state",
            [],
            |row| {
                Ok(OutboxStateCount {
                    state: row.get(0)?,
                    count: row.get(1)?,
                    next_due: row.get(2)?,
                })
            },
            "reading the outbox",
        )
    }

    /// The last errors of the latest `limit` rows still queued, sending or dead, newest first.
    pub fn outbox_failures(&self, limit: u32) -> StoreResult<Vec<OutboxFailure>> {
        query_all(
            self.connection(),
            "SELECT recipient, attempts, last_error FROM outbox
             WHERE last_error IS NOT NULL AND state IN ('queued', 'sending', 'dead')
             ORDER BY id DESC LIMIT ?1",
            [limit],
            |row| {
                Ok(OutboxFailure {
                    recipient: row.get(0)?,
                    attempts: row.get(1)?,
                    error: row.get(2)?,
                })
            },
            "reading outbox errors",
        )
    }

    /// Rows queued or being sent.
    pub fn outbox_pending(&self) -> StoreResult<u64> {
        self.connection()
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')",
                [],
                |row| row.get(0),
            )
            .map_err(sql("reading the service status"))
    }
}

const COLUMNS: &str = "id, message_id, recipient, state, digest_key, created_at, due_at, attempts, \
                       last_error, sent_at, server_reply, merged_into, alert, channel";

fn read(row: &Row<'_>) -> Result<OutboxRecord> {
    Ok(OutboxRecord {
        id: row.get(0)?,
        message_id: row.get(1)?,
        recipient: row.get(2)?,
        state: row.get(3)?,
        digest_key: row.get(4)?,
        created_at: row.get(5)?,
        due_at: row.get(6)?,
        attempts: row.get(7)?,
        last_error: row.get(8)?,
        sent_at: row.get(9)?,
        server_reply: row.get(10)?,
        merged_into: row.get(11)?,
        alert: row.get(12)?,
        channel: row.get(13)?,
    })
}

fn rows(
    conn: &Connection,
    query: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<OutboxRecord>> {
    conn.prepare(query)?.query_map(params, read)?.collect()
}

/// Queues a row; returns its id.
pub fn insert(conn: &Connection, row: &NewOutboxRow<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO outbox (message_id, recipient, state, digest_key, alert, created_at, due_at, channel)
         VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7)",
        params![
            row.message_id,
            row.recipient,
            row.digest_key,
            row.alert,
            row.created_at,
            row.due_at,
            row.channel
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The queued digest of a recipient for a window (`digest_key`), on a channel, if one is open.
pub fn open_digest(
    conn: &Connection,
    recipient: &str,
    digest_key: &str,
    channel: &str,
) -> Result<Option<OutboxRecord>> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND recipient = ?1 AND digest_key = ?2 AND channel = ?3"
        ),
        params![recipient, digest_key, channel],
        read,
    )
    .optional()
}

/// Replaces a row's alert.
pub fn set_alert(conn: &Connection, id: i64, alert: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET alert = ?1 WHERE id = ?2",
        params![alert, id],
    )?;
    Ok(())
}

/// When a notice about `key` was last queued for `recipient`, if ever.
pub fn last_notice_at(conn: &Connection, recipient: &str, key: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT MAX(created_at) FROM outbox
          WHERE channel = 'mail' AND recipient = ?1 AND json_extract(alert, '$.notice.key') = ?2",
        params![recipient, key],
        |row| row.get(0),
    )
}

/// Queued rows due at `now`, oldest first; only mail rows if `mail`, webhook rows if `webhooks`.
pub fn due(
    conn: &Connection,
    now: &str,
    limit: usize,
    mail: bool,
    webhooks: bool,
) -> Result<Vec<OutboxRecord>> {
    rows(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND due_at <= ?1
               AND ((?3 AND channel = 'mail') OR (?4 AND channel = 'webhook'))
             ORDER BY due_at, id LIMIT ?2"
        ),
        params![now, limit as i64, mail, webhooks],
    )
}

/// When the queued rows of each target next fall due: (channel, recipient, time).
pub fn next_due_by_target(conn: &Connection) -> Result<Vec<(String, String, String)>> {
    conn.prepare(
        "SELECT channel, recipient, MIN(due_at) FROM outbox WHERE state = 'queued'
          GROUP BY channel, recipient",
    )?
    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
    .collect()
}

/// Every row, newest first, optionally only those in one state.
pub fn list(conn: &Connection, state: Option<&str>, limit: usize) -> Result<Vec<OutboxRecord>> {
    rows(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2"
        ),
        params![state, limit as i64],
    )
}

/// Number of rows in each state.
pub fn counts(conn: &Connection) -> Result<Vec<(String, u64)>> {
    conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// Moves a queued row to `sending`; false if someone else already moved it.
pub fn claim(conn: &Connection, id: i64) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE outbox SET state = 'sending' WHERE id = ?1 AND state = 'queued'",
        params![id],
    )?;
    Ok(changed == 1)
}

/// The receiver accepted the row.
pub fn mark_sent(conn: &Connection, id: i64, at: &str, reply: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?2, server_reply = ?3, attempts = attempts + 1, last_error = NULL
         WHERE id = ?1",
        params![id, at, reply],
    )?;
    Ok(())
}

/// A transient failure: the attempt counts, and the row is tried again at `due_at`.
pub fn mark_retry(conn: &Connection, id: i64, due_at: &str, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'queued', attempts = attempts + 1, due_at = ?2, last_error = ?3 WHERE id = ?1",
        params![id, due_at, error],
    )?;
    Ok(())
}

/// A permanent failure or exhausted retries: the row stays, with the error.
pub fn mark_dead(conn: &Connection, id: i64, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
        params![id, error],
    )?;
    Ok(())
}

/// Rows left in `sending` go back to the queue; returns how many.
pub fn requeue_interrupted(conn: &Connection) -> Result<usize> {
    conn.execute(
        "UPDATE outbox SET state = 'queued' WHERE state = 'sending'",
        [],
    )
}

/// Mails accepted for a recipient since `since`, and the oldest of their send times.
pub fn sent_since(
    conn: &Connection,
    recipient: &str,
    since: &str,
) -> Result<(u32, Option<String>)> {
    conn.query_row(
        "SELECT COUNT(*), MIN(sent_at) FROM outbox
          WHERE channel = 'mail' AND recipient = ?1 AND state = 'sent' AND sent_at > ?2",
        params![recipient, since],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}

/// A queued row falls due later.
pub fn postpone(conn: &Connection, id: i64, due_at: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET due_at = ?2 WHERE id = ?1 AND state = 'queued'",
        params![id, due_at],
    )?;
    Ok(())
}

/// A row folded into another (a digest).
pub fn mark_merged(conn: &Connection, id: i64, into: i64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'merged', merged_into = ?2 WHERE id = ?1",
        params![id, into],
    )?;
    Ok(())
}

/// Opens a connection of its own to the archive at `path` for the alert sender, waiting up to ten
/// seconds for another connection's write lock like the archive's own connections do.
pub fn open(path: &std::path::Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// Runs `work` in one transaction on `conn`: all of its writes or none. `failed` names a failure
/// to begin or to commit (`"begin"`, `"commit"`) in the caller's terms.
pub fn in_transaction<T, E>(
    conn: &Connection,
    failed: impl Fn(&'static str, rusqlite::Error) -> E,
    work: impl FnOnce(&Connection) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let tx = conn
        .unchecked_transaction()
        .map_err(|error| failed("begin", error))?;
    let value = work(&tx)?;
    tx.commit().map_err(|error| failed("commit", error))?;
    Ok(value)
}
