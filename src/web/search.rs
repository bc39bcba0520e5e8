//! Full-text search over every text of every revision: the FTS5 index, how it is filled and
//! rebuilt, queries with filters, and highlighting.
//!
//! One contentless FTS5 table holds both languages, one row per passage: each exchange (question
//! and answer in one column, so AND/NOT apply to the whole exchange), and the briefing's own text
//! outside the exchanges (its title, opening remarks, or the whole body of a statement; see
//! [`Briefing::text_passage`]). A second column holds the words written in capitals, where an
//! acronym of a query must match too. English goes through `porter unicode61`
//! without its most common function words; every Han character is made a token of its own (see
//! [`index_text_of`]), so a Chinese word of any length, two-character words such as 台湾 included, is
//! an exact phrase query over characters. The table stores no text (the archive already keeps it,
//! compressed): together these keep the index at about 4 MB for the 2020 capture. Highlighting and the
//! question/answer split of trends re-tokenize the few exchanges concerned in a scratch table with
//! the full text, so what is marked is exactly what FTS5 matches.
//!
//! Index row ids are dense: each revision owns a span of ids starting at `search_spans.first_rowid`,
//! the first for its text passage, then one per exchange ordinal, because sparse ids (revision ×
//! constant) grew the index by a tenth.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::query::{
    MARK_CLOSE, MARK_OPEN, Query, QueryError, capitals_text, index_text_of, strip_index_separators,
    token_text,
};
use crate::model::SPOKESPERSONS;
use crate::model::{Briefing, Exchange, Kind, Lang, TEXT_PASSAGE};

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("bad query: {0}")]
    Query(#[from] QueryError),
    #[error("database error while {context}: {source}")]
    Sql {
        context: &'static str,
        source: rusqlite::Error,
    },
    #[error("stored record of revision {revision_id} cannot be read: {message}")]
    Record { revision_id: i64, message: String },
}

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> SearchError {
    move |source| SearchError::Sql { context, source }
}

const TOKENIZER: &str = "porter unicode61 remove_diacritics 2";

