//! `briefwatch export` as a researcher meets it: the real binary after a backfill of the loopback
//! fixture site (one English and one Chinese page made hostile: quotes, commas, several
//! paragraphs), its CSV read back with the csv crate and with Python's csv module, its JSON Lines
//! read with serde_json, each compared with what `show --json`, `pair --json` and
//! `history --json` say of the same archive.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{EN_ARTICLE, SiteServer, TestEnv, fixture_site};

/// The Chinese press conference of 2 July 2020.
const ZH_2_JULY: &str = "/web/wjdt_674879/fyrbt_674889/t1794237.shtml";
/// A sentence of an answer of 3 July (English), and what the test serves instead.
const EN_SENTENCE: &str = "Several Western countries' attempt to smear China will never succeed.";
const EN_HOSTILE: &str =
    "He said, \"No comment, really\"; then: \"\"quoted twice\"\", a comma, 台湾.";
/// A phrase of an answer of 2 July (Chinese), and what the test serves instead.
const ZH_PHRASE: &str = "中方欢迎安理会一致通过新冠肺炎疫情决议";
const ZH_HOSTILE: &str = "中方欢迎安理会\"一致通过\",逗号,新冠肺炎疫情决议";

/// A row as text, column by column; an empty cell and a JSON null are both "".
type Row = BTreeMap<String, String>;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The fixture site with the two hostile pages, backfilled.
fn backfilled() -> (SiteServer, TestEnv) {
    let site = SiteServer::start(fixture_site());
    for (path, from, to) in [
        (EN_ARTICLE, EN_SENTENCE, EN_HOSTILE),
        (ZH_2_JULY, ZH_PHRASE, ZH_HOSTILE),
    ] {
        let page = String::from_utf8(site.page(path)).unwrap();
        assert!(page.contains(from), "{path} has {from:?}");
        // The page is HTML: the quotes go in as entities, as a ministry page would have them.
        site.set_page(path, page.replace(from, &to.replace('"', "&quot;")));
    }
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    (site, env)
}

