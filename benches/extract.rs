//! Extraction speed over the 2020 corpus: full extraction (detect, parse, select, segment, hash)
//! against a bare `scraper::Html::parse_document` pass over the same pages. Target: extraction
//! costs at most 1.3× the bare parse.
//!
//! Reads the corpus from `BRIEFWATCH_CORPUS` (a directory containing `mfa-2020/`).

use std::path::PathBuf;

use briefwatch::charset::decode_html;
use briefwatch::site::{Profile, is_listing_url, is_soft_404};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The article pages of the corpus, decoded, with their URLs.
fn corpus_pages() -> Option<Vec<(String, String)>> {
    let root = PathBuf::from(std::env::var_os("BRIEFWATCH_CORPUS")?).join("mfa-2020");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).ok()?;
    let pages = manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let (url, status, file, content_type) = (fields[0], fields[1], fields[3], fields[6]);
            if status != "200" || is_listing_url(url) {
                return None;
            }
            let html = decode_html(&std::fs::read(root.join(file)).ok()?, Some(content_type));
            (!is_soft_404(&html)).then(|| (url.to_string(), html))
        })
        .collect();
    Some(pages)
}

fn extraction(c: &mut Criterion) {
    let Some(pages) = corpus_pages() else {
        eprintln!("BRIEFWATCH_CORPUS not set: extraction bench skipped");
        return;
    };
    let bytes: usize = pages.iter().map(|(_, html)| html.len()).sum();
    let english = Profile::builtin("mfa-en").expect("built-in profile");
    let chinese = Profile::builtin("mfa-zh").expect("built-in profile");
    let profiles: Vec<&Profile> = pages
        .iter()
        .map(
            |(url, html)| match Profile::detect(url, html).expect("profile").name.as_str() {
                "mfa-en" => &english,
                _ => &chinese,
            },
        )
        .collect();

    let mut group = c.benchmark_group(format!("corpus_{}_pages", pages.len()));
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function("bare_parse", |b| {
        b.iter(|| {
            for (_, html) in &pages {
                std::hint::black_box(scraper::Html::parse_document(html));
            }
        })
    });
    group.bench_function("extract", |b| {
        b.iter(|| {
            for ((url, html), profile) in pages.iter().zip(&profiles) {
                std::hint::black_box(profile.parse_article(html, url).expect("extracts"));
            }
        })
    });
    group.bench_function("detect_and_extract", |b| {
        b.iter(|| {
            for (url, html) in &pages {
                let profile = Profile::detect(url, html).expect("profile");
                std::hint::black_box(profile.parse_article(html, url).expect("extracts"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, extraction);
criterion_main!(benches);
