//! TOML file to typed, validated configuration.
//!
//! Parsing is strict: an unknown key or a value of the wrong shape is an error naming the key, the line
//! and the column. Cross-field rules live in [`Config::validate`]. Sections that later pipeline stages
//! fill in (`[feeds]`, `[[alert]]`, `[smtp]`, `[diff]`, `[service]`) are separate structs so each stage
//! owns its own struct and its own defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{FixedOffset, NaiveTime, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::model::Lang;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: `{key}`: {message}")]
    Parse {
        origin: String,
        key: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: `{key}`: {message}")]
    Invalid {
        origin: String,
        key: String,
        message: String,
    },
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub archive: ArchiveConfig,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub http: HttpConfig,
    /// `[[source]]`: one listing of transcripts to watch.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// `[sites.<profile>]`: selector chains tried before the built-in ones of that profile.
    #[serde(default)]
    pub sites: BTreeMap<String, crate::site::SelectorOverrides>,
    #[serde(default)]
    pub feeds: FeedsConfig,
    /// `[[alert]]`: keyword alert rules.
    #[serde(default, rename = "alert")]
    pub alerts: Vec<AlertConfig>,
    /// `[smtp]`: how alerts are mailed; without it rules serve `alerts test` and keyword feeds.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// `[[webhook]]`: where rules with `webhooks = [...]` post their alerts.
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<WebhookConfig>,
    #[serde(default)]
    pub diff: DiffConfig,
    #[serde(default)]
    pub service: ServiceConfig,
}

/// `[archive]`: where the state lives and when a page counts as taken down.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// Directory of the database (created if missing).
    pub state_dir: PathBuf,
    /// Database file name inside `state_dir`.
    pub database: String,
    /// Consecutive `gone`/`soft_gone` fetches before a document is declared gone.
    pub gone_after: u32,
    /// A new version that looks like a glitch (garbled text, no date, most exchanges gone) is
    /// held and the page fetched again after this long; it is stored when that fetch agrees.
    #[serde(with = "humantime_serde")]
    pub suspect_recheck: Duration,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            state_dir: PathBuf::from("state"),
            database: "briefwatch.sqlite3".to_string(),
            gone_after: 2,
            suspect_recheck: Duration::from_secs(10 * 60),
        }
    }
}

impl ArchiveConfig {
    pub fn database_path(&self) -> PathBuf {
        self.state_dir.join(&self.database)
    }
}

/// `[fetch]`: how politely and how patiently pages are fetched.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// Contact (URL or mail address) sent in the user agent: `briefwatch/<version> (+<contact>)`.
    pub contact: String,
    /// Least time between two requests to one host; a random extra of up to half of it is added.
    #[serde(with = "humantime_serde")]
    pub min_request_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Whole request, body included.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Larger bodies are cut off and counted as transient failures.
    pub max_body_bytes: u64,
    /// Attempts per page and cycle (first try included) for transient failures.
    pub max_attempts: u32,
    /// Base and cap of the full-jitter exponential backoff between attempts.
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// How long a host that served a challenge (412/521, script-only page) is left alone.
    #[serde(with = "humantime_serde")]
    pub blocked_backoff: Duration,
    /// How long a fetched robots.txt is trusted.
    #[serde(with = "humantime_serde")]
    pub robots_refresh: Duration,
    /// Hosts besides those of the sources that listing links and redirects may lead to: `host`
    /// (its default ports) or `host:port`.
    pub redirect_hosts: Vec<String>,
    /// New items followed per listing page fetched; the rest wait for the next cycle.
    pub max_new_per_page: usize,
    /// New items followed per poll cycle, over every listing.
    pub max_new_per_cycle: usize,
    /// Longest pause between two attempts to reach a host that cannot be reached (DNS, refused
    /// connections, timeouts); the pause doubles from `backoff_max` up to this.
    #[serde(with = "humantime_serde")]
    pub outage_backoff_max: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            contact: String::new(),
            min_request_interval: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_body_bytes: 4 * 1024 * 1024,
            max_attempts: 4,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(120),
            blocked_backoff: Duration::from_secs(6 * 3600),
            robots_refresh: Duration::from_secs(24 * 3600),
            redirect_hosts: vec!["www.fmprc.gov.cn".to_string(), "www.mfa.gov.cn".to_string()],
            max_new_per_page: 50,
            max_new_per_cycle: 100,
            outage_backoff_max: Duration::from_secs(30 * 60),
        }
    }
}