/// What `list --json` and `show --json` say the export must hold: one row per exchange of the
/// latest revision of each archived document.
fn expected_rows(env: &TestEnv) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in env.briefwatch(&["list", "--json"]).lines() {
        let document = json(line);
        if document["revisions"] == 0 {
            continue;
        }
        let url = document["url"].as_str().unwrap();
        let revision = json(&env.briefwatch(&["show", url, "--json"]));
        let briefing = &revision["briefing"];
        for exchange in briefing["exchanges"].as_array().unwrap() {
            let paragraphs = |key: &str| {
                exchange[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let row: Row = [
                ("url", url.to_string()),
                ("lang", text_of(&briefing["lang"])),
                ("date", text_of(&briefing["date"])),
                ("spokesperson", text_of(&briefing["spokesperson"])),
                ("kind", text_of(&briefing["kind"])),
                ("ordinal", text_of(&exchange["ordinal"])),
                ("asker", text_of(&exchange["asker"])),
                ("question", paragraphs("question")),
                ("answer", paragraphs("answer")),
                ("revision", text_of(&revision["seq"])),
                ("fetched_at", text_of(&revision["fetched_at"])),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            rows.push(row);
        }
    }
    rows
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by_key(|row| {
        (
            row["url"].clone(),
            row["ordinal"].parse::<u32>().unwrap_or(0),
        )
    });
    rows
}

/// A CSV file read with the csv crate: it starts with a UTF-8 byte-order mark, then the header.
fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Row>) {
    let body = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .expect("the CSV starts with a UTF-8 byte-order mark");
    let mut reader = csv::Reader::from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            let record = record.expect("a well-formed CSV record");
            assert_eq!(record.len(), header.len(), "every record has every column");
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

/// JSON Lines: one object per line, values as text.
fn read_jsonl(text: &str) -> Vec<Row> {
    text.lines()
        .map(|line| {
            json(line)
                .as_object()
                .expect("each line is one JSON object")
                .iter()
                .map(|(key, value)| (key.clone(), text_of(value)))
                .collect()
        })
        .collect()
}

/// The same file read by Python's csv module, as a spreadsheet-minded researcher would.
fn read_csv_with_python(path: &Path) -> Vec<Row> {
    let script = r#"
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    print(json.dumps(list(csv.DictReader(f)), ensure_ascii=False))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 runs (it is on every CI machine)");
    assert!(
        output.status.success(),
        "python3 could not read the CSV: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Vec<Row>>(&output.stdout).expect("a list of rows")
}

#[test]
fn the_export_has_one_row_per_exchange_of_the_latest_revisions_with_the_same_text() {
    let (_site, env) = backfilled();
    let expected = sorted(expected_rows(&env));
    assert!(expected.len() > 40, "the fixture site has many exchanges");
    let hostile = expected
        .iter()
        .find(|row| row["answer"].contains("\"No comment, really\""))
        .expect("the hostile English answer is archived with its quotes");
    assert!(
        hostile["answer"].contains('\n'),
        "and has several paragraphs: {hostile:?}"
    );
    assert!(
        expected
            .iter()
            .any(|row| row["answer"].contains("\"一致通过\",逗号,")),
        "the hostile Chinese answer is archived"
    );

    let csv_path = env.dir.path().join("exchanges.csv");
    env.briefwatch(&[
        "export",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let (header, csv_rows) = read_csv(&std::fs::read(&csv_path).unwrap());
    assert_eq!(
        header,
        [
            "url",
            "lang",
            "date",
            "spokesperson",
            "kind",
            "ordinal",
            "asker",
            "question",
            "answer",
            "revision",
            "fetched_at"
        ]
    );
    assert_eq!(
        sorted(csv_rows),
        expected,
        "CSV read back with the csv crate"
    );
    assert_eq!(
        sorted(read_csv_with_python(&csv_path)),
        expected,
        "CSV read back with Python's csv module"
    );

    let jsonl = env.briefwatch(&["export"]);
    assert_eq!(
        sorted(read_jsonl(&jsonl)),
        expected,
        "JSON Lines, the default format, on standard output"
    );

    // The whole file is there and nothing else: the temporary file was renamed.
    let names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|name| name.contains("partial")),
        "{names:?}"
    );
}

#[test]
fn language_and_dates_narrow_the_export() {
    let (_site, env) = backfilled();
    let expected: Vec<Row> = sorted(
        expected_rows(&env)
            .into_iter()
            .filter(|row| {
                row["lang"] == "zh"
                    && row["date"].as_str() >= "2020-07-03"
                    && row["date"].as_str() <= "2020-07-03"
            })
            .collect(),
    );
    assert!(!expected.is_empty());
    let out = env.briefwatch(&[
        "export",
        "--lang",
        "zh",
        "--since",
        "2020-07-03",
        "--until",
        "2020-07-03",
        "--format",
        "jsonl",
    ]);
    assert_eq!(sorted(read_jsonl(&out)), expected);

    let backwards =
        env.briefwatch_output(&["export", "--since", "2020-07-03", "--until", "2020-07-01"]);
    assert_eq!(backwards.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&backwards.stderr)
            .contains("--since 2020-07-03 is after --until 2020-07-01")
    );

    // An export that cannot be written leaves no file behind and says why.
    let missing = env.dir.path().join("no-such-dir/out.csv");
    let failed = env.briefwatch_output(&["export", "--out", missing.to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("cannot write"));
    assert!(!missing.exists());

    // An empty export still names its columns.
    let empty = env.dir.path().join("empty.csv");
    env.briefwatch(&[
        "export",
        "--since",
        "2030-01-01",
        "--format",
        "csv",
        "--out",
        empty.to_str().unwrap(),
    ]);
    let (header, rows) = read_csv(&std::fs::read(&empty).unwrap());
    assert_eq!(header.len(), 11);
    assert!(rows.is_empty());
}

#[test]
fn pairs_are_the_days_aligned_exchanges_as_pair_shows_them() {
    let (_site, env) = backfilled();
    let csv_path = env.dir.path().join("pairs.csv");
    env.briefwatch(&[
        "export",
        "--pairs",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let (header, rows) = read_csv(&std::fs::read(&csv_path).unwrap());
    assert_eq!(
        &header[..9],
        [
            "date",
            "ordinal_en",
            "ordinal_zh",
            "asker_en",
            "asker_zh",
            "question_en",
            "question_zh",
            "answer_en",
            "answer_zh"
        ]
    );
    assert_eq!(
        read_csv_with_python(&csv_path),
        rows,
        "Python's csv module reads the same rows"
    );

    // Every exchange of each press conference, by language and date, from `show --json`.
    let exchanges = expected_rows(&env);
    let exchange = |lang: &str, date: &str, ordinal: &str| {
        exchanges
            .iter()
            .find(|row| {
                row["lang"] == lang
                    && row["date"] == date
                    && row["kind"] == "press_conference"
                    && row["ordinal"] == ordinal
            })
            .unwrap_or_else(|| panic!("no {lang} exchange {ordinal} on {date}"))
    };

    for date in ["2020-07-02", "2020-07-03"] {
        let pairing = json(&env.briefwatch(&["pair", date, "--json"]));
        let day: Vec<&Row> = rows.iter().filter(|row| row["date"] == date).collect();
        let pair_rows = pairing["rows"].as_array().unwrap();
        assert_eq!(
            day.len(),
            pair_rows.len(),
            "{date}: one row per pairing row"
        );
        assert!(pairing["paired"].as_u64().unwrap() > 5, "{pairing}");
        for (row, pair) in day.iter().zip(pair_rows) {
            let first = |value: &Value| match value {
                Value::Array(values) => text_of(&values[0]),
                other => text_of(other),
            };
            assert_eq!(row["pairing"], text_of(&pair["kind"]));
            assert_eq!(row["ordinal_en"], first(&pair["en"]), "{pair}");
            assert_eq!(row["ordinal_zh"], first(&pair["zh"]), "{pair}");
            if pair["kind"] == "paired" {
                let en = exchange("en", date, &row["ordinal_en"]);
                let zh = exchange("zh", date, &row["ordinal_zh"]);
                assert_eq!(row["asker_en"], en["asker"]);
                assert_eq!(row["asker_zh"], zh["asker"]);
                assert_eq!(row["question_en"], en["question"]);
                assert_eq!(row["question_zh"], zh["question"]);
                assert_eq!(row["answer_en"], en["answer"]);
                assert_eq!(row["answer_zh"], zh["answer"]);
            }
            if pair["kind"] == "en_only" {
                assert_eq!(
                    (row["ordinal_zh"].as_str(), row["answer_zh"].as_str()),
                    ("", "")
                );
            }
        }
    }
    assert!(
        rows.iter()
            .any(|row| row["answer_zh"].contains("\"一致通过\",逗号,")),
        "the hostile Chinese answer is paired"
    );

    // A day with an English press conference only: each exchange alone, the Chinese side empty.
    let english_only: Vec<&Row> = rows
        .iter()
        .filter(|row| row["date"] == "2020-07-01")
        .collect();
    let on_that_day = exchanges
        .iter()
        .filter(|row| row["date"] == "2020-07-01" && row["lang"] == "en")
        .count();
    assert_eq!(english_only.len(), on_that_day);
    assert!(english_only.iter().all(|row| row["pairing"] == "en_only"
        && row["ordinal_zh"].is_empty()
        && row["question_zh"].is_empty()
        && !row["question_en"].is_empty()));
}

#[test]
fn history_has_every_revision_and_every_event_as_history_shows_them() {
    let (site, env) = backfilled();
    // A correction of the English page of 3 July: a second revision and its events.
    let page = String::from_utf8(site.page(EN_ARTICLE)).unwrap();
    site.set_page(
        EN_ARTICLE,
        page.replace("No comment, really", "No comment at all, really"),
    );
    env.briefwatch(&["poll", "--once", "--all"]);

    let out = env.briefwatch(&["export", "--history"]);
    let rows = read_jsonl(&out);
    let mut expected = 0;
    for line in env.briefwatch(&["list", "--json"]).lines() {
        let url = text_of(&json(line)["url"]);
        let history: Vec<Value> = env
            .briefwatch(&["history", &url, "--json"])
            .lines()
            .map(json)
            .collect();
        for record in &history {
            expected += 1;
            let found: Vec<&Row> = if record["type"] == "revision" {
                rows.iter()
                    .filter(|row| {
                        row["record_type"] == "revision"
                            && row["url"] == url
                            && row["revision"] == text_of(&record["seq"])
                    })
                    .collect()
            } else {
                rows.iter()
                    .filter(|row| {
                        row["record_type"] == "event" && row["event_id"] == text_of(&record["id"])
                    })
                    .collect()
            };
            assert_eq!(found.len(), 1, "{url}: {record}");
            let row = found[0];
            if record["type"] == "revision" {
                for key in ["fetched_at", "content_hash", "significance", "summary"] {
                    assert_eq!(row[key], text_of(&record[key]), "{key} of {record}");
                }
            } else {
                assert_eq!(row["url"], url);
                assert_eq!(row["event_type"], text_of(&record["type"]));
                assert_eq!(row["created_at"], text_of(&record["created_at"]));
                assert_eq!(json(&row["payload"]), record["payload"]);
            }
        }
    }
    assert_eq!(rows.len(), expected, "nothing more than history shows");
    let edited: Vec<&Row> = rows
        .iter()
        .filter(|row| row["url"] == site.url(EN_ARTICLE) && row["record_type"] == "revision")
        .collect();
    assert_eq!(edited.len(), 2, "the corrected page has two revisions");
    assert!(
        rows.iter()
            .any(|row| row["event_type"] == "revised" && row["revision"] == "2"),
        "its `revised` event names revision 2"
    );

    // In CSV too, with the same columns for both kinds of record.
    let csv_path = env.dir.path().join("history.csv");
    env.briefwatch(&[
        "export",
        "--history",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let (header, csv_rows) = read_csv(&std::fs::read(&csv_path).unwrap());
    assert_eq!(header[0], "record_type");
    assert_eq!(csv_rows.len(), rows.len());
}

/// pandas and DuckDB read both files as they are: same rows, same text, typed columns.
#[test]
#[ignore = "needs python3 pandas duckdb"]
fn pandas_and_duckdb_read_the_export_as_it_is() {
    let probe = Command::new("python3")
        .args(["-c", "import pandas, duckdb"])
        .output();
    assert!(
        probe.is_ok_and(|output| output.status.success()),
        "python3 cannot import pandas and duckdb: this test needs them (pip install pandas duckdb)"
    );
    let (_site, env) = backfilled();
    let expected = expected_rows(&env);
    let jsonl = env.dir.path().join("exchanges.jsonl");
    let csv_path = env.dir.path().join("exchanges.csv");
    env.briefwatch(&["export", "--out", jsonl.to_str().unwrap()]);
    env.briefwatch(&[
        "export",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let script = r#"
import json, sys, duckdb, pandas as pd
j = pd.read_json(sys.argv[1], lines=True)
c = pd.read_csv(sys.argv[2], keep_default_na=False)
d = duckdb.sql(f"SELECT * FROM read_json_auto('{sys.argv[1]}') ORDER BY url, ordinal").df()
assert list(c.columns) == list(j.columns), (list(c.columns), list(j.columns))
assert str(j["ordinal"].dtype) == "int64" and str(d["ordinal"].dtype) == "int64"
key = lambda f: f.sort_values(["url", "ordinal"]).reset_index(drop=True)
j, c = key(j), key(c)
assert (j["answer"] == c["answer"]).all() and (j["answer"] == d["answer"]).all()
print(json.dumps({"rows": len(j), "csv": len(c), "duckdb": len(d),
    "answers": sorted(j["answer"]), "questions": sorted(c["question"])}, ensure_ascii=False))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&jsonl)
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = json(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(read["rows"], expected.len());
    assert_eq!(read["csv"], expected.len());
    assert_eq!(read["duckdb"], expected.len());
    let mut answers: Vec<String> = expected.iter().map(|row| row["answer"].clone()).collect();
    answers.sort();
    let mut questions: Vec<String> = expected.iter().map(|row| row["question"].clone()).collect();
    questions.sort();
    assert_eq!(read["answers"], serde_json::json!(answers));
    assert_eq!(read["questions"], serde_json::json!(questions));
}

// Whole corpus: `BRIEFWATCH_CORPUS=/path/to/corpus cargo test --test it export -- --include-ignored`.

/// Over the whole imported corpus: one row per exchange of each latest revision, document by
/// document, as the archive's `exchanges` table counts them; and `--pairs` pairs each day as
/// `briefwatch pair` does, also on a day the archive holds two English transcripts of.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn corpus_export_has_every_exchange_of_the_latest_revisions() {
    let manifest = crate::support::corpus_dir().join("mfa-2020/MANIFEST.tsv");
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["import", manifest.to_str().unwrap()]);

    let csv_path = env.dir.path().join("all.csv");
    env.briefwatch(&[
        "export",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let (_, rows) = read_csv(&std::fs::read(&csv_path).unwrap());
    let mut exported: BTreeMap<String, i64> = BTreeMap::new();
    for row in &rows {
        *exported.entry(row["url"].clone()).or_default() += 1;
    }
    let store = env.store();
    let mut statement = store
        .connection()
        .prepare(
            "SELECT d.url, COUNT(*) FROM exchanges e
             JOIN revisions r ON r.id = e.revision_id
             JOIN documents d ON d.id = r.document_id
             WHERE r.seq = (SELECT MAX(seq) FROM revisions WHERE document_id = d.id)
             GROUP BY d.url",
        )
        .unwrap();
    let archived: BTreeMap<String, i64> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(archived.values().sum::<i64>() > 5000, "{}", archived.len());
    assert_eq!(exported, archived);

    let jsonl = env.briefwatch(&["export"]);
    assert_eq!(jsonl.lines().count(), rows.len());

    let pairs = env.briefwatch(&[
        "export",
        "--pairs",
        "--since",
        "2019-04-29",
        "--until",
        "2019-04-29",
    ]);
    let pairs = read_jsonl(&pairs);
    let pairing = json(&env.briefwatch(&["pair", "2019-04-29", "--json"]));
    assert_eq!(pairs.len(), pairing["rows"].as_array().unwrap().len());
    assert!(
        pairs
            .iter()
            .all(|row| row["url_en"] == text_of(&pairing["en_url"])
                && row["url_zh"] == text_of(&pairing["zh_url"])),
        "{pairing}"
    );
}
