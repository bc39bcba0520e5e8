//! Checks of the `[smtp]` config, the SMTP password, and the task that delivers due outbox rows: mails
//! through `[smtp]`, webhook posts through [`Webhooks`].
//!
//! Delivery protocol per row: claim (`queued` → `sending`), compose, send, then `sent` with the
//! server's reply; transient failures (SMTP 4xx; webhook 408, 429, 5xx; connection failures and
//! timeouts) go back to `queued` with jittered exponential backoff; permanent refusals (SMTP 5xx,
//! other webhook statuses) and exhausted retries become `dead` with the reply. A row is never
//! claimed again once marked sent, so the only possible duplicate is the one row a crash leaves in
//! `sending`, resent with the same Message-ID or delivery id.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rand::Rng;
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::Notify;

use super::compose::{ComposeSettings, compose};
use super::outbox::{self, OutboxRow};
use super::plan::Channel;
use super::webhook::Webhooks;
use super::{AlertError, Outcome};
use crate::config::{Security, SmtpConfig};

fn invalid(reason: impl Into<String>) -> AlertError {
    AlertError::InvalidSmtp {
        reason: reason.into(),
    }
}

impl SmtpConfig {
    /// Cross-field checks; `from` must be a mailbox.
    pub fn validate(&self) -> Result<(), AlertError> {
        if self.host.trim().is_empty() {
            return Err(invalid("`host` is empty"));
        }
        self.from_mailbox()?;
        if self.max_attempts == 0 {
            return Err(invalid("`max_attempts` must be at least 1"));
        }
        if self.max_per_recipient_per_hour == 0 {
            return Err(invalid("`max_per_recipient_per_hour` must be at least 1"));
        }
        if self.retry_base.is_zero() || self.retry_max < self.retry_base {
            return Err(invalid(
                "`retry_base` must be positive and at most `retry_max`",
            ));
        }
        if self.password_file.is_some() && self.username.is_none() {
            return Err(invalid("`password_file` is set but `username` is not"));
        }
        Ok(())
    }

    pub fn from_mailbox(&self) -> Result<Mailbox, AlertError> {
        self.from
            .parse()
            .map_err(|error| invalid(format!("`from` {:?} is not a mailbox: {error}", self.from)))
    }

    /// The domain Message-IDs are minted under: that of `from`.
    pub fn message_id_domain(&self) -> String {
        self.from_mailbox()
            .map(|mailbox| mailbox.email.domain().to_string())
            .unwrap_or_else(|_| "briefwatch.invalid".to_string())
    }

    pub fn list_id(&self) -> String {
        self.list_id
            .clone()
            .unwrap_or_else(|| format!("briefwatch alerts <alerts.{}>", self.message_id_domain()))
    }

    pub fn compose_settings(
        &self,
        public_url: Option<String>,
    ) -> Result<ComposeSettings, AlertError> {
        Ok(ComposeSettings {
            from: self.from_mailbox()?,
            list_id: self.list_id(),
            public_url,
        })
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        })
    }

    /// The SMTP transport; credentials only when `username` is set, and then a password is required.
    pub fn transport(
        &self,
        password: Option<Password>,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, AlertError> {
        let tls = |required: bool| -> Result<Tls, AlertError> {
            let parameters = TlsParameters::new(self.host.clone())
                .map_err(|error| invalid(format!("TLS for {:?}: {error}", self.host)))?;
            Ok(if required {
                Tls::Required(parameters)
            } else {
                Tls::Wrapper(parameters)
            })
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
                .port(self.port())
                .timeout(Some(self.timeout));
        builder = match self.security {
            Security::Starttls => builder.tls(tls(true)?),
            Security::Tls => builder.tls(tls(false)?),
            Security::None => builder.tls(Tls::None),
        };
        if let Some(username) = &self.username {
            let password = password.ok_or_else(|| {
                invalid(format!(
                    "`username` is {username:?} but no password was found (password_file, \
                     $CREDENTIALS_DIRECTORY/smtp-password or BRIEFWATCH_SMTP_PASSWORD)"
                ))
            })?;
            builder = builder.credentials(Credentials::new(username.clone(), password.0));
        }
        Ok(builder.build())
    }
}

/// The SMTP password; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(redacted)")
    }
}