/// `[schedule]`: when listings are polled and known documents re-checked.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// How often the daemon wakes up to look for due work.
    #[serde(with = "humantime_serde")]
    pub tick: Duration,
    /// Offset of the ministry's clock (Beijing time).
    #[serde(
        deserialize_with = "deserialize_offset",
        serialize_with = "serialize_offset"
    )]
    pub utc_offset: FixedOffset,
    /// Days and local hours in which transcripts are usually posted.
    pub window_days: Vec<Weekday>,
    pub window_start: NaiveTime,
    pub window_end: NaiveTime,
    /// Listing poll interval inside the briefing window (if shorter than the source's own).
    #[serde(with = "humantime_serde")]
    pub window_interval: Duration,
    /// Local hours of the night, and the interval used then and on days outside the window.
    pub night_start: NaiveTime,
    pub night_end: NaiveTime,
    #[serde(with = "humantime_serde")]
    pub quiet_interval: Duration,
    /// Random spread added to every computed time, as a fraction of the interval (0 to 1).
    pub jitter: f64,
    /// Re-check intervals by document age: the first step whose `until` exceeds the age applies.
    pub recheck: Vec<RecheckStep>,
    /// Interval for documents older than the last step: the slow full-archive sweep.
    #[serde(with = "humantime_serde")]
    pub sweep: Duration,
}

/// One step of the decaying re-check schedule.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecheckStep {
    #[serde(with = "humantime_serde")]
    pub until: Duration,
    #[serde(with = "humantime_serde")]
    pub every: Duration,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid constant time");
        ScheduleConfig {
            tick: Duration::from_secs(30),
            utc_offset: FixedOffset::east_opt(8 * 3600).expect("valid constant offset"),
            window_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            window_start: time(15, 0),
            window_end: time(23, 59),
            window_interval: Duration::from_secs(10 * 60),
            night_start: time(0, 0),
            night_end: time(7, 0),
            quiet_interval: hours(3),
            jitter: 0.1,
            recheck: vec![
                RecheckStep {
                    until: hours(12),
                    every: hours(1),
                },
                RecheckStep {
                    until: hours(3 * 24),
                    every: hours(6),
                },
                RecheckStep {
                    until: hours(30 * 24),
                    every: hours(24),
                },
                RecheckStep {
                    until: hours(180 * 24),
                    every: hours(7 * 24),
                },
                RecheckStep {
                    until: hours(365 * 24),
                    every: hours(30 * 24),
                },
            ],
            sweep: hours(365 * 24),
        }
    }
}

/// `[http]`: the feed and web server (defined with the server).
pub use crate::serve::HttpConfig;

/// `[[source]]`: one listing of one language.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Short unique name, stored with every document.
    pub name: String,
    /// Built-in site profile (`mfa-en`, `mfa-zh`).
    pub profile: String,
    /// First page of the listing.
    pub listing_url: Url,
    pub lang: Lang,
    /// Listing poll interval outside the briefing window and the night.
    #[serde(with = "humantime_serde", default = "default_poll_interval")]
    pub poll_interval: Duration,
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(30 * 60)
}

/// `[feeds]`: RSS feeds (defined with the feeds).
pub use crate::feed::FeedsConfig;

/// `[[alert]]` and `[smtp]`: owned by the alert stage.
pub use crate::alert::{AlertRule as AlertConfig, SmtpConfig, WebhookConfig};

/// `[diff]`: how revisions are compared; owned by the diff stage.
pub use crate::diff::DiffConfig;

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

fn deserialize_offset<'de, D: Deserializer<'de>>(deserializer: D) -> Result<FixedOffset, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse::<FixedOffset>().map_err(|_| {
        serde::de::Error::custom(format!("expected an offset like \"+08:00\", got {text:?}"))
    })
}

