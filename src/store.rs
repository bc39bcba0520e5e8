//! The SQLite archive: schema, migrations and typed queries.
//!
//! Every unit of work (one fetched page) is one `BEGIN IMMEDIATE` transaction, so a crash leaves
//! either all of it or none of it. The raw page is kept as evidence in `raw_blobs` (zstd with a
//! per-source dictionary, which removes the page chrome every page of a source repeats), the extracted
//! record as JSON in `revisions.record`, zstd-compressed with its raw page as the prefix, so the text
//! it repeats from the page costs almost nothing. The text is also stored plain, so that any SQLite
//! client reads every transcript: the `exchanges` table holds each exchange of a revision (asker,
//! position, content hashes) with its question and answer, `revision_texts` each revision's title,
//! date, spokesperson and opening, and the views of `store_plain_text.sql` put them together.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::alert::{BriefingEvent, IngestAlerts, pairs_from_change};
use crate::diff::{self, DiffConfig, EventDraft, EventKind, GoneReason};
use crate::fetch::{Outcome, Validators};
use crate::model::{Briefing, FoundBy, Kind, Lang, Listing};

mod reads;
pub use reads::{ArchiveStamp, BriefingQuery, BriefingSummary, EventDocumentRef};

/// zstd level of raw pages. The per-source dictionary already removes the chrome every page
/// repeats; on the 2020 capture level 9 made pages 10 % smaller than level 3 for 4× the CPU.
const RAW_LEVEL: i32 = 3;
/// zstd level of records, which are compressed against their own raw page (see
/// [`compress_against`]). Most of a record is long matches into that page, which the fastest
/// level finds too: on the 2020 capture level 1 made records 6 % larger than level 3 (61 kB in
/// all) and the backfill run 1.4 % fewer instructions.
const RECORD_LEVEL: i32 = 1;
const PAGE_SIZE: i64 = 1024;

/// Why the archive could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot queue alerts: {0}")]
    Alerts(#[from] crate::alert::AlertError),
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
    #[error("unknown {what}: {key}")]
    NotFound { what: &'static str, key: String },
    #[error("cannot rebuild the search index: {0}")]
    SearchIndex(#[source] crate::web::search::SearchError),
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

fn migrations() -> Migrations<'static> {
    Migrations::new(migration_list())
}

/// The schema's migrations, oldest first; the archive's `user_version` counts those applied.
fn migration_list() -> Vec<M<'static>> {
    vec![
        M::up(
            r#"
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    url TEXT NOT NULL UNIQUE,
    lang TEXT NOT NULL,
    kind TEXT,
    briefing_date TEXT,
    title TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    last_checked TEXT,
    next_check TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'gone', 'blocked')),
    gone_count INTEGER NOT NULL DEFAULT 0,
    listed INTEGER NOT NULL DEFAULT 0,
    etag TEXT,
    last_modified TEXT
);
CREATE INDEX documents_next_check ON documents(next_check);
CREATE INDEX documents_source ON documents(source, briefing_date);

CREATE TABLE zstd_dictionaries (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    content BLOB NOT NULL
);

CREATE TABLE raw_blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    dictionary_id INTEGER REFERENCES zstd_dictionaries(id),
    data BLOB NOT NULL
);

CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    raw_hash TEXT NOT NULL REFERENCES raw_blobs(sha256),
    etag TEXT,
    last_modified TEXT,
    record BLOB NOT NULL,
    record_dictionary_id INTEGER REFERENCES zstd_dictionaries(id),
    UNIQUE (document_id, seq)
);

CREATE TABLE exchanges (
    revision_id INTEGER NOT NULL REFERENCES revisions(id),
    ordinal INTEGER NOT NULL,
    asker TEXT NOT NULL,
    question_hash INTEGER NOT NULL,
    answer_hash INTEGER NOT NULL,
    question_chars INTEGER NOT NULL,
    answer_chars INTEGER NOT NULL,
    after_conference INTEGER NOT NULL,
    PRIMARY KEY (revision_id, ordinal)
) WITHOUT ROWID;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    document_id INTEGER REFERENCES documents(id),
    revision_id INTEGER REFERENCES revisions(id),
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_document ON events(document_id);

CREATE TABLE fetch_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    source TEXT,
    url TEXT NOT NULL,
    page TEXT NOT NULL,
    status INTEGER,
    outcome TEXT NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    error TEXT
);
CREATE INDEX fetch_log_source ON fetch_log(source, outcome, at);

CREATE TABLE listing_pages (
    url TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    page INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    item_urls TEXT NOT NULL DEFAULT '[]',
    page_count INTEGER,
    last_checked TEXT,
    last_success TEXT,
    next_check TEXT NOT NULL
);

CREATE TABLE hosts (
    host TEXT PRIMARY KEY,
    robots_status INTEGER,
    robots_body BLOB,
    robots_fetched_at TEXT,
    blocked_until TEXT,
    blocked_url TEXT
);
"#,
        ),
        // The alert stage's outbox: alerts queued in the ingest transaction that caused them.
        M::up(crate::alert::outbox::MIGRATION),
        // Full-text search over every exchange, filled by the next migration's hook.
        M::up(crate::web::search::MIGRATION),
        // Records compressed against their raw page; rows written before keep their dictionary.
        // (This migration's hook built the search index; the index of every text below, whose
        // hook rebuilds it in today's shape, took over that job.)
        M::up("ALTER TABLE revisions ADD COLUMN record_against_raw INTEGER NOT NULL DEFAULT 0;"),
        // Pairing finds the other language's transcript of a day by its date.
        M::up("CREATE INDEX documents_briefing_date ON documents(briefing_date, lang);"),
        M::up(crate::web::search::MERGE_MIGRATION),
        // Search and alerts see every text of a briefing: titles, openings, statements.
        M::up_with_hook(
            crate::web::search::PASSAGES_MIGRATION,
            crate::web::search::rebuild_hook,
        ),
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
        M::up_with_hook("", crate::alert::outbox::channel_migration),
        // How each extracted page was found (`selector` with the body selector, or `fallback`):
        // what the layout-drift alarm reads.
        M::up(
            "ALTER TABLE fetch_log ADD COLUMN found_by TEXT;
             ALTER TABLE fetch_log ADD COLUMN selector TEXT;",
        ),
        // Every text of every revision as plain rows, and the views for reading it with SQL; the
        // hook writes the text of the revisions stored before from their records.
        M::up_with_hook(PLAIN_TEXT_MIGRATION, plain_text_hook),
        // What the operator's page and the event readers look up on a twenty-year archive.
        M::up(include_str!("store/read_indexes.sql")),
    ]
}

/// Refuses an archive whose schema is newer than this binary's migrations: a newer version wrote
/// it, and running older code on it could lose what the newer schema holds.
fn check_schema_version(conn: &Connection, path: &Path) -> Result<()> {
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

const PLAIN_TEXT_MIGRATION: &str = include_str!("store_plain_text.sql");

/// Migration hook: writes the plain-text rows of every revision already stored, from its record.
fn plain_text_hook(tx: &Transaction<'_>) -> rusqlite_migration::HookResult {
    fill_plain_text(tx).map_err(|error| rusqlite_migration::HookError::Hook(error.to_string()))
}

/// Rewrites the exchange rows and the revision text of every stored revision from its record.
fn fill_plain_text(tx: &Transaction<'_>) -> Result<()> {
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

/// Which page of the site a fetch was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    Listing,
    Article,
    Robots,
}

impl PageKind {
    fn as_str(self) -> &'static str {
        match self {
            PageKind::Listing => "listing",
            PageKind::Article => "article",
            PageKind::Robots => "robots",
        }
    }
}

/// One request as it goes into `fetch_log`.
#[derive(Debug, Clone)]
pub struct FetchRecord {
    pub at: DateTime<Utc>,
    pub source: Option<String>,
    pub url: String,
    pub page: PageKind,
    pub status: Option<u16>,
    pub outcome: Outcome,
    pub bytes: u64,
    pub duration: Duration,
    pub attempts: u32,
    pub error: Option<String>,
}

/// A fetched article page, ready to ingest.
#[derive(Debug, Clone)]
pub struct ArticleFetch<'a> {
    pub source: &'a str,
    pub lang: Lang,
    pub log: FetchRecord,
    /// The body as received, for `Outcome::Ok`.
    pub raw: Option<&'a [u8]>,
    pub validators: Validators,
    /// The extracted record, for `Outcome::Ok`.
    pub briefing: Option<&'a Briefing>,
    /// When this document should be fetched again.
    pub next_check: DateTime<Utc>,
}

/// A fetched listing page, ready to ingest.
#[derive(Debug, Clone)]
pub struct ListingFetch<'a> {
    pub source: &'a str,
    pub lang: Lang,
    /// 0 for the first page.
    pub page: u32,
    pub log: FetchRecord,
    pub validators: Validators,
    /// The parsed listing, for `Outcome::Ok`.
    pub listing: Option<&'a Listing>,
    pub next_check: DateTime<Utc>,
}

/// Event types written by the archive.
pub mod event_type {
    pub const NEW: &str = "new";
    pub const REVISED: &str = "revised";
    pub const GONE: &str = "gone";
    pub const SOFT_GONE: &str = "soft_gone";
    pub const EXCHANGE_REMOVED: &str = "exchange_removed";
    pub const DELISTED: &str = "delisted";
    pub const RESTORED: &str = "restored";
    pub const BLOCKED: &str = "blocked";
    pub const EXTRACTOR_FAILED: &str = "extractor_failed";
}

/// An event written during one ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub id: i64,
    pub kind: &'static str,
}

/// What ingesting one article did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    pub document_id: i64,
    /// The revision written, if the content changed: (revision id, seq).
    pub new_revision: Option<(i64, i64)>,
    /// The revision it replaces as the latest, if any: (revision id, seq).
    pub previous_revision: Option<(i64, i64)>,
    pub events: Vec<EventRef>,
    /// Why the page was held as suspect instead of stored as a revision (see [`crate::suspect`]).
    pub held: Option<String>,
}

/// What ingesting one listing page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingOutcome {
    /// Items seen for the first time.
    pub new_documents: Vec<String>,
    /// Items that vanished from the first page while older items stayed: removed, not pushed off.
    pub delisted: Vec<String>,
}

/// One row of `documents` with its revision count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub id: i64,
    pub source: String,
    pub url: String,
    pub lang: Lang,
    pub kind: Option<Kind>,
    pub briefing_date: Option<NaiveDate>,
    pub title: Option<String>,
    pub first_seen: String,
    pub last_seen: Option<String>,
    pub last_checked: Option<String>,
    pub next_check: String,
    pub state: String,
    pub gone_count: i64,
    pub listed: bool,
    pub revisions: i64,
    #[serde(skip)]
    pub validators: Validators,
}

