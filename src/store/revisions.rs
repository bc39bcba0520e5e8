//! The `revisions` table and the texts of each revision (`revision_texts`, `exchanges`): every
//! version of a page that differed from the one before, with its extracted briefing, which is
//! read back from those rows.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::raw_pages::{raw_bytes_in, store_raw};
use super::{
    Result, Store, StoreError, Tx, execute_cached, format_time, hash64, query_all,
    query_row_cached, sql,
};
use crate::model::{Briefing, DateFrom, Exchange, FoundBy, Kind, Lang, Validators};

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

impl Store {
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
        let found: Option<RevisionMeta> = self
            .conn
            .query_row(
                &format!("{REVISION_COLUMNS} FROM revisions WHERE {condition}"),
                params,
                revision_meta_from_row,
            )
            .optional()
            .map_err(sql("reading a revision"))?;
        let Some(meta) = found else {
            return Ok(None);
        };
        let briefing = briefing_in(&self.conn, meta.id)?;
        Ok(Some(Revision { meta, briefing }))
    }

    /// The raw page bytes stored under a SHA-256.
    pub fn raw_bytes(&self, raw_hash: &str) -> Result<Option<Vec<u8>>> {
        raw_bytes_in(&self.conn, raw_hash, &self.dictionaries_by_id)
    }
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

/// The extracted briefing of a revision, read back from its text rows (on any connection or
/// inside a transaction): the document's URL and language unless the revision names its own,
/// its text in `revision_texts`, its exchanges in order.
pub(super) fn briefing_in(conn: &Connection, revision_id: i64) -> Result<Briefing> {
    let bad = |what: &'static str, value: &str| StoreError::BadText {
        revision_id,
        what,
        value: value.to_string(),
    };
    type TextRow = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        [Option<String>; 3],
    );
    let row: Option<TextRow> = query_row_cached(
        conn,
        "SELECT COALESCE(t.url, d.url), COALESCE(t.lang, d.lang), t.kind, t.title, t.date,
                t.published_at, t.spokesperson, t.opening, r.content_hash,
                t.found_by, t.selector, t.date_from
         FROM revisions r
         JOIN documents d ON d.id = r.document_id
         JOIN revision_texts t ON t.revision_id = r.id
         WHERE r.id = ?1",
        [revision_id],
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
                row.get(8)?,
                [row.get(9)?, row.get(10)?, row.get(11)?],
            ))
        },
    )
    .optional()
    .map_err(sql("reading a revision's text"))?;
    let Some((
        url,
        lang,
        kind,
        title,
        date,
        published_at,
        spokesperson,
        opening,
        content_hash,
        [found_by, selector, date_from],
    )) = row
    else {
        return Err(StoreError::NotFound {
            what: "text of revision",
            key: revision_id.to_string(),
        });
    };
    let exchanges = query_all(
        conn,
        "SELECT ordinal, asker, question, answer, after_conference FROM exchanges
         WHERE revision_id = ?1 ORDER BY ordinal",
        [revision_id],
        |row| {
            Ok(Exchange {
                ordinal: row.get(0)?,
                asker: row.get(1)?,
                question: paragraphs(&row.get::<_, String>(2)?),
                answer: paragraphs(&row.get::<_, String>(3)?),
                after_conference: row.get(4)?,
            })
        },
        "reading a revision's exchanges",
    )?;
    Ok(Briefing {
        lang: Lang::parse(&lang).ok_or_else(|| bad("language", &lang))?,
        kind: Kind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        url,
        title,
        date: date
            .map(|date| date.parse::<NaiveDate>().map_err(|_| bad("date", &date)))
            .transpose()?,
        published_at: published_at
            .map(|time| {
                DateTime::parse_from_rfc3339(&time).map_err(|_| bad("publication time", &time))
            })
            .transpose()?,
        spokesperson,
        opening: paragraphs(&opening),
        exchanges,
        content_hash,
        found_by: found_by
            .map(|found| FoundBy::parse(&found).ok_or_else(|| bad("found_by", &found)))
            .transpose()?,
        selector,
        date_from: date_from
            .map(|from| DateFrom::parse(&from).ok_or_else(|| bad("date_from", &from)))
            .transpose()?,
    })
}

/// Paragraphs as the text rows hold them: joined by a newline. Extracted paragraphs are
/// normalized (never empty, never holding a line break), so the join is undone exactly;
/// [`insert_texts`] refuses any other paragraph rather than store it changed.
fn joined(revision_id: i64, paragraphs: &[String]) -> Result<String> {
    if let Some(paragraph) = paragraphs
        .iter()
        .find(|paragraph| paragraph.is_empty() || paragraph.contains('\n'))
    {
        return Err(StoreError::BadText {
            revision_id,
            what: "paragraph (empty or holding a line break)",
            value: paragraph.clone(),
        });
    }
    Ok(paragraphs.join("\n"))
}

/// The inverse of [`joined`].
fn paragraphs(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').map(str::to_string).collect()
    }
}

