-- The text rows become the only copy of each revision's extracted briefing: `revision_texts`
-- takes what only the record held. The migration's hook fills these columns from each record,
-- checks that the briefing read back from the rows equals the record, and only then drops the
-- records.

-- How the transcript was found (`selector` or `fallback`), the body selector that found it, and
-- where the briefing date came from (`title`, `published_at`, `listing`, `neighbours`).
ALTER TABLE revision_texts ADD COLUMN found_by TEXT;
ALTER TABLE revision_texts ADD COLUMN selector TEXT;
ALTER TABLE revision_texts ADD COLUMN date_from TEXT;
-- The briefing's URL and language when they are not its document's (NULL when they are).
ALTER TABLE revision_texts ADD COLUMN url TEXT;
ALTER TABLE revision_texts ADD COLUMN lang TEXT;
