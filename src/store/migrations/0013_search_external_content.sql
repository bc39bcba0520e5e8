-- Full-text search reads the archive's own text: two FTS5 indexes with external content, one
-- over the exchanges (question, answer), one over each revision's own text (title, opening). Their
-- tokenizer is named as SQLite's own, so that any SQLite client opens the archive; the store
-- registers its own under that name on every connection it opens (each Han character a token: see
-- `store/tokenizer.rs`). They replace the contentless index and its row-id spans; the migration's
-- hook builds the index from the text rows.

DROP TABLE exchange_search;
DROP TABLE search_spans;

-- An exchange's row id in its index: its revision and its ordinal in one integer, so that a match
-- names its exchange without a lookup. Ordinals stay below 65536: a page of more than 100,000
-- elements is not parsed.
ALTER TABLE exchanges ADD COLUMN search_rowid INTEGER
    GENERATED ALWAYS AS (revision_id * 65536 + ordinal) VIRTUAL;
CREATE UNIQUE INDEX exchanges_search_rowid ON exchanges(search_rowid);

CREATE VIRTUAL TABLE exchange_search USING fts5(
    question, answer,
    content='exchanges', content_rowid='search_rowid', columnsize=0, tokenize='porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE text_search USING fts5(
    title, opening,
    content='revision_texts', content_rowid='revision_id', columnsize=0, tokenize='porter unicode61 remove_diacritics 2'
);
-- Segments are merged once eight of a size have piled up, not four: less work per ingest, for a
-- few more segments for a search to read.
INSERT INTO exchange_search(exchange_search, rank) VALUES ('automerge', 8);
INSERT INTO text_search(text_search, rank) VALUES ('automerge', 8);