/// The schema migration: the index, its row-id spans, and the spokesperson column the filters use.
pub const MIGRATION: &str = "
CREATE VIRTUAL TABLE exchange_search USING fts5(
    body, content='', columnsize=0,
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TABLE search_spans (
    first_rowid INTEGER PRIMARY KEY,
    revision_id INTEGER NOT NULL UNIQUE REFERENCES revisions(id),
    span INTEGER NOT NULL
);
ALTER TABLE documents ADD COLUMN spokesperson TEXT;
";

/// The index merges its segments once eight of a size have piled up, not four: merging was 6 %
/// of a whole-corpus backfill's instructions and eight cut that by about a third (callgrind: 10.63 G
/// against 10.41 G in all), for a few more segments for a search to read.
pub const MERGE_MIGRATION: &str =
    "INSERT INTO exchange_search(exchange_search, rank) VALUES ('automerge', 8);";

/// Every text of a briefing, not only its exchanges: the index gets its column of words written in
/// capitals, and each revision's span a first row for its text passage, whose content hash merges
/// identical copies across revisions as the exchanges' hashes do. The migration's hook re-indexes
/// every stored revision, so an archive written before finds these texts too.
pub const PASSAGES_MIGRATION: &str = "
DROP TABLE exchange_search;
CREATE VIRTUAL TABLE exchange_search USING fts5(
    body, capitals, content='', columnsize=0,
    tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO exchange_search(exchange_search, rank) VALUES ('automerge', 8);
ALTER TABLE search_spans ADD COLUMN text_hash TEXT;
";

/// Migration hook: indexes every revision already stored, so the index is complete at once.
pub fn rebuild_hook(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    rebuild(tx)
        .map(drop)
        .map_err(|error| rusqlite_migration::HookError::Hook(error.to_string()))
}

/// Drops and refills the whole index from the stored records.
pub fn rebuild(conn: &Connection) -> Result<u64, SearchError> {
    conn.execute_batch(
        "DELETE FROM search_spans; INSERT INTO exchange_search(exchange_search) VALUES ('delete-all');",
    )
    .map_err(sql("clearing the search index"))?;
    let mut stmt = conn
        .prepare("SELECT id, document_id FROM revisions ORDER BY id")
        .map_err(sql("reading revisions to index"))?;
    let mut rows = stmt.query([]).map_err(sql("reading revisions to index"))?;
    let dictionaries = crate::store::DictionaryCache::default();
    let mut count = 0;
    while let Some(row) = rows.next().map_err(sql("reading revisions to index"))? {
        let revision_id: i64 = row.get(0).map_err(sql("reading revisions to index"))?;
        let document_id: i64 = row.get(1).map_err(sql("reading revisions to index"))?;
        let briefing = read_record(conn, &dictionaries, revision_id)?;
        index_revision(conn, revision_id, document_id, &briefing)
            .map_err(sql("indexing a revision"))?;
        count += 1;
    }
    conn.execute(
        "INSERT INTO exchange_search(exchange_search) VALUES ('optimize')",
        [],
    )
    .map_err(sql("optimizing the search index"))?;
    Ok(count)
}

/// A revision's stored record, decoded by the archive (which owns its compression).
pub fn read_record(
    conn: &Connection,
    dictionaries: &crate::store::DictionaryCache,
    revision_id: i64,
) -> Result<Briefing, SearchError> {
    crate::store::record_in(conn, dictionaries, revision_id).map_err(|error| SearchError::Record {
        revision_id,
        message: error.to_string(),
    })
}

/// A passage's paragraphs as one hash, to tell identical text passages of two revisions.
fn passage_hash(passage: &Exchange) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for paragraph in &passage.answer {
        hasher.update(paragraph.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Adds one new revision to the index; called inside the archive's ingest transaction.
pub fn index_revision(
    conn: &Connection,
    revision_id: i64,
    document_id: i64,
    briefing: &Briefing,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE documents SET spokesperson = ?2 WHERE id = ?1")?
        .execute(params![document_id, briefing.spokesperson])?;
    let text = briefing.text_passage();
    // Row `first_rowid` is the text passage, `first_rowid + n` the exchange numbered n.
    let span = 1 + briefing
        .exchanges
        .iter()
        .map(|exchange| i64::from(exchange.ordinal))
        .max()
        .unwrap_or(0);
    let first_rowid: i64 = conn
        .prepare_cached(
            "SELECT first_rowid + span FROM search_spans ORDER BY first_rowid DESC LIMIT 1",
        )?
        .query_row([], |row| row.get(0))
        .optional()?
        .unwrap_or(1);
    conn.prepare_cached(
        "INSERT INTO search_spans (first_rowid, revision_id, span, text_hash) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![first_rowid, revision_id, span, passage_hash(&text)])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO exchange_search (rowid, body, capitals) VALUES (?1, ?2, ?3)",
    )?;
    let exchanges = briefing
        .exchanges
        .iter()
        .filter(|exchange| exchange.ordinal != TEXT_PASSAGE);
    for passage in std::iter::once(&text).chain(exchanges) {
        if passage.question.is_empty() && passage.answer.is_empty() {
            continue;
        }
        let paragraphs = || {
            passage
                .question
                .iter()
                .chain(&passage.answer)
                .map(String::as_str)
        };
        insert.execute(params![
            first_rowid + i64::from(passage.ordinal),
            index_text_of(paragraphs()),
            capitals_text(paragraphs()),
        ])?;
    }
    Ok(())
}

/// Every stored spelling of a spokesperson's name: both languages for a known one.
pub fn spokesperson_names(name: &str) -> Vec<String> {
    let name = name.trim();
    SPOKESPERSONS
        .iter()
        .find(|(en, zh)| en.eq_ignore_ascii_case(name) || *zh == name)
        .map(|(en, zh)| vec![en.to_string(), zh.to_string()])
        .unwrap_or_else(|| vec![name.to_string()])
}

/// Which briefings a search looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub lang: Option<Lang>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub spokesperson: Option<String>,
}

/// A run of text, marked when it matched the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub marked: bool,
}

/// A paragraph as segments.
pub type Highlighted = Vec<Segment>;

/// An exchange's answer and question paragraphs, highlighted.
pub type HighlightedTexts = (Vec<Highlighted>, Vec<Highlighted>);

/// Which text of a briefing a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Passage {
    /// A question and its answer.
    Exchange,
    /// The briefing's own text: its title and opening remarks, or the body of a statement.
    Text,
}

/// One passage that matched: an exchange, or the briefing's own text quoted by the paragraphs
/// that match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub document_id: i64,
    /// The ministry's page.
    pub url: String,
    /// briefwatch's view of the passage (`/b/<id>#q<n>`, `/b/<id>?rev=<seq>#opening`).
    pub view: String,
    pub passage: Passage,
    pub kind: Kind,
    pub lang: Lang,
    pub date: Option<NaiveDate>,
    pub title: Option<String>,
    pub spokesperson: Option<String>,
    /// The latest revision that contains this passage as it matched.
    pub seq: i64,
    pub latest_seq: i64,
    /// False when a later revision changed or removed this passage.
    pub in_latest: bool,
    /// The exchange's number; 0 for the briefing's own text.
    pub ordinal: u32,
    pub asker: String,
    pub question: Vec<Highlighted>,
    /// The answer; for the briefing's own text, the paragraphs that match (the title among them).
    pub answer: Vec<Highlighted>,
}