/// The password from `password_file`, else `$CREDENTIALS_DIRECTORY/smtp-password` (a systemd
/// credential) if it exists, else `BRIEFWATCH_SMTP_PASSWORD`. `env` is the environment lookup.
pub fn resolve_password(
    config: &SmtpConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Password>, AlertError> {
    let read = |path: PathBuf| -> Result<Password, AlertError> {
        let text = std::fs::read_to_string(&path).map_err(|source| AlertError::Credentials {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Password(text.trim_end_matches(['\r', '\n']).to_string()))
    };
    if let Some(path) = &config.password_file {
        return read(path.clone()).map(Some);
    }
    if let Some(directory) = env("CREDENTIALS_DIRECTORY") {
        let path = PathBuf::from(directory).join("smtp-password");
        if path.exists() {
            return read(path).map(Some);
        }
    }
    Ok(env("BRIEFWATCH_SMTP_PASSWORD").map(Password))
}

/// The delay before retry number `attempt` (1 for the first retry): `base · 2^(attempt-1)`,
/// capped at `max`, times `jitter` (drawn from 0.8..1.2 by the caller).
pub fn retry_delay(attempt: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let delay = base.saturating_mul(1u32 << exponent).min(max);
    delay.mul_f64(jitter.clamp(0.5, 1.5))
}

/// Sends one message at once, outside the outbox (`alerts send-test`); the server's reply on success.
pub async fn send_now(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    message: lettre::Message,
) -> Result<String, AlertError> {
    let recipient = message
        .envelope()
        .to()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let response = transport
        .send(message)
        .await
        .map_err(|source| AlertError::Smtp { recipient, source })?;
    Ok(format!(
        "{} {}",
        response.code(),
        response.message().collect::<Vec<_>>().join(" ")
    ))
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    /// Rows folded into a digest by the hourly cap.
    pub deferred: usize,
}

/// Delivers outbox rows: mail over SMTP when there is an `[smtp]` section, posts to webhooks when
/// there are `[[webhook]]` sections. Owns its own connection to the archive database.
pub struct Sender {
    conn: Connection,
    mail: Option<Mail>,
    webhooks: Option<Webhooks>,
    /// Targets that could not be reached, and until when none of their rows is tried: an outage
    /// costs one attempt per backoff step instead of one per queued row. The mail server is
    /// `(Mail, "")`; a webhook is `(Webhook, name)`.
    paused: HashMap<(Channel, String), DateTime<Utc>>,
}

struct Mail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    compose: ComposeSettings,
    config: SmtpConfig,
}

/// How often, and how patiently, a row of one target is retried.
struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    max: Duration,
}

impl Sender {
    /// Takes over the outbox for mail; rows a previous process left in `sending` are queued again.
    pub fn new(
        conn: Connection,
        transport: AsyncSmtpTransport<Tokio1Executor>,
        compose: ComposeSettings,
        config: SmtpConfig,
    ) -> Result<Sender, AlertError> {
        let mail = Mail {
            transport,
            compose,
            config,
        };
        Sender::take_over(conn, Some(mail), None)
    }

    /// Takes over the outbox for webhook posts only (no `[smtp]`): mail rows are left alone.
    pub fn webhooks_only(conn: Connection, webhooks: Webhooks) -> Result<Sender, AlertError> {
        Sender::take_over(conn, None, Some(webhooks))
    }

    /// Posts to these webhooks as well.
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Sender {
        self.webhooks = Some(webhooks);
        self
    }

