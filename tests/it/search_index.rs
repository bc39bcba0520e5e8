//! The search index over the archive's own text: an archive written with the contentless index
//! before it is converted in place and finds the same passages, and other SQLite clients (the
//! `sqlite3` shell, Datasette) still open the archive, index included.

use std::path::Path;
use std::process::Command;

use rusqlite::Connection;
use serde_json::Value;

use crate::sql_archive::archive_with_a_revision;
use crate::support::{SiteServer, TestEnv, fixture_site};

/// Words, phrases, Chinese words, an acronym, a prefix and a negation.
const QUERIES: &[&str] = &[
    "Taiwan",
    "\"South China Sea\"",
    "WHO",
    "Chin*",
    "香港",
    "中美关系",
    "中国 NOT 台湾",
    "这是补充的一句话",
];

/// Turns an archive back into what the release before the index of external content wrote: the
/// contentless index with its row-id spans (empty: the upgrade drops it), no row id column on the
/// exchanges, no spokesperson on the documents, the records the text rows took over from (see
/// [`put_records_back`](crate::records::put_records_back)), and the schema version before those
/// two migrations. Returns the version it had.
pub fn make_contentless(database: &Path) -> i64 {
    crate::records::put_records_back(database);
    let conn = Connection::open(database).unwrap();
    // Dropping the index needs the tokenizer it was written with.
    briefwatch::store::register_search_tokenizer(&conn).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    conn.execute_batch(
        "DROP TABLE exchange_search; DROP TABLE text_search;
         DROP INDEX exchanges_search_rowid; ALTER TABLE exchanges DROP COLUMN search_rowid;
         CREATE VIRTUAL TABLE exchange_search USING fts5(
             body, capitals, content='', columnsize=0,
             tokenize='porter unicode61 remove_diacritics 2');
         INSERT INTO exchange_search(exchange_search, rank) VALUES ('automerge', 8);
         CREATE TABLE search_spans (
             first_rowid INTEGER PRIMARY KEY,
             revision_id INTEGER NOT NULL UNIQUE REFERENCES revisions(id),
             span INTEGER NOT NULL,
             text_hash TEXT);
         UPDATE documents SET spokesperson = NULL;",
    )
    .unwrap();
    conn.pragma_update(None, "user_version", version - 2)
        .unwrap();
    version
}

fn searches(env: &TestEnv) -> Vec<Value> {
    let mut found: Vec<Value> = QUERIES
        .iter()
        .map(|query| {
            serde_json::from_str(&env.briefwatch(&["search", query, "--json", "--limit", "1000"]))
                .unwrap()
        })
        .collect();
    found.push(
        serde_json::from_str(&env.briefwatch(&[
            "search",
            "China",
            "--spokesperson",
            "赵立坚",
            "--json",
            "--limit",
            "1000",
        ]))
        .unwrap(),
    );
    found
}

#[test]
fn an_archive_with_the_contentless_index_is_converted_and_finds_the_same_passages() {
    let site = SiteServer::start(fixture_site());
    // One Chinese transcript has a second revision with one exchange edited: its other exchanges
    // are one hit each, the edited one a hit in each revision.
    let (env, edited_url) = archive_with_a_revision(&site);
    let before = searches(&env);
    for (query, found) in QUERIES.iter().zip(&before) {
        assert!(found["total"].as_u64().unwrap() > 0, "{query}: {found}");
    }
    let added = &before[QUERIES.len() - 1];
    assert_eq!(added["total"], 1, "{added}");
    assert_eq!(
        (
            added["hits"][0]["url"].as_str(),
            added["hits"][0]["seq"].as_i64()
        ),
        (Some(edited_url.as_str()), Some(2))
    );
    let edited: Vec<&Value> = before[4]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|hit| hit["url"] == edited_url.as_str())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for hit in &edited {
        let key = (hit["ordinal"].as_u64(), hit["in_latest"].as_bool());
        assert!(seen.insert(key), "one hit per passage as it was: {hit}");
    }
    assert!(
        before
            .iter()
            .flat_map(|found| found["hits"].as_array().unwrap())
            .flat_map(|hit| hit["question"]
                .as_array()
                .unwrap()
                .iter()
                .chain(hit["answer"].as_array().unwrap()))
            .flat_map(|paragraph| paragraph.as_array().unwrap())
            .any(|segment| segment["marked"] == true),
        "hits are quoted with their matches marked"
    );

    let version = make_contentless(&env.database());
    let conn = Connection::open(env.database()).unwrap();
    let spans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'search_spans'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(spans, 1, "the archive has the old index");
    drop(conn);

    // The new binary converts it on opening, and finds the same passages.
    assert_eq!(searches(&env), before);
    let store = env.store();
    let conn = store.connection();
    let upgraded: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(upgraded, version);
    let old_tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'search_spans%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(old_tables, 0, "the old index is gone");
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // FTS5's own check, index against the text rows.
    conn.execute_batch(
        "INSERT INTO exchange_search(exchange_search) VALUES ('integrity-check');
         INSERT INTO text_search(text_search) VALUES ('integrity-check');",
    )
    .unwrap();
}