/// briefwatch's view of a passage of a revision: the latest revision's page, or the revision's.
pub fn view_link(document_id: i64, seq: i64, latest_seq: i64, ordinal: u32) -> String {
    let anchor = if ordinal == TEXT_PASSAGE {
        "opening".to_string()
    } else {
        format!("q{ordinal}")
    };
    if seq == latest_seq {
        format!("/b/{document_id}#{anchor}")
    } else {
        format!("/b/{document_id}?rev={seq}#{anchor}")
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// Matching passages after merging identical copies across revisions.
    pub total: usize,
    pub offset: usize,
    pub hits: Vec<SearchHit>,
}

/// A matching passage: its ordinal in a revision that passed the filters.
struct HitRow<'r> {
    ordinal: u32,
    revision: &'r IndexedRevision,
}

/// One indexed revision that passes the filters, with what a hit needs to show and sort.
struct IndexedRevision {
    first_rowid: i64,
    span: i64,
    revision_id: i64,
    seq: i64,
    document_id: i64,
    url: String,
    kind: Kind,
    lang: Lang,
    date: Option<NaiveDate>,
    title: Option<String>,
    spokesperson: Option<String>,
    latest_seq: i64,
    text_hash: Option<String>,
}

/// Revisions are few (one or two a day) next to hits (thousands for a common word), so the
/// revisions that pass the filters are read once and each hit's row id is resolved in memory.
const REVISIONS_SQL: &str = "
SELECT s.first_rowid, s.span, r.id, r.seq, d.id, d.lang, d.briefing_date, d.title, d.spokesperson,
       l.latest, d.url, d.kind, s.text_hash
FROM search_spans s
JOIN revisions r ON r.id = s.revision_id
JOIN documents d ON d.id = r.document_id
JOIN (SELECT document_id, MAX(seq) AS latest FROM revisions GROUP BY document_id) l
  ON l.document_id = d.id
WHERE (?1 IS NULL OR d.lang = ?1)
  AND (?2 IS NULL OR d.briefing_date >= ?2)
  AND (?3 IS NULL OR d.briefing_date <= ?3)
  AND (?4 IS NULL OR d.spokesperson IN (SELECT value FROM json_each(?4)))
ORDER BY s.first_rowid
";

fn indexed_revisions(
    conn: &Connection,
    filter: &SearchFilter,
) -> Result<Vec<IndexedRevision>, SearchError> {
    let spokespersons = filter
        .spokesperson
        .as_deref()
        .map(|name| serde_json::Value::from(spokesperson_names(name)).to_string());
    let mut stmt = conn
        .prepare_cached(REVISIONS_SQL)
        .map_err(sql("preparing the search"))?;
    let rows = stmt
        .query_map(
            params![
                filter.lang.map(Lang::as_str),
                filter.from.map(|d| d.to_string()),
                filter.to.map(|d| d.to_string()),
                spokespersons,
            ],
            |row| {
                Ok(IndexedRevision {
                    first_rowid: row.get(0)?,
                    span: row.get(1)?,
                    revision_id: row.get(2)?,
                    seq: row.get(3)?,
                    document_id: row.get(4)?,
                    lang: crate::store::lang_at(row, 5)?,
                    date: crate::store::date_at(row, 6)?,
                    title: row.get(7)?,
                    spokesperson: row.get(8)?,
                    latest_seq: row.get(9)?,
                    url: row.get(10)?,
                    kind: row
                        .get::<_, Option<String>>(11)?
                        .as_deref()
                        .and_then(Kind::parse)
                        .unwrap_or(Kind::Other),
                    text_hash: row.get(12)?,
                })
            },
        )
        .and_then(Iterator::collect)
        .map_err(sql("reading indexed revisions"))?;
    Ok(rows)
}

/// An exchange's content hash as comparable text, whichever type the archive stores it as.
fn hash_text(value: rusqlite::types::Value) -> String {
    match value {
        rusqlite::types::Value::Integer(n) => n.to_string(),
        rusqlite::types::Value::Text(text) => text,
        rusqlite::types::Value::Blob(bytes) => hex::encode(bytes),
        other => format!("{other:?}"),
    }
}

/// The revision whose span holds `rowid`, if it passed the filters, and the ordinal of the
/// passage that row indexes (0 for the text passage).
fn exchange_at(revisions: &[IndexedRevision], rowid: i64) -> Option<(&IndexedRevision, u32)> {
    let after = revisions.partition_point(|r| r.first_rowid <= rowid);
    let revision = revisions.get(after.checked_sub(1)?)?;
    let ordinal = u32::try_from(rowid - revision.first_rowid).ok()?;
    (rowid < revision.first_rowid + revision.span).then_some((revision, ordinal))
}

