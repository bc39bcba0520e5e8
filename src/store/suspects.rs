//! The `suspects` table: a version of a page that looks like a glitch, held (one per document)
//! until a second fetch agrees.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, Tx, execute_cached, format_time, query_row_cached, sql};

impl Store {
    /// The version held as suspect for a document: its content hash, the reason and since when.
    pub fn suspect(&self, document_id: i64) -> Result<Option<(String, String, String)>> {
        self.conn
            .query_row(
                "SELECT content_hash, reason, since FROM suspects WHERE document_id = ?1",
                [document_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(sql("reading a suspect version"))
    }
}

impl Tx<'_> {
    /// The content hash of the version held for a document, if one is.
    pub fn held_suspect(&self, document_id: i64) -> Result<Option<String>> {
        query_row_cached(
            &self.tx,
            "SELECT content_hash FROM suspects WHERE document_id = ?1",
            [document_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading a suspect version"))
    }

    /// Holds a version of a document, replacing the one held before.
    pub fn hold_suspect(
        &self,
        document_id: i64,
        content_hash: &str,
        reason: &str,
        since: DateTime<Utc>,
    ) -> Result<()> {
        execute_cached(
            &self.tx,
            "INSERT INTO suspects (document_id, content_hash, reason, since)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(document_id) DO UPDATE SET content_hash = ?2, reason = ?3, since = ?4",
            params![document_id, content_hash, reason, format_time(since)],
        )
        .map_err(sql("holding a suspect version"))?;
        Ok(())
    }

    /// Lets go of the version held for a document.
    pub fn clear_suspect(&self, document_id: i64) -> Result<()> {
        execute_cached(
            &self.tx,
            "DELETE FROM suspects WHERE document_id = ?1",
            [document_id],
        )
        .map_err(sql("clearing a suspect version"))?;
        Ok(())
    }
}