/// How to find a document.
#[derive(Debug, Clone)]
pub enum DocumentKey<'a> {
    Id(i64),
    Url(&'a str),
}

/// A revision without its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionMeta {
    pub id: i64,
    pub document_id: i64,
    pub seq: i64,
    pub fetched_at: String,
    pub content_hash: String,
    pub raw_hash: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A revision with its extracted record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    #[serde(flatten)]
    pub meta: RevisionMeta,
    pub briefing: Briefing,
}

/// A row of `events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub document_id: Option<i64>,
    pub revision_id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    pub payload: serde_json::Value,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventQuery<'a> {
    /// Only events with an id greater than this.
    pub after_id: Option<i64>,
    /// Only events created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events of these types (all when empty).
    pub types: &'a [&'a str],
    pub limit: u32,
}

/// A document that is due for a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDocument {
    pub id: i64,
    pub source: String,
    pub url: String,
    pub first_seen: DateTime<Utc>,
    /// The briefing's date, once a revision gave it.
    pub briefing_date: Option<NaiveDate>,
    pub has_revision: bool,
    pub validators: Validators,
}

/// Stored state of one listing page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingState {
    pub url: String,
    pub source: String,
    pub page: u32,
    pub validators: Validators,
    pub item_urls: Vec<String>,
    pub page_count: Option<u32>,
    pub last_success: Option<String>,
    pub next_check: DateTime<Utc>,
}

/// Per-host robots.txt and block state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostState {
    pub robots_status: Option<u16>,
    pub robots_body: Option<Vec<u8>>,
    pub robots_fetched_at: Option<DateTime<Utc>>,
    pub blocked_until: Option<DateTime<Utc>>,
}

/// The last request of some outcome class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedFetch {
    pub at: String,
    pub url: String,
    pub status: Option<u16>,
    pub outcome: String,
    pub error: Option<String>,
}

/// What `status` shows for one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    pub source: String,
    pub documents: i64,
    pub archived: i64,
    pub pending: i64,
    pub gone: i64,
    pub revisions: i64,
    pub last_success: Option<LoggedFetch>,
    pub last_error: Option<LoggedFetch>,
    /// Requests per outcome class over the whole log.
    pub outcomes: Vec<(String, i64)>,
}