/// Runs a query: every matching passage, newest briefing first (its text passage before its
/// exchanges), identical copies of a passage in several revisions of one briefing merged into one
/// hit (the latest revision that has it).
pub fn search(
    conn: &Connection,
    query: &Query,
    filter: &SearchFilter,
    offset: usize,
    limit: usize,
) -> Result<SearchResults, SearchError> {
    let revisions = indexed_revisions(conn, filter)?;
    let mut stmt = conn
        .prepare_cached("SELECT rowid FROM exchange_search WHERE exchange_search MATCH ?1")
        .map_err(sql("preparing the search"))?;
    let rowids: Vec<i64> = stmt
        .query_map([query.to_fts()], |row| row.get(0))
        .and_then(Iterator::collect)
        .map_err(sql("searching"))?;
    let mut rows: Vec<HitRow> = Vec::new();
    // Only briefings with several revisions can hold the same exchange twice.
    let mut copies: HashMap<(i64, String, String), usize> = HashMap::new();
    let mut hashes = conn
        .prepare_cached(
            "SELECT question_hash, answer_hash FROM exchanges WHERE revision_id = ?1 AND ordinal = ?2",
        )
        .map_err(sql("preparing the search"))?;
    for rowid in rowids {
        let Some((revision, ordinal)) = exchange_at(&revisions, rowid) else {
            continue;
        };
        let row = HitRow { ordinal, revision };
        if revision.latest_seq > 1 {
            let (question, answer): (String, String) = if ordinal == TEXT_PASSAGE {
                (
                    String::new(),
                    revision.text_hash.clone().unwrap_or_default(),
                )
            } else {
                hashes
                    .query_row(params![revision.revision_id, ordinal], |r| {
                        Ok((hash_text(r.get(0)?), hash_text(r.get(1)?)))
                    })
                    .map_err(sql("reading exchange hashes"))?
            };
            match copies.get(&(revision.document_id, question.clone(), answer.clone())) {
                Some(&kept) if rows[kept].revision.seq >= revision.seq => continue,
                Some(&kept) => {
                    rows[kept] = row;
                    continue;
                }
                None => {
                    copies.insert((revision.document_id, question, answer), rows.len());
                }
            }
        }
        rows.push(row);
    }
    rows.sort_by(|a, b| {
        let (x, y) = (a.revision, b.revision);
        y.date
            .cmp(&x.date)
            .then(y.document_id.cmp(&x.document_id))
            .then(y.seq.cmp(&x.seq))
            .then(a.ordinal.cmp(&b.ordinal))
    });
    let total = rows.len();
    let page: Vec<HitRow> = rows.into_iter().skip(offset).take(limit).collect();
    let hits = load_hits(conn, query, page)?;
    Ok(SearchResults {
        total,
        offset,
        hits,
    })
}

/// Decoded passages (text passage and exchanges) of recently shown revisions, keyed by content hash: a revision never changes,
/// and equal hashes mean equal content, so an entry is right for any archive that has it.
static EXCHANGE_CACHE: Mutex<Option<ExchangeCache>> = Mutex::new(None);
const EXCHANGE_CACHE_REVISIONS: usize = 256;

#[derive(Default)]
struct ExchangeCache {
    entries: HashMap<String, Arc<Vec<Exchange>>>,
    order: VecDeque<String>,
}

/// Empties the cache of decoded revisions (for measuring the uncached path).
pub fn clear_exchange_cache() {
    if let Ok(mut cache) = EXCHANGE_CACHE.lock() {
        *cache = None;
    }
}

