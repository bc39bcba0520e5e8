//! Search over the whole corpus: latency of one- and two-word queries (with the page of results
//! loaded and highlighted, as the web view and `briefwatch search` do) and the index's share of
//! the database. Needs `BRIEFWATCH_CORPUS`; says so and does nothing without it.
//!
//! Run: `BRIEFWATCH_CORPUS=../shared/corpus cargo bench --bench search`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use briefwatch::daemon::{Engine, SystemClock};
use briefwatch::search::{Query, SearchFilter, search};
use briefwatch::store::Store;
use criterion::{Criterion, black_box};

const ONE_WORD: &[&str] = &["China", "Taiwan", "台湾", "香港", "sanctions"];
const TWO_WORDS: &[&str] = &[
    "South China",
    "trade war",
    "美国 香港",
    "\"Hong Kong\"",
    "疫情 合作",
];

fn corpus_manifest() -> Option<PathBuf> {
    let dir = std::env::var_os("BRIEFWATCH_CORPUS").map(PathBuf::from)?;
    let manifest = dir.join("mfa-2020/MANIFEST.tsv");
    manifest.is_file().then_some(manifest)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Imports the corpus into a fresh archive; returns its path.
fn import(manifest: &Path, dir: &Path) -> PathBuf {
    let config_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/briefwatch.toml");
    let mut config = briefwatch::setup::load(&config_path).expect("shipped config loads");
    config.archive.state_dir = dir.to_path_buf();
    let path = config.archive.database_path();
    let store = Store::open(&path).expect("open archive");
    let mut engine = Engine::new(config, store).expect("engine");
    let started = Instant::now();
    let report = engine
        .import_manifest(manifest, &SystemClock)
        .expect("import");
    eprintln!(
        "imported in {:.1?}: {}",
        started.elapsed(),
        report.summary()
    );
    drop(engine);
    path
}

/// Database size with and without the search index, both vacuumed.
fn index_share(path: &Path) {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .expect("vacuum");
    drop(conn);
    let with_index = file_size(path);
    let copy = path.with_extension("without-index.sqlite3");
    std::fs::copy(path, &copy).expect("copy");
    let conn = rusqlite::Connection::open(&copy).expect("open copy");
    briefwatch::store::register_search_tokenizer(&conn).expect("tokenizer");
    conn.execute_batch(
        "DROP TABLE exchange_search; DROP TABLE text_search; DROP INDEX exchanges_search_rowid; VACUUM;",
    )
    .expect("drop index");
    drop(conn);
    let without = file_size(&copy);
    let added = with_index.saturating_sub(without);
    eprintln!(
        "database {without} bytes without the search index, {with_index} with it: the index adds {added} bytes = {:.1} %",
        added as f64 * 100.0 / without.max(1) as f64
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn run_page(conn: &rusqlite::Connection, query: &Query) -> usize {
    let results = search(conn, query, &SearchFilter::default(), 0, 20).expect("search");
    results.total + results.hits.len()
}

/// p50/p95 over many runs of each query, the figure the target is stated in.
fn percentiles(conn: &rusqlite::Connection, label: &str, queries: &[&str]) {
    let mut times = Vec::new();
    for text in queries {
        let query = Query::parse(text).expect("query parses");
        let total = search(conn, &query, &SearchFilter::default(), 0, 0)
            .unwrap()
            .total;
        eprintln!("  {text}: {total} hits");
        for _ in 0..5 {
            run_page(conn, &query);
        }
        for _ in 0..100 {
            let started = Instant::now();
            black_box(run_page(conn, &query));
            times.push(started.elapsed());
        }
    }
    times.sort();
    eprintln!(
        "{label}: {} runs, p50 {:.2?}, p95 {:.2?}, max {:.2?}",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1]
    );
}

fn main() {
    let Some(manifest) = corpus_manifest() else {
        eprintln!("BRIEFWATCH_CORPUS not set: search bench skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = import(&manifest, dir.path());
    index_share(&path);
    let store = Store::open(&path).expect("open archive");
    let conn = store.connection();
    percentiles(conn, "one-word queries", ONE_WORD);
    percentiles(conn, "two-word queries", TWO_WORDS);

    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    for text in ONE_WORD.iter().chain(TWO_WORDS) {
        let query = Query::parse(text).expect("query parses");
        criterion.bench_function(&format!("search {text}"), |b| {
            b.iter(|| run_page(conn, &query))
        });
    }
    criterion.final_summary();
}
