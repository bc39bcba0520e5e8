//! Checks of `[[webhook]]` sections, their secrets, and the HTTP POST of one outbox row to one webhook.
//!
//! A post carries `X-Briefwatch-Delivery` (the row's id, the same on a resend, so that receivers
//! can drop a repeat) and, when the webhook has a secret, `X-Briefwatch-Signature: sha256=<hex>`,
//! the HMAC-SHA256 of the exact body. 2xx is delivered; 408, 429, 5xx, timeouts and connection
//! errors are retried (honouring `Retry-After`); any other status is final.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::outbox::OutboxRow;
use super::payload::{json_body, signature, slack_body};
use super::{AlertError, Outcome};
use crate::config::{Secret, WebhookConfig, WebhookFormat};

/// The secret from `secret`, else `secret_file`, else `$CREDENTIALS_DIRECTORY/webhook-<name>` (a
/// systemd credential) if it exists; none otherwise. `env` is the environment lookup.
pub fn resolve_secret(
    config: &WebhookConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, AlertError> {
    let read = |path: PathBuf| -> Result<Secret, AlertError> {
        let text = std::fs::read_to_string(&path).map_err(|source| AlertError::WebhookSecret {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Secret::new(text.trim_end_matches(['\r', '\n']).to_string()))
    };
    if let Some(secret) = &config.secret {
        return Ok(Some(secret.clone()));
    }
    if let Some(path) = &config.secret_file {
        return read(path.clone()).map(Some);
    }
    if let Some(directory) = env("CREDENTIALS_DIRECTORY") {
        let path = PathBuf::from(directory).join(format!("webhook-{}", config.name));
        if path.exists() {
            return read(path).map(Some);
        }
    }
    Ok(None)
}

/// The body and headers of one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// A webhook ready to post to.
struct Hook {
    config: WebhookConfig,
    secret: Option<Secret>,
}

/// Every configured webhook, and one HTTP client for them all.
pub struct Webhooks {
    client: reqwest::Client,
    hooks: HashMap<String, Hook>,
    /// Base URL of briefwatch's own web view, for links; none at the loopback default.
    public_url: Option<String>,
}

impl Webhooks {
    /// Reads each webhook's secret; `env` is the environment lookup.
    pub fn new(
        configs: &[WebhookConfig],
        public_url: Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Webhooks, AlertError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("briefwatch/", env!("CARGO_PKG_VERSION")))
            // A receiver that moved is a configuration to fix, not a place to follow a POST to.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| AlertError::InvalidWebhook {
                name: String::new(),
                reason: format!("cannot build the HTTP client: {error}"),
            })?;
        let mut hooks = HashMap::new();
        for config in configs {
            let secret = resolve_secret(config, &env)?;
            hooks.insert(
                config.name.clone(),
                Hook {
                    config: config.clone(),
                    secret,
                },
            );
        }
        Ok(Webhooks {
            client,
            hooks,
            public_url,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    pub fn config(&self, name: &str) -> Option<&WebhookConfig> {
        self.hooks.get(name).map(|hook| &hook.config)
    }

    /// The body and headers of a row's post (`Content-Type`, delivery id, signature).
    pub fn post_for(&self, row: &OutboxRow) -> Result<Post, String> {
        let hook = self.hooks.get(&row.recipient).ok_or_else(|| {
            format!(
                "no [[webhook]] named {:?} in the configuration the sender started with (restart to load it)",
                row.recipient
            )
        })?;
        let public_url = self.public_url.as_deref();
        let body = match hook.config.format {
            WebhookFormat::Json => json_body(&row.alert, &row.message_id, public_url),
            WebhookFormat::Slack => slack_body(&row.alert, public_url),
        };
        let mut headers = vec![
            ("Content-Type", "application/json".to_string()),
            ("X-Briefwatch-Delivery", row.message_id.clone()),
        ];
        if let Some(secret) = &hook.secret {
            headers.push((
                "X-Briefwatch-Signature",
                signature(secret.as_bytes(), &body),
            ));
        }
        Ok(Post { body, headers })
    }

    /// Posts one row; the outbox is not touched while the request is in flight.
    pub async fn deliver(&self, row: &OutboxRow) -> Outcome {
        let Post { body, headers } = match self.post_for(row) {
            Ok(post) => post,
            // A webhook added by a reload: the row waits, with backoff, for the restart that
            // loads it, and is marked dead only if it never comes.
            Err(error) => {
                return Outcome::Retry {
                    error,
                    unreachable: true,
                    after: None,
                };
            }
        };
        let hook = &self.hooks[&row.recipient];
        let mut request = self
            .client
            .post(&hook.config.url)
            .timeout(hook.config.timeout)
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Outcome::Retry {
                    error: describe(error),
                    unreachable: true,
                    after: None,
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));
        let snippet = body_snippet(response).await;
        classify(
            status.as_u16(),
            status.canonical_reason(),
            &snippet,
            retry_after,
        )
    }
}

/// The error and its causes on one line ("cannot connect: error sending request: … Connection
/// refused"), without the URL: a chat webhook's URL is as secret as a password.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The start of the receiver's answer, for the outbox listing: at most 300 characters.
async fn body_snippet(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < 1024 {
        match tokio::time::timeout(Duration::from_secs(5), response.chunk()).await {
            Ok(Ok(Some(chunk))) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    text.trim().to_string()
}

/// What a status means for the row. Pure.
pub fn classify(
    status: u16,
    reason: Option<&str>,
    body: &str,
    retry_after: Option<Duration>,
) -> Outcome {
    let mut reply = format!("HTTP {status}");
    if let Some(reason) = reason {
        reply.push(' ');
        reply.push_str(reason);
    }
    if !body.is_empty() && !(200..300).contains(&status) {
        reply.push_str(": ");
        reply.push_str(body);
    }
    match status {
        200..=299 => Outcome::Sent(reply),
        408 | 429 | 500..=599 => Outcome::Retry {
            error: reply,
            unreachable: true,
            after: retry_after,
        },
        _ => Outcome::Dead(reply),
    }
}

/// `Retry-After` as seconds or an HTTP date, as a delay from `now`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> WebhookConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn statuses_are_sent_retried_or_dead() {
        assert!(matches!(classify(204, None, "", None), Outcome::Sent(_)));
        for status in [408, 429, 500, 502, 503] {
            assert!(
                matches!(classify(status, None, "", None), Outcome::Retry { .. }),
                "{status}"
            );
        }
        match classify(400, Some("Bad Request"), "no such channel", None) {
            Outcome::Dead(reason) => assert_eq!(reason, "HTTP 400 Bad Request: no such channel"),
            _ => panic!("400 is final"),
        }
        assert!(matches!(classify(301, None, "", None), Outcome::Dead(_)));
        let after = Some(Duration::from_secs(7));
        assert!(matches!(
            classify(429, None, "", after),
            Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(7)
        ));
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::from_timestamp(1_593_748_538, 0).unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date((now + chrono::Duration::seconds(30)).into());
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn secrets_come_from_config_file_or_credential_and_stay_hidden() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("webhook-chat"), "from-credential\n").unwrap();
        let credentials = dir.path().display().to_string();
        let env = |name: &str| (name == "CREDENTIALS_DIRECTORY").then(|| credentials.clone());
        let plain = config("name = \"chat\"\nurl = \"https://chat.example.org/hook\"");
        let found = resolve_secret(&plain, env).unwrap().unwrap();
        assert_eq!(found.as_bytes(), b"from-credential");
        assert_eq!(format!("{found:?}"), "Secret(redacted)");
        let inline = config("name = \"chat\"\nurl = \"https://x.example.org/\"\nsecret = \"s3\"");
        assert_eq!(
            resolve_secret(&inline, env).unwrap().unwrap().as_bytes(),
            b"s3"
        );
        assert!(!toml::to_string(&inline).unwrap().contains("s3"));
        assert!(resolve_secret(&plain, |_| None).unwrap().is_none());
    }
}
