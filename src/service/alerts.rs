//! How a process queues and delivers alerts: the rules hooked into ingestion, and the outbox
//! sender on its own connection to the archive. The daemon and the `poll`, `backfill` and
//! `import` commands share it.

use anyhow::Context;

use crate::alert::sender::resolve_password;
use crate::alert::{IngestAlerts, RuleSet, Sender, Webhooks};
use crate::config::Config;
use crate::config::SmtpConfig;
use crate::store::Store;

/// `[http] public_url` when it is set: mails link to briefwatch's own view only at an address
/// readers can reach, never at the loopback default.
pub fn public_url(config: &Config) -> anyhow::Result<Option<String>> {
    match &config.http.public_url {
        Some(_) => Ok(Some(config.http.public_url()?)),
        None => Ok(None),
    }
}

/// True when no document has a revision yet: the first fill of the archive, which indexes silently.
pub fn archive_is_empty(store: &Store) -> anyhow::Result<bool> {
    Ok(store.list_documents(None)?.iter().all(|d| d.revisions == 0))
}

/// True when some rule's alerts can be delivered: by mail through `[smtp]`, or to a webhook.
pub fn deliverable(config: &Config) -> bool {
    config.alerts.iter().any(|rule| {
        !rule.webhooks.is_empty() || (config.smtp.is_some() && !rule.recipients.is_empty())
    })
}

/// Refuses `--alerts` (asking for alerts) when no rule can deliver any: no `[smtp]` to mail
/// with, and no rule with webhooks.
pub fn check_delivery(config: &Config, alerts_asked: bool) -> anyhow::Result<()> {
    if alerts_asked && !deliverable(config) {
        anyhow::bail!(
            "--alerts asks for alert mail, but the config has no [smtp] section to send it and no rule posts to a webhook: add one, or leave out --alerts (without them the rules serve `alerts test` and the keyword feeds only)"
        );
    }
    Ok(())
}

/// What ingestion needs to queue alerts, if the config has rules that can deliver them:
/// mail only with an `[smtp]` section (without one no mail is queued, so nothing piles up to be
/// mailed later), webhook posts always.
pub fn attach(config: &Config, enabled: bool) -> anyhow::Result<Option<IngestAlerts>> {
    if config.alerts.is_empty() {
        return Ok(None);
    }
    if !deliverable(config) {
        tracing::info!(
            rules = config.alerts.len(),
            "no [smtp] section and no rule with webhooks: alert rules feed `alerts test` and the keyword feeds, nothing is queued"
        );
        return Ok(None);
    }
    let rules = RuleSet::compile(&config.alerts)?;
    let hook = match &config.smtp {
        Some(smtp) => IngestAlerts::new(rules, smtp.message_id_domain(), enabled),
        None => {
            tracing::info!(
                "no [smtp] section: alerts go to the rules' webhooks only, no mail is queued"
            );
            IngestAlerts::new(rules, "briefwatch.invalid".to_string(), enabled).without_mail()
        }
    };
    Ok(Some(hook))
}

/// The outbox sender on its own connection to the archive, if the config has an [smtp] section
/// or webhooks.
pub fn sender(config: &Config) -> anyhow::Result<Option<Sender>> {
    if config.smtp.is_none() && config.webhooks.is_empty() {
        return Ok(None);
    }
    let path = config.archive.database_path();
    let conn = crate::store::outbox::open(&path)
        .with_context(|| format!("cannot open {} for the alert sender", path.display()))?;
    let webhooks = if config.webhooks.is_empty() {
        None
    } else {
        Some(Webhooks::new(
            &config.webhooks,
            public_url(config)?,
            |name| std::env::var(name).ok(),
        )?)
    };
    let sender = match (&config.smtp, webhooks) {
        (Some(smtp), webhooks) => {
            let sender = Sender::new(
                conn,
                transport(smtp)?,
                smtp.compose_settings(public_url(config)?)?,
                smtp.clone(),
            )?;
            match webhooks {
                Some(webhooks) => sender.with_webhooks(webhooks),
                None => sender,
            }
        }
        (None, Some(webhooks)) => Sender::webhooks_only(conn, webhooks)?,
        (None, None) => return Ok(None),
    };
    Ok(Some(sender))
}

/// The SMTP transport of `[smtp]`, its password resolved from the environment.
pub fn transport(
    smtp: &SmtpConfig,
) -> anyhow::Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>> {
    let password = resolve_password(smtp, |name| std::env::var(name).ok())?;
    Ok(smtp.transport(password)?)
}
