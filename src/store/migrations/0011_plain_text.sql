-- Every text of every revision as plain SQL rows, and views for reading the archive with any
-- SQLite client (the `sqlite3` shell, Datasette, pandas). The migration's hook fills the text of
-- revisions stored before from their records.

-- Each exchange's text beside its hashes: paragraphs joined by a newline.
ALTER TABLE exchanges ADD COLUMN question TEXT NOT NULL DEFAULT '';
ALTER TABLE exchanges ADD COLUMN answer TEXT NOT NULL DEFAULT '';

-- A revision's text outside its exchanges, as extracted from its page.
CREATE TABLE revision_texts (
    revision_id INTEGER PRIMARY KEY REFERENCES revisions(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    published_at TEXT,
    spokesperson TEXT,
    -- Opening remarks (or the whole body of a statement), paragraphs joined by a newline.
    opening TEXT NOT NULL
);

-- The latest revision of every document: the one with the highest sequence number. Its `date` is
-- the briefing date the archive holds for the document (the latest one a revision gave), which
-- the index on documents finds at once.
CREATE VIEW latest_briefings AS
SELECT d.url, d.lang, t.kind, d.briefing_date AS date, t.spokesperson, t.title, r.seq AS revision,
       r.fetched_at, t.published_at, t.opening, d.state
FROM documents d
JOIN revisions r ON r.document_id = d.id
 AND r.seq = (SELECT MAX(seq) FROM revisions WHERE document_id = d.id)
JOIN revision_texts t ON t.revision_id = r.id;

-- Every exchange of the latest revision of every document.
CREATE VIEW latest_exchanges AS
SELECT d.url, d.lang, d.briefing_date AS date, t.spokesperson, t.title, r.seq AS revision,
       e.ordinal, e.asker, e.question, e.answer, e.after_conference
FROM documents d
JOIN revisions r ON r.document_id = d.id
 AND r.seq = (SELECT MAX(seq) FROM revisions WHERE document_id = d.id)
JOIN revision_texts t ON t.revision_id = r.id
JOIN exchanges e ON e.revision_id = r.id;

-- Every revision with when it was fetched and how much the edit mattered (`cosmetic`, `minor`,
-- `substantive`; NULL for a first revision).
CREATE VIEW revisions_view AS
SELECT d.url, d.lang, r.seq, r.fetched_at, r.content_hash, r.raw_hash,
       (SELECT json_extract(v.payload, '$.significance') FROM events v
        WHERE v.revision_id = r.id AND v.type = 'revised') AS significance,
       t.date, t.title,
       (SELECT COUNT(*) FROM exchanges e WHERE e.revision_id = r.id) AS exchanges
FROM revisions r
JOIN documents d ON d.id = r.document_id
LEFT JOIN revision_texts t ON t.revision_id = r.id;

-- Every event with its document and revision, the payload as JSON.
CREATE VIEW events_view AS
SELECT v.id, v.type, v.created_at, d.url, d.lang, r.seq, json(v.payload) AS payload
FROM events v
LEFT JOIN documents d ON d.id = v.document_id
LEFT JOIN revisions r ON r.id = v.revision_id;