/// The archive.
pub struct Store {
    conn: Connection,
    /// Compression dictionaries by name, for writing.
    dictionaries: HashMap<String, Dictionary>,
    /// Decompression dictionaries by id, for reading.
    dictionaries_by_id: DictionaryCache,
    gone_after: u32,
    diff: DiffConfig,
    alerts: Option<IngestAlerts>,
    /// When suspect versions are held, how soon they are fetched again (`None`: never held).
    suspect_recheck: Option<Duration>,
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
        check_schema_version(&conn, path)?;
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
        // Most rows are compressed pages and records of 2 to 6 KB stored as overflow chains; small
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
        migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn,
            dictionaries: HashMap::new(),
            dictionaries_by_id: Default::default(),
            gone_after: 2,
            diff: DiffConfig::default(),
            alerts: None,
            suspect_recheck: None,
        })
    }

    /// Queue alerts for what ingestion stores (none until set; see `IngestAlerts::set_enabled`).
    pub fn set_alerts(&mut self, alerts: Option<IngestAlerts>) {
        self.alerts = alerts;
    }

    /// Consecutive gone answers before a document is declared gone (default 2).
    pub fn set_gone_after(&mut self, count: u32) {
        self.gone_after = count.max(1);
    }

    /// Hold a version that looks like a glitch (see [`crate::suspect`]) instead of storing it,
    /// and fetch the page again after `recheck`; the version is stored when that fetch gives the
    /// same content. `None` (the default, and for imports of saved pages) stores every version.
    pub fn set_suspect_recheck(&mut self, recheck: Option<Duration>) {
        self.suspect_recheck = recheck;
    }

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

    /// How revisions are compared when their events are written (default `DiffConfig::default()`).
    pub fn set_diff_config(&mut self, config: DiffConfig) {
        self.diff = config;
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

    /// Drops and refills the full-text search index from the stored records, in one transaction
    /// (a search running meanwhile sees the old index): the repair for a damaged index. Returns
    /// the number of revisions indexed.
    pub fn rebuild_search_index(&mut self) -> Result<u64> {
        let tx = self.begin()?;
        let count = crate::web::search::rebuild(&tx).map_err(StoreError::SearchIndex)?;
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

    /// Writes one request to `fetch_log` on its own (robots.txt, pages not ingested otherwise).
    pub fn log_fetch(&mut self, record: &FetchRecord) -> Result<()> {
        let tx = self.begin()?;
        insert_fetch_log(&tx, record, None)?;
        tx.commit().map_err(sql("committing a fetch log row"))
    }

    /// Ingests one fetched article page in one transaction: the fetch log row, the document, a
    /// revision if the content changed, and the events that follow from it.
    pub fn ingest_article(&mut self, fetch: &ArticleFetch<'_>) -> Result<IngestOutcome> {
        let mut outcomes = self.ingest_articles(std::slice::from_ref(fetch))?;
        Ok(outcomes.remove(0))
    }

    /// Ingests several fetched article pages in one transaction, as [`Store::ingest_article`] does
    /// for one. For runs of unchanged pages (304s), where one commit per page would cost more than
    /// the pages: losing such a batch in a crash loses only log rows and schedule times.
    pub fn ingest_articles<'raw>(
        &mut self,
        fetches: &[ArticleFetch<'raw>],
    ) -> Result<Vec<IngestOutcome>> {
        let contents = fetches
            .iter()
            .map(|fetch| self.prepare_content(fetch))
            .collect::<Result<Vec<_>>>()?;
        let gone_after = self.gone_after;
        let suspect_recheck = self.suspect_recheck;
        let diff_config = self.diff.clone();
        let alerts = self.alerts.clone();
        // The transaction borrows the connection only, so that reads in it can use the cache.
        let dictionaries = &self.dictionaries_by_id;
        let tx = begin_immediate(&mut self.conn)?;
        let mut record_context = record_context().map_err(|source| StoreError::Compression {
            what: "record",
            source,
        })?;
        let mut outcomes = Vec::with_capacity(fetches.len());
        let mut queued = 0;
        for (fetch, content) in fetches.iter().zip(&contents) {
            let mut outcome = ingest_article_in(
                &tx,
                fetch,
                content.as_ref(),
                &mut record_context,
                gone_after,
                suspect_recheck.map(|recheck| (recheck, dictionaries)),
            )?;
            // Diff events and alert outbox rows belong to the same unit of work as the revision
            // that caused them, so neither can be lost nor exist for something not stored.
            diff_article_events_in(&tx, dictionaries, fetch, &mut outcome, &diff_config)?;
            if let Some(alerts) = &alerts {
                queued +=
                    alert_outbox_in(&tx, dictionaries, fetch, &outcome, alerts, &diff_config)?;
            }
            outcomes.push(outcome);
        }
        tx.commit().map_err(sql("committing articles"))?;
        if let (Some(alerts), true) = (&alerts, queued > 0) {
            alerts.wake.notify_one();
        }
        Ok(outcomes)
    }

    /// The record as JSON and the raw page's dictionary, for a page that may become a revision.
    fn prepare_content(&mut self, fetch: &ArticleFetch<'_>) -> Result<Option<Content>> {
        Ok(match (fetch.raw, fetch.briefing) {
            (Some(raw), Some(briefing)) if fetch.log.outcome == Outcome::Ok => {
                let record = serde_json::to_vec(briefing).map_err(|source| StoreError::Record {
                    revision_id: 0,
                    source,
                })?;
                Some(Content {
                    raw_dictionary: self.dictionary_for(&format!("raw:{}", fetch.source), raw)?,
                    record,
                })
            }
            _ => None,
        })
    }

    /// Ingests one fetched listing page in one transaction: the fetch log row, the listing state,
    /// new documents (due at once), and items removed from the first page.
    pub fn ingest_listing(&mut self, fetch: &ListingFetch<'_>) -> Result<ListingOutcome> {
        let tx = self.begin()?;
        let relisted = delisted_among(&tx, fetch.listing)?;
        let outcome = ingest_listing_in(&tx, fetch)?;
        diff_listing_events_in(&tx, fetch, &relisted, &outcome)?;
        tx.commit().map_err(sql("committing a listing"))?;
        Ok(outcome)
    }

    /// A compression dictionary by name (`raw:<source>`); the first sample stored under a name
    /// becomes its dictionary: most of the next page is the same chrome. (Databases written by
    /// earlier versions also hold `record:<source>` dictionaries, still read by [`decode_record`].)
    fn dictionary_for(&mut self, name: &str, sample: &[u8]) -> Result<Dictionary> {
        if let Some(found) = self.dictionaries.get(name) {
            return Ok(found.clone());
        }
        let stored: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT id, content FROM zstd_dictionaries WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(sql("reading a dictionary"))?;
        let (id, content) = match stored {
            Some((id, compressed)) => (id, decompress(&compressed, None, "dictionary")?),
            None => {
                let compressed = zstd::bulk::compress(sample, RAW_LEVEL).map_err(|source| {
                    StoreError::Compression {
                        what: "dictionary",
                        source,
                    }
                })?;
                let tx = self.begin()?;
                execute_cached(
                    &tx,
                    "INSERT INTO zstd_dictionaries (name, content) VALUES (?1, ?2)",
                    params![name, compressed],
                )
                .map_err(sql("storing a dictionary"))?;
                let id = tx.last_insert_rowid();
                tx.commit().map_err(sql("committing a dictionary"))?;
                (id, sample.to_vec())
            }
        };
        let compressor =
            zstd::bulk::Compressor::with_dictionary(RAW_LEVEL, &content).map_err(|source| {
                StoreError::Compression {
                    what: "dictionary",
                    source,
                }
            })?;
        let dictionary = Dictionary {
            id,
            compressor: std::sync::Arc::new(std::sync::Mutex::new(compressor)),
        };
        self.dictionaries
            .insert(name.to_string(), dictionary.clone());
        Ok(dictionary)
    }

    /// Sets or lifts a host's block. Returns true when the host was not blocked before, so the
    /// caller reports a block once.
    pub fn set_host_blocked(
        &mut self,
        host: &str,
        until: Option<DateTime<Utc>>,
        url: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.begin()?;
        let previous: Option<Option<String>> = query_row_cached(
            &tx,
            "SELECT blocked_until FROM hosts WHERE host = ?1",
            [host],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading a host"))?;
        let was_blocked = previous
            .flatten()
            .and_then(|text| parse_time(&text))
            .is_some_and(|until| until > now);
        execute_cached(
            &tx,
            "INSERT INTO hosts (host, blocked_until, blocked_url) VALUES (?1, ?2, ?3)
             ON CONFLICT(host) DO UPDATE SET blocked_until = ?2, blocked_url = ?3",
            params![host, until.map(format_time), url],
        )
        .map_err(sql("writing a host"))?;
        let newly = until.is_some() && !was_blocked;
        if newly {
            let payload =
                serde_json::json!({ "host": host, "url": url, "until": until.map(format_time) });
            insert_event(&tx, None, None, event_type::BLOCKED, now, &payload)?;
        }
        tx.commit().map_err(sql("committing a host"))?;
        Ok(newly)
    }

    /// Stores a host's robots.txt answer.
    pub fn set_robots(
        &mut self,
        host: &str,
        status: Option<u16>,
        body: Option<&[u8]>,
        fetched_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO hosts (host, robots_status, robots_body, robots_fetched_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(host) DO UPDATE SET robots_status = ?2, robots_body = ?3, robots_fetched_at = ?4",
                params![host, status, body, format_time(fetched_at)],
            )
            .map_err(sql("writing robots.txt"))?;
        Ok(())
    }

    pub fn host_state(&self, host: &str) -> Result<HostState> {
        let state = query_row_cached(
            &self.conn,
            "SELECT robots_status, robots_body, robots_fetched_at, blocked_until FROM hosts WHERE host = ?1",
            [host],
            |row| {
                Ok(HostState {
                    robots_status: row.get(0)?,
                    robots_body: row.get(1)?,
                    robots_fetched_at: row.get::<_, Option<String>>(2)?.and_then(|t| parse_time(&t)),
                    blocked_until: row.get::<_, Option<String>>(3)?.and_then(|t| parse_time(&t)),
                })
            },
        )
        .optional()
        .map_err(sql("reading a host"))?;
        Ok(state.unwrap_or_default())
    }

    /// Blocked hosts and until when, for `status`.
    pub fn blocked_hosts(&self, now: DateTime<Utc>) -> Result<Vec<(String, String)>> {
        query_all(
            &self.conn,
            "SELECT host, blocked_until FROM hosts WHERE blocked_until > ?1 ORDER BY host",
            [format_time(now)],
            |row| Ok((row.get(0)?, row.get(1)?)),
            "reading blocked hosts",
        )
    }

    /// Documents due for a fetch at `now`, soonest first; documents never fetched come first.
    pub fn due_documents(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<DueDocument>> {
        self.query_documents_due("WHERE d.next_check <= ?1", Some(now), limit)
    }

    /// Every document, for a forced full re-check.
    pub fn all_documents_for_check(&self) -> Result<Vec<DueDocument>> {
        self.query_documents_due("", None, u32::MAX)
    }

    fn query_documents_due(
        &self,
        filter: &str,
        now: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<DueDocument>> {
        let query = format!(
            "SELECT d.id, d.source, d.url, d.first_seen, d.etag, d.last_modified,
                    EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id), d.briefing_date
             FROM documents d {filter}
             ORDER BY EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id), d.next_check, d.id
             LIMIT {limit}"
        );
        let mut stmt = self
            .conn
            .prepare(&query)
            .map_err(sql("reading due documents"))?;
        let map = |row: &rusqlite::Row<'_>| {
            Ok(DueDocument {
                id: row.get(0)?,
                source: row.get(1)?,
                url: row.get(2)?,
                first_seen: parse_time(&row.get::<_, String>(3)?).unwrap_or_default(),
                validators: Validators {
                    etag: row.get(4)?,
                    last_modified: row.get(5)?,
                },
                has_revision: row.get(6)?,
                briefing_date: date_at(row, 7)?,
            })
        };
        let rows = match now {
            Some(now) => stmt.query_map([format_time(now)], map),
            None => stmt.query_map([], map),
        }
        .and_then(Iterator::collect)
        .map_err(sql("reading due documents"))?;
        Ok(rows)
    }

    /// URLs of a source's documents that have at least one revision.
    pub fn archived_urls(&self, source: &str) -> Result<HashSet<String>> {
        query_all(
            &self.conn,
            "SELECT url FROM documents d WHERE source = ?1
                 AND EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)",
            [source],
            |row| row.get(0),
            "reading archived urls",
        )
    }

    /// Which of these URLs the archive already has a document for.
    pub fn existing_urls(&self, urls: &[String]) -> Result<HashSet<String>> {
        let mut known = HashSet::new();
        for url in urls {
            let exists: bool = query_row_cached(
                &self.conn,
                "SELECT EXISTS (SELECT 1 FROM documents WHERE url = ?1)",
                [url],
                |row| row.get(0),
            )
            .map_err(sql("finding a document"))?;
            if exists {
                known.insert(url.clone());
            }
        }
        Ok(known)
    }

    /// The stored state of a listing page.
    pub fn listing_state(&self, url: &str) -> Result<Option<ListingState>> {
        self.conn
            .query_row(
                "SELECT url, source, page, etag, last_modified, item_urls, page_count, last_success, next_check
                 FROM listing_pages WHERE url = ?1",
                [url],
                |row| {
                    let items: String = row.get(5)?;
                    Ok(ListingState {
                        url: row.get(0)?,
                        source: row.get(1)?,
                        page: row.get(2)?,
                        validators: Validators {
                            etag: row.get(3)?,
                            last_modified: row.get(4)?,
                        },
                        item_urls: serde_json::from_str(&items).unwrap_or_default(),
                        page_count: row.get(6)?,
                        last_success: row.get(7)?,
                        next_check: parse_time(&row.get::<_, String>(8)?).unwrap_or_default(),
                    })
                },
            )
            .optional()
            .map_err(sql("reading a listing page"))
    }

    /// Documents, newest briefing first, optionally of one source.
    pub fn list_documents(&self, source: Option<&str>) -> Result<Vec<Document>> {
        query_all(
            &self.conn,
            &format!(
                "{DOCUMENT_COLUMNS} WHERE ?1 IS NULL OR d.source = ?1
                 ORDER BY d.briefing_date DESC NULLS LAST, d.first_seen DESC, d.id DESC"
            ),
            [source],
            document_from_row,
            "listing documents",
        )
    }

    /// One document by id or URL.
    pub fn document(&self, key: DocumentKey<'_>) -> Result<Option<Document>> {
        let (condition, value): (&str, rusqlite::types::Value) = match key {
            DocumentKey::Id(id) => ("d.id = ?1", id.into()),
            DocumentKey::Url(url) => ("d.url = ?1", url.to_string().into()),
        };
        query_row_cached(
            &self.conn,
            &format!("{DOCUMENT_COLUMNS} WHERE {condition}"),
            [value],
            document_from_row,
        )
        .optional()
        .map_err(sql("reading a document"))
    }

    /// Revisions of a document, oldest first.
    pub fn revisions(&self, document_id: i64) -> Result<Vec<RevisionMeta>> {
        query_all(
            &self.conn,
            &format!("{REVISION_COLUMNS} FROM revisions WHERE document_id = ?1 ORDER BY seq"),
            [document_id],
            revision_meta_from_row,
            "listing revisions",
        )
    }

    /// The latest revision of a document with its record.
    pub fn latest_revision(&self, document_id: i64) -> Result<Option<Revision>> {
        self.revision_where("document_id = ?1 ORDER BY seq DESC LIMIT 1", [document_id])
    }

    /// Revision `seq` (1-based) of a document.
    pub fn revision(&self, document_id: i64, seq: i64) -> Result<Option<Revision>> {
        self.revision_where("document_id = ?1 AND seq = ?2", [document_id, seq])
    }

    /// A revision by its id.
    pub fn revision_by_id(&self, revision_id: i64) -> Result<Option<Revision>> {
        self.revision_where("id = ?1", [revision_id])
    }

    fn revision_where<P: rusqlite::Params>(
        &self,
        condition: &str,
        params: P,
    ) -> Result<Option<Revision>> {
        let found: Option<(RevisionMeta, StoredRecord)> = self
            .conn
            .query_row(
                &format!(
                    "{REVISION_COLUMNS}, {STORED_RECORD_COLUMNS} FROM revisions WHERE {condition}"
                ),
                params,
                |row| {
                    Ok((
                        revision_meta_from_row(row)?,
                        stored_record_from_row(row, 8)?,
                    ))
                },
            )
            .optional()
            .map_err(sql("reading a revision"))?;
        let Some((meta, stored)) = found else {
            return Ok(None);
        };
        let json = decode_record(&self.conn, &stored, &self.dictionaries_by_id)?;
        let briefing = serde_json::from_slice(&json).map_err(|source| StoreError::Record {
            revision_id: meta.id,
            source,
        })?;
        Ok(Some(Revision { meta, briefing }))
    }

    /// The raw page bytes stored under a SHA-256.
    pub fn raw_bytes(&self, raw_hash: &str) -> Result<Option<Vec<u8>>> {
        raw_bytes_in(&self.conn, raw_hash, &self.dictionaries_by_id)
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

    /// Per-source counts and the last success and error from the fetch log.
    pub fn source_summaries(&self, sources: &[&str]) -> Result<Vec<SourceSummary>> {
        sources
            .iter()
            .map(|source| self.source_summary(source))
            .collect()
    }

    fn source_summary(&self, source: &str) -> Result<SourceSummary> {
        let (documents, archived, gone, revisions): (i64, i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT COUNT(*),
                        COALESCE(SUM(EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)), 0),
                        COALESCE(SUM(state = 'gone'), 0),
                        (SELECT COUNT(*) FROM revisions r JOIN documents e ON e.id = r.document_id WHERE e.source = ?1)
                 FROM documents d WHERE source = ?1",
                [source],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(sql("counting documents"))?;
        let last = |outcomes: &str| -> Result<Option<LoggedFetch>> {
            self.conn
                .query_row(
                    &format!(
                        "SELECT at, url, status, outcome, error FROM fetch_log
                         WHERE source = ?1 AND outcome IN ({outcomes}) ORDER BY id DESC LIMIT 1"
                    ),
                    [source],
                    |row| {
                        Ok(LoggedFetch {
                            at: row.get(0)?,
                            url: row.get(1)?,
                            status: row.get(2)?,
                            outcome: row.get(3)?,
                            error: row.get(4)?,
                        })
                    },
                )
                .optional()
                .map_err(sql("reading the fetch log"))
        };
        let last_success = last("'ok', 'not_modified'")?;
        let last_error = last("'transient', 'blocked', 'unparseable', 'disallowed'")?;
        let outcomes = query_all(
            &self.conn,
            "SELECT outcome, COUNT(*) FROM fetch_log WHERE source = ?1 GROUP BY outcome ORDER BY outcome",
            [source],
            |row| Ok((row.get(0)?, row.get(1)?)),
            "counting outcomes",
        )?;
        Ok(SourceSummary {
            source: source.to_string(),
            documents,
            archived,
            pending: documents - archived,
            gone,
            revisions,
            last_success,
            last_error,
            outcomes,
        })
    }

    /// Sets when a document is next fetched (the daemon's re-check schedule).
    pub fn set_next_check(&mut self, document_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE documents SET next_check = ?2 WHERE id = ?1",
                params![document_id, format_time(at)],
            )
            .map_err(sql("scheduling a document"))?;
        Ok(())
    }
}

