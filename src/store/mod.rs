//! The SQLite archive: the SQL of every table, and nothing else.
//!
//! Every unit of work (one fetched page) is one `BEGIN IMMEDIATE` transaction, a [`Tx`], so a
//! crash leaves either all of it or none of it; the ingest pipeline (`crate::ingest`) reads what
//! its decisions need and writes what they decided through it. The raw page is kept as evidence in
//! `raw_blobs` (zstd with a per-source dictionary, which removes the page chrome every page of a
//! source repeats). The extracted briefing is stored once, as plain rows that any SQLite client
//! reads: the `exchanges` table holds each exchange of a revision (asker, position, content
//! hashes) with its question and answer, `revision_texts` each revision's title, date,
//! spokesperson, opening and how it was extracted, and the views of
//! `migrations/0011_plain_text.sql` put them together; a revision's `Briefing` is read back from
//! them.
//!
//! One file per entity: documents, revisions (with their texts), raw pages, events, the fetch
//! log, hosts, listing pages, suspect versions, and the ordered migrations.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::model::{Kind, Lang};

mod backup;
mod documents;
mod events;
mod fetch_log;
mod hosts;
mod legacy_records;
mod listings;
mod migrations;
pub mod outbox;
mod raw_pages;
mod reads;
mod revisions;
pub mod search;
mod suspects;
pub mod tokenizer;

pub use backup::{integrity_check_file, quick_check_file_tables};
pub use documents::{Document, DocumentKey, DocumentState, DueDocument, NewDocument};
pub use events::{EVENT_COLUMNS, Event, EventQuery, EventRef, ExtractorFailure, event_from_row};
pub use fetch_log::{
    FailureStreak, FetchRecord, LoggedFetch, PageKind, SourceHealthFacts, SourceSummary,
};
pub use hosts::HostState;
pub use listings::{ListingPageStatus, ListingPageUpdate, ListingState};
pub use raw_pages::DictionaryCache;
pub use reads::{ArchiveStamp, BriefingQuery, BriefingSummary, DocumentTitle, EventDocumentRef};
pub use revisions::{NewRevision, Revision, RevisionHead, RevisionMeta};
pub use tokenizer::register as register_search_tokenizer;

use documents::{DOCUMENT_COLUMNS, document_from_row};
use raw_pages::{CreatedDictionaries, Dictionary};

const PAGE_SIZE: i64 = 1024;

/// Why the archive could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot migrate database schema: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("database error while {context}: {source}")]
    Sql {
        context: &'static str,
        source: rusqlite::Error,
    },
    #[error("cannot (de)compress {what}: {source}")]
    Compression {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("stored record of revision {revision_id} is not valid JSON: {source}")]
    Record {
        revision_id: i64,
        source: serde_json::Error,
    },
    #[error("revision {revision_id} has a {what} the archive cannot hold or read back: {value:?}")]
    BadText {
        revision_id: i64,
        what: &'static str,
        value: String,
    },
    #[error(
        "revision {revision_id} ({revision}): the briefing read from the text rows differs from \
         its stored record in {fields}; the records were kept and the archive left as it was"
    )]
    RowsDifferFromRecord {
        revision_id: i64,
        revision: String,
        fields: String,
    },
    #[error("unknown {what}: {key}")]
    NotFound { what: &'static str, key: String },
    #[error(
        "the archive {path} cannot be written: its directory or file system is read-only ({detail}). \
         briefwatch writes the database and its journal there: check the mount and the permissions \
         (under systemd, StateDirectory=). The archive itself is not damaged"
    )]
    ReadOnly { path: String, detail: String },
    #[error(
        "the disk holding the archive {path} is full ({detail}); nothing was written by the \
         failed step. Free some space and start again"
    )]
    DiskFull { path: String, detail: String },
    #[error(
        "the archive {path} cannot be opened ({detail}): its directory is missing or not accessible. \
         Check archive.state_dir (or --state) and the permissions"
    )]
    CannotOpen { path: String, detail: String },
    #[error(
        "the archive {path} is corrupt ({detail}); refusing to use it. Restore a backup \
         (`briefwatch backup` makes them) or move the file aside to start a new archive"
    )]
    Corrupt { path: String, detail: String },
    #[error(
        "the archive {path} has schema version {found}, newer than the {known} this briefwatch \
         knows: it was written by a newer version. Run that version, or restore a backup made \
         before the upgrade; the archive is not damaged, do not move it aside"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: i64,
    },
}

impl StoreError {
    /// The SQLite error underneath, if there is one.
    fn sqlite(&self) -> Option<&rusqlite::Error> {
        match self {
            StoreError::Open { source, .. } | StoreError::Sql { source, .. } => Some(source),
            StoreError::Migrate(rusqlite_migration::Error::RusqliteError { err, .. }) => Some(err),
            _ => None,
        }
    }