fn revision_exchanges(
    conn: &Connection,
    dictionaries: &crate::store::DictionaryCache,
    revision_id: i64,
) -> Result<Arc<Vec<Exchange>>, SearchError> {
    let hash: String = conn
        .prepare_cached("SELECT content_hash FROM revisions WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([revision_id], |r| r.get(0)))
        .map_err(sql("reading a revision"))?;
    if let Some(found) = EXCHANGE_CACHE
        .lock()
        .ok()
        .and_then(|cache| cache.as_ref()?.entries.get(&hash).cloned())
    {
        return Ok(found);
    }
    let briefing = read_record(conn, dictionaries, revision_id)?;
    let exchanges: Arc<Vec<Exchange>> =
        Arc::new(briefing.passages().map(|p| p.into_owned()).collect());
    if let Ok(mut guard) = EXCHANGE_CACHE.lock() {
        let cache = guard.get_or_insert_with(ExchangeCache::default);
        if cache
            .entries
            .insert(hash.clone(), exchanges.clone())
            .is_none()
        {
            cache.order.push_back(hash);
            while cache.order.len() > EXCHANGE_CACHE_REVISIONS {
                if let Some(oldest) = cache.order.pop_front() {
                    cache.entries.remove(&oldest);
                }
            }
        }
    }
    Ok(exchanges)
}

fn load_hits(
    conn: &Connection,
    query: &Query,
    rows: Vec<HitRow<'_>>,
) -> Result<Vec<SearchHit>, SearchError> {
    let mut records: HashMap<i64, Arc<Vec<Exchange>>> = HashMap::new();
    let dictionaries = crate::store::DictionaryCache::default();
    for row in &rows {
        let revision_id = row.revision.revision_id;
        if let std::collections::hash_map::Entry::Vacant(slot) = records.entry(revision_id) {
            slot.insert(revision_exchanges(conn, &dictionaries, revision_id)?);
        }
    }
    let mut texts = Vec::with_capacity(rows.len());
    let mut hits = Vec::with_capacity(rows.len());
    for HitRow { ordinal, revision } in rows {
        let Some(exchange) = records
            .get(&revision.revision_id)
            .and_then(|exchanges| exchanges.iter().find(|e| e.ordinal == ordinal))
        else {
            continue;
        };
        texts.push((exchange.answer.join("\n"), exchange.question.join("\n")));
        hits.push(SearchHit {
            document_id: revision.document_id,
            url: revision.url.clone(),
            view: view_link(
                revision.document_id,
                revision.seq,
                revision.latest_seq,
                ordinal,
            ),
            passage: if ordinal == TEXT_PASSAGE {
                Passage::Text
            } else {
                Passage::Exchange
            },
            kind: revision.kind,
            lang: revision.lang,
            date: revision.date,
            title: revision.title.clone(),
            spokesperson: revision.spokesperson.clone(),
            seq: revision.seq,
            latest_seq: revision.latest_seq,
            in_latest: revision.seq == revision.latest_seq,
            ordinal,
            asker: exchange.asker.clone(),
            question: vec![],
            answer: vec![],
        });
    }
    let highlighted = highlight(conn, query, &texts)?;
    for (hit, (answer, question)) in hits.iter_mut().zip(highlighted) {
        hit.answer = answer;
        hit.question = question;
        if hit.passage == Passage::Text {
            hit.answer = matching_paragraphs(std::mem::take(&mut hit.answer));
        }
    }
    Ok(hits)
}

/// The paragraphs of a text passage that have a match; the first one (the title) when the
/// highlighter marked none (a phrase the index matched across a dropped function word).
fn matching_paragraphs(paragraphs: Vec<Highlighted>) -> Vec<Highlighted> {
    let first = paragraphs.first().cloned();
    let marked: Vec<Highlighted> = paragraphs
        .into_iter()
        .filter(|paragraph| paragraph.iter().any(|segment| segment.marked))
        .collect();
    if marked.is_empty() {
        first.into_iter().collect()
    } else {
        marked
    }
}

/// The letters and digits of `text`, lower-cased: how a mark is compared with a query term.
fn word_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Unmarks what only an acronym of the query matched but the text does not write in capitals:
/// the highlighter's tokenizer folds case, the index's column of capitals does not.
fn unmark_lowercase_acronyms(query: &Query, paragraphs: &mut [Highlighted]) {
    let terms = query.positive_terms();
    let acronyms: Vec<String> = terms
        .iter()
        .filter(|term| term.is_acronym())
        .map(|term| word_key(&term.text))
        .collect();
    if acronyms.is_empty() {
        return;
    }
    let others: Vec<String> = terms
        .iter()
        .filter(|term| !term.is_acronym())
        .map(|term| word_key(&term.text))
        .collect();
    for segment in paragraphs.iter_mut().flatten() {
        if !segment.marked || !segment.text.chars().any(char::is_lowercase) {
            continue;
        }
        let key = word_key(&segment.text);
        let acronym = acronyms
            .iter()
            .any(|a| key == *a || (key.starts_with(a.as_str()) && a.len() < key.len()));
        if acronym && !others.contains(&key) {
            segment.marked = false;
        }
    }
}

/// Marks what `query` matches in each (answer, question) text, with FTS5's own tokenizer and
/// matcher on a scratch table, and splits the result into paragraphs.
pub fn highlight(
    conn: &Connection,
    query: &Query,
    texts: &[(String, String)],
) -> Result<Vec<HighlightedTexts>, SearchError> {
    let mut out: Vec<HighlightedTexts> = texts
        .iter()
        .map(|(answer, question)| (plain_paragraphs(answer), plain_paragraphs(question)))
        .collect();
    if texts.is_empty() {
        return Ok(out);
    }
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_highlight USING fts5(answer, question, tokenize='{TOKENIZER}');
         DELETE FROM temp.search_highlight;"
    ))
    .map_err(sql("preparing highlighting"))?;
    {
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO temp.search_highlight (rowid, answer, question) VALUES (?1, ?2, ?3)",
            )
            .map_err(sql("preparing highlighting"))?;
        for (i, (answer, question)) in texts.iter().enumerate() {
            insert
                .execute(params![i as i64, token_text(answer), token_text(question)])
                .map_err(sql("preparing highlighting"))?;
        }
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT rowid, highlight(search_highlight, 0, char(2), char(3)),
                    highlight(search_highlight, 1, char(2), char(3))
             FROM temp.search_highlight WHERE search_highlight MATCH ?1",
        )
        .map_err(sql("highlighting"))?;
    let marked: Vec<(i64, String, String)> = stmt
        .query_map([query.to_full_text_fts()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .and_then(Iterator::collect)
        .map_err(sql("highlighting"))?;
    for (i, answer, question) in marked {
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            let (mut answer, mut question) = (
                marked_paragraphs(&strip_index_separators(&answer)),
                marked_paragraphs(&strip_index_separators(&question)),
            );
            unmark_lowercase_acronyms(query, &mut answer);
            unmark_lowercase_acronyms(query, &mut question);
            *slot = (answer, question);
        }
    }
    conn.execute("DELETE FROM temp.search_highlight", [])
        .map_err(sql("highlighting"))?;
    Ok(out)
}