const DOCUMENT_COLUMNS: &str =
    "SELECT d.id, d.source, d.url, d.lang, d.kind, d.briefing_date, d.title,
    d.first_seen, d.last_seen, d.last_checked, d.next_check, d.state, d.gone_count, d.listed,
    (SELECT COUNT(*) FROM revisions r WHERE r.document_id = d.id), d.etag, d.last_modified
    FROM documents d";

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

fn document_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        id: row.get(0)?,
        source: row.get(1)?,
        url: row.get(2)?,
        lang: lang_at(row, 3)?,
        kind: kind_at(row, 4)?,
        briefing_date: date_at(row, 5)?,
        title: row.get(6)?,
        first_seen: row.get(7)?,
        last_seen: row.get(8)?,
        last_checked: row.get(9)?,
        next_check: row.get(10)?,
        state: row.get(11)?,
        gone_count: row.get(12)?,
        listed: row.get(13)?,
        revisions: row.get(14)?,
        validators: Validators {
            etag: row.get(15)?,
            last_modified: row.get(16)?,
        },
    })
}

const REVISION_COLUMNS: &str =
    "SELECT id, document_id, seq, fetched_at, content_hash, raw_hash, etag, last_modified";

fn revision_meta_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RevisionMeta> {
    Ok(RevisionMeta {
        id: row.get(0)?,
        document_id: row.get(1)?,
        seq: row.get(2)?,
        fetched_at: row.get(3)?,
        content_hash: row.get(4)?,
        raw_hash: row.get(5)?,
        etag: row.get(6)?,
        last_modified: row.get(7)?,
    })
}

/// The columns [`event_from_row`] reads, in its order.
pub const EVENT_COLUMNS: &str = "id, document_id, revision_id, type, created_at, payload";

/// An [`Event`] from the [`EVENT_COLUMNS`] at the start of a row.
pub fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let payload: String = row.get(5)?;
    Ok(Event {
        id: row.get(0)?,
        document_id: row.get(1)?,
        revision_id: row.get(2)?,
        kind: row.get(3)?,
        created_at: row.get(4)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
    })
}

/// A compression dictionary: its row id and a compression context with it loaded. Loading it
/// (hash tables for the level) costs more than compressing one page with it, so it is done once
/// per name and the context is reused.
#[derive(Clone)]
struct Dictionary {
    id: i64,
    compressor: std::sync::Arc<std::sync::Mutex<zstd::bulk::Compressor<'static>>>,
}

/// What an `Ok` page brings to store: the record as JSON and the raw page's dictionary.
struct Content {
    record: Vec<u8>,
    raw_dictionary: Dictionary,
}

fn compress_with(data: &[u8], dictionary: &Dictionary) -> std::io::Result<Vec<u8>> {
    dictionary
        .compressor
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .compress(data)
}

fn zstd_error(code: zstd::zstd_safe::ErrorCode) -> std::io::Error {
    std::io::Error::other(zstd::zstd_safe::get_error_name(code))
}

/// The compression context of records, shared by one batch of pages: a fresh context allocates
/// and faults in its tables for every record. Pages of the batch outlive it, as the prefixes
/// [`compress_against`] lends it must.
fn record_context<'raw>() -> std::io::Result<zstd::zstd_safe::CCtx<'raw>> {
    let mut context = zstd::zstd_safe::CCtx::create();
    context
        .set_parameter(zstd::zstd_safe::CParameter::CompressionLevel(RECORD_LEVEL))
        .map_err(zstd_error)?;
    Ok(context)
}

/// A record compressed with its raw page as the prefix. The record repeats the page's text, so on
/// the 2020 capture it shrinks to a seventh of what it takes compressed alone.
fn compress_against<'raw>(
    context: &mut zstd::zstd_safe::CCtx<'raw>,
    record: &[u8],
    raw: &'raw [u8],
) -> std::io::Result<Vec<u8>> {
    // The prefix applies to the next frame only; the level stays.
    context.ref_prefix(raw).map_err(zstd_error)?;
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(record.len()));
    context.compress2(&mut out, record).map_err(zstd_error)?;
    Ok(out)
}

/// The inverse of [`compress_against`].
fn decompress_against(data: &[u8], raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let size = zstd::zstd_safe::get_frame_content_size(data)
        .ok()
        .flatten()
        .ok_or_else(|| std::io::Error::other("zstd frame without a content size"))?;
    let mut context = zstd::zstd_safe::DCtx::create();
    context.ref_prefix(raw).map_err(zstd_error)?;
    let mut out = Vec::with_capacity(usize::try_from(size).map_err(std::io::Error::other)?);
    context.decompress(&mut out, data).map_err(zstd_error)?;
    Ok(out)
}

fn decompress(
    data: &[u8],
    dictionary: Option<&zstd::dict::DecoderDictionary<'static>>,
    what: &'static str,
) -> Result<Vec<u8>> {
    let error = |source| StoreError::Compression { what, source };
    let mut decoder = match dictionary {
        Some(dictionary) => zstd::stream::read::Decoder::with_prepared_dictionary(data, dictionary),
        None => zstd::stream::read::Decoder::with_buffer(data),
    }
    .map_err(error)?;
    let mut out = Vec::with_capacity(data.len() * 4);
    std::io::Read::read_to_end(&mut decoder, &mut out).map_err(error)?;
    Ok(out)
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

/// Logs a fetch; `found` is how the page's record was found, for an extracted article.
fn insert_fetch_log(
    tx: &Transaction<'_>,
    record: &FetchRecord,
    found: Option<&Briefing>,
) -> Result<()> {
    execute_cached(
        tx,
        "INSERT INTO fetch_log (at, source, url, page, status, outcome, bytes, duration_ms, attempts, error, found_by, selector)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            format_time(record.at),
            record.source,
            record.url,
            record.page.as_str(),
            record.status,
            record.outcome.as_str(),
            record.bytes as i64,
            record.duration.as_millis() as i64,
            record.attempts,
            record.error,
            found.and_then(|briefing| briefing.found_by).map(FoundBy::as_str),
            found.and_then(|briefing| briefing.selector.as_deref()),
        ],
    )
    .map_err(sql("writing the fetch log"))?;
    Ok(())
}