fn serialize_offset<S: Serializer>(offset: &FixedOffset, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&offset.to_string())
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Config {
    /// Parses a configuration; `origin` names it in errors (usually the file path).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let deserializer = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let key = error.path().to_string();
            let inner = error.into_inner();
            let (line, column) = inner
                .span()
                .map_or((0, 0), |span| line_column(text, span.start));
            ConfigError::Parse {
                origin: origin.to_string(),
                key,
                line,
                column,
                message: inner.message().to_string(),
            }
        })
    }

    /// Reads, parses and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let config = Config::from_toml_str(&text, &origin)?;
        config.validate(&origin)?;
        Ok(config)
    }

    /// Cross-field rules a single value cannot express.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: String, message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            key,
            message,
        };
        if self.fetch.contact.trim().is_empty() {
            return Err(invalid(
                "fetch.contact".into(),
                "a contact address for the user agent is required".into(),
            ));
        }
        if self
            .fetch
            .contact
            .chars()
            .any(|c| c.is_control() || c == '(' || c == ')')
        {
            return Err(invalid(
                "fetch.contact".into(),
                "must not contain control characters or parentheses".into(),
            ));
        }
        if self.fetch.max_attempts == 0 {
            return Err(invalid(
                "fetch.max_attempts".into(),
                "must be at least 1".into(),
            ));
        }
        for (key, value) in [
            ("fetch.max_new_per_page", self.fetch.max_new_per_page),
            ("fetch.max_new_per_cycle", self.fetch.max_new_per_cycle),
        ] {
            if value == 0 {
                return Err(invalid(key.into(), "must be at least 1".into()));
            }
        }
        for (index, entry) in self.fetch.redirect_hosts.iter().enumerate() {
            if crate::fetch::Origin::parse(entry).is_none() {
                return Err(invalid(
                    format!("fetch.redirect_hosts[{index}]"),
                    format!("{entry:?} is not a host name or `host:port`"),
                ));
            }
        }
        if self.fetch.max_body_bytes < 1024 {
            return Err(invalid(
                "fetch.max_body_bytes".into(),
                "must be at least 1024".into(),
            ));
        }
        for (key, value) in [
            ("fetch.timeout", self.fetch.timeout),
            ("fetch.connect_timeout", self.fetch.connect_timeout),
            ("schedule.tick", self.schedule.tick),
            ("schedule.window_interval", self.schedule.window_interval),
            ("schedule.quiet_interval", self.schedule.quiet_interval),
            ("schedule.sweep", self.schedule.sweep),
        ] {
            if value.is_zero() {
                return Err(invalid(key.into(), "must be longer than 0s".into()));
            }
        }
        if let Err(error) = crate::alert::RuleSet::compile(&self.alerts) {
            return Err(invalid("alert".into(), error.to_string()));
        }
        let mut webhook_names = BTreeSet::new();
        for (index, webhook) in self.webhooks.iter().enumerate() {
            if let Err((key, message)) = webhook.validate() {
                return Err(invalid(
                    format!("webhook[{index}].{key}"),
                    format!("webhook {:?}: {message}", webhook.name),
                ));
            }
            if !webhook_names.insert(webhook.name.as_str()) {
                return Err(invalid(
                    format!("webhook[{index}].name"),
                    format!("duplicate webhook name {:?}", webhook.name),
                ));
            }
        }
        for (index, rule) in self.alerts.iter().enumerate() {
            if let Some(unknown) = rule
                .webhooks
                .iter()
                .find(|name| !webhook_names.contains(name.as_str()))
            {
                return Err(invalid(
                    format!("alert[{index}].webhooks"),
                    format!(
                        "alert rule {:?}: no [[webhook]] named {unknown:?} (webhooks: {})",
                        rule.name,
                        webhook_names.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        // Rules without [smtp] are valid: `alerts test` and the keyword feeds use them; only mail
        // needs the section.
        if let Some(smtp) = &self.smtp {
            if let Err(error) = smtp.validate() {
                return Err(invalid("smtp".into(), error.to_string()));
            }
        }
        if let Some(operator) = &self.service.operator {
            if operator.parse::<lettre::Address>().is_err() {
                return Err(invalid(
                    "service.operator".into(),
                    format!("{operator:?} is not an e-mail address"),
                ));
            }
            if self.smtp.is_none() {
                return Err(invalid(
                    "service.operator".into(),
                    "alarm mails to the operator need an [smtp] section".into(),
                ));
            }
        }
        if self.service.broken_after.is_zero() {
            return Err(invalid(
                "service.broken_after".into(),
                "must be longer than 0s".into(),
            ));
        }
        if let Err(error) = self.diff.validate() {
            let crate::diff::DiffError::OutOfRange { field, .. } = &error;
            return Err(invalid(format!("diff.{field}"), error.to_string()));
        }
        self.feeds
            .validate()
            .map_err(|error| invalid("feeds.items".into(), error.to_string()))?;
        self.http.validate().map_err(|error| {
            let key = match &error {
                crate::serve::ServeError::ZeroLimit(field) => format!("http.{field}"),
                _ => "http.public_url".into(),
            };
            invalid(key, error.to_string())
        })?;
        if self.archive.gone_after == 0 {
            return Err(invalid(
                "archive.gone_after".into(),
                "must be at least 1".into(),
            ));
        }
        if self.archive.database.is_empty() || self.archive.database.contains('/') {
            return Err(invalid(
                "archive.database".into(),
                "must be a file name inside archive.state_dir".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.schedule.jitter) {
            return Err(invalid(
                "schedule.jitter".into(),
                "must be between 0 and 1".into(),
            ));
        }
        if self.schedule.window_start >= self.schedule.window_end {
            return Err(invalid(
                "schedule.window_end".into(),
                "must be later than schedule.window_start".into(),
            ));
        }
        let mut previous = Duration::ZERO;
        for (index, step) in self.schedule.recheck.iter().enumerate() {
            if step.until <= previous {
                return Err(invalid(
                    format!("schedule.recheck[{index}].until"),
                    "steps must be in increasing order of `until`".into(),
                ));
            }
            if step.every.is_zero() {
                return Err(invalid(
                    format!("schedule.recheck[{index}].every"),
                    "must be longer than 0s".into(),
                ));
            }
            previous = step.until;
        }
        let mut names = BTreeSet::new();
        for (index, source) in self.sources.iter().enumerate() {
            if source.name.trim().is_empty() {
                return Err(invalid(
                    format!("source[{index}].name"),
                    "must not be empty".into(),
                ));
            }
            if !names.insert(source.name.as_str()) {
                return Err(invalid(
                    format!("source[{index}].name"),
                    format!("duplicate source name {:?}", source.name),
                ));
            }
            if let Err(error) = crate::site::Profile::builtin(&source.profile) {
                return Err(invalid(
                    format!("source[{index}].profile"),
                    error.to_string(),
                ));
            }
            if !matches!(source.listing_url.scheme(), "http" | "https")
                || source.listing_url.host_str().is_none()
            {
                return Err(invalid(
                    format!("source[{index}].listing_url"),
                    "must be an http or https URL with a host".into(),
                ));
            }
            if source.poll_interval.is_zero() {
                return Err(invalid(
                    format!("source[{index}].poll_interval"),
                    "must be longer than 0s".into(),
                ));
            }
        }
        for (name, overrides) in &self.sites {
            if let Err(error) = crate::site::Profile::builtin(name)
                .and_then(|profile| profile.with_overrides(overrides))
            {
                return Err(invalid(format!("sites.{name}"), error.to_string()));
            }
        }
        Ok(())
    }

    /// The source of that name.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|source| source.name == name)
    }

    /// Where requests may go: the hosts and ports of the sources and of `fetch.redirect_hosts`.
    pub fn site_origins(&self) -> crate::fetch::SiteOrigins {
        crate::fetch::SiteOrigins::new(
            self.sources.iter().map(|source| &source.listing_url),
            &self.fetch.redirect_hosts,
        )
    }

    /// The effective configuration as TOML, defaults filled in.
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|error| format!("# cannot render: {error}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[fetch]
contact = "ops@example.org"

[[source]]
name = "en"
profile = "mfa-en"
listing_url = "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/"
lang = "en"
"#;

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let config = Config::from_toml_str(MINIMAL, "inline").unwrap();
        assert_eq!(config.fetch.min_request_interval, Duration::from_secs(2));
        assert_eq!(config.sources[0].poll_interval, Duration::from_secs(1800));
        assert_eq!(
            config.archive.database_path(),
            PathBuf::from("state/briefwatch.sqlite3")
        );
        assert_eq!(config.http.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(config.schedule.utc_offset.local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn unknown_key_names_key_line_and_column() {
        let text = MINIMAL.replace("lang = \"en\"", "lang = \"en\"\npoll_intervall = \"5m\"");
        let error = Config::from_toml_str(&text, "inline").unwrap_err();
        match &error {
            ConfigError::Parse {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!(*line, 10, "{error}");
                assert_eq!(*column, 1, "{error}");
                assert!(message.contains("poll_intervall"), "{error}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        assert!(error.to_string().starts_with("inline:10:1:"), "{error}");
    }

    #[test]
    fn bad_duration_names_the_key() {
        let text = MINIMAL.replace(
            "contact",
            "min_request_interval = \"2 fortnights\"\ncontact",
        );
        let error = Config::from_toml_str(&text, "inline").unwrap_err();
        let ConfigError::Parse {
            key, line, column, ..
        } = &error
        else {
            panic!("expected a parse error, got {error:?}");
        };
        assert_eq!(key, "fetch.min_request_interval");
        assert_eq!((*line, *column), (3, 24), "{error}");
    }

    #[test]
    fn bad_url_and_lang_name_their_keys() {
        let text = MINIMAL.replace("https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/", "not a url");
        let error = Config::from_toml_str(&text, "inline").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Parse { key, .. } if key == "source[0].listing_url"),
            "{error}"
        );
        let text = MINIMAL.replace("lang = \"en\"", "lang = \"fr\"");
        let error = Config::from_toml_str(&text, "inline").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Parse { key, line: 9, .. } if key == "source[0].lang"),
            "{error}"
        );
    }

    #[test]
    fn zero_interval_turns_pacing_off() {
        let text = MINIMAL.replace("contact", "min_request_interval = \"0s\"\ncontact");
        let config = Config::from_toml_str(&text, "inline").unwrap();
        assert_eq!(config.fetch.min_request_interval, Duration::ZERO);
    }

    #[test]
    fn validate_rejects_missing_contact_and_duplicate_sources() {
        let config = Config::from_toml_str(&MINIMAL.replace("ops@example.org", ""), "x").unwrap();
        let error = config.validate("x").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "fetch.contact"),
            "{error}"
        );

        let mut config = Config::from_toml_str(MINIMAL, "x").unwrap();
        config.sources.push(config.sources[0].clone());
        let error = config.validate("x").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "source[1].name"),
            "{error}"
        );
    }

    #[test]
    fn validate_rejects_unordered_recheck_steps() {
        let text = format!(
            "{MINIMAL}\n[schedule]\nrecheck = [{{ until = \"2d\", every = \"1h\" }}, {{ until = \"1d\", every = \"1d\" }}]\n"
        );
        let config = Config::from_toml_str(&text, "x").unwrap();
        let error = config.validate("x").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "schedule.recheck[1].until"),
            "{error}"
        );
    }

    #[test]
    fn selector_overrides_are_checked() {
        let text = format!("{MINIMAL}\n[sites.mfa-en]\nbody = [\".article-body\"]\n");
        let config = Config::from_toml_str(&text, "x").unwrap();
        config.validate("x").unwrap();
        assert_eq!(
            config.sites["mfa-en"].body.as_deref(),
            Some(&[".article-body".to_string()][..])
        );

        let bad = format!("{MINIMAL}\n[sites.mfa-en]\nbody = [\"<<<\"]\n");
        let error = Config::from_toml_str(&bad, "x")
            .unwrap()
            .validate("x")
            .unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "sites.mfa-en"),
            "{error}"
        );

        let unknown = format!("{MINIMAL}\n[sites.mfa-en]\nbodies = [\"p\"]\n");
        let error = Config::from_toml_str(&unknown, "x").unwrap_err();
        assert!(
            matches!(
                &error,
                ConfigError::Parse {
                    line: 12,
                    column: 1,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn webhooks_are_checked_and_rules_may_use_them_without_smtp() {
        let hooks = "\n[[webhook]]\nname = \"chat\"\nurl = \"https://chat.example.org/hooks/1\"\nformat = \"slack\"\n";
        let rule = "\n[[alert]]\nname = \"taiwan\"\nterms = [\"Taiwan\"]\nwebhooks = [\"chat\"]\n";
        let config = Config::from_toml_str(&format!("{MINIMAL}{hooks}{rule}"), "x").unwrap();
        config.validate("x").unwrap();
        assert!(config.smtp.is_none());

        let unknown = rule.replace("[\"chat\"]", "[\"chat\", \"matrix\"]");
        let error = Config::from_toml_str(&format!("{MINIMAL}{hooks}{unknown}"), "x")
            .unwrap()
            .validate("x")
            .unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "alert[0].webhooks"),
            "{error}"
        );
        assert!(error.to_string().contains("\"taiwan\""), "{error}");
        assert!(error.to_string().contains("\"matrix\""), "{error}");

        let twice = Config::from_toml_str(&format!("{MINIMAL}{hooks}{hooks}"), "x").unwrap();
        let error = twice.validate("x").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "webhook[1].name"),
            "{error}"
        );

        let bad_url = hooks.replace("https://chat.example.org/hooks/1", "chat.example.org");
        let error = Config::from_toml_str(&format!("{MINIMAL}{bad_url}"), "x")
            .unwrap()
            .validate("x")
            .unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "webhook[0].url"),
            "{error}"
        );
    }

    #[test]
    fn shipped_config_is_valid_and_round_trips() {
        let text = include_str!("../config/briefwatch.toml");
        let config = Config::from_toml_str(text, "config/briefwatch.toml").unwrap();
        config.validate("config/briefwatch.toml").unwrap();
        assert_eq!(config.sources.len(), 2);
        let again = Config::from_toml_str(&config.to_toml_string(), "rendered").unwrap();
        assert_eq!(again.to_toml_string(), config.to_toml_string());
    }
}