fn plain_paragraphs(text: &str) -> Vec<Highlighted> {
    if text.is_empty() {
        return vec![];
    }
    text.split('\n')
        .map(|p| {
            vec![Segment {
                text: p.to_string(),
                marked: false,
            }]
        })
        .collect()
}

/// Splits text carrying `MARK_OPEN`/`MARK_CLOSE` into paragraphs of segments; a mark may span a
/// paragraph break.
pub fn marked_paragraphs(text: &str) -> Vec<Highlighted> {
    if text.is_empty() {
        return vec![];
    }
    let mut paragraphs = vec![];
    let mut paragraph: Highlighted = vec![];
    let mut current = String::new();
    let mut marked = false;
    let flush = |current: &mut String, paragraph: &mut Highlighted, marked: bool| {
        if !current.is_empty() {
            paragraph.push(Segment {
                text: std::mem::take(current),
                marked,
            });
        }
    };
    for c in text.chars() {
        match c {
            MARK_OPEN | MARK_CLOSE => {
                flush(&mut current, &mut paragraph, marked);
                marked = c == MARK_OPEN;
            }
            '\n' => {
                flush(&mut current, &mut paragraph, marked);
                paragraphs.push(std::mem::take(&mut paragraph));
            }
            _ => current.push(c),
        }
    }
    flush(&mut current, &mut paragraph, marked);
    paragraphs.push(paragraph);
    paragraphs
}

/// A month as `YYYY-MM`.
pub type Month = String;

/// How often a term appears, per month, in questions and in answers of the latest revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendSeries {
    pub term: String,
    /// (month, exchanges whose question matches, exchanges whose answer matches)
    pub months: Vec<(Month, u32, u32)>,
    pub total_questions: u32,
    pub total_answers: u32,
}