/// What only the extraction knows of a revision, beside its text: how the transcript was found,
/// where its date came from, and its URL and language when they are not its document's.
pub(super) fn write_extraction(
    tx: &Connection,
    revision_id: i64,
    briefing: &Briefing,
) -> Result<()> {
    execute_cached(
        tx,
        "UPDATE revision_texts
         SET found_by = ?2, selector = ?3, date_from = ?4,
             url = NULLIF(?5, (SELECT d.url FROM revisions r JOIN documents d ON d.id = r.document_id
                               WHERE r.id = ?1)),
             lang = NULLIF(?6, (SELECT d.lang FROM revisions r JOIN documents d ON d.id = r.document_id
                                WHERE r.id = ?1))
         WHERE revision_id = ?1",
        params![
            revision_id,
            briefing.found_by.map(FoundBy::as_str),
            briefing.selector,
            briefing.date_from.map(DateFrom::as_str),
            briefing.url,
            briefing.lang.as_str(),
        ],
    )
    .map_err(sql("writing a revision's extraction"))?;
    Ok(())
}

/// A revision's text as plain rows: its title, date, spokesperson and opening in
/// `revision_texts`, each exchange with its text and hashes in `exchanges`.
pub(super) fn insert_texts(tx: &Connection, revision_id: i64, briefing: &Briefing) -> Result<()> {
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
            joined(revision_id, &briefing.opening)?,
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
            joined(revision_id, &exchange.question)?,
            joined(revision_id, &exchange.answer)?,
        ])
        .map_err(sql("writing exchanges"))?;
    }
    Ok(())
}

/// What the ingest pipeline reads of a document's latest revision before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionHead {
    pub id: i64,
    pub seq: i64,
    pub content_hash: String,
}

/// A revision to write.
#[derive(Debug, Clone)]
pub struct NewRevision<'a> {
    pub document_id: i64,
    pub seq: i64,
    pub fetched_at: DateTime<Utc>,
    /// The source whose compression dictionary the raw page uses.
    pub source: &'a str,
    pub briefing: &'a Briefing,
    pub validators: &'a Validators,
}

impl<'s> Tx<'s> {
    /// The id, seq and content hash of a document's latest revision.
    pub fn latest_revision_head(&self, document_id: i64) -> Result<Option<RevisionHead>> {
        query_row_cached(
            &self.tx,
            "SELECT id, seq, content_hash FROM revisions WHERE document_id = ?1 ORDER BY seq DESC LIMIT 1",
            [document_id],
            |row| {
                Ok(RevisionHead {
                    id: row.get(0)?,
                    seq: row.get(1)?,
                    content_hash: row.get(2)?,
                })
            },
        )
        .optional()
        .map_err(sql("reading the latest revision"))
    }

    /// The extracted briefing of a revision, read from its text rows.
    pub fn record(&self, revision_id: i64) -> Result<Briefing> {
        briefing_in(&self.tx, revision_id)
    }

