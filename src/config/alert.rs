//! `[[alert]]`, `[smtp]` and `[[webhook]]`: keyword rules as written, and where their alerts go.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Lang;

/// One `[[alert]]` table of the config file, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub name: String,
    /// Terms, any of which makes the rule match (see the module docs for the syntax).
    #[serde(default)]
    pub terms: Vec<String>,
    /// Regular expressions, any of which makes the rule match.
    #[serde(default)]
    pub regex: Vec<String>,
    /// Terms that veto the rule when they occur in the same scope of the exchange.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default = "both_languages")]
    pub languages: Vec<Lang>,
    #[serde(default)]
    pub scope: Scope,
    /// E-mail addresses, mailed through `[smtp]`.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Names of `[[webhook]]` sections the alerts are posted to.
    #[serde(default)]
    pub webhooks: Vec<String>,
    #[serde(default)]
    pub mode: Mode,
    /// Digest window (`mode = "digest"` only), aligned on UTC multiples of its length: `1d` sends at midnight UTC.
    #[serde(default, with = "humantime_serde")]
    pub window: Option<Duration>,
    /// Which events trigger the rule.
    #[serde(default = "default_triggers")]
    pub on: Vec<Trigger>,
}

fn both_languages() -> Vec<Lang> {
    vec![Lang::En, Lang::Zh]
}

fn default_triggers() -> Vec<Trigger> {
    vec![Trigger::New, Trigger::Revised, Trigger::Removed]
}

/// Which part of an exchange a rule looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Question,
    Answer,
    #[default]
    Both,
}

/// When a rule's matches are mailed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Immediate,
    Digest,
}

/// The events a rule can fire on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// A briefing seen for the first time.
    New,
    /// A substantive revision that adds or removes a match.
    Revised,
    /// A matching exchange removed from a transcript, or a matching transcript taken down.
    Removed,
    /// A cosmetic revision touching a matching exchange.
    Cosmetic,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::New => "new",
            Trigger::Revised => "revised",
            Trigger::Removed => "removed",
            Trigger::Cosmetic => "cosmetic",
        }
    }
}

/// How to reach the mail server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required), port 587 by default.
    #[default]
    Starttls,
    /// TLS from the first byte, port 465 by default.
    Tls,
    /// No encryption, for a relay on the same host; port 25 by default.
    None,
}

/// The `[smtp]` section. The password is never read from here: see
/// [`resolve_password`](crate::alert::sender::resolve_password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    pub username: Option<String>,
    /// File holding the password; default `$CREDENTIALS_DIRECTORY/smtp-password`, then the
    /// `BRIEFWATCH_SMTP_PASSWORD` environment variable.
    pub password_file: Option<PathBuf>,
    /// `From:` of every alert, e.g. `briefwatch <alerts@example.org>`.
    pub from: String,
    /// `List-Id:`; default `briefwatch alerts <alerts.DOMAIN>` with the domain of `from`.
    pub list_id: Option<String>,
    #[serde(default = "default_smtp_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts before a row is marked dead.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay, doubled at each attempt up to `retry_max`, with ±20 % jitter.
    #[serde(default = "default_retry_base", with = "humantime_serde")]
    pub retry_base: Duration,
    #[serde(default = "default_retry_max", with = "humantime_serde")]
    pub retry_max: Duration,
    /// Messages per recipient per hour; the excess is folded into one digest.
    #[serde(default = "default_per_hour")]
    pub max_per_recipient_per_hour: u32,
}

fn default_smtp_timeout() -> Duration {
    Duration::from_secs(30)
}
/// The retry policy's defaults, for mail and for webhooks alike.
fn default_max_attempts() -> u32 {
    10
}
fn default_retry_base() -> Duration {
    Duration::from_secs(60)
}
fn default_retry_max() -> Duration {
    Duration::from_secs(2 * 3600)
}
fn default_per_hour() -> u32 {
    20
}

