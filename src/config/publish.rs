//! `[http]`, `[feeds]`, `[diff]` and `[service]`: how changes are compared and published, and how
//! the service watches itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// Where the server listens unless the config says otherwise: loopback, for a reverse proxy.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// The `[http]` section of the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The URL readers reach this server at (behind a reverse proxy, its public address); feeds
    /// use it for their self links and for links to the diff view. Default: `http://<listen>`.
    pub public_url: Option<String>,
    /// Most connections open at once (fewer when the process's descriptor limit leaves less room
    /// after the descriptors the service keeps for itself).
    pub max_connections: usize,
    /// A request's headers must arrive within this; a keep-alive connection idle this long closes.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// Requests served on one connection before it is closed.
    pub max_requests_per_connection: u32,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            listen: DEFAULT_LISTEN
                .parse()
                .expect("default listen address parses"),
            public_url: None,
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            max_requests_per_connection: 100,
        }
    }
}

/// Default number of items per feed.
pub const DEFAULT_ITEMS: usize = 50;

/// The `[feeds]` section of the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedsConfig {
    /// Items per feed, newest first.
    pub items: usize,
    /// When set, the daemon also writes every feed as a static file under this directory after
    /// each change (`briefings.xml`, `keywords/<rule>.xml`, …), atomically and only when changed.
    pub out_dir: Option<PathBuf>,
}

impl Default for FeedsConfig {
    fn default() -> FeedsConfig {
        FeedsConfig {
            items: DEFAULT_ITEMS,
            out_dir: None,
        }
    }
}

/// The `[diff]` section of the configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiffConfig {
    /// Similarity (word-pair Jaccard, 0–1) above which two exchanges are the same exchange reworded.
    pub match_threshold: f64,
    /// Share of an exchange's word pairs found inside another for it to count as a split-off part.
    pub containment_threshold: f64,
    /// An edit of at most this many English words (and no sentence added or dropped) is minor.
    pub minor_max_changed_words: u32,
    /// An edit of at most this many Chinese characters (and no sentence added or dropped) is minor.
    pub minor_max_changed_chars: u32,
    /// Unchanged words kept on each side of a change in English diffs.
    pub context_words: usize,
    /// Unchanged characters kept on each side of a change in Chinese diffs.
    pub context_chars: usize,
}

impl Default for DiffConfig {
    fn default() -> Self {
        DiffConfig {
            match_threshold: 0.4,
            containment_threshold: 0.8,
            minor_max_changed_words: 3,
            minor_max_changed_chars: 6,
            context_words: 6,
            context_chars: 15,
        }
    }
}

/// `[service]`: running under systemd, and the alarms that tell an operator the watch has gone blind.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// Who hears about alarms by mail (through the outbox, with `[smtp]`); none: only logs, status.
    pub operator: Option<String>,
    /// On a briefing day (`schedule.window_days`), a source with no press conference of the day by
    /// this time (`schedule.utc_offset`, Beijing time) raises a freshness alarm.
    pub fresh_by: NaiveTime,
    /// A source whose every fetch was `unparseable` or `blocked` for this long raises a breakage alarm.
    #[serde(with = "humantime_serde")]
    pub broken_after: Duration,
    /// Least time between two alarm mails about the same problem.
    #[serde(with = "humantime_serde")]
    pub alarm_repeat: Duration,
    /// `/healthz` answers 503 once every source has failed (no page fetched, the host unreachable,
    /// blocked or not understood) for this long.
    #[serde(with = "humantime_serde")]
    pub unhealthy_after: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            operator: None,
            fresh_by: NaiveTime::from_hms_opt(21, 0, 0).expect("valid constant time"),
            broken_after: Duration::from_secs(6 * 3600),
            alarm_repeat: Duration::from_secs(24 * 3600),
            unhealthy_after: Duration::from_secs(15 * 60),
        }
    }
}
