//! The `revisions` table and the texts of each revision (`revision_texts`, `exchanges`): every
//! version of a page that differed from the one before, with its extracted record.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::raw_pages::{compress_against, decompress, decompress_against, raw_bytes_in, store_raw};
use super::{
    DictionaryCache, Result, Store, StoreError, Tx, execute_cached, format_time, hash64, query_all,
    query_row_cached, sql,
};
use crate::model::{Briefing, Validators};

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

/// The extracted record of a revision, read on any connection or inside a transaction (a
/// migration writes the text rows of stored revisions from it).
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

    /// The extracted record of a revision.
    pub fn record(&self, revision_id: i64) -> Result<Briefing> {
        record_in(&self.tx, self.read_dictionaries, revision_id)
    }

    /// Writes a revision: its raw page (once per content), its record (compressed against the
    /// page), its plain texts and its search index rows; the document takes its kind, date and
    /// title. Returns the revision's id.
    pub fn insert_revision(&mut self, new: &NewRevision<'_>, raw: &'s [u8]) -> Result<i64> {
        let record = serde_json::to_vec(new.briefing).map_err(|source| StoreError::Record {
            revision_id: 0,
            source,
        })?;
        let dictionary = self.dictionary_for(&format!("raw:{}", new.source), raw)?;
        let raw_hash = store_raw(&self.tx, raw, &dictionary)?;
        let record =
            compress_against(&mut self.record_context, &record, raw).map_err(|source| {
                StoreError::Compression {
                    what: "record",
                    source,
                }
            })?;
        let tx = &self.tx;
        let briefing = new.briefing;
        execute_cached(
            tx,
            "INSERT INTO revisions (document_id, seq, fetched_at, content_hash, raw_hash, etag, last_modified,
                                    record, record_against_raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)",
            params![
                new.document_id,
                new.seq,
                format_time(new.fetched_at),
                briefing.content_hash,
                raw_hash,
                new.validators.etag,
                new.validators.last_modified,
                record,
            ],
        )
        .map_err(sql("writing a revision"))?;
        let revision_id = tx.last_insert_rowid();
        insert_texts(tx, revision_id, briefing)?;
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
    use rusqlite::params;

    use super::super::raw_pages::RECORD_LEVEL;
    use super::*;
    use crate::store::DocumentKey;

    #[test]
    fn records_compress_against_their_page_and_older_records_still_read() {
        let mut store = Store::open_in_memory().unwrap();
        let url = "https://www.fmprc.gov.cn/mfa_eng/t1.shtml";
        // A page whose exchanges are varied text, which compresses poorly on its own.
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut sentence = || -> String {
            (0..40)
                .map(|_| {
                    let length = 3 + next() % 7;
                    (0..length)
                        .map(|_| (b'a' + (next() % 26) as u8) as char)
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let exchanges: Vec<crate::model::Exchange> = (1..=12)
            .map(|ordinal| crate::model::Exchange {
                ordinal,
                asker: "AFP".into(),
                question: vec![sentence()],
                answer: vec![sentence(), sentence()],
                after_conference: false,
            })
            .collect();
        let body: String = exchanges
            .iter()
            .flat_map(|e| e.question.iter().chain(&e.answer))
            .map(|paragraph| format!("<p>{paragraph}</p>\n"))
            .collect();
        let raw: &'static str =
            Box::leak(format!("<html><body>{body}</body></html>").into_boxed_str());
        let record = crate::model::Briefing {
            url: url.into(),
            lang: crate::model::Lang::En,
            kind: crate::model::Kind::PressConference,
            title: "Regular Press Conference".into(),
            date: None,
            published_at: None,
            spokesperson: None,
            opening: vec![],
            exchanges,
            content_hash: "h".into(),
            found_by: None,
            selector: None,
            date_from: None,
        };
        super::super::store_page(&mut store, url, &record, raw.as_bytes());
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