    /// Writes a revision: its raw page (once per content), its plain texts (the only copy of its
    /// extracted briefing) and its search index rows; the document takes its kind, date and
    /// title. Returns the revision's id.
    pub fn insert_revision(&mut self, new: &NewRevision<'_>, raw: &[u8]) -> Result<i64> {
        let dictionary = self.dictionary_for(&format!("raw:{}", new.source), raw)?;
        let raw_hash = store_raw(&self.tx, raw, &dictionary)?;
        let tx = &self.tx;
        let briefing = new.briefing;
        execute_cached(
            tx,
            "INSERT INTO revisions (document_id, seq, fetched_at, content_hash, raw_hash, etag, last_modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                new.document_id,
                new.seq,
                format_time(new.fetched_at),
                briefing.content_hash,
                raw_hash,
                new.validators.etag,
                new.validators.last_modified,
            ],
        )
        .map_err(sql("writing a revision"))?;
        let revision_id = tx.last_insert_rowid();
        insert_texts(tx, revision_id, briefing)?;
        write_extraction(tx, revision_id, briefing)?;
        super::search::index_revision(tx, revision_id, new.document_id, briefing)
            .map_err(sql("indexing a revision for search"))?;
        execute_cached(
            tx,
            "UPDATE documents SET kind = ?2, briefing_date = COALESCE(?3, briefing_date), title = ?4
             WHERE id = ?1",
            params![
                new.document_id,
                briefing.kind.as_str(),
                briefing.date.map(|d| d.to_string()),
                briefing.title
            ],
        )
        .map_err(sql("updating a document"))?;
        Ok(revision_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DocumentKey;

    /// A briefing with every field set reads back from the text rows as it was written, its
    /// publication time with its offset; one whose paragraph holds a line break is refused
    /// rather than stored split.
    #[test]
    fn every_field_of_a_briefing_reads_back_from_the_rows() {
        let mut store = Store::open_in_memory().unwrap();
        let url = "https://www.fmprc.gov.cn/mfa_eng/t1.shtml";
        let record = crate::model::Briefing {
            url: "https://www.fmprc.gov.cn/mfa_eng/t1_moved.shtml".into(),
            lang: crate::model::Lang::En,
            kind: crate::model::Kind::PressConference,
            title: "Regular Press Conference on July 3, 2020".into(),
            date: "2020-07-03".parse().ok(),
            published_at: DateTime::parse_from_rfc3339("2020-07-03T21:37:05.250+08:00").ok(),
            spokesperson: Some("Zhao Lijian".into()),
            opening: vec!["First announcement.".into(), "Second announcement.".into()],
            exchanges: vec![
                crate::model::Exchange {
                    ordinal: 1,
                    asker: "AFP".into(),
                    question: vec!["A question?".into(), "A follow-up?".into()],
                    answer: vec!["An answer.".into()],
                    after_conference: false,
                },
                crate::model::Exchange {
                    ordinal: 2,
                    asker: "Q".into(),
                    question: vec!["Raised after?".into()],
                    answer: vec![],
                    after_conference: true,
                },
            ],
            content_hash: "h".into(),
            found_by: Some(FoundBy::Selector),
            selector: Some("div.content".into()),
            date_from: Some(DateFrom::PublishedAt),
        };
        super::super::store_page(&mut store, url, &record, b"<p>A question?</p>");
        let document = store.document(DocumentKey::Url(url)).unwrap().unwrap();
        let read = store
            .latest_revision(document.id)
            .unwrap()
            .unwrap()
            .briefing;
        assert_eq!(read, record);
        assert_eq!(
            read.published_at.map(|time| time.to_rfc3339()),
            record.published_at.map(|time| time.to_rfc3339())
        );

        let mut split = record.clone();
        split.exchanges[0].answer = vec!["Two lines\nin one paragraph.".into()];
        let mut tx = store.transaction().unwrap();
        let error = tx
            .insert_revision(
                &NewRevision {
                    document_id: document.id,
                    seq: 2,
                    fetched_at: chrono::Utc::now(),
                    source: "en",
                    briefing: &split,
                    validators: &Validators::default(),
                },
                b"<p>other</p>",
            )
            .unwrap_err();
        assert!(
            error.to_string().contains("line break") && error.to_string().contains("Two lines"),
            "{error}"
        );
    }

    /// A dictionary created by a transaction that rolls back is forgotten by the read cache: the
    /// next dictionary may take its id, with other content.
    #[test]
    fn a_rolled_back_dictionary_is_not_read_again() {
        let mut store = Store::open_in_memory().unwrap();
        let now = chrono::Utc::now();
        let briefing = |answer: &str| crate::model::Briefing {
            url: "https://www.fmprc.gov.cn/mfa_eng/t1.shtml".into(),
            lang: crate::model::Lang::En,
            kind: crate::model::Kind::PressConference,
            title: "Regular Press Conference".into(),
            date: None,
            published_at: None,
            spokesperson: None,
            opening: vec![],
            exchanges: vec![crate::model::Exchange {
                ordinal: 1,
                asker: "AFP".into(),
                question: vec!["A question?".into()],
                answer: vec![answer.into()],
                after_conference: false,
            }],
            content_hash: answer.into(),
            found_by: None,
            selector: None,
            date_from: None,
        };
        let write = |store: &mut Store,
                     page: &'static [u8],
                     record: &crate::model::Briefing,
                     commit: bool| {
            let mut tx = store.transaction().unwrap();
            let (document_id, _) = tx
                .ensure_document(&crate::store::NewDocument {
                    source: "en",
                    lang: record.lang,
                    url: &record.url,
                    title: None,
                    listed_date: None,
                    listed: false,
                    now,
                })
                .unwrap();
            let revision_id = tx
                .insert_revision(
                    &NewRevision {
                        document_id,
                        seq: 1,
                        fetched_at: now,
                        source: "en",
                        briefing: record,
                        validators: &Validators::default(),
                    },
                    page,
                )
                .unwrap();
            assert_eq!(&tx.record(revision_id).unwrap(), record);
            if commit {
                tx.commit().unwrap();
            }
            revision_id
        };
        // Pages of varied text, each its own dictionary's sample.
        let page = |mut seed: u64| -> &'static [u8] {
            let text: String = (0..4000)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (b'a' + ((seed >> 33) % 26) as u8) as char
                })
                .collect();
            Box::leak(
                format!("<html>{text}</html>")
                    .into_bytes()
                    .into_boxed_slice(),
            )
        };
        let first = briefing("The first page's answer.");
        write(&mut store, page(1), &first, false);
        let second = briefing("The second page's answer.");
        let kept = write(&mut store, page(2), &second, true);
        let revision = store.revision_by_id(kept).unwrap().unwrap();
        assert_eq!(revision.briefing, second);
        assert_eq!(
            store.raw_bytes(&revision.meta.raw_hash).unwrap().unwrap(),
            page(2)
        );
    }
}
