//! Matching bench: every rule of a 50-rule config against every exchange of the corpus.
//!
//! Reads the corpus from `BRIEFWATCH_CORPUS` (a directory containing `mfa-2020/`); pages are
//! extracted once, outside the timed loop. Target: under 200 ms per pass over the whole corpus.

use std::path::Path;

use briefwatch::alert::RuleSet;
use briefwatch::config::AlertRule;
use briefwatch::model::{Exchange, Lang};
use briefwatch::site::Profile;
use criterion::{Criterion, black_box};

#[derive(serde::Deserialize)]
struct Rules {
    alert: Vec<AlertRule>,
}

fn load_rules() -> RuleSet {
    let text = include_str!("../tests/fixtures/alert/bench-rules.toml");
    let rules: Rules = toml::from_str(text).expect("bench rules parse");
    RuleSet::compile(&rules.alert).expect("bench rules compile")
}

/// Every exchange of every transcript in the corpus manifest, with its language.
fn load_corpus(corpus: &Path) -> Vec<(Exchange, Lang)> {
    let root = corpus.join("mfa-2020");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let english = Profile::builtin("mfa-en").expect("mfa-en profile");
    let chinese = Profile::builtin("mfa-zh").expect("mfa-zh profile");
    let mut exchanges = Vec::new();
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [url, status, _, file, ..] = fields.as_slice() else {
            continue;
        };
        if *status != "200" || !file.contains("/t") {
            continue;
        }
        let profile = if url.contains("/mfa_eng/") {
            &english
        } else {
            &chinese
        };
        let Ok(bytes) = std::fs::read(root.join(file)) else {
            continue;
        };
        let html = String::from_utf8_lossy(&bytes);
        if let Ok(briefing) = profile.parse_article(&html, url) {
            exchanges.extend(briefing.exchanges.into_iter().map(|e| (e, briefing.lang)));
        }
    }
    exchanges
}

fn main() {
    let Some(corpus) = std::env::var_os("BRIEFWATCH_CORPUS") else {
        eprintln!("BRIEFWATCH_CORPUS not set: whole-corpus bench skipped");
        return;
    };
    let corpus = Path::new(&corpus);
    if !corpus.join("mfa-2020").is_dir() {
        eprintln!(
            "BRIEFWATCH_CORPUS not set: whole-corpus bench skipped ({} has no mfa-2020/)",
            corpus.display()
        );
        return;
    }
    let rules = load_rules();
    let exchanges = load_corpus(corpus);
    if exchanges.is_empty() {
        eprintln!("no exchanges extracted from the corpus: nothing to bench");
        return;
    }
    let bytes: usize = exchanges
        .iter()
        .map(|(e, _)| {
            e.question
                .iter()
                .chain(&e.answer)
                .map(String::len)
                .sum::<usize>()
        })
        .sum();
    let matches: usize = exchanges
        .iter()
        .map(|(e, lang)| rules.matches_all(e, *lang).len())
        .sum();
    eprintln!(
        "corpus: {} exchanges, {:.1} MB of question and answer text; {} rules; {matches} rule matches per pass",
        exchanges.len(),
        bytes as f64 / 1e6,
        rules.len()
    );

    // Wall time suffers when the machine is shared; the thread's own CPU time per pass does not.
    if let Some(before) = thread_cpu_ns() {
        let passes = 10;
        let started = std::time::Instant::now();
        for _ in 0..passes {
            for (exchange, lang) in &exchanges {
                black_box(rules.matches_all(black_box(exchange), *lang));
            }
        }
        let wall = started.elapsed().as_secs_f64() * 1e3 / passes as f64;
        if let Some(after) = thread_cpu_ns() {
            eprintln!(
                "one pass, mean of {passes}: {:.1} ms CPU time, {wall:.1} ms wall time",
                (after - before) as f64 / 1e6 / passes as f64
            );
        }
    }

    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut run = |name: &str, rules: &RuleSet| {
        criterion.bench_function(name, |b| {
            b.iter(|| {
                let mut found = 0usize;
                for (exchange, lang) in &exchanges {
                    found += rules.matches_all(black_box(exchange), *lang).len();
                }
                black_box(found)
            })
        });
    };
    run("alert/50 rules x whole corpus", &rules);
    // The same pass split by kind of rule, to show where the time goes.
    let configs: Vec<AlertRule> = rules.rules().cloned().collect();
    let (with_regex, terms_only): (Vec<AlertRule>, Vec<AlertRule>) =
        configs.into_iter().partition(|rule| !rule.regex.is_empty());
    run(
        "alert/term rules only",
        &RuleSet::compile(&terms_only).expect("compile"),
    );
    run(
        "alert/regex rules only",
        &RuleSet::compile(&with_regex).expect("compile"),
    );
    criterion.final_summary();
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), if the system says.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}
