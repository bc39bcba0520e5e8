//! Benchmark: diffing two revisions of the largest transcript (English and Chinese) of the corpus.

use std::path::{Path, PathBuf};

use briefwatch::config::DiffConfig;
use briefwatch::diff::diff;
use briefwatch::model::Briefing;
use briefwatch::site::Profile;
use criterion::{Criterion, criterion_group, criterion_main};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The largest transcript of one language: from the corpus manifest when `BRIEFWATCH_CORPUS` is
/// set, else the fixture page (`fixture`, relative to `tests/fixtures`).
fn largest_transcript(url_part: &str, fixture: &str) -> (String, PathBuf) {
    if let Some(corpus) = std::env::var_os("BRIEFWATCH_CORPUS") {
        let root = Path::new(&corpus).join("mfa-2020");
        if let Ok(manifest) = std::fs::read_to_string(root.join("MANIFEST.tsv")) {
            let largest = manifest
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split('\t').collect();
                    let bytes: u64 = fields.get(4)?.parse().ok()?;
                    let is_transcript = fields[0].contains(url_part)
                        && fields[0].rsplit('/').next()?.starts_with('t');
                    (is_transcript && fields[1] == "200").then(|| (bytes, fields[0], fields[3]))
                })
                .max_by_key(|(bytes, _, _)| *bytes);
            if let Some((_, url, file)) = largest {
                return (url.to_string(), root.join(file));
            }
        }
        eprintln!("BRIEFWATCH_CORPUS has no readable mfa-2020/MANIFEST.tsv: using the fixture");
    } else {
        eprintln!("BRIEFWATCH_CORPUS not set: benchmarking the fixture copy");
    }
    let name = fixture.rsplit('/').next().unwrap_or(fixture);
    let url = format!("https://www.fmprc.gov.cn/{url_part}{name}");
    (url, Path::new(FIXTURES).join(fixture))
}

fn load(profile: &str, url: &str, path: &Path) -> Briefing {
    let html = std::fs::read_to_string(path).expect("transcript readable");
    Profile::builtin(profile)
        .expect("built-in profile")
        .parse_article(&html, url)
        .expect("transcript extracts")
}

/// The ministry's kinds of edits at once: one exchange removed, a sentence reworded, one exchange
/// moved, punctuation changed in another.
fn revise(old: &Briefing) -> Briefing {
    let mut new = old.clone();
    let count = new.exchanges.len();
    assert!(count >= 6, "largest transcript has {count} exchanges");
    new.exchanges.remove(count / 2);
    if let Some(paragraph) = new.exchanges[1].answer.first_mut() {
        let cut = paragraph
            .char_indices()
            .nth(paragraph.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        paragraph.insert_str(cut, " This sentence was added in revision. ");
    }
    let moved = new.exchanges.remove(0);
    new.exchanges.insert(3, moved);
    let last = new.exchanges.len() - 1;
    for paragraph in &mut new.exchanges[last].answer {
        *paragraph = paragraph.replace(", ", "，").replace(',', "，");
    }
    for (index, exchange) in new.exchanges.iter_mut().enumerate() {
        exchange.ordinal = index as u32 + 1;
    }
    new
}

fn bench_diff(c: &mut Criterion) {
    let cfg = DiffConfig::default();
    for (name, profile, url_part, fixture) in [
        (
            "en",
            "mfa-en",
            "mfa_eng/xwfw_665399/s2510_665401/2511_665403/",
            "diff/t1790521.shtml",
        ),
        (
            "zh",
            "mfa-zh",
            "web/wjdt_674879/fyrbt_674889/",
            "site/web/wjdt_674879/fyrbt_674889/t1794584.shtml",
        ),
    ] {
        let (url, path) = largest_transcript(url_part, fixture);
        let old = load(profile, &url, &path);
        let new = revise(&old);
        eprintln!(
            "{name}: {url}: {} exchanges, {} bytes of text",
            old.exchanges.len(),
            old.exchanges
                .iter()
                .flat_map(|e| e.question.iter().chain(&e.answer))
                .map(String::len)
                .sum::<usize>()
        );
        c.bench_function(&format!("diff_largest_transcript_{name}"), |b| {
            b.iter(|| diff(std::hint::black_box(&old), std::hint::black_box(&new), &cfg))
        });
    }
}

criterion_group!(benches, bench_diff);
criterion_main!(benches);
