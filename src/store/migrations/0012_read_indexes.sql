-- Indexes for the readers of a large archive.
--
-- The operator's page lists the latest extractor failures (without an index, a scan of every
-- event when there are none) and the pages taken down (a scan of every document), and counts
-- each source's documents by state (a read of every document); the revisions feed and the API
-- filter events by type.
CREATE INDEX events_type ON events(type, id);
CREATE INDEX documents_state ON documents(state, briefing_date);
CREATE INDEX documents_source_state ON documents(source, state);

-- The briefing list counts and pages through the documents by date, language, kind and
-- spokesperson: this index holds all four, so neither reads the documents themselves.
CREATE INDEX documents_listing ON documents(briefing_date, lang, kind, spokesperson);

-- The feeds date every document by its latest revision: when it was fetched and the dates its
-- page gives. These two indexes hold those columns, so the feeds read them without the records
-- and texts around them.
CREATE INDEX revisions_fetched ON revisions(document_id, seq, fetched_at);
CREATE INDEX revision_texts_dates ON revision_texts(revision_id, kind, date, published_at);
