//! Load for `scripts/bench-api`: CLIENTS concurrent clients, each repeating GETs of the JSON
//! API's search and the search feed for DURATION, while the daemon's resident memory is sampled
//! from /proc. Prints one line of figures per URL class and the memory peak.
//!
//! usage: load_api BASE_URL DAEMON_PID [SECONDS=20] [CLIENTS=200]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Queries the clients cycle through: English, a phrase, Chinese, a prefix.
const QUERIES: &[&str] = &[
    "Hong+Kong",
    "%22South+China+Sea%22",
    "%E5%8F%B0%E6%B9%BE",
    "sanction*",
    "trade+-war",
    "WHO",
];

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    failures: u64,
    latencies: Vec<Duration>,
}

/// The resident set of `pid` in kB, from /proc.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: load_api BASE_URL DAEMON_PID [SECONDS] [CLIENTS]");
        std::process::exit(2);
    }
    let base = args[1].trim_end_matches('/').to_string();
    let pid: u32 = args[2].parse().expect("a process id");
    let seconds: u64 = args.get(3).map_or(20, |s| s.parse().expect("seconds"));
    let clients: usize = args.get(4).map_or(200, |s| s.parse().expect("clients"));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client");
    let tallies: Arc<Mutex<BTreeMap<&'static str, Tally>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let peak = Arc::new(Mutex::new(0u64));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                if let Some(kb) = rss_kb(pid) {
                    let mut peak = peak.lock().unwrap();
                    *peak = (*peak).max(kb);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let rss_before = rss_kb(pid).unwrap_or(0);
    let mut tasks = Vec::new();
    for index in 0..clients {
        let client = client.clone();
        let base = base.clone();
        let tallies = tallies.clone();
        tasks.push(tokio::spawn(async move {
            let mut round = index;
            while Instant::now() < deadline {
                let query = QUERIES[round % QUERIES.len()];
                let (class, url) = if index % 2 == 0 {
                    ("/api/v1/search", format!("{base}/api/v1/search?q={query}"))
                } else {
                    (
                        "/feeds/search.xml",
                        format!("{base}/feeds/search.xml?q={query}"),
                    )
                };
                round += 1;
                let started = Instant::now();
                let outcome = match client.get(&url).send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        response.bytes().await.map(|_| status).ok()
                    }
                    Err(_) => None,
                };
                let elapsed = started.elapsed();
                let mut tallies = tallies.lock().unwrap();
                let tally = tallies.entry(class).or_default();
                match outcome {
                    Some(status) => *tally.statuses.entry(status).or_default() += 1,
                    None => tally.failures += 1,
                }
                tally.latencies.push(elapsed);
            }
        }));
    }
    for task in tasks {
        task.await.expect("client task");
    }
    sampler.await.expect("sampler");
    let tallies = tallies.lock().unwrap();
    for (class, tally) in tallies.iter() {
        let mut latencies = tally.latencies.clone();
        latencies.sort();
        println!(
            "{class}: {} requests ({:.0}/s), statuses {:?}, failed {}, p50 {:?}, p99 {:?}, max {:?}",
            latencies.len(),
            latencies.len() as f64 / seconds as f64,
            tally.statuses,
            tally.failures,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or_default(),
        );
    }
    println!(
        "daemon RSS: {} kB before, {} kB peak, {} kB after",
        rss_before,
        *peak.lock().unwrap(),
        rss_kb(pid).unwrap_or(0)
    );
}
