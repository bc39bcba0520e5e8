//! The archive read with plain SQL: text rows, the analysts' views, the stock `sqlite3` shell, and
//! the in-place upgrade of an archive written before the text was stored plain.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use briefwatch::model::Briefing;
use briefwatch::store::Store;
use rusqlite::Connection;
use serde_json::Value;

use crate::support::{
    EN_ARTICLE, FIXTURE_EN_ARTICLES, FIXTURE_ZH_ARTICLES, SiteServer, TestEnv, count, fixture_site,
};

/// One exchange as an analyst reads it: ordinal, asker, question, answer.
type Row = (i64, String, String, String);

/// The fixture site backfilled, then one Chinese transcript edited and polled again, so that one
/// document has two revisions and the views must pick the second.
pub fn archive_with_a_revision(site: &SiteServer) -> (TestEnv, String) {
    let env = TestEnv::new(site);
    env.briefwatch(&["backfill"]);
    let edited_path = FIXTURE_ZH_ARTICLES[2];
    let edited = String::from_utf8(site.page(edited_path)).unwrap().replacen(
        "。",
        "。这是补充的一句话。",
        1,
    );
    site.set_page(edited_path, edited);
    env.briefwatch(&["poll", "--once", "--all"]);
    (env, site.url(edited_path))
}

/// The exchanges of a record, as the views give them.
fn record_rows(briefing: &Briefing) -> Vec<Row> {
    briefing
        .exchanges
        .iter()
        .map(|exchange| {
            (
                i64::from(exchange.ordinal),
                exchange.asker.clone(),
                exchange.question.join("\n"),
                exchange.answer.join("\n"),
            )
        })
        .collect()
}

/// `latest_exchanges` by document URL: (revision, rows in order).
fn latest_exchanges(conn: &Connection) -> BTreeMap<String, (i64, Vec<Row>)> {
    let mut stmt = conn
        .prepare(
            "SELECT url, revision, ordinal, asker, question, answer FROM latest_exchanges
             ORDER BY url, ordinal",
        )
        .unwrap();
    let mut found: BTreeMap<String, (i64, Vec<Row>)> = BTreeMap::new();
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?),
            ))
        })
        .unwrap();
    for row in rows {
        let (url, revision, exchange) = row.unwrap();
        let entry = found.entry(url).or_insert((revision, Vec::new()));
        assert_eq!(entry.0, revision, "one revision per document");
        entry.1.push(exchange);
    }
    found
}

/// Every revision's exchange rows and text row equal its stored record.
fn assert_text_rows_match_records(store: &Store) {
    let conn = store.connection();
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM revisions ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!ids.is_empty());
    for id in ids {
        let briefing = store.revision_by_id(id).unwrap().unwrap().briefing;
        let rows: Vec<Row> = conn
            .prepare(
                "SELECT ordinal, asker, question, answer FROM exchanges
                 WHERE revision_id = ?1 ORDER BY ordinal",
            )
            .unwrap()
            .query_map([id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, record_rows(&briefing), "exchanges of revision {id}");
        let text: (String, String, Option<String>, Option<String>, String) = conn
            .query_row(
                "SELECT kind, title, date, spokesperson, opening FROM revision_texts
                 WHERE revision_id = ?1",
                [id],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                },
            )
            .unwrap_or_else(|error| panic!("text of revision {id}: {error}"));
        assert_eq!(
            text,
            (
                briefing.kind.as_str().to_string(),
                briefing.title.clone(),
                briefing.date.map(|date| date.to_string()),
                briefing.spokesperson.clone(),
                briefing.opening.join("\n"),
            ),
            "text of revision {id}"
        );
    }
}