    /// This error told as what it means for the archive at `path`: read-only, full disk,
    /// missing directory or corrupt file, each with its own advice; other errors unchanged.
    pub fn at(self, path: &Path) -> StoreError {
        use rusqlite::ErrorCode;
        let Some(rusqlite::Error::SqliteFailure(failure, _)) = self.sqlite() else {
            return self;
        };
        let path = path.display().to_string();
        let detail = self.sqlite().map(ToString::to_string).unwrap_or_default();
        match failure.code {
            ErrorCode::ReadOnly => StoreError::ReadOnly { path, detail },
            ErrorCode::DiskFull => StoreError::DiskFull { path, detail },
            ErrorCode::CannotOpen | ErrorCode::PermissionDenied => {
                StoreError::CannotOpen { path, detail }
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Corrupt { path, detail }
            }
            _ => self,
        }
    }
}

type Result<T> = std::result::Result<T, StoreError>;

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { context, source }
}

/// Timestamps are stored as fixed-width UTC text so that string order is time order. Times past
/// the year 9999 (which would gain a digit and sort before today) are written as its last second.
pub fn format_time(time: DateTime<Utc>) -> String {
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|date| date.and_hms_opt(23, 59, 59))
        .map(|time| time.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let first = DateTime::<Utc>::UNIX_EPOCH;
    time.clamp(first, last)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The first 64 bits of the SHA-256 of the paragraphs: enough to tell exchanges apart and to find
/// one again across revisions, at a quarter of the size of the full hash.
fn hash64(paragraphs: &[String]) -> i64 {
    let digest = Sha256::digest(paragraphs.join("\n").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes"))
}

/// The archive.
pub struct Store {
    conn: Connection,
    /// Compression dictionaries by name, for writing.
    dictionaries: HashMap<String, Dictionary>,
    /// Decompression dictionaries by id, for reading.
    dictionaries_by_id: DictionaryCache,
}

impl Store {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path).map_err(|source| {
            StoreError::Open {
                path: path.display().to_string(),
                source,
            }
            .at(path)
        })?;
        migrations::check_schema_version(&conn, path)?;
        Store::setup(conn, true).map_err(|error| error.at(path))
    }

    /// A fresh database in memory, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: ":memory:".into(),
            source,
        })?;
        Store::setup(conn, false)
    }

    fn setup(mut conn: Connection, on_disk: bool) -> Result<Store> {
        // Most rows are compressed pages of 2 to 6 KB stored as overflow chains; small
        // pages waste less of the last page of each chain (about 10% of the file with 4 KB pages).
        // Only takes effect when the file is created.
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(sql("setting the page size"))?;
        if on_disk {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
                .map_err(sql("enabling WAL"))?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql("setting synchronous"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql("enabling foreign keys"))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sql("setting busy timeout"))?;
        // Every page ingested runs a few dozen distinct statements; keep them all compiled.
        conn.set_prepared_statement_cache_capacity(128);
        tokenizer::register(&conn).map_err(sql("registering the search tokenizer"))?;
        migrations::migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn,
            dictionaries: HashMap::new(),
            dictionaries_by_id: Default::default(),
        })
    }

    /// SQLite's `PRAGMA data_version`: it moves whenever another connection (another process,
    /// such as `poll --once` or `import`) commits to the archive, and not for this one's writes.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map_err(sql("reading the archive's data version"))
    }

    /// The connection, for read queries of later stages not yet wrapped here.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Rebuilds the full-text search index from the archive's text rows, in one transaction
    /// (a search running meanwhile sees the old index): the repair for a damaged index. Returns
    /// the number of revisions indexed.
    pub fn rebuild_search_index(&mut self) -> Result<u64> {
        let tx = self.begin()?;
        let count = search::rebuild(&tx)?;
        tx.commit().map_err(sql("committing the search index"))?;
        Ok(count)
    }

    /// `PRAGMA integrity_check`: `ok` or the problems found.
    pub fn integrity_check(&self) -> Result<String> {
        let rows: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
            .map_err(sql("checking integrity"))?;
        Ok(rows.join("\n"))
    }

    fn begin(&mut self) -> Result<Transaction<'_>> {
        begin_immediate(&mut self.conn)
    }

    /// Opens one unit of work: a `BEGIN IMMEDIATE` transaction that takes the write lock at once.
    /// Nothing it writes is seen by others until [`Tx::commit`]; dropped, it rolls back.
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        let Store {
            conn,
            dictionaries,
            dictionaries_by_id,
        } = self;
        Ok(Tx {
            tx: begin_immediate(conn)?,
            dictionaries,
            new_dictionaries: HashMap::new(),
            created: CreatedDictionaries {
                cache: dictionaries_by_id,
                ids: Vec::new(),
                committed: false,
            },
        })
    }
}