/// Counts, per month, the exchanges of each briefing's latest revision whose question (and,
/// separately, whose answer) matches `query`; `months` is the x axis shared by every series.
pub fn trend(
    conn: &Connection,
    term: &str,
    query: &Query,
    months: &[Month],
) -> Result<TrendSeries, SearchError> {
    // The index has one column per exchange, so it finds the exchanges; whether the term is in
    // the question or the answer is decided on their full text in a scratch table.
    let revisions: Vec<IndexedRevision> = indexed_revisions(conn, &SearchFilter::default())?
        .into_iter()
        .filter(|r| r.seq == r.latest_seq && r.date.is_some())
        .collect();
    let rowids: Vec<i64> = conn
        .prepare_cached("SELECT rowid FROM exchange_search WHERE exchange_search MATCH ?1")
        .and_then(|mut stmt| {
            stmt.query_map([query.to_fts()], |row| row.get(0))?
                .collect()
        })
        .map_err(sql("counting a trend"))?;
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.trend_passages USING fts5(
             question, answer, question_capitals, answer_capitals, tokenize='{TOKENIZER}');
         DELETE FROM temp.trend_passages;"
    ))
    .map_err(sql("counting a trend"))?;
    let mut months_of_rows: Vec<Month> = Vec::new();
    let dictionaries = crate::store::DictionaryCache::default();
    {
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO temp.trend_passages (rowid, question, answer, question_capitals, answer_capitals)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(sql("counting a trend"))?;
        for rowid in rowids {
            let Some((revision, ordinal)) = exchange_at(&revisions, rowid) else {
                continue;
            };
            // Trends count questions and answers: the text passage has neither.
            if ordinal == TEXT_PASSAGE {
                continue;
            }
            let exchanges = revision_exchanges(conn, &dictionaries, revision.revision_id)?;
            let Some(exchange) = exchanges.iter().find(|e| e.ordinal == ordinal) else {
                continue;
            };
            insert
                .execute(params![
                    months_of_rows.len() as i64,
                    token_text(&exchange.question.join("\n")),
                    token_text(&exchange.answer.join("\n")),
                    capitals_text(exchange.question.iter().map(String::as_str)),
                    capitals_text(exchange.answer.iter().map(String::as_str)),
                ])
                .map_err(sql("counting a trend"))?;
            months_of_rows.push(
                revision
                    .date
                    .map(|date| date.format("%Y-%m").to_string())
                    .unwrap_or_default(),
            );
        }
    }
    let mut counts: HashMap<Month, (u32, u32)> = HashMap::new();
    for (column, is_question) in [("question", true), ("answer", false)] {
        let fts = query.to_column_fts(column, &format!("{column}_capitals"));
        let rows: Vec<i64> = conn
            .prepare_cached("SELECT rowid FROM temp.trend_passages WHERE trend_passages MATCH ?1")
            .and_then(|mut stmt| stmt.query_map([fts], |row| row.get(0))?.collect())
            .map_err(sql("counting a trend"))?;
        for row in rows {
            let Some(month) = usize::try_from(row)
                .ok()
                .and_then(|i| months_of_rows.get(i))
            else {
                continue;
            };
            let entry = counts.entry(month.clone()).or_default();
            if is_question {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }
    conn.execute("DELETE FROM temp.trend_passages", [])
        .map_err(sql("counting a trend"))?;
    let series: Vec<(Month, u32, u32)> = months
        .iter()
        .map(|month| {
            let (q, a) = counts.get(month).copied().unwrap_or_default();
            (month.clone(), q, a)
        })
        .collect();
    Ok(TrendSeries {
        term: term.to_string(),
        total_questions: series.iter().map(|m| m.1).sum(),
        total_answers: series.iter().map(|m| m.2).sum(),
        months: series,
    })
}

/// Every month from the earliest to the latest briefing date in the archive.
pub fn archive_months(conn: &Connection) -> Result<Vec<Month>, SearchError> {
    let (first, last): (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT MIN(briefing_date), MAX(briefing_date) FROM documents WHERE briefing_date IS NOT NULL",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(sql("reading the date range"))?;
    let parse = |text: Option<String>| text.and_then(|t| t.parse::<NaiveDate>().ok());
    let (Some(first), Some(last)) = (parse(first), parse(last)) else {
        return Ok(vec![]);
    };
    Ok(months_between(first, last))
}

/// `YYYY-MM` for every month from `first` to `last`, both included.
pub fn months_between(first: NaiveDate, last: NaiveDate) -> Vec<Month> {
    use chrono::Datelike;
    let mut months = vec![];
    let (mut year, mut month) = (first.year(), first.month());
    while (year, month) <= (last.year(), last.month()) {
        months.push(format!("{year:04}-{month:02}"));
        if month == 12 {
            year += 1;
            month = 1;
        } else {
            month += 1;
        }
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_become_segments_and_may_span_paragraphs() {
        let text = format!("a {MARK_OPEN}b{MARK_CLOSE} c\n{MARK_OPEN}d\ne{MARK_CLOSE}");
        let paragraphs = marked_paragraphs(&text);
        let flat: Vec<Vec<(&str, bool)>> = paragraphs
            .iter()
            .map(|p| p.iter().map(|s| (s.text.as_str(), s.marked)).collect())
            .collect();
        assert_eq!(
            flat,
            vec![
                vec![("a ", false), ("b", true), (" c", false)],
                vec![("d", true)],
                vec![("e", true)],
            ]
        );
    }

    #[test]
    fn months_cover_the_range_across_years() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            months_between(d("2018-11-05"), d("2019-02-01")),
            ["2018-11", "2018-12", "2019-01", "2019-02"]
        );
    }

    #[test]
    fn spokesperson_filter_covers_both_spellings() {
        assert_eq!(spokesperson_names("zhao lijian"), ["Zhao Lijian", "赵立坚"]);
        assert_eq!(spokesperson_names("华春莹"), ["Hua Chunying", "华春莹"]);
        assert_eq!(spokesperson_names("Someone"), ["Someone"]);
    }

    /// The index and highlighter against a minimal schema with the columns they read.
    #[test]
    fn finds_english_stems_chinese_words_and_phrases_and_marks_them() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE documents (id INTEGER PRIMARY KEY, url TEXT, kind TEXT, lang TEXT, briefing_date TEXT, title TEXT);
             CREATE TABLE zstd_dictionaries (id INTEGER PRIMARY KEY, content BLOB);
             CREATE TABLE revisions (id INTEGER PRIMARY KEY, document_id INTEGER, seq INTEGER, record BLOB, content_hash TEXT, record_dictionary_id INTEGER, record_against_raw INTEGER NOT NULL DEFAULT 0, raw_hash TEXT);
             CREATE TABLE exchanges (revision_id INTEGER, ordinal INTEGER, question_hash TEXT, answer_hash TEXT);",
        )
        .unwrap();
        conn.execute_batch(MIGRATION).unwrap();
        conn.execute_batch(PASSAGES_MIGRATION).unwrap();
        let briefing = |lang: Lang, exchanges: &[(&str, &str)]| Briefing {
            url: "u".into(),
            lang,
            kind: crate::model::Kind::PressConference,
            title: "t".into(),
            date: NaiveDate::from_ymd_opt(2020, 7, 3),
            published_at: None,
            spokesperson: Some("Zhao Lijian".into()),
            opening: vec![],
            exchanges: exchanges
                .iter()
                .enumerate()
                .map(|(i, (q, a))| crate::model::Exchange {
                    ordinal: i as u32 + 1,
                    asker: "CCTV".into(),
                    question: vec![q.to_string()],
                    answer: a.split('|').map(str::to_string).collect(),
                    after_conference: false,
                })
                .collect(),
            content_hash: format!("{lang:?}"),
            found_by: None,
            selector: None,
            date_from: None,
        };
        let mut english = briefing(
            Lang::En,
            &[
                (
                    "On the sanctions?",
                    "We oppose unilateral sanctions.|The South China Sea is calm.",
                ),
                ("On trade?", "Trade talks go on."),
                ("Who will attend?", "Those who are invited, and the WHO."),
            ],
        );
        english.opening = vec![
            "The WHO meets in Geneva next week.".into(),
            "A paragraph without the word.".into(),
        ];
        let docs = [
            english,
            briefing(
                Lang::Zh,
                &[
                    ("关于台湾问题？", "台湾是中国的一部分。"),
                    ("关于贸易？", "中美贸易"),
                ],
            ),
        ];
        for (i, doc) in docs.iter().enumerate() {
            let id = i as i64 + 1;
            let record = zstd::bulk::compress(&serde_json::to_vec(doc).unwrap(), 3).unwrap();
            conn.execute(
                "INSERT INTO documents (id, url, kind, lang, briefing_date, title) VALUES (?1, 'u', 'press_conference', ?2, '2020-07-03', 't')",
                params![id, doc.lang.as_str()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO revisions VALUES (?1, ?1, 1, ?2, ?3, NULL, 0, '')",
                params![id, record, doc.content_hash],
            )
            .unwrap();
            for exchange in &doc.exchanges {
                conn.execute(
                    "INSERT INTO exchanges VALUES (?1, ?2, ?3, ?4)",
                    params![
                        id,
                        exchange.ordinal,
                        exchange.question[0],
                        exchange.answer[0]
                    ],
                )
                .unwrap();
            }
        }
        assert_eq!(rebuild(&conn).unwrap(), 2);
        let run = |q: &str| {
            search(
                &conn,
                &Query::parse(q).unwrap(),
                &SearchFilter::default(),
                0,
                10,
            )
            .unwrap()
        };
        let marked = |hit: &SearchHit| -> Vec<String> {
            hit.question
                .iter()
                .chain(&hit.answer)
                .flatten()
                .filter(|s| s.marked)
                .map(|s| s.text.clone())
                .collect()
        };
        let found = run("sanction");
        assert_eq!(found.total, 1);
        assert_eq!(marked(&found.hits[0]), ["sanctions", "sanctions"]);
        let found = run("\"South China Sea\"");
        assert_eq!(found.total, 1);
        assert_eq!(marked(&found.hits[0]), ["South China Sea"]);
        let found = run("台湾");
        assert_eq!((found.total, found.hits[0].ordinal), (1, 1));
        assert_eq!(marked(&found.hits[0]), ["台湾", "台湾"]);
        assert_eq!(run("贸易").total, 1);
        assert_eq!(run("trade OR 贸易").total, 2);
        assert_eq!(run("trade NOT talks").total, 0);
        assert_eq!(run("湾是中").total, 1);

        // The opening is a passage of its own, quoted by its matching paragraph only.
        let found = run("Geneva");
        assert_eq!(found.total, 1);
        let hit = &found.hits[0];
        assert_eq!((hit.passage, hit.ordinal), (Passage::Text, 0));
        assert_eq!((hit.url.as_str(), hit.view.as_str()), ("u", "/b/1#opening"));
        assert_eq!(hit.answer.len(), 1, "only the matching paragraph");
        assert_eq!(marked(hit), ["Geneva"]);
        assert_eq!(hit.kind.text_label(hit.lang), "Opening remarks");
        // The title is searched too (it is "t" here), and comes with the text passage.
        assert_eq!(run("t").hits.iter().filter(|h| h.ordinal == 0).count(), 2);
        // An acronym matches only in capitals; a word in lower case matches any case.
        let found = run("WHO");
        assert_eq!(found.total, 2);
        assert_eq!(marked(&found.hits[0]), ["WHO"]);
        assert_eq!(marked(&found.hits[1]), ["WHO"], "not \"Who\" nor \"who\"");
        let found = run("who");
        assert_eq!(found.total, 2);
        assert_eq!(marked(&found.hits[1]), ["Who", "who", "WHO"]);
        assert_eq!(run("sanctions NOT WHO").total, 1);
        assert_eq!(run("Geneva NOT WHO").total, 0);
        assert_eq!(run("attend NOT WHO").total, 0);
        // Trends tell questions from answers, acronyms in capitals only there too.
        let months = vec!["2020-07".to_string()];
        let series = |term: &str| {
            let found = trend(&conn, term, &Query::parse(term).unwrap(), &months).unwrap();
            (found.total_questions, found.total_answers)
        };
        assert_eq!(series("WHO"), (0, 1));
        assert_eq!(series("who"), (1, 1));
        assert_eq!(run("湾中").total, 0);
        assert_eq!(
            spokesperson_names("赵立坚").len(),
            2,
            "filter names are looked up both ways"
        );
    }
}