/// Writes an event inside a transaction; the hook later stages use for their own event rows.
pub fn insert_event(
    tx: &Transaction<'_>,
    document_id: Option<i64>,
    revision_id: Option<i64>,
    kind: &'static str,
    at: DateTime<Utc>,
    payload: &serde_json::Value,
) -> Result<EventRef> {
    execute_cached(
        tx,
        "INSERT INTO events (document_id, revision_id, type, created_at, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            document_id,
            revision_id,
            kind,
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

/// A compression dictionary's bytes.
fn read_dictionary(conn: &Connection, id: i64) -> Result<Vec<u8>> {
    let compressed: Vec<u8> = conn
        .query_row(
            "SELECT content FROM zstd_dictionaries WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .map_err(sql("reading a dictionary"))?;
    decompress(&compressed, None, "dictionary")
}

/// Decompression dictionaries by id, each read, decompressed and prepared once: reading a record
/// or a raw page needs its source's dictionary, and preparing that cost more than the page itself.
/// Dictionaries are never rewritten, so an entry stays right for the database it was read from;
/// each cache belongs to one connection's owner.
#[derive(Default)]
pub struct DictionaryCache(
    std::cell::RefCell<HashMap<i64, std::sync::Arc<zstd::dict::DecoderDictionary<'static>>>>,
);

impl DictionaryCache {
    fn get(
        &self,
        conn: &Connection,
        id: i64,
    ) -> Result<std::sync::Arc<zstd::dict::DecoderDictionary<'static>>> {
        if let Some(found) = self.0.borrow().get(&id) {
            return Ok(found.clone());
        }
        let prepared = std::sync::Arc::new(zstd::dict::DecoderDictionary::copy(&read_dictionary(
            conn, id,
        )?));
        self.0.borrow_mut().insert(id, prepared.clone());
        Ok(prepared)
    }
}

/// A raw page's bytes by its SHA-256.
fn raw_bytes_in(
    conn: &Connection,
    raw_hash: &str,
    dictionaries: &DictionaryCache,
) -> Result<Option<Vec<u8>>> {
    let found: Option<(Vec<u8>, Option<i64>)> = query_row_cached(
        conn,
        "SELECT data, dictionary_id FROM raw_blobs WHERE sha256 = ?1",
        [raw_hash],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .map_err(sql("reading a raw page"))?;
    let Some((data, dictionary_id)) = found else {
        return Ok(None);
    };
    let dictionary = dictionary_id
        .map(|id| dictionaries.get(conn, id))
        .transpose()?;
    decompress(&data, dictionary.as_deref(), "raw page").map(Some)
}

/// A record as stored: its compressed bytes and what they were compressed against.
struct StoredRecord {
    data: Vec<u8>,
    dictionary_id: Option<i64>,
    against_raw: bool,
    raw_hash: String,
}

const STORED_RECORD_COLUMNS: &str = "record, record_dictionary_id, record_against_raw, raw_hash";

fn stored_record_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<StoredRecord> {
    Ok(StoredRecord {
        data: row.get(first)?,
        dictionary_id: row.get(first + 1)?,
        against_raw: row.get(first + 2)?,
        raw_hash: row.get(first + 3)?,
    })
}

/// A record's JSON: decompressed against its raw page, or (as earlier versions stored records)
/// with a per-source record dictionary.
fn decode_record(
    conn: &Connection,
    stored: &StoredRecord,
    dictionaries: &DictionaryCache,
) -> Result<Vec<u8>> {
    if stored.against_raw {
        let raw = raw_bytes_in(conn, &stored.raw_hash, dictionaries)?.ok_or_else(|| {
            StoreError::NotFound {
                what: "raw page",
                key: stored.raw_hash.clone(),
            }
        })?;
        return decompress_against(&stored.data, &raw).map_err(|source| StoreError::Compression {
            what: "record",
            source,
        });
    }
    let record_dictionary = stored
        .dictionary_id
        .map(|id| dictionaries.get(conn, id))
        .transpose()?;
    decompress(&stored.data, record_dictionary.as_deref(), "record")
}

/// The extracted record of a revision, read on any connection or inside a transaction (the
/// search index reads records with it while it is being rebuilt by a migration).
pub fn record_in(
    tx: &Connection,
    dictionaries: &DictionaryCache,
    revision_id: i64,
) -> Result<Briefing> {
    let stored = query_row_cached(
        tx,
        &format!("SELECT {STORED_RECORD_COLUMNS} FROM revisions WHERE id = ?1"),
        [revision_id],
        |row| stored_record_from_row(row, 0),
    )
    .map_err(sql("reading a revision"))?;
    let json = decode_record(tx, &stored, dictionaries)?;
    serde_json::from_slice(&json).map_err(|source| StoreError::Record {
        revision_id,
        source,
    })
}

fn rewrite_event(
    tx: &Transaction<'_>,
    event: &mut EventRef,
    kind: EventKind,
    payload: &serde_json::Value,
) -> Result<()> {
    execute_cached(
        tx,
        "UPDATE events SET type = ?2, payload = ?3 WHERE id = ?1",
        params![event.id, kind.as_str(), payload.to_string()],
    )
    .map_err(sql("writing an event"))?;
    event.kind = kind.as_str();
    Ok(())
}

/// Keeps the archive's own payload fields (`from_seq`, `status`, …) beside the diff stage's.
fn merged(mut draft: serde_json::Value, archive: serde_json::Value) -> serde_json::Value {
    if let (Some(target), serde_json::Value::Object(extra)) = (draft.as_object_mut(), archive) {
        for (key, value) in extra {
            target.entry(key).or_insert(value);
        }
    }
    draft
}

fn stored_payload(tx: &Transaction<'_>, event_id: i64) -> Result<serde_json::Value> {
    let text: String = query_row_cached(
        tx,
        "SELECT payload FROM events WHERE id = ?1",
        [event_id],
        |row| row.get(0),
    )
    .map_err(sql("reading an event"))?;
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// The diff stage's part of an article ingestion: a `revised` event gets the structured diff and
/// is followed by one `exchange_removed` per vanished exchange; `gone` becomes `soft_gone` for the
/// error page; taken-down and restored pages carry their last known title.
fn diff_article_events_in(
    tx: &Transaction<'_>,
    dictionaries: &DictionaryCache,
    fetch: &ArticleFetch<'_>,
    outcome: &mut IngestOutcome,
    config: &DiffConfig,
) -> Result<()> {
    let document_id = outcome.document_id;
    let last_title: Option<String> = query_row_cached(
        tx,
        "SELECT title FROM documents WHERE id = ?1",
        [document_id],
        |row| row.get(0),
    )
    .map_err(sql("reading a document"))?;
    let url = fetch.log.url.as_str();
    let mut added = Vec::new();
    for event in outcome.events.iter_mut() {
        let archive_payload = stored_payload(tx, event.id)?;
        match event.kind {
            event_type::REVISED => {
                let (Some(briefing), Some((previous_id, _)), Some((revision_id, _))) = (
                    fetch.briefing,
                    outcome.previous_revision,
                    outcome.new_revision,
                ) else {
                    continue;
                };
                let previous = record_in(tx, dictionaries, previous_id)?;
                for draft in diff::events_for_revision(&previous, briefing, config) {
                    if draft.kind == EventKind::Revised {
                        let payload = merged(draft.payload, archive_payload.clone());
                        rewrite_event(tx, event, EventKind::Revised, &payload)?;
                    } else {
                        added.push(insert_event(
                            tx,
                            Some(document_id),
                            Some(revision_id),
                            draft.kind.as_str(),
                            fetch.log.at,
                            &draft.payload,
                        )?);
                    }
                }
            }
            event_type::GONE => {
                let (reason, detail) = match fetch.log.outcome {
                    Outcome::SoftGone => (
                        GoneReason::SoftNotFound,
                        "leads to the site's error page".to_string(),
                    ),
                    _ => (
                        GoneReason::NotFound,
                        match fetch.log.status {
                            Some(status) => format!("HTTP {status}"),
                            None => "not found".to_string(),
                        },
                    ),
                };
                let draft = EventDraft::gone(url, last_title.as_deref(), reason, &detail);
                let payload = merged(draft.payload, archive_payload);
                rewrite_event(tx, event, draft.kind, &payload)?;
            }
            event_type::RESTORED => {
                let draft = EventDraft::restored(url, last_title.as_deref(), "gone");
                let payload = merged(draft.payload, archive_payload);
                rewrite_event(tx, event, draft.kind, &payload)?;
            }
            _ => {}
        }
    }
    if let (Some(briefing), Some((revision_id, _))) = (fetch.briefing, outcome.new_revision) {
        added.extend(unpaired_events_in(
            tx,
            dictionaries,
            document_id,
            revision_id,
            briefing,
            fetch.log.at,
        )?);
    }
    outcome.events.extend(added);
    Ok(())
}

/// Queues the alerts an ingested article causes, in its transaction: a first revision is a new
/// briefing, a later one a revision (compared by the diff stage), a gone event a removal.
fn alert_outbox_in(
    tx: &Transaction<'_>,
    dictionaries: &DictionaryCache,
    fetch: &ArticleFetch<'_>,
    outcome: &IngestOutcome,
    alerts: &IngestAlerts,
    config: &DiffConfig,
) -> Result<usize> {
    if !alerts.is_enabled() {
        return Ok(0);
    }
    let document_id = outcome.document_id;
    let now = fetch.log.at;
    let mut queued = 0;
    match (
        fetch.briefing,
        outcome.new_revision,
        outcome.previous_revision,
    ) {
        (Some(briefing), Some(_), None) => {
            queued += alerts.queue_in(tx, &BriefingEvent::New(briefing), document_id, None, now)?;
        }
        (Some(briefing), Some((_, new_seq)), Some((previous_id, previous_seq))) => {
            let previous = record_in(tx, dictionaries, previous_id)?;
            let change = diff::diff(&previous, briefing, config);
            let event = BriefingEvent::Revised {
                old: &previous,
                new: briefing,
                pairs: pairs_from_change(&change, &previous, briefing),
            };
            let seqs = Some((previous_seq as u32, new_seq as u32));
            queued += alerts.queue_in(tx, &event, document_id, seqs, now)?;
        }
        _ => {}
    }
    // The diff stage rewrites a gone event as `gone` or `soft_gone` (the site's error page).
    let taken_down = |kind: &str| kind == event_type::GONE || kind == EventKind::SoftGone.as_str();
    if outcome.events.iter().any(|event| taken_down(event.kind)) {
        if let Some((last_id, _)) = outcome.previous_revision {
            let last = record_in(tx, dictionaries, last_id)?;
            queued += alerts.queue_in(tx, &BriefingEvent::Gone(&last), document_id, None, now)?;
        }
    }
    Ok(queued)
}

/// When a day's press conference is archived in both languages, the exchanges found in one only,
/// each reported once (a later revision that keeps them unpaired adds nothing).
fn unpaired_events_in(
    tx: &Transaction<'_>,
    dictionaries: &DictionaryCache,
    document_id: i64,
    revision_id: i64,
    briefing: &Briefing,
    at: DateTime<Utc>,
) -> Result<Vec<EventRef>> {
    let (Kind::PressConference, Some(date)) = (briefing.kind, briefing.date) else {
        return Ok(Vec::new());
    };
    let other_lang = match briefing.lang {
        Lang::En => Lang::Zh,
        Lang::Zh => Lang::En,
    };
    let other: Option<(i64, i64)> = query_row_cached(
        tx,
        "SELECT d.id, r.id FROM documents d JOIN revisions r ON r.document_id = d.id
         WHERE d.lang = ?1 AND d.briefing_date = ?2 AND d.kind = 'press_conference'
         ORDER BY r.seq DESC LIMIT 1",
        params![other_lang.as_str(), date.to_string()],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .map_err(sql("finding the other language's transcript"))?;
    let Some((other_document, other_revision)) = other else {
        return Ok(Vec::new());
    };
    let other_briefing = record_in(tx, dictionaries, other_revision)?;
    let (en, zh) = match briefing.lang {
        Lang::En => (briefing, &other_briefing),
        Lang::Zh => (&other_briefing, briefing),
    };
    let pairing = diff::pair(en, zh);
    let mut written = Vec::new();
    for draft in diff::events_for_pairing(&pairing, en, zh) {
        let (owner, owner_revision) = if draft.payload["lang"] == briefing.lang.as_str() {
            (document_id, revision_id)
        } else {
            (other_document, other_revision)
        };
        let already: bool = query_row_cached(tx,
                "SELECT EXISTS (SELECT 1 FROM events WHERE document_id = ?1 AND type = 'unpaired'
                   AND json_extract(payload, '$.exchange.question') = json_extract(?2, '$.exchange.question'))",
                params![owner, draft.payload.to_string()],
                |row| row.get(0),
            )
            .map_err(sql("reading events"))?;
        if !already {
            written.push(insert_event(
                tx,
                Some(owner),
                Some(owner_revision),
                draft.kind.as_str(),
                at,
                &draft.payload,
            )?);
        }
    }
    Ok(written)
}

/// A listed URL's document if it was delisted since the last time it came back, not merely never
/// listed (an imported page).
const DELISTED_DOCUMENT: &str = "SELECT d.id, d.title FROM documents d
    WHERE d.url = ?1 AND d.listed = 0
      AND (SELECT MAX(id) FROM events WHERE document_id = d.id AND type = 'delisted')
          > COALESCE((SELECT MAX(id) FROM events WHERE document_id = d.id AND type = 'restored'), 0)";

/// Documents of this listing that were delisted before: (id, url, title).
fn delisted_among(
    tx: &Transaction<'_>,
    listing: Option<&Listing>,
) -> Result<Vec<(i64, String, Option<String>)>> {
    let Some(listing) = listing else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for item in &listing.items {
        let row: Option<(i64, Option<String>)> =
            query_row_cached(tx, DELISTED_DOCUMENT, [&item.url], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .map_err(sql("finding a delisted document"))?;
        if let Some((id, title)) = row {
            found.push((id, item.url.clone(), title));
        }
    }
    Ok(found)
}

/// The diff stage's part of a listing ingestion: `delisted` for a live page that left the listing,
/// `restored` for a delisted page listed again.
fn diff_listing_events_in(
    tx: &Transaction<'_>,
    fetch: &ListingFetch<'_>,
    relisted: &[(i64, String, Option<String>)],
    outcome: &ListingOutcome,
) -> Result<()> {
    let now = fetch.log.at;
    for url in &outcome.delisted {
        let row: Option<(i64, Option<String>, String)> = query_row_cached(
            tx,
            "SELECT id, title, state FROM documents WHERE url = ?1",
            [url],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(sql("reading a document"))?;
        let Some((id, title, state)) = row else {
            continue;
        };
        // A page already taken down has its `gone` event; leaving the listing is no news then.
        if state != "live" {
            continue;
        }
        let draft = EventDraft::delisted(url, title.as_deref(), &fetch.log.url);
        insert_event(tx, Some(id), None, draft.kind.as_str(), now, &draft.payload)?;
    }
    for (id, url, title) in relisted {
        let draft = EventDraft::restored(url, title.as_deref(), "delisted");
        insert_event(
            tx,
            Some(*id),
            None,
            draft.kind.as_str(),
            now,
            &draft.payload,
        )?;
    }
    Ok(())
}

/// The document of a URL, created (due at once, no revision) if it is new. Returns (id, created).
/// A listing's date fills `briefing_date` until the page gives its own.
#[allow(clippy::too_many_arguments)]
fn upsert_document(
    tx: &Transaction<'_>,
    source: &str,
    lang: Lang,
    url: &str,
    title: Option<&str>,
    listed_date: Option<NaiveDate>,
    listed: bool,
    now: DateTime<Utc>,
) -> Result<(i64, bool)> {
    let existing: Option<i64> = query_row_cached(
        tx,
        "SELECT id FROM documents WHERE url = ?1",
        [url],
        |row| row.get(0),
    )
    .optional()
    .map_err(sql("finding a document"))?;
    if let Some(id) = existing {
        if listed {
            execute_cached(
                tx,
                "UPDATE documents SET listed = 1, title = COALESCE(title, ?2),
                        briefing_date = COALESCE(briefing_date, ?3) WHERE id = ?1",
                params![id, title, listed_date.map(|d| d.to_string())],
            )
            .map_err(sql("updating a document"))?;
        }
        return Ok((id, false));
    }
    execute_cached(
        tx,
        "INSERT INTO documents (source, url, lang, title, first_seen, next_check, listed, briefing_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
        params![
            source,
            url,
            lang.as_str(),
            title,
            format_time(now),
            listed,
            listed_date.map(|d| d.to_string())
        ],
    )
    .map_err(sql("creating a document"))?;
    Ok((tx.last_insert_rowid(), true))
}

fn ingest_article_in<'raw>(
    tx: &Transaction<'_>,
    fetch: &ArticleFetch<'raw>,
    content: Option<&Content>,
    record_context: &mut zstd::zstd_safe::CCtx<'raw>,
    gone_after: u32,
    suspects: Option<(Duration, &DictionaryCache)>,
) -> Result<IngestOutcome> {
    let now = fetch.log.at;
    insert_fetch_log(tx, &fetch.log, fetch.briefing)?;
    let log_id = tx.last_insert_rowid();
    let (document_id, _) = upsert_document(
        tx,
        fetch.source,
        fetch.lang,
        &fetch.log.url,
        None,
        None,
        false,
        now,
    )?;
    let mut outcome = IngestOutcome {
        document_id,
        ..IngestOutcome::default()
    };
    let (state, gone_count): (String, u32) = query_row_cached(
        tx,
        "SELECT state, gone_count FROM documents WHERE id = ?1",
        [document_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .map_err(sql("reading a document"))?;
    let previous: Option<(i64, i64, String)> = query_row_cached(tx,
            "SELECT id, seq, content_hash FROM revisions WHERE document_id = ?1 ORDER BY seq DESC LIMIT 1",
            [document_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(sql("reading the latest revision"))?;
    outcome.previous_revision = previous.as_ref().map(|(id, seq, _)| (*id, *seq));

    if let (Some((recheck, dictionaries)), Outcome::Ok, Some(briefing), Some(_)) =
        (suspects, fetch.log.outcome, fetch.briefing, fetch.raw)
    {
        let previous = previous.as_ref().map(|(id, _, hash)| (*id, hash.as_str()));
        let held = hold_suspect_in(tx, document_id, previous, briefing, dictionaries, now)?;
        if let Some(reason) = held {
            let held_until = now + chrono::Duration::from_std(recheck).unwrap_or_default();
            execute_cached(
                tx,
                "UPDATE fetch_log SET error = ?2 WHERE id = ?1",
                params![log_id, format!("held as suspect: {reason}")],
            )
            .map_err(sql("writing the fetch log"))?;
            // No validators: the check that confirms or clears the hold must see a full answer.
            execute_cached(
                tx,
                "UPDATE documents SET last_checked = ?2, next_check = MIN(?3, ?4), etag = NULL,
                        last_modified = NULL
                 WHERE id = ?1",
                params![
                    document_id,
                    format_time(now),
                    format_time(fetch.next_check),
                    format_time(held_until)
                ],
            )
            .map_err(sql("scheduling a suspect page"))?;
            outcome.held = Some(reason);
            return Ok(outcome);
        }
    }

    let found = match fetch.log.outcome {
        Outcome::Ok => fetch.briefing.is_some() && fetch.raw.is_some(),
        Outcome::NotModified => true,
        _ => false,
    };
    if found {
        if state == "gone" {
            let payload = serde_json::json!({ "url": fetch.log.url });
            outcome.events.push(insert_event(
                tx,
                Some(document_id),
                None,
                event_type::RESTORED,
                now,
                &payload,
            )?);
        }
        // Validators belong to the body they came with: a 200 replaces them (clearing those it
        // lacks); a 304 confirms the stored body and may omit them.
        let validators_sql = if fetch.log.outcome == Outcome::Ok {
            "UPDATE documents SET state = 'live', gone_count = 0, last_seen = ?2,
                    etag = ?3, last_modified = ?4
             WHERE id = ?1"
        } else {
            "UPDATE documents SET state = 'live', gone_count = 0, last_seen = ?2,
                    etag = COALESCE(?3, etag), last_modified = COALESCE(?4, last_modified)
             WHERE id = ?1"
        };
        execute_cached(
            tx,
            validators_sql,
            params![
                document_id,
                format_time(now),
                fetch.validators.etag,
                fetch.validators.last_modified
            ],
        )
        .map_err(sql("updating a document"))?;
    }

    if let (Outcome::Ok, Some(briefing), Some(raw)) = (fetch.log.outcome, fetch.briefing, fetch.raw)
    {
        let changed = previous
            .as_ref()
            .is_none_or(|(_, _, hash)| *hash != briefing.content_hash);
        if changed {
            let content = content.expect("content is prepared for every Ok page with a record");
            // A page that names no date takes its neighbours' on the listing.
            let dated = listing_dated(tx, fetch.source, &fetch.log.url, briefing)?;
            let dated_record =
                dated
                    .as_ref()
                    .map(serde_json::to_vec)
                    .transpose()
                    .map_err(|source| StoreError::Record {
                        revision_id: 0,
                        source,
                    })?;
            let briefing = dated.as_ref().unwrap_or(briefing);
            let record_json = dated_record.as_deref().unwrap_or(&content.record);
            let raw_hash = store_raw(tx, raw, &content.raw_dictionary)?;
            let seq = previous.as_ref().map_or(1, |(_, seq, _)| seq + 1);
            let record = compress_against(record_context, record_json, raw).map_err(|source| {
                StoreError::Compression {
                    what: "record",
                    source,
                }
            })?;
            execute_cached(
                tx,
                "INSERT INTO revisions (document_id, seq, fetched_at, content_hash, raw_hash, etag, last_modified,
                                        record, record_against_raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)",
                params![
                    document_id,
                    seq,
                    format_time(now),
                    briefing.content_hash,
                    raw_hash,
                    fetch.validators.etag,
                    fetch.validators.last_modified,
                    record,
                ],
            )
            .map_err(sql("writing a revision"))?;
            let revision_id = tx.last_insert_rowid();
            insert_texts(tx, revision_id, briefing)?;
            crate::web::search::index_revision(tx, revision_id, document_id, briefing)
                .map_err(sql("indexing a revision for search"))?;
            execute_cached(
                tx,
                "UPDATE documents SET kind = ?2, briefing_date = COALESCE(?3, briefing_date), title = ?4
                 WHERE id = ?1",
                params![
                    document_id,
                    briefing.kind.as_str(),
                    briefing.date.map(|d| d.to_string()),
                    briefing.title
                ],
            )
            .map_err(sql("updating a document"))?;
            outcome.new_revision = Some((revision_id, seq));
            let event = match &previous {
                None => insert_event(
                    tx,
                    Some(document_id),
                    Some(revision_id),
                    event_type::NEW,
                    now,
                    &serde_json::json!({ "seq": seq }),
                )?,
                Some((_, from_seq, _)) => insert_event(
                    tx,
                    Some(document_id),
                    Some(revision_id),
                    event_type::REVISED,
                    now,
                    &serde_json::json!({ "from_seq": from_seq, "to_seq": seq }),
                )?,
            };
            outcome.events.push(event);
        }
    }

    match fetch.log.outcome {
        Outcome::Gone | Outcome::SoftGone => {
            let count = gone_count + 1;
            execute_cached(
                tx,
                "UPDATE documents SET gone_count = ?2 WHERE id = ?1",
                params![document_id, count],
            )
            .map_err(sql("counting a gone answer"))?;
            if count >= gone_after && state != "gone" && previous.is_some() {
                execute_cached(
                    tx,
                    "UPDATE documents SET state = 'gone' WHERE id = ?1",
                    [document_id],
                )
                .map_err(sql("marking a document gone"))?;
                let payload = serde_json::json!({
                    "url": fetch.log.url,
                    "outcome": fetch.log.outcome.as_str(),
                    "status": fetch.log.status,
                    "consecutive": count,
                });
                outcome.events.push(insert_event(
                    tx,
                    Some(document_id),
                    None,
                    event_type::GONE,
                    now,
                    &payload,
                )?);
            }
        }
        Outcome::Unparseable => {
            let previous_outcome: Option<String> = query_row_cached(tx,
                    "SELECT outcome FROM fetch_log WHERE url = ?1 AND id < (SELECT MAX(id) FROM fetch_log WHERE url = ?1)
                     AND outcome IN ('ok', 'unparseable') ORDER BY id DESC LIMIT 1",
                    [&fetch.log.url],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sql("reading the fetch log"))?;
            if previous_outcome.as_deref() != Some("unparseable") {
                let payload = serde_json::json!({ "url": fetch.log.url, "error": fetch.log.error });
                outcome.events.push(insert_event(
                    tx,
                    Some(document_id),
                    None,
                    event_type::EXTRACTOR_FAILED,
                    now,
                    &payload,
                )?);
            }
        }
        _ => {}
    }

    execute_cached(
        tx,
        "UPDATE documents SET last_checked = ?2, next_check = ?3 WHERE id = ?1",
        params![document_id, format_time(now), format_time(fetch.next_check)],
    )
    .map_err(sql("scheduling a document"))?;
    Ok(outcome)
}

/// Decides whether a fetched version is held as suspect: it is when [`crate::suspect`] finds it
/// suspect and it is not the version already held (a second fetch agreeing confirms it). The
/// hold is written or cleared here; returns the reason when the version is held.
fn hold_suspect_in(
    tx: &Transaction<'_>,
    document_id: i64,
    previous: Option<(i64, &str)>,
    briefing: &Briefing,
    dictionaries: &DictionaryCache,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let held: Option<String> = query_row_cached(
        tx,
        "SELECT content_hash FROM suspects WHERE document_id = ?1",
        [document_id],
        |row| row.get(0),
    )
    .optional()
    .map_err(sql("reading a suspect version"))?;
    let changed = previous.is_none_or(|(_, hash)| hash != briefing.content_hash);
    let reason = if changed {
        // A record that cannot be read back leaves only the checks of the new version itself.
        let before = previous.and_then(|(id, _)| record_in(tx, dictionaries, id).ok());
        crate::suspect::suspect_reason(before.as_ref(), briefing)
    } else {
        None
    };
    match reason {
        Some(reason) if held.as_deref() != Some(briefing.content_hash.as_str()) => {
            execute_cached(
                tx,
                "INSERT INTO suspects (document_id, content_hash, reason, since)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(document_id) DO UPDATE SET content_hash = ?2, reason = ?3, since = ?4",
                params![document_id, briefing.content_hash, reason, format_time(now)],
            )
            .map_err(sql("holding a suspect version"))?;
            Ok(Some(reason))
        }
        _ => {
            if held.is_some() {
                execute_cached(
                    tx,
                    "DELETE FROM suspects WHERE document_id = ?1",
                    [document_id],
                )
                .map_err(sql("clearing a suspect version"))?;
            }
            Ok(None)
        }
    }
}

fn store_raw(tx: &Transaction<'_>, raw: &[u8], dictionary: &Dictionary) -> Result<String> {
    let hash = sha256_hex(raw);
    let exists: bool = query_row_cached(
        tx,
        "SELECT EXISTS (SELECT 1 FROM raw_blobs WHERE sha256 = ?1)",
        [&hash],
        |row| row.get(0),
    )
    .map_err(sql("finding a raw page"))?;
    if exists {
        return Ok(hash);
    }
    let error = |source| StoreError::Compression {
        what: "raw page",
        source,
    };
    let data = compress_with(raw, dictionary).map_err(error)?;
    execute_cached(
        tx,
        "INSERT INTO raw_blobs (sha256, size, dictionary_id, data) VALUES (?1, ?2, ?3, ?4)",
        params![hash, raw.len() as i64, dictionary.id, data],
    )
    .map_err(sql("writing a raw page"))?;
    Ok(hash)
}

/// A revision's text as plain rows: its title, date, spokesperson and opening in
/// `revision_texts`, each exchange with its text and hashes in `exchanges`.
fn insert_texts(tx: &Transaction<'_>, revision_id: i64, briefing: &Briefing) -> Result<()> {
    execute_cached(
        tx,
        "INSERT INTO revision_texts (revision_id, kind, title, date, published_at, spokesperson, opening)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            revision_id,
            briefing.kind.as_str(),
            briefing.title,
            briefing.date.map(|date| date.to_string()),
            briefing.published_at.map(|time| time.to_rfc3339()),
            briefing.spokesperson,
            briefing.opening.join("\n"),
        ],
    )
    .map_err(sql("writing a revision's text"))?;
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO exchanges (revision_id, ordinal, asker, question_hash, answer_hash,
                                    question_chars, answer_chars, after_conference, question, answer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(sql("writing exchanges"))?;
    for exchange in &briefing.exchanges {
        let chars = |paragraphs: &[String]| {
            paragraphs.iter().map(|p| p.chars().count()).sum::<usize>() as i64
        };
        stmt.execute(params![
            revision_id,
            exchange.ordinal,
            exchange.asker,
            hash64(&exchange.question),
            hash64(&exchange.answer),
            chars(&exchange.question),
            chars(&exchange.answer),
            exchange.after_conference,
            exchange.question.join("\n"),
            exchange.answer.join("\n"),
        ])
        .map_err(sql("writing exchanges"))?;
    }
    Ok(())
}

/// How far along the listing to look for a dated neighbour.
const NEIGHBOUR_REACH: usize = 5;

/// `briefing` dated from the archived items next to it on its source's listing (newest first),
/// when it has no date of its own; `None` when it has one or no neighbour is dated.
fn listing_dated(
    tx: &Transaction<'_>,
    source: &str,
    url: &str,
    briefing: &Briefing,
) -> Result<Option<Briefing>> {
    if briefing.date.is_some() {
        return Ok(None);
    }
    let mut statement = tx
        .prepare_cached("SELECT item_urls FROM listing_pages WHERE source = ?1 ORDER BY page")
        .map_err(sql("reading listing pages"))?;
    let pages = statement
        .query_map([source], |row| row.get::<_, String>(0))
        .map_err(sql("reading listing pages"))?;
    let mut items: Vec<String> = Vec::new();
    for page in pages {
        let page = page.map_err(sql("reading listing pages"))?;
        items.extend(serde_json::from_str::<Vec<String>>(&page).unwrap_or_default());
    }
    let Some(position) = items.iter().position(|item| item == url) else {
        return Ok(None);
    };
    let date_of = |item: &String| -> Result<Option<NaiveDate>> {
        let date: Option<String> = query_row_cached(
            tx,
            "SELECT briefing_date FROM documents WHERE url = ?1",
            [item],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading a neighbour's date"))?
        .flatten();
        Ok(date.and_then(|date| NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok()))
    };
    let mut newer = None;
    for item in items[..position].iter().rev().take(NEIGHBOUR_REACH) {
        if let Some(date) = date_of(item)? {
            newer = Some(date);
            break;
        }
    }
    let mut older = None;
    for item in items[position + 1..].iter().take(NEIGHBOUR_REACH) {
        if let Some(date) = date_of(item)? {
            older = Some(date);
            break;
        }
    }
    let evidence = crate::site::DateEvidence {
        published_at: briefing.published_at,
        newer_neighbour: newer,
        older_neighbour: older,
        ..Default::default()
    };
    let facts = crate::site::classify_title(&briefing.title, briefing.lang);
    Ok(
        crate::site::infer_date(&briefing.title, briefing.lang, &facts, &evidence).map(
            |(date, from)| Briefing {
                date: Some(date),
                date_from: Some(from),
                ..briefing.clone()
            },
        ),
    )
}

fn ingest_listing_in(tx: &Transaction<'_>, fetch: &ListingFetch<'_>) -> Result<ListingOutcome> {
    let now = fetch.log.at;
    insert_fetch_log(tx, &fetch.log, None)?;
    let url = &fetch.log.url;
    let previous_items: Option<String> = query_row_cached(
        tx,
        "SELECT item_urls FROM listing_pages WHERE url = ?1",
        [url],
        |row| row.get(0),
    )
    .optional()
    .map_err(sql("reading a listing page"))?;
    execute_cached(tx,
        "INSERT INTO listing_pages (url, source, page, last_checked, next_check) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(url) DO UPDATE SET last_checked = ?4, next_check = ?5",
        params![url, fetch.source, fetch.page, format_time(now), format_time(fetch.next_check)],
    )
    .map_err(sql("writing a listing page"))?;
    let mut outcome = ListingOutcome::default();
    if fetch.log.outcome == Outcome::NotModified {
        execute_cached(
            tx,
            "UPDATE listing_pages SET last_success = ?2 WHERE url = ?1",
            params![url, format_time(now)],
        )
        .map_err(sql("writing a listing page"))?;
    }
    let (Outcome::Ok, Some(listing)) = (fetch.log.outcome, fetch.listing) else {
        return Ok(outcome);
    };
    let current: Vec<String> = listing.items.iter().map(|item| item.url.clone()).collect();
    for item in &listing.items {
        let (_, created) = upsert_document(
            tx,
            fetch.source,
            fetch.lang,
            &item.url,
            Some(&item.title),
            item.date,
            true,
            now,
        )?;
        if created {
            outcome.new_documents.push(item.url.clone());
        }
    }
    if fetch.page == 0 {
        let previous: Vec<String> = previous_items
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let current_set: HashSet<&str> = current.iter().map(String::as_str).collect();
        // An item is removed, not pushed off the page, when an item listed below it is still there.
        let last_kept = previous
            .iter()
            .rposition(|url| current_set.contains(url.as_str()));
        if let Some(last_kept) = last_kept {
            for url in &previous[..last_kept] {
                if !current_set.contains(url.as_str()) {
                    execute_cached(
                        tx,
                        "UPDATE documents SET listed = 0, next_check = ?2 WHERE url = ?1",
                        params![url, format_time(now)],
                    )
                    .map_err(sql("marking a document delisted"))?;
                    outcome.delisted.push(url.clone());
                }
            }
        }
    }
    execute_cached(tx,
        "UPDATE listing_pages SET etag = ?2, last_modified = ?3, item_urls = ?4, page_count = ?5, last_success = ?6
         WHERE url = ?1",
        params![
            url,
            fetch.validators.etag,
            fetch.validators.last_modified,
            serde_json::to_string(&current).unwrap_or_else(|_| "[]".into()),
            listing.page_count,
            format_time(now)
        ],
    )
    .map_err(sql("writing a listing page"))?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exchange, ListingItem};

    fn at(hour: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2020-07-04T{hour:02}:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn briefing(url: &str, answer: &str) -> Briefing {
        let exchange = Exchange {
            ordinal: 1,
            asker: "CCTV".into(),
            question: vec!["A question?".into()],
            answer: vec![answer.into()],
            after_conference: false,
        };
        Briefing {
            url: url.into(),
            lang: Lang::En,
            kind: Kind::PressConference,
            title: "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020".into(),
            date: NaiveDate::from_ymd_opt(2020, 7, 3),
            published_at: None,
            spokesperson: Some("Zhao Lijian".into()),
            opening: vec![],
            content_hash: sha256_hex(answer.as_bytes()),
            found_by: None,
            selector: None,
            date_from: None,
            exchanges: vec![exchange],
        }
    }

    fn log(url: &str, outcome: Outcome, status: u16, now: DateTime<Utc>) -> FetchRecord {
        FetchRecord {
            at: now,
            source: Some("en".into()),
            url: url.into(),
            page: PageKind::Article,
            status: Some(status),
            outcome,
            bytes: 10,
            duration: Duration::from_millis(5),
            attempts: 1,
            error: None,
        }
    }

    fn ingest(
        store: &mut Store,
        url: &str,
        outcome: Outcome,
        status: u16,
        content: Option<(&Briefing, &[u8])>,
        now: DateTime<Utc>,
    ) -> IngestOutcome {
        store
            .ingest_article(&ArticleFetch {
                source: "en",
                lang: Lang::En,
                log: log(url, outcome, status, now),
                raw: content.map(|(_, raw)| raw),
                validators: Validators {
                    etag: Some("\"e1\"".into()),
                    last_modified: None,
                },
                briefing: content.map(|(briefing, _)| briefing),
                next_check: now + chrono::Duration::hours(1),
            })
            .unwrap()
    }

    const URL: &str = "https://www.fmprc.gov.cn/mfa_eng/t1.shtml";

    fn kinds(store: &Store) -> Vec<String> {
        let mut events = store
            .events(&EventQuery {
                limit: 100,
                ..EventQuery::default()
            })
            .unwrap();
        events.reverse();
        events.into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn revision_only_when_content_changes() {
        let mut store = Store::open_in_memory().unwrap();
        let first = briefing(URL, "Answer one.");
        let raw = b"<html>one</html>".as_slice();
        let outcome = ingest(
            &mut store,
            URL,
            Outcome::Ok,
            200,
            Some((&first, raw)),
            at(1),
        );
        assert_eq!(outcome.new_revision.map(|(_, seq)| seq), Some(1));
        let again = ingest(
            &mut store,
            URL,
            Outcome::Ok,
            200,
            Some((&first, b"<html>one, new ad</html>")),
            at(2),
        );
        assert_eq!(again.new_revision, None);
        ingest(&mut store, URL, Outcome::NotModified, 304, None, at(3));
        let second = briefing(URL, "Answer one, edited.");
        let edited = ingest(
            &mut store,
            URL,
            Outcome::Ok,
            200,
            Some((&second, b"<html>two</html>")),
            at(4),
        );
        assert_eq!(edited.new_revision.map(|(_, seq)| seq), Some(2));
        assert_eq!(edited.previous_revision.map(|(_, seq)| seq), Some(1));

        let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
        assert_eq!(document.revisions, 2);
        assert_eq!(document.briefing_date, NaiveDate::from_ymd_opt(2020, 7, 3));
        let latest = store.latest_revision(document.id).unwrap().unwrap();
        assert_eq!(latest.briefing, second);
        assert_eq!(
            store.revision(document.id, 1).unwrap().unwrap().briefing,
            first
        );
        assert_eq!(
            store.raw_bytes(&latest.meta.raw_hash).unwrap().unwrap(),
            b"<html>two</html>"
        );
        assert_eq!(kinds(&store), ["new", "revised"]);
        let revised = &store
            .events(&EventQuery {
                limit: 1,
                ..EventQuery::default()
            })
            .unwrap()[0];
        // The diff stage adds the structured change beside the archive's seqs.
        assert_eq!(revised.payload["from_seq"], 1);
        assert_eq!(revised.payload["to_seq"], 2);
        assert_eq!(revised.payload["significance"], "minor");
        assert_eq!(
            revised.payload["change"]["exchanges"][0]["kind"],
            "reworded"
        );
        let logged: i64 = store
            .connection()
            .query_row("SELECT COUNT(*) FROM fetch_log", [], |row| row.get(0))
            .unwrap();
        assert_eq!(logged, 4);
    }

    /// Records are compressed against their raw page; a record that repeats the page's text
    /// costs a small part of what it would alone, and records stored the earlier way (with a
    /// per-source record dictionary) still read back.
    #[test]
    fn records_compress_against_their_page_and_older_records_still_read() {
        let mut store = Store::open_in_memory().unwrap();
        let raw = include_str!("../tests/fixtures/pages/zh-2020/t1731219.shtml");
        let url = "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1731219.shtml";
        let record = crate::site::Profile::builtin("mfa-zh")
            .unwrap()
            .parse_article(raw, url)
            .unwrap();
        ingest(
            &mut store,
            url,
            Outcome::Ok,
            200,
            Some((&record, raw.as_bytes())),
            at(1),
        );
        let json = serde_json::to_vec(&record).unwrap();
        let (stored, against_raw): (Vec<u8>, bool) = store
            .connection()
            .query_row(
                "SELECT record, record_against_raw FROM revisions",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert!(against_raw);
        let alone = zstd::bulk::compress(&json, RECORD_LEVEL).unwrap();
        assert!(
            stored.len() * 2 < alone.len(),
            "{} bytes against the page, {} alone",
            stored.len(),
            alone.len()
        );

        let dictionary =
            br#"{"url":"https://www.fmprc.gov.cn/","lang":"en","kind":"press_conference"}"#;
        let old_format = zstd::bulk::Compressor::with_dictionary(9, dictionary)
            .unwrap()
            .compress(&json)
            .unwrap();
        let conn = store.connection();
        conn.execute(
            "INSERT INTO zstd_dictionaries (name, content) VALUES ('record:en', ?1)",
            [zstd::bulk::compress(dictionary, 3).unwrap()],
        )
        .unwrap();
        conn.execute(
            "UPDATE revisions SET record = ?1, record_against_raw = 0, record_dictionary_id = ?2",
            params![old_format, conn.last_insert_rowid()],
        )
        .unwrap();
        let document = store.document(DocumentKey::Url(url)).unwrap().unwrap();
        let latest = store.latest_revision(document.id).unwrap().unwrap();
        assert_eq!(latest.briefing, record);
        assert_eq!(
            record_in(
                store.connection(),
                &DictionaryCache::default(),
                latest.meta.id
            )
            .unwrap(),
            record
        );
    }

    #[test]
    fn failures_never_make_revisions_and_gone_needs_two_in_a_row() {
        let mut store = Store::open_in_memory().unwrap();
        let first = briefing(URL, "Answer one.");
        ingest(
            &mut store,
            URL,
            Outcome::Ok,
            200,
            Some((&first, b"<p>1</p>")),
            at(1),
        );
        for (outcome, status) in [
            (Outcome::Transient, 500),
            (Outcome::Blocked, 412),
            (Outcome::Unparseable, 200),
            (Outcome::Unparseable, 200),
            (Outcome::SoftGone, 302),
            (Outcome::Transient, 503),
        ] {
            ingest(&mut store, URL, outcome, status, None, at(2));
        }
        let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
        assert_eq!((document.revisions, document.state.as_str()), (1, "live"));
        assert_eq!(kinds(&store), ["new", "extractor_failed"]);

        ingest(&mut store, URL, Outcome::Gone, 404, None, at(3));
        let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
        assert_eq!(document.state, "gone");
        ingest(&mut store, URL, Outcome::Gone, 404, None, at(4));
        ingest(
            &mut store,
            URL,
            Outcome::Ok,
            200,
            Some((&first, b"<p>1</p>")),
            at(5),
        );
        let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
        assert_eq!((document.revisions, document.state.as_str()), (1, "live"));
        assert_eq!(
            kinds(&store),
            ["new", "extractor_failed", "gone", "restored"]
        );
    }

    #[test]
    fn listing_creates_due_documents_and_notices_removed_items() {
        let mut store = Store::open_in_memory().unwrap();
        let listing = |urls: &[&str]| Listing {
            items: urls
                .iter()
                .map(|url| ListingItem {
                    url: url.to_string(),
                    title: format!("title of {url}"),
                    date: None,
                })
                .collect(),
            page_count: Some(3),
        };
        let mut ingest_listing = |listing: &Listing, now| {
            store
                .ingest_listing(&ListingFetch {
                    source: "en",
                    lang: Lang::En,
                    page: 0,
                    log: FetchRecord {
                        page: PageKind::Listing,
                        ..log("https://x/default.shtml", Outcome::Ok, 200, now)
                    },
                    validators: Validators::default(),
                    listing: Some(listing),
                    next_check: now,
                })
                .unwrap()
        };
        let first = ingest_listing(&listing(&["u/c", "u/b", "u/a"]), at(1));
        assert_eq!(first.new_documents, ["u/c", "u/b", "u/a"]);
        // A new item pushes "u/a" off the page: not a removal.
        let second = ingest_listing(&listing(&["u/d", "u/c", "u/b"]), at(2));
        assert_eq!(
            (second.new_documents, second.delisted),
            (vec!["u/d".to_string()], vec![])
        );
        // "u/c" vanishes while "u/b" below it stays: removed.
        let third = ingest_listing(&listing(&["u/d", "u/b"]), at(3));
        assert_eq!(third.delisted, ["u/c"]);
        let due = store.due_documents(at(3), 10).unwrap();
        assert_eq!(due.len(), 4);
        assert!(due.iter().all(|d| !d.has_revision));
        let state = store
            .listing_state("https://x/default.shtml")
            .unwrap()
            .unwrap();
        assert_eq!(state.item_urls, ["u/d", "u/b"]);
        assert_eq!(state.page_count, Some(3));
    }

    #[test]
    fn blocked_host_is_reported_once() {
        let mut store = Store::open_in_memory().unwrap();
        let until = at(9);
        assert!(
            store
                .set_host_blocked("h", Some(until), "http://h/a", at(1))
                .unwrap()
        );
        assert!(
            !store
                .set_host_blocked("h", Some(until), "http://h/b", at(2))
                .unwrap()
        );
        assert_eq!(kinds(&store), ["blocked"]);
        assert_eq!(store.host_state("h").unwrap().blocked_until, Some(until));
        assert_eq!(store.blocked_hosts(at(2)).unwrap().len(), 1);
        assert!(store.blocked_hosts(at(10)).unwrap().is_empty());
    }

    #[test]
    fn file_database_uses_wal_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            let mut store = Store::open(&path).unwrap();
            ingest(
                &mut store,
                URL,
                Outcome::Ok,
                200,
                Some((&briefing(URL, "A."), b"<p>A</p>")),
                at(1),
            );
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