/// One unit of work on the archive, with typed reads and writes (one `impl Tx` per entity, next to
/// that entity's other SQL).
pub struct Tx<'s> {
    tx: Transaction<'s>,
    /// Compression dictionaries by name, known to the store.
    dictionaries: &'s mut HashMap<String, Dictionary>,
    /// Compression dictionaries created in this transaction: known to the store once it commits.
    new_dictionaries: HashMap<String, Dictionary>,
    /// Their ids, which the read cache forgets if the transaction rolls back.
    created: CreatedDictionaries<'s>,
}

impl Tx<'_> {
    /// Makes everything written in this transaction durable and visible.
    pub fn commit(self) -> Result<()> {
        let Tx {
            tx,
            dictionaries,
            new_dictionaries,
            mut created,
            ..
        } = self;
        tx.commit().map_err(sql("committing"))?;
        created.committed = true;
        dictionaries.extend(new_dictionaries);
        Ok(())
    }

    /// The transaction's connection, for the stages whose tables are not wrapped here yet (the
    /// alert outbox): their rows belong to the same unit of work.
    pub fn connection(&self) -> &Connection {
        &self.tx
    }
}

/// A `documents.lang` column; the archive only writes `en` and `zh` there.
pub fn lang_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Lang> {
    let lang: String = row.get(index)?;
    Ok(Lang::parse(&lang).unwrap_or(Lang::En))
}

/// A `documents.kind` column: `None` when the page was not classified.
pub fn kind_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<Kind>> {
    let kind: Option<String> = row.get(index)?;
    Ok(kind.as_deref().and_then(Kind::parse))
}

/// A `documents.briefing_date` column (`YYYY-MM-DD`): `None` when the page carried no date.
pub fn date_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let date: Option<String> = row.get(index)?;
    Ok(date.and_then(|d| d.parse().ok()))
}

/// A `BEGIN IMMEDIATE` transaction: one unit of work, which takes the write lock at once.
fn begin_immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a transaction"))
}

/// Every row of a query, each read by `read`; `context` names the work in an error.
fn query_all<T, C: FromIterator<T>, P: rusqlite::Params>(
    conn: &Connection,
    statement: &str,
    params: P,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    context: &'static str,
) -> Result<C> {
    conn.prepare(statement)
        .and_then(|mut stmt| stmt.query_map(params, read)?.collect())
        .map_err(sql(context))
}

/// `execute` through the statement cache: the ingest path runs the same few dozen statements
/// for every page, and compiling them each time cost more than running them.
fn execute_cached<P: rusqlite::Params>(
    conn: &Connection,
    statement: &str,
    params: P,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(statement)?.execute(params)
}

/// `query_row` through the statement cache (see [`execute_cached`]).
fn query_row_cached<T, P: rusqlite::Params>(
    conn: &Connection,
    statement: &str,
    params: P,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(statement)?.query_row(params, read)
}

/// Stores one revision of a page through a transaction, as the ingest pipeline does.
#[cfg(test)]
pub(crate) fn store_page(
    store: &mut Store,
    url: &str,
    briefing: &crate::model::Briefing,
    raw: &'static [u8],
) {
    let now = chrono::DateTime::parse_from_rfc3339("2020-07-04T01:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut tx = store.transaction().unwrap();
    let (document_id, _) = tx
        .ensure_document(&NewDocument {
            source: "en",
            lang: briefing.lang,
            url,
            title: None,
            listed_date: None,
            listed: false,
            now,
        })
        .unwrap();
    tx.insert_revision(
        &NewRevision {
            document_id,
            seq: 1,
            fetched_at: now,
            source: "en",
            briefing,
            validators: &crate::model::Validators::default(),
        },
        raw,
    )
    .unwrap();
    tx.commit().unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_database_uses_wal_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            let mut store = Store::open(&path).unwrap();
            let url = "https://www.fmprc.gov.cn/mfa_eng/t1.shtml";
            let briefing = crate::model::Briefing {
                url: url.into(),
                lang: Lang::En,
                kind: Kind::PressConference,
                title: "Regular Press Conference".into(),
                date: None,
                published_at: None,
                spokesperson: None,
                opening: vec![],
                exchanges: vec![],
                content_hash: "a".into(),
                found_by: None,
                selector: None,
                date_from: None,
            };
            store_page(&mut store, url, &briefing, b"<p>A</p>");
        }
        let store = Store::open(&path).unwrap();
        let mode: String = store
            .connection()
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let page_size: i64 = store
            .connection()
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap();
        assert_eq!(page_size, PAGE_SIZE);
        assert_eq!(store.integrity_check().unwrap(), "ok");
        assert_eq!(store.list_documents(None).unwrap().len(), 1);
    }
}
