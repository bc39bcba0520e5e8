//! Full-text search over every text of every revision: queries with filters, ranking, and hits
//! quoted with their matches marked.
//!
//! The index (see `crate::store::search`) has each passage of a revision: each exchange
//! (question and answer, so AND and NOT apply to the whole exchange) and the briefing's own text
//! outside the exchanges (its title and opening remarks, or the whole body of a statement; see
//! [`Briefing::text_passage`](crate::model::Briefing::text_passage)), a passage that several
//! revisions of one briefing have word for word once, in the latest revision that has it. A
//! search finds the matching passages of the documents that pass its filters, ranks the
//! newest briefing first (its own text before its exchanges), and quotes each hit of the page
//! asked for with FTS5's `highlight()`: an exchange whole, the briefing's own text by the
//! paragraphs that match.

pub mod query;

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::Connection;
use serde::Serialize;

use crate::model::{Kind, Lang, SPOKESPERSONS, TEXT_PASSAGE};
use crate::store::StoreError;
use crate::store::search::{self as index, DocumentFilter};
pub use query::{Query, QueryError};

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("bad query: {0}")]
    Query(#[from] QueryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Markers `highlight()` wraps matches in: control characters, which stored text does not have.
pub const MARK_OPEN: char = '\u{2}';
pub const MARK_CLOSE: char = '\u{3}';

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

impl SearchFilter {
    /// The documents this filter lets through, a spokesperson by every spelling of the name.
    fn documents(&self) -> DocumentFilter {
        DocumentFilter {
            lang: self.lang,
            from: self.from,
            to: self.to,
            spokespersons: self.spokesperson.as_deref().map(spokesperson_names),
        }
    }
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

/// A revision that passed the filters, placed among its document's revisions.
#[derive(Debug, Clone, Copy)]
struct Placed {
    document_id: i64,
    seq: i64,
    latest_seq: i64,
    date: Option<NaiveDate>,
}

impl Placed {
    fn is_latest(&self) -> bool {
        self.seq == self.latest_seq
    }
}

/// The revisions of the documents that pass a filter, by id, each with its document's latest
/// sequence number (the filters are on documents: a document's revisions pass together). Two
/// reads of an index each, joined here: cheaper than a join of the tables for every search.
fn placed_revisions(
    conn: &Connection,
    filter: &DocumentFilter,
) -> Result<HashMap<i64, Placed>, SearchError> {
    let dates: HashMap<i64, Option<NaiveDate>> = index::searchable_documents(conn, filter)?
        .into_iter()
        .collect();
    let revisions: Vec<(i64, i64, i64)> = index::revision_numbers(conn)?
        .into_iter()
        .filter(|(_, document_id, _)| dates.contains_key(document_id))
        .collect();
    let mut latest: HashMap<i64, i64> = HashMap::with_capacity(dates.len());
    for &(_, document_id, seq) in &revisions {
        let latest = latest.entry(document_id).or_insert(seq);
        *latest = (*latest).max(seq);
    }
    Ok(revisions
        .into_iter()
        .map(|(revision_id, document_id, seq)| {
            let placed = Placed {
                document_id,
                seq,
                latest_seq: latest.get(&document_id).copied().unwrap_or(seq),
                date: dates.get(&document_id).copied().flatten(),
            };
            (revision_id, placed)
        })
        .collect())
}

/// A matching passage of a revision that passed the filters.
#[derive(Debug, Clone, Copy)]
struct HitRow {
    revision_id: i64,
    /// The exchange's number; [`TEXT_PASSAGE`] for the briefing's own text.
    ordinal: u32,
    revision: Placed,
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
    let fts = query.to_fts();
    let revisions = placed_revisions(conn, &filter.documents())?;
    // The index holds a passage that several revisions have once, in the latest one.
    let texts = index::matching_texts(conn, &fts)?
        .into_iter()
        .map(|revision_id| (revision_id, TEXT_PASSAGE));
    let exchanges = index::matching_exchanges(conn, &fts)?;
    let mut rows: Vec<HitRow> = Vec::with_capacity(exchanges.len());
    for (revision_id, ordinal) in texts.chain(exchanges) {
        if let Some(&revision) = revisions.get(&revision_id) {
            rows.push(HitRow {
                revision_id,
                ordinal,
                revision,
            });
        }
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
    let hits = load_hits(conn, &fts, page)?;
    Ok(SearchResults {
        total,
        offset,
        hits,
    })
}

/// The hits of a page: each passage quoted with its matches marked, with its document.
fn load_hits(
    conn: &Connection,
    fts: &str,
    rows: Vec<HitRow>,
) -> Result<Vec<SearchHit>, SearchError> {
    let mut documents: HashMap<i64, index::HitDocument> = HashMap::new();
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let revision = row.revision;
        let (asker, question, answer, passage) = if row.ordinal == TEXT_PASSAGE {
            let Some((title, opening)) =
                index::marked_text(conn, fts, row.revision_id, (MARK_OPEN, MARK_CLOSE))?
            else {
                continue;
            };
            let paragraphs = marked_paragraphs(&title)
                .into_iter()
                .chain(marked_paragraphs(&opening))
                .filter(|paragraph| paragraph.iter().any(|s| !s.text.trim().is_empty()))
                .collect();
            (
                String::new(),
                vec![],
                matching_paragraphs(paragraphs),
                Passage::Text,
            )
        } else {
            let Some(exchange) = index::marked_exchange(
                conn,
                fts,
                (row.revision_id, row.ordinal),
                (MARK_OPEN, MARK_CLOSE),
            )?
            else {
                continue;
            };
            (
                exchange.asker,
                marked_paragraphs(&exchange.question),
                marked_paragraphs(&exchange.answer),
                Passage::Exchange,
            )
        };
        let document = match documents.get(&revision.document_id) {
            Some(document) => document.clone(),
            None => {
                let document = index::hit_document(conn, revision.document_id)?;
                documents.insert(revision.document_id, document.clone());
                document
            }
        };
        hits.push(SearchHit {
            document_id: revision.document_id,
            url: document.url,
            view: view_link(
                revision.document_id,
                revision.seq,
                revision.latest_seq,
                row.ordinal,
            ),
            passage,
            kind: document.kind,
            lang: document.lang,
            date: document.date,
            title: document.title,
            spokesperson: document.spokesperson,
            seq: revision.seq,
            latest_seq: revision.latest_seq,
            in_latest: revision.is_latest(),
            ordinal: row.ordinal,
            asker,
            question,
            answer,
        });
    }
    Ok(hits)
}

/// The paragraphs of a text passage that have a match; the first one (the title) when none has
/// (a match across a paragraph break marks both).
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
    let revisions = placed_revisions(conn, &DocumentFilter::default())?;
    let mut counts: HashMap<Month, (u32, u32)> = HashMap::new();
    for (column, is_question) in [("question", true), ("answer", false)] {
        for (revision_id, _) in index::matching_exchanges(conn, &query.to_column_fts(column))? {
            let Some(date) = revisions
                .get(&revision_id)
                .filter(|revision| revision.is_latest())
                .and_then(|revision| revision.date)
            else {
                continue;
            };
            let entry = counts.entry(date.format("%Y-%m").to_string()).or_default();
            if is_question {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }
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
    Ok(index::briefing_date_range(conn)?
        .map(|(first, last)| months_between(first, last))
        .unwrap_or_default())
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
    use crate::model::Briefing;
    use rusqlite::params;

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

    /// Writes briefings into a fresh archive as text rows (one revision each), indexed.
    fn archive_of(docs: &[Briefing]) -> crate::store::Store {
        let mut store = crate::store::Store::open_in_memory().unwrap();
        let conn = store.connection();
        conn.execute(
            "INSERT INTO raw_blobs (sha256, size, data) VALUES ('raw', 0, x'')",
            [],
        )
        .unwrap();
        for (i, doc) in docs.iter().enumerate() {
            let id = i as i64 + 1;
            conn.execute(
                "INSERT INTO documents (id, source, url, lang, kind, briefing_date, title, first_seen, next_check)
                 VALUES (?1, 's', ?2, ?3, 'press_conference', '2020-07-03', ?4, '', '')",
                params![id, format!("u{id}"), doc.lang.as_str(), doc.title],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO revisions (id, document_id, seq, fetched_at, content_hash, raw_hash)
                 VALUES (?1, ?1, 1, '', '', 'raw')",
                [id],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO revision_texts (revision_id, kind, title, spokesperson, opening)
                 VALUES (?1, 'press_conference', ?2, ?3, ?4)",
                params![id, doc.title, doc.spokesperson, doc.opening.join("\n")],
            )
            .unwrap();
            for exchange in &doc.exchanges {
                conn.execute(
                    "INSERT INTO exchanges (revision_id, ordinal, asker, question_hash, answer_hash,
                         question_chars, answer_chars, after_conference, question, answer)
                     VALUES (?1, ?2, 'CCTV', 0, 0, 0, 0, 0, ?3, ?4)",
                    params![
                        id,
                        exchange.ordinal,
                        exchange.question.join("\n"),
                        exchange.answer.join("\n")
                    ],
                )
                .unwrap();
            }
        }
        assert_eq!(store.rebuild_search_index().unwrap(), docs.len() as u64);
        store
    }

    #[test]
    fn finds_english_stems_chinese_words_and_phrases_and_marks_them() {
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
        let store = archive_of(&docs);
        let conn = store.connection();
        let run = |q: &str| {
            search(
                conn,
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
        assert_eq!(
            (hit.url.as_str(), hit.view.as_str()),
            ("u1", "/b/1#opening")
        );
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
            let found = trend(conn, term, &Query::parse(term).unwrap(), &months).unwrap();
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
        let by = |name: &str| {
            let filter = SearchFilter {
                spokesperson: Some(name.into()),
                ..SearchFilter::default()
            };
            search(
                conn,
                &Query::parse("trade OR 贸易").unwrap(),
                &filter,
                0,
                10,
            )
            .unwrap()
            .total
        };
        assert_eq!((by("赵立坚"), by("Hua Chunying")), (2, 0));
    }
}