#[test]
fn the_views_give_every_exchange_of_the_latest_revision_its_fetches_and_events() {
    let site = SiteServer::start(fixture_site());
    let (env, edited_url) = archive_with_a_revision(&site);
    let store = env.store();
    let conn = store.connection();
    assert_text_rows_match_records(&store);

    // latest_exchanges: every document with exchanges, each at its latest revision.
    let latest = latest_exchanges(conn);
    let documents = store.list_documents(None).unwrap();
    assert_eq!(
        documents.len(),
        FIXTURE_EN_ARTICLES.len() + FIXTURE_ZH_ARTICLES.len()
    );
    for document in &documents {
        let revision = store.latest_revision(document.id).unwrap().unwrap();
        let expected = record_rows(&revision.briefing);
        match latest.get(&document.url) {
            Some((seq, rows)) => {
                assert_eq!(*seq, revision.meta.seq, "{}", document.url);
                assert_eq!(rows, &expected, "{}", document.url);
            }
            None => assert!(expected.is_empty(), "{} is missing", document.url),
        }
    }
    // The edited statement has no exchanges: its edit is read in its opening, at revision 2.
    let (seq, opening): (i64, String) = conn
        .query_row(
            "SELECT revision, opening FROM latest_briefings WHERE url = ?1",
            [&edited_url],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        seq, 2,
        "the edited transcript is read at its second revision"
    );
    let exchanges = latest.get(&edited_url).map_or(&[][..], |(_, rows)| rows);
    let latest_text = exchanges
        .iter()
        .fold(opening, |text, (_, _, question, answer)| {
            text + question + answer
        });
    assert!(
        latest_text.contains("这是补充的一句话"),
        "the edit is in the latest text"
    );

    // The analyst's query of the README, on the English transcript of 3 July 2020.
    let article = store
        .document(briefwatch::store::DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    let date = article.briefing_date.unwrap().to_string();
    let askers: Vec<(String, String)> = conn
        .prepare(
            "SELECT asker, question FROM latest_exchanges WHERE date = ?1 AND lang = 'en'
             ORDER BY url, ordinal",
        )
        .unwrap()
        .query_map([&date], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let record = store.latest_revision(article.id).unwrap().unwrap().briefing;
    assert!(!record.exchanges.is_empty());
    for exchange in &record.exchanges {
        assert!(
            askers.contains(&(exchange.asker.clone(), exchange.question.join("\n"))),
            "{} asked on {date}",
            exchange.asker
        );
    }

    // latest_briefings: one row per document, with its title and spokesperson.
    assert_eq!(
        count(&store, "latest_briefings"),
        documents.len() as i64,
        "one latest briefing per document"
    );
    let (title, spokesperson): (String, Option<String>) = conn
        .query_row(
            "SELECT title, spokesperson FROM latest_briefings WHERE url = ?1",
            [site.url(EN_ARTICLE)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(title, record.title);
    assert_eq!(spokesperson, record.spokesperson);

    // revisions_view: every revision; the edit's significance is the revised event's.
    assert_eq!(count(&store, "revisions_view"), count(&store, "revisions"));
    let (first, second): (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT MAX(CASE seq WHEN 1 THEN significance END),
                    MAX(CASE seq WHEN 2 THEN significance END)
             FROM revisions_view WHERE url = ?1",
            [&edited_url],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(first, None, "a first revision has no significance");
    let revised = store
        .document_events(
            store
                .document(briefwatch::store::DocumentKey::Url(&edited_url))
                .unwrap()
                .unwrap()
                .id,
        )
        .unwrap()
        .into_iter()
        .find(|event| event.kind == briefwatch::model::EventKind::Revised)
        .expect("the edit is a revised event");
    assert_eq!(
        second.as_deref(),
        revised.payload["significance"].as_str(),
        "the edit's significance"
    );
    assert!(second.is_some());

    // events_view: every event, its payload as JSON SQL can take apart.
    assert_eq!(count(&store, "events_view"), count(&store, "events"));
    let to_seq: i64 = conn
        .query_row(
            "SELECT json_extract(payload, '$.to_seq') FROM events_view
             WHERE type = 'revised' AND url = ?1",
            [&edited_url],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(to_seq, 2);
}

/// The README's query, in the stock `sqlite3` shell (its JSON output mode, as questions span
/// lines).
#[test]
#[ignore = "needs sqlite3"]
fn the_stock_sqlite3_shell_reads_the_latest_exchanges() {
    let site = SiteServer::start(fixture_site());
    let (env, _) = archive_with_a_revision(&site);
    let store = env.store();
    let article = store
        .document(briefwatch::store::DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    let record = store.latest_revision(article.id).unwrap().unwrap().briefing;
    let date = record.date.unwrap();
    drop(store);

    let output = Command::new("sqlite3")
        .arg("-json")
        .arg(env.database())
        .arg(format!(
            "SELECT asker, question FROM latest_exchanges WHERE date = '{date}' AND lang = 'en'"
        ))
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run sqlite3 ({error}): this test needs it (apt-get install sqlite3)")
        });
    assert!(
        output.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stdout)));
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|row| {
            (
                row["asker"].as_str().unwrap().to_string(),
                row["question"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = record
        .exchanges
        .iter()
        .map(|exchange| (exchange.asker.clone(), exchange.question.join("\n")))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
}

/// Turns an archive back into what the release before the plain-text rows wrote: no text columns,
/// no text table, no views, none of the read indexes, the contentless search index that came
/// before (empty), each revision's record, and the schema version before those four migrations.
/// Returns the version it had.
pub fn make_old(database: &Path) -> i64 {
    let version = crate::search_index::make_contentless(database);
    let conn = Connection::open(database).unwrap();
    conn.execute_batch(
        "DROP INDEX events_type; DROP INDEX documents_state; DROP INDEX documents_source_state;
         DROP INDEX documents_listing;
         DROP INDEX revisions_fetched; DROP INDEX revision_texts_dates;
         DROP VIEW latest_exchanges; DROP VIEW latest_briefings; DROP VIEW revisions_view;
         DROP VIEW events_view; DROP TABLE revision_texts;
         ALTER TABLE exchanges DROP COLUMN question; ALTER TABLE exchanges DROP COLUMN answer;",
    )
    .unwrap();
    conn.pragma_update(None, "user_version", version - 4)
        .unwrap();
    version
}

/// Everything an upgrade must keep, row by row.
fn contents(conn: &Connection) -> Vec<String> {
    let mut rows = Vec::new();
    for query in [
        "SELECT document_id || ' #' || seq || ' ' || content_hash || ' ' || raw_hash FROM revisions ORDER BY id",
        "SELECT id || ' ' || type || ' ' || payload FROM events ORDER BY id",
        "SELECT id || ' ' || url || ' ' || outcome FROM fetch_log ORDER BY id",
        "SELECT id || ' ' || state FROM outbox ORDER BY id",
        "SELECT revision_id || ' ' || ordinal || ' ' || asker || ' ' || question_hash || ' ' || answer_hash FROM exchanges ORDER BY 1",
        "SELECT url || ' ' || state FROM documents ORDER BY id",
    ] {
        let mut stmt = conn.prepare(query).unwrap();
        let found: Vec<String> = stmt
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.push(format!("{query}: {}", found.len()));
        rows.extend(found);
    }
    rows
}

#[test]
fn an_archive_written_before_the_text_rows_is_converted_in_place() {
    let site = SiteServer::start(fixture_site());
    let (env, _) = archive_with_a_revision(&site);
    let version = make_old(&env.database());
    let conn = Connection::open(env.database()).unwrap();
    let before = contents(&conn);
    let columns: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('exchanges') WHERE name IN ('question', 'answer')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(columns, 0, "the old archive has no text columns");
    drop(conn);

    // The new binary opens it and converts it.
    let listed = env.briefwatch(&["list"]);
    assert_eq!(
        listed.lines().count(),
        FIXTURE_EN_ARTICLES.len() + FIXTURE_ZH_ARTICLES.len()
    );
    let store = env.store();
    let conn = store.connection();
    let upgraded: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(upgraded, version);
    assert_eq!(contents(conn), before, "nothing lost or changed");
    assert_text_rows_match_records(&store);
    assert!(count(&store, "latest_exchanges") > 0);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// Whole corpus: `latest_exchanges` gives, for every transcript, exactly the askers, questions
/// and answers `briefwatch extract` gives for its page, and the file stays under 36 MB.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn whole_corpus_latest_exchanges_are_what_extract_gives() {
    let (env, manifest) = TestEnv::corpus_imported();
    let extracted = env.briefwatch(&["extract", "--manifest", manifest.to_str().unwrap()]);

    let store = env.store();
    let latest = latest_exchanges(store.connection());
    let mut transcripts = 0;
    let mut exchanges = 0;
    for line in extracted.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        if value.get("error").is_some() {
            continue;
        }
        let briefing: Briefing = serde_json::from_value(value).unwrap();
        let expected = record_rows(&briefing);
        if expected.is_empty() {
            assert!(!latest.contains_key(&briefing.url), "{}", briefing.url);
            continue;
        }
        let (_, rows) = latest
            .get(&briefing.url)
            .unwrap_or_else(|| panic!("{} is missing from latest_exchanges", briefing.url));
        assert_eq!(rows, &expected, "{}", briefing.url);
        transcripts += 1;
        exchanges += rows.len();
    }
    assert!(transcripts > 700, "{transcripts} transcripts compared");
    assert_eq!(
        latest.len(),
        transcripts,
        "latest_exchanges holds only the extracted transcripts"
    );
    eprintln!("{transcripts} transcripts, {exchanges} exchanges compared");
    drop(store);

    let conn = Connection::open(env.database()).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .unwrap();
    drop(conn);
    let size = std::fs::metadata(env.database()).unwrap().len();
    eprintln!("whole-corpus archive: {size} bytes");
    assert!(size < 36 << 20, "the database is {size} bytes");
}
