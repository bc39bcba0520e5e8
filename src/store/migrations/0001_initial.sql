-- The archive as first released: documents, revisions with their raw pages, events, the fetch log,
-- listing pages and hosts.
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
