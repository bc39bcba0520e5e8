//! Extraction speed over the 2020 corpus: full extraction (detect, parse, select, segment, hash)
//! against a bare `scraper::Html::parse_document` pass over the same pages. Target: extraction
//! costs at most 1.3× the bare parse.
//!
//! Reads the corpus from `BRIEFWATCH_CORPUS` (a directory containing `mfa-2020/`).
//!
//! Times are the benchmark thread's CPU time, not wall-clock time: the machines this runs on
//! are shared, and wall-clock samples of the two functions, taken one after the other, swing by
//! a factor of two with the neighbours' load, which makes their ratio meaningless.

use std::path::PathBuf;

use briefwatch::charset::decode_html;
use briefwatch::site::{Profile, is_listing_url, is_soft_404};
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
struct ThreadCpuTime;

fn thread_cpu_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, started: u64) -> u64 {
        thread_cpu_nanos().saturating_sub(started)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuTimeFormatter
    }
}

struct CpuTimeFormatter;

impl ValueFormatter for CpuTimeFormatter {
    fn scale_values(&self, typical_nanos: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical_nanos {
            n if n < 1e3 => (1.0, "ns cpu"),
            n if n < 1e6 => (1e-3, "µs cpu"),
            n if n < 1e9 => (1e-6, "ms cpu"),
            _ => (1e-9, "s cpu"),
        };
        values.iter_mut().for_each(|value| *value *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        typical_nanos: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (amount, unit) = match *throughput {
            Throughput::Bytes(bytes) | Throughput::BytesDecimal(bytes) => {
                (bytes as f64 / (1024.0 * 1024.0), "MiB/s cpu")
            }
            Throughput::Elements(elements) => (elements as f64, "elem/s cpu"),
        };
        let _ = typical_nanos;
        values
            .iter_mut()
            .for_each(|value| *value = amount / (*value / 1e9));
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

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

fn extraction(c: &mut Criterion<ThreadCpuTime>) {
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

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = extraction
}
criterion_main!(benches);
