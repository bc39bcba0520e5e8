//! The re-check schedule's steady load on the ministry: expected requests a day (and an hour) for
//! a 20-year archive of about 25,000 transcripts published evenly (new briefings included), and
//! for the saved corpus when `BRIEFWATCH_CORPUS` names it (dates extracted from its pages; pages
//! without a date of their own are counted apart). A pure computation over the default schedule
//! (`[schedule] recheck` and `sweep`); run with `cargo bench --bench recheck_load`.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use briefwatch::config::ScheduleConfig;
use briefwatch::daemon::schedule::{RecheckLoad, published_instant, recheck_requests_per_day};

/// `12h`, `30d`: whole days or hours as such.
fn span(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    if seconds % 86_400 == 0 {
        format!("{}d", seconds / 86_400)
    } else if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else {
        humantime::format_duration(duration).to_string()
    }
}

fn print(name: &str, load: &RecheckLoad) {
    let total = load.recent_per_day + load.sweep_per_day;
    println!(
        "{name}: {} documents ({} in the sweep): {:.1} requests/day ({:.2}/hour); \
         recent documents {:.1}/day, sweep {:.1}/day ({:.2}/hour)",
        load.documents,
        load.sweep_documents,
        total,
        total / 24.0,
        load.recent_per_day,
        load.sweep_per_day,
        load.sweep_per_day / 24.0
    );
}

/// `count` documents published evenly over `years` up to `now`.
fn even_archive(count: u32, years: i64, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let span = Duration::days(365 * years).num_seconds();
    (0..count)
        .map(|i| now - Duration::seconds(span * i64::from(i) / i64::from(count)))
        .collect()
}

/// Publication times of the corpus's transcripts, extracted from the saved pages.
fn corpus_dates(root: &Path, schedule: &ScheduleConfig) -> (Vec<DateTime<Utc>>, usize) {
    let manifest = std::fs::read_to_string(root.join("mfa-2020/MANIFEST.tsv")).expect("manifest");
    let mut dates = Vec::new();
    let mut undated = 0;
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [url, "200", _, file, _, _, content_type, ..] = fields[..] else {
            continue;
        };
        if briefwatch::site::is_listing_url(url) {
            continue;
        }
        let Ok(body) = std::fs::read(root.join("mfa-2020").join(file)) else {
            continue;
        };
        let html = briefwatch::charset::decode_html(&body, Some(content_type));
        let Ok(profile) = briefwatch::site::Profile::detect(url, &html) else {
            continue;
        };
        let Ok(briefing) = profile.parse_article(&html, url) else {
            continue;
        };
        match published_instant(briefing.date, briefing.published_at, schedule.utc_offset) {
            Some(at) => dates.push(at),
            None => undated += 1,
        }
    }
    (dates, undated)
}

fn main() {
    let schedule = ScheduleConfig::default();
    let now = Utc::now();
    println!(
        "schedule: {}; sweep every {}",
        schedule
            .recheck
            .iter()
            .map(|step| format!("under {} every {}", span(step.until), span(step.every)))
            .collect::<Vec<_>>()
            .join(", "),
        span(schedule.sweep)
    );
    let archive = even_archive(25_000, 20, now);
    print(
        "20-year archive",
        &recheck_requests_per_day(archive, now, &schedule),
    );
    if let Some(root) = std::env::var_os("BRIEFWATCH_CORPUS") {
        let (dates, undated) = corpus_dates(Path::new(&root), &schedule);
        print(
            "corpus (2018-2020)",
            &recheck_requests_per_day(dates, now, &schedule),
        );
        println!("corpus pages without a date of their own (dated by their listing): {undated}");
    }
}