/// What a webhook's posts look like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The alert as a documented JSON object.
    #[default]
    Json,
    /// `{"text": …}` in Slack's mrkdwn.
    Slack,
}

/// A webhook secret; its `Debug` never shows it, and the effective config never prints it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// One `[[webhook]]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// What `webhooks = [...]` of an alert rule refers to.
    pub name: String,
    /// Where alerts are posted: an http or https URL.
    pub url: String,
    #[serde(default)]
    pub format: WebhookFormat,
    /// Key of the `X-Briefwatch-Signature` HMAC; better kept in `secret_file` or the systemd
    /// credential `webhook-<name>`.
    #[serde(default, skip_serializing)]
    pub secret: Option<Secret>,
    pub secret_file: Option<PathBuf>,
    #[serde(default = "default_webhook_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts before a row is marked dead.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay, doubled at each attempt up to `retry_max`, with ±20 % jitter; a
    /// `Retry-After` from the receiver is honoured up to `retry_max`.
    #[serde(default = "default_retry_base", with = "humantime_serde")]
    pub retry_base: Duration,
    #[serde(default = "default_retry_max", with = "humantime_serde")]
    pub retry_max: Duration,
}

fn default_webhook_timeout() -> Duration {
    Duration::from_secs(10)
}

impl WebhookConfig {
    /// Cross-field checks, each error naming the key (`url`, `secret_file`, …) it is about.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.name.trim().is_empty() {
            return Err(("name", "must not be empty".into()));
        }
        match url::Url::parse(&self.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {}
            Ok(_) => return Err(("url", format!("{:?} is not an http or https URL", self.url))),
            Err(error) => return Err(("url", format!("{:?} is not a URL: {error}", self.url))),
        }
        if self.secret.is_some() && self.secret_file.is_some() {
            return Err((
                "secret_file",
                "set `secret` or `secret_file`, not both".into(),
            ));
        }
        if self.timeout.is_zero() {
            return Err(("timeout", "must be longer than 0s".into()));
        }
        if self.max_attempts == 0 {
            return Err(("max_attempts", "must be at least 1".into()));
        }
        if self.retry_base.is_zero() || self.retry_max < self.retry_base {
            return Err((
                "retry_base",
                "must be positive and at most `retry_max`".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_from_toml_with_defaults_and_reject_unknown_keys() {
        let config: AlertRule =
            toml::from_str("name = \"t\"\nterms = [\"Taiwan\"]\nrecipients = [\"a@example.org\"]")
                .unwrap();
        assert_eq!(config.scope, Scope::Both);
        assert_eq!(config.mode, Mode::Immediate);
        assert_eq!(config.languages, [Lang::En, Lang::Zh]);
        assert_eq!(
            config.on,
            [Trigger::New, Trigger::Revised, Trigger::Removed]
        );
        let error = toml::from_str::<AlertRule>(
            "name = \"t\"\nterm = [\"Taiwan\"]\nrecipients = [\"a@example.org\"]",
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("unknown field `term`"),
            "{error}"
        );
    }

    fn webhook(text: &str) -> WebhookConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn webhook_validation_names_the_key() {
        let bad = webhook("name = \"chat\"\nurl = \"ftp://x.example.org/\"");
        assert_eq!(bad.validate().unwrap_err().0, "url");
        let bad = webhook("name = \"chat\"\nurl = \"not a url\"");
        assert_eq!(bad.validate().unwrap_err().0, "url");
        let both = webhook(
            "name = \"c\"\nurl = \"https://x.example.org/\"\nsecret = \"a\"\nsecret_file = \"/f\"",
        );
        assert_eq!(both.validate().unwrap_err().0, "secret_file");
        let unknown = toml::from_str::<WebhookConfig>(
            "name = \"c\"\nurl = \"https://x.example.org/\"\nformat = \"teams\"",
        );
        assert!(unknown.is_err());
    }
}
