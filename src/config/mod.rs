//! TOML file to typed configuration: the plain data every stage reads, with its defaults.
//!
//! Parsing is strict: an unknown key or a value of the wrong shape is an error naming the key, the line
//! and the column. Cross-field rules that the data alone can decide live in [`Config::validate`]; the
//! stages depend on this module, never the reverse, so what only a stage can tell (do the alert
//! terms compile, does a site profile exist) is checked by [`crate::setup`].

mod alert;
mod publish;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use alert::{
    AlertRule, Mode, Scope, Secret, Security, SmtpConfig, Trigger, WebhookConfig, WebhookFormat,
};
pub use publish::{
    DEFAULT_ITEMS, DEFAULT_LISTEN, DiffConfig, FeedsConfig, HttpConfig, ServiceConfig,
};
pub use watch::{
    ArchiveConfig, FetchConfig, RecheckStep, ScheduleConfig, SelectorOverrides, SourceConfig,
};

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
    pub sites: BTreeMap<String, SelectorOverrides>,
    #[serde(default)]
    pub feeds: FeedsConfig,
    /// `[[alert]]`: keyword alert rules.
    #[serde(default, rename = "alert")]
    pub alerts: Vec<AlertRule>,
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

    /// Reads and parses a configuration file, and checks the rules of [`Config::validate`]; the
    /// whole check, stages included, is [`crate::setup::load`].
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let config = Config::from_toml_str(&text, &origin)?;
        config.validate(&origin)?;
        Ok(config)
    }

    /// Cross-field rules a single value cannot express, as far as the data alone can tell.
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
        Ok(())
    }

    /// The source of that name.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|source| source.name == name)
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
}