/// The stock shell opens the archive, checks it and reads the index with SQLite's own tokenizer:
/// English words match there too.
#[test]
#[ignore = "needs sqlite3"]
fn the_stock_sqlite3_shell_checks_the_archive_and_reads_the_index() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    let run = |sql: &str| -> String {
        let output = Command::new("sqlite3")
            .arg(env.database())
            .arg(sql)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run sqlite3 ({error}): this test needs it (apt-get install sqlite3)")
            });
        assert!(
            output.status.success(),
            "sqlite3 failed on {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    };
    assert_eq!(run("PRAGMA integrity_check"), "ok");
    let matched: usize =
        run("SELECT COUNT(*) FROM exchange_search WHERE exchange_search MATCH 'Taiwan'")
            .parse()
            .unwrap();
    let containing: usize =
        run("SELECT COUNT(*) FROM exchanges WHERE question || answer LIKE '%Taiwan%'")
            .parse()
            .unwrap();
    assert!(containing > 0);
    assert_eq!(matched, containing);
}

/// Datasette checks every table of a file before it serves it: the archive passes, and every
/// table, the index included, has its rows counted.
#[test]
#[ignore = "needs datasette"]
fn datasette_opens_the_archive_with_its_index() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    let inspected = env.dir.path().join("inspect.json");
    let output = Command::new("datasette")
        .arg("inspect")
        .arg(env.database())
        .arg("--inspect-file")
        .arg(&inspected)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run datasette ({error}): this test needs it (pip install datasette)")
        });
    assert!(
        output.status.success(),
        "datasette failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let inspected: Value = serde_json::from_slice(&std::fs::read(&inspected).unwrap()).unwrap();
    let tables = &inspected["briefwatch"]["tables"];
    let exchanges = tables["exchanges"]["count"].as_u64().unwrap();
    assert!(exchanges > 0, "{tables}");
    assert_eq!(tables["exchange_search"]["count"].as_u64(), Some(exchanges));
    assert!(tables["latest_exchanges"].is_null() || tables["latest_exchanges"].is_object());
}

/// A statement edited, then put back as it was: its text is one hit, in the latest revision that
/// has it, and the index stays whole through the copies it takes out at each revision.
#[test]
fn a_passage_put_back_is_found_in_the_latest_revision_only() {
    let site = SiteServer::start(fixture_site());
    let (env, edited_url) = archive_with_a_revision(&site);
    let path = crate::support::FIXTURE_ZH_ARTICLES[2];
    let edited = String::from_utf8(site.page(path)).unwrap();
    site.set_page(path, edited.replacen("这是补充的一句话。", "", 1));
    env.briefwatch(&["poll", "--once", "--all"]);
    let hits = |query: &str| -> Vec<(u64, i64, bool)> {
        let found: Value =
            serde_json::from_str(&env.briefwatch(&["search", query, "--json", "--limit", "1000"]))
                .unwrap();
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|hit| hit["url"] == edited_url.as_str())
            .map(|hit| {
                (
                    hit["ordinal"].as_u64().unwrap(),
                    hit["seq"].as_i64().unwrap(),
                    hit["in_latest"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    // The statement's text as first fetched is the third revision's: one hit, in the third; as
    // edited, a hit in the second.
    assert_eq!(hits("香港"), [(0, 3, true), (0, 2, false)]);
    assert_eq!(
        hits("这是补充的一句话"),
        [(0, 2, false)],
        "the edit, in the second only"
    );

    // The same with an exchange of a press conference: edited, then put back.
    let conference = crate::support::FIXTURE_ZH_ARTICLES[0];
    let original = String::from_utf8(site.page(conference)).unwrap();
    assert!(original.contains("不存在任何争议"));
    site.set_page(
        conference,
        original.replacen("不存在任何争议", "不存在任何争议，这是补充的话", 1),
    );
    env.briefwatch(&["poll", "--once", "--all"]);
    site.set_page(conference, original);
    env.briefwatch(&["poll", "--once", "--all"]);
    let conference_hits = |query: &str| -> Vec<(u64, i64)> {
        let found: Value =
            serde_json::from_str(&env.briefwatch(&["search", query, "--json", "--limit", "1000"]))
                .unwrap();
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|hit| hit["url"] == site.url(conference).as_str())
            .map(|hit| {
                (
                    hit["ordinal"].as_u64().unwrap(),
                    hit["seq"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let edited_exchange = conference_hits("这是补充的话");
    assert_eq!(edited_exchange.len(), 1);
    let (ordinal, seq) = edited_exchange[0];
    assert_eq!(seq, 2);
    assert_eq!(conference_hits("西沙群岛"), [(ordinal, 3), (ordinal, 2)]);
    let unchanged = conference_hits("蓬佩奥");
    assert!(
        !unchanged.is_empty() && unchanged.iter().all(|&(_, seq)| seq == 3),
        "{unchanged:?}"
    );

    let store = env.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    store
        .connection()
        .execute_batch(
            "INSERT INTO exchange_search(exchange_search) VALUES ('integrity-check');
             INSERT INTO text_search(text_search) VALUES ('integrity-check');",
        )
        .unwrap();
    drop(store);
    // A rebuild gives the same index.
    let before = hits("香港");
    env.briefwatch(&["search", "--reindex"]);
    assert_eq!(hits("香港"), before);
}
