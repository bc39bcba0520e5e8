//! The schema's migrations, in one ordered list: the numbered `.sql` files of `migrations/`
//! (and the search index's, kept with the search engine), with the hooks that fill what a
//! migration adds from what was stored before.

use std::path::Path;

use rusqlite::{Connection, Transaction};
use rusqlite_migration::{M, Migrations};

use super::legacy_records::{record_in, records_to_rows};
use super::raw_pages::DictionaryCache;
use super::revisions::insert_texts;
use super::search;
use super::{Result, StoreError, execute_cached, query_all, sql};

pub(super) fn migrations() -> Migrations<'static> {
    Migrations::new(migration_list())
}

/// The schema's migrations, oldest first; the archive's `user_version` counts those applied.
fn migration_list() -> Vec<M<'static>> {
    vec![
        M::up(include_str!("migrations/0001_initial.sql")),
        // The alert stage's outbox: alerts queued in the ingest transaction that caused them.
        M::up(include_str!("migrations/0002_outbox.sql")),
        // Full-text search over every exchange (replaced by the index of external content below).
        M::up(search::CONTENTLESS_MIGRATION),
        // Records compressed against their raw page; rows written before keep their dictionary.
        // (This migration's hook built the search index; the index of every text below, whose
        // hook rebuilds it in today's shape, took over that job.)
        M::up("ALTER TABLE revisions ADD COLUMN record_against_raw INTEGER NOT NULL DEFAULT 0;"),
        // Pairing finds the other language's transcript of a day by its date.
        M::up("CREATE INDEX documents_briefing_date ON documents(briefing_date, lang);"),
        M::up(search::MERGE_MIGRATION),
        // Search and alerts see every text of a briefing: titles, openings, statements. (This
        // migration's hook indexed them; the index of external content below is built from the
        // text rows.)
        M::up(search::PASSAGES_MIGRATION),
        // A version of a page that looks like a glitch (see `crate::suspect`), held until a
        // second fetch agrees; one per document, kept across restarts.
        M::up(
            "CREATE TABLE suspects (
                document_id INTEGER PRIMARY KEY REFERENCES documents(id),
                content_hash TEXT NOT NULL,
                reason TEXT NOT NULL,
                since TEXT NOT NULL
            );",
        ),
        // Alerts can be posted to webhooks as well as mailed.
        M::up_with_hook("", outbox_channel_hook),
        // How each extracted page was found (`selector` with the body selector, or `fallback`):
        // what the layout-drift alarm reads.
        M::up(
            "ALTER TABLE fetch_log ADD COLUMN found_by TEXT;
             ALTER TABLE fetch_log ADD COLUMN selector TEXT;",
        ),
        // Every text of every revision as plain rows, and the views for reading it with SQL; the
        // hook writes the text of the revisions stored before from their records.
        M::up_with_hook(PLAIN_TEXT_MIGRATION, plain_text_hook),
        // What the operator's page, the feeds and the event readers look up on a twenty-year
        // archive.
        M::up(include_str!("migrations/0012_read_indexes.sql")),
        // Full-text search over the text rows themselves (FTS5 with external content), each Han
        // character a token of the store's tokenizer; the hook builds it from those rows.
        M::up_with_hook(search::EXTERNAL_CONTENT_MIGRATION, search::fill_hook),
        // The text rows become the only copy of each revision's briefing: they take what only
        // the record held, and the hook drops the records once every revision reads back equal.
        M::up_with_hook(
            include_str!("migrations/0014_records_as_rows.sql"),
            records_to_rows_hook,
        ),
    ]
}

/// Refuses an archive whose schema is newer than this binary's migrations: a newer version wrote
/// it, and running older code on it could lose what the newer schema holds.
pub(super) fn check_schema_version(conn: &Connection, path: &Path) -> Result<()> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|source| {
            StoreError::Sql {
                context: "reading the schema version",
                source,
            }
            .at(path)
        })?;
    let known = migration_list().len() as i64;
    if found > known {
        return Err(StoreError::NewerSchema {
            path: path.display().to_string(),
            found,
            known,
        });
    }
    Ok(())
}

const PLAIN_TEXT_MIGRATION: &str = include_str!("migrations/0011_plain_text.sql");

/// Migration hook: writes the plain-text rows of every revision already stored, from its record.
fn plain_text_hook(tx: &Transaction<'_>) -> rusqlite_migration::HookResult {
    fill_plain_text(tx).map_err(|error| rusqlite_migration::HookError::Hook(error.to_string()))
}

/// Rewrites the exchange rows and the revision text of every stored revision from its record.
fn fill_plain_text(tx: &Connection) -> Result<()> {
    let ids: Vec<i64> = query_all(
        tx,
        "SELECT id FROM revisions ORDER BY id",
        [],
        |row| row.get(0),
        "reading revisions to write as text",
    )?;
    let dictionaries = DictionaryCache::default();
    for revision_id in ids {
        let briefing = record_in(tx, &dictionaries, revision_id)?;
        execute_cached(
            tx,
            "DELETE FROM exchanges WHERE revision_id = ?1",
            [revision_id],
        )
        .map_err(sql("rewriting exchanges"))?;
        insert_texts(tx, revision_id, &briefing)?;
    }
    Ok(())
}

/// Migration hook: see [`records_to_rows`].
fn records_to_rows_hook(tx: &Transaction<'_>) -> rusqlite_migration::HookResult {
    records_to_rows(tx).map_err(|error| rusqlite_migration::HookError::Hook(error.to_string()))
}

/// Migration hook: adds the outbox's `channel` column, unless the outbox has it already (an
/// archive whose schema version was set back to re-run an earlier migration).
fn outbox_channel_hook(tx: &Transaction<'_>) -> rusqlite_migration::HookResult {
    let present: bool = tx.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('outbox') WHERE name = 'channel'",
        [],
        |row| row.get(0),
    )?;
    if !present {
        tx.execute_batch(include_str!("migrations/0009_outbox_channel.sql"))?;
    }
    Ok(())
}