    fn take_over(
        conn: Connection,
        mail: Option<Mail>,
        webhooks: Option<Webhooks>,
    ) -> Result<Sender, AlertError> {
        let requeued = outbox::requeue_interrupted(&conn)?;
        if requeued > 0 {
            tracing::warn!(
                event = "alert_requeued",
                count = requeued,
                "alerts interrupted mid-delivery are queued again; the receiver may see one twice, with the same Message-ID or delivery id"
            );
        }
        Ok(Sender {
            conn,
            mail,
            webhooks,
            paused: HashMap::new(),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn pause_key(row: &OutboxRow) -> (Channel, String) {
        match row.channel {
            Channel::Mail => (Channel::Mail, String::new()),
            Channel::Webhook => (Channel::Webhook, row.recipient.clone()),
        }
    }

    fn policy(&self, row: &OutboxRow) -> RetryPolicy {
        let webhook = self
            .webhooks
            .as_ref()
            .and_then(|webhooks| webhooks.config(&row.recipient));
        match (row.channel, &self.mail, webhook) {
            (Channel::Mail, Some(mail), _) => RetryPolicy {
                max_attempts: mail.config.max_attempts,
                base: mail.config.retry_base,
                max: mail.config.retry_max,
            },
            (Channel::Webhook, _, Some(config)) => RetryPolicy {
                max_attempts: config.max_attempts,
                base: config.retry_base,
                max: config.retry_max,
            },
            // A webhook the sender does not know (yet): the defaults of a `[[webhook]]`.
            _ => RetryPolicy {
                max_attempts: 10,
                base: Duration::from_secs(60),
                max: Duration::from_secs(2 * 3600),
            },
        }
    }

    /// One pass over the rows due at `now`. A target that cannot be reached is left alone until
    /// its row's next attempt; the other targets go on.
    pub async fn deliver_due(&mut self, now: DateTime<Utc>) -> Result<DeliveryReport, AlertError> {
        let mut report = DeliveryReport::default();
        self.paused.retain(|_, until| now < *until);
        let rows = outbox::due(
            &self.conn,
            now,
            1000,
            self.mail.is_some(),
            self.webhooks.is_some(),
        )?;
        for row in rows {
            let key = Sender::pause_key(&row);
            if self.paused.contains_key(&key) {
                continue;
            }
            if let (Channel::Mail, Some(mail)) = (row.channel, &self.mail) {
                let hour_ago = now - chrono::Duration::hours(1);
                let (recent, oldest) = outbox::sent_since(&self.conn, &row.recipient, hour_ago)?;
                if recent >= mail.config.max_per_recipient_per_hour {
                    let free_at = oldest
                        .map_or(now, |t| t + chrono::Duration::hours(1))
                        .max(now);
                    let target = outbox::defer_to_overflow(
                        &self.conn,
                        &row,
                        free_at,
                        now,
                        &mail.config.message_id_domain(),
                    )?;
                    tracing::info!(
                        event = "alert_deferred",
                        id = row.id,
                        digest = target,
                        recipient = %row.recipient,
                        "hourly cap reached; folded into a digest"
                    );
                    report.deferred += 1;
                    continue;
                }
            }
            if !outbox::claim(&self.conn, row.id)? {
                continue;
            }
            let outcome = match (row.channel, &self.mail, &self.webhooks) {
                (Channel::Mail, Some(mail), _) => {
                    deliver(&mail.transport, &mail.compose, &row).await
                }
                (Channel::Webhook, _, Some(webhooks)) => webhooks.deliver(&row).await,
                // `due` only lists the channels this sender serves.
                (channel, _, _) => {
                    Outcome::Dead(format!("no {} channel configured", channel.as_str()))
                }
            };
            let channel = row.channel.as_str();
            match outcome {
                Outcome::Sent(reply) => {
                    outbox::mark_sent(&self.conn, row.id, Utc::now(), &reply)?;
                    tracing::info!(event = "alert_sent", id = row.id, channel, message_id = %row.message_id, outcome = "sent");
                    report.sent += 1;
                }
                Outcome::Retry {
                    error,
                    unreachable,
                    after,
                } => {
                    let policy = self.policy(&row);
                    let jitter = rand::thread_rng().gen_range(0.8..1.2);
                    let delay = match after {
                        Some(asked) => asked.min(policy.max),
                        None => retry_delay(row.attempts + 1, policy.base, policy.max, jitter),
                    };
                    let due = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                    if row.attempts + 1 < policy.max_attempts {
                        outbox::mark_retry(&self.conn, row.id, due, &error)?;
                        tracing::warn!(event = "alert_retry", id = row.id, channel, attempts = row.attempts + 1, error = %error, outcome = "retry");
                        report.retried += 1;
                    } else {
                        let error = format!(
                            "gave up after {} attempts; last error: {error}",
                            row.attempts + 1
                        );
                        outbox::mark_dead(&self.conn, row.id, &error)?;
                        tracing::error!(event = "alert_dead", id = row.id, channel, error = %error, outcome = "dead");
                        report.dead += 1;
                    }
                    if unreachable {
                        self.paused.insert(key, due);
                    }
                }
                Outcome::Dead(error) => {
                    outbox::mark_dead(&self.conn, row.id, &error)?;
                    tracing::error!(event = "alert_dead", id = row.id, channel, error = %error, outcome = "dead");
                    report.dead += 1;
                }
            }
        }
        Ok(report)
    }

    /// When the next row this sender serves falls due, its target's pause counted.
    fn next_due(&self) -> Result<Option<DateTime<Utc>>, AlertError> {
        Ok(outbox::next_due_by_target(&self.conn)?
            .into_iter()
            .filter(|(channel, _, _)| match channel {
                Channel::Mail => self.mail.is_some(),
                Channel::Webhook => self.webhooks.is_some(),
            })
            .map(|(channel, recipient, due)| {
                let key = match channel {
                    Channel::Mail => (Channel::Mail, String::new()),
                    Channel::Webhook => (Channel::Webhook, recipient),
                };
                self.paused.get(&key).map_or(due, |until| due.max(*until))
            })
            .min())
    }

    /// Delivers until `shutdown` resolves: after each pass it sleeps until the next row is due,
    /// a minute at most, or until `wake` is notified (something was queued).
    pub async fn run(mut self, wake: Arc<Notify>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // After a failed pass (the database busy or broken) rows may still look due: wait a
            // little rather than spin on them.
            let floor = match self.deliver_due(Utc::now()).await {
                Ok(_) => Duration::ZERO,
                Err(error) => {
                    tracing::error!(event = "alert_pass_failed", error = %error);
                    Duration::from_secs(5)
                }
            };
            let next = self.next_due().unwrap_or(None);
            let idle = next
                .map_or(Duration::from_secs(60), |next| {
                    (next - Utc::now()).to_std().unwrap_or(Duration::ZERO)
                })
                .clamp(floor, Duration::from_secs(60));
            tokio::select! {
                _ = &mut shutdown => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }
}

/// Composes and sends one row; the connection is not touched while the SMTP exchange is in flight.
async fn deliver(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    settings: &ComposeSettings,
    row: &OutboxRow,
) -> Outcome {
    let message = match compose(&row.alert, settings) {
        Ok(message) => message,
        Err(error) => return Outcome::Dead(error.to_string()),
    };
    match transport.send(message).await {
        Ok(response) => Outcome::Sent(format!(
            "{} {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        )),
        Err(error) if error.is_permanent() => Outcome::Dead(error.to_string()),
        // A 4xx reply, or no reply at all (refused, reset, timed out, TLS failure).
        Err(error) => Outcome::Retry {
            unreachable: error.status().is_none(),
            error: error.to_string(),
            after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_caps_and_jitters() {
        let base = Duration::from_secs(60);
        let max = Duration::from_secs(3600);
        assert_eq!(retry_delay(1, base, max, 1.0), base);
        assert_eq!(retry_delay(3, base, max, 1.0), Duration::from_secs(240));
        assert_eq!(retry_delay(20, base, max, 1.0), max);
        assert_eq!(retry_delay(1, base, max, 1.2), Duration::from_secs(72));
    }

    #[test]
    fn password_sources_in_order_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("smtp-password"), "from-credential\n").unwrap();
        let config: SmtpConfig =
            toml::from_str("host = \"h\"\nfrom = \"a@b.org\"\nusername = \"u\"").unwrap();
        let credentials_dir = dir.path().display().to_string();
        let both = |name: &str| match name {
            "CREDENTIALS_DIRECTORY" => Some(credentials_dir.clone()),
            "BRIEFWATCH_SMTP_PASSWORD" => Some("from-env".to_string()),
            _ => None,
        };
        let found = resolve_password(&config, both).unwrap().unwrap();
        assert_eq!(found, Password("from-credential".into()));
        assert_eq!(format!("{found:?}"), "Password(redacted)");
        let env_only =
            |name: &str| (name == "BRIEFWATCH_SMTP_PASSWORD").then(|| "from-env".to_string());
        assert_eq!(
            resolve_password(&config, env_only).unwrap(),
            Some(Password("from-env".into()))
        );
    }

    #[test]
    fn password_in_config_file_is_rejected() {
        let error =
            toml::from_str::<SmtpConfig>("host = \"h\"\nfrom = \"a@b.org\"\npassword = \"x\"")
                .unwrap_err();
        assert!(
            error.to_string().contains("unknown field `password`"),
            "{error}"
        );
    }
}
