//! `briefwatch alerts`: try a rule on the archive, inspect the outbox, send a test message; and the
//! glue other commands use to queue alerts while ingesting and to deliver them.

use std::process::ExitCode;

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use serde::Serialize;

use briefwatch::alert::outbox::{self, OutboxState};
use briefwatch::alert::rule::Part;
use briefwatch::alert::sender::send_now;
use briefwatch::alert::{Channel, DeliveryReport, RuleSet, compose::mark_text, compose_test};
use briefwatch::config::{Config, SmtpConfig};
use briefwatch::model::TEXT_PASSAGE;
pub use briefwatch::service::alerts::{archive_is_empty, attach, check_delivery};
use briefwatch::service::alerts::{public_url, sender, transport};

use super::Global;

#[derive(clap::Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(clap::Subcommand)]
pub enum AlertsCommand {
    /// What a rule of the config would match in the archive (latest revision of each document).
    Test {
        /// The rule's `name`.
        rule: String,
        /// Only briefings of this date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        date: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// Alerts (mails and webhook posts) queued, sent and dead, newest first, with the replies.
    Outbox {
        /// Only rows in this state: queued, sending, sent, dead, merged.
        #[arg(long, value_name = "STATE")]
        only: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Sends a test message to ADDRESS through [smtp] at once, outside the outbox.
    SendTest { address: String },
}

pub fn run(global: &Global, args: AlertsArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    match args.command {
        AlertsCommand::Test { rule, date, json } => test(&config, &rule, date, json),
        AlertsCommand::Outbox { only, limit, json } => show_outbox(&config, only, limit, json),
        AlertsCommand::SendTest { address } => send_test(&config, &address),
    }
}

/// One matched passage, as `alerts test --json` prints it.
#[derive(Serialize)]
struct TestHit {
    url: String,
    lang: &'static str,
    date: Option<NaiveDate>,
    title: String,
    /// `exchange`, or `text` for the briefing's own text (title, opening, statement).
    passage: &'static str,
    /// The exchange's number; 0 for the briefing's own text.
    ordinal: u32,
    /// The asker; for the briefing's own text, what it is ("Opening remarks", "Statement").
    asker: String,
    terms: Vec<String>,
    /// The paragraphs with a match, terms marked `**like this**`.
    paragraphs: Vec<String>,
}

fn test(
    config: &Config,
    name: &str,
    date: Option<NaiveDate>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let Some(rule) = config.alerts.iter().find(|rule| rule.name == name) else {
        let names: Vec<&str> = config.alerts.iter().map(|r| r.name.as_str()).collect();
        anyhow::bail!("no alert rule named {name:?} (rules: {})", names.join(", "));
    };
    let rules = RuleSet::compile(std::slice::from_ref(rule))?;
    let store = Global::open_existing_store(config)?;
    let mut hits = Vec::new();
    let mut briefings = 0;
    for document in store.list_documents(None)? {
        if date.is_some() && document.briefing_date != date {
            continue;
        }
        let Some(revision) = store.latest_revision(document.id)? else {
            continue;
        };
        let briefing = revision.briefing;
        briefings += 1;
        for exchange in briefing.passages() {
            let text = exchange.ordinal == TEXT_PASSAGE;
            for (_, found) in rules.matches_all(&exchange, briefing.lang) {
                let mut paragraphs = Vec::new();
                for (part, texts) in [
                    (Part::Question, &exchange.question),
                    (Part::Answer, &exchange.answer),
                ] {
                    for (index, text) in texts.iter().enumerate() {
                        let spans: Vec<(usize, usize)> = found
                            .spans
                            .iter()
                            .filter(|s| s.part == part && s.paragraph == index)
                            .map(|s| (s.start, s.end))
                            .collect();
                        if !spans.is_empty() {
                            paragraphs.push(mark_text(text, &spans));
                        }
                    }
                }
                hits.push(TestHit {
                    url: briefing.url.clone(),
                    lang: briefing.lang.as_str(),
                    date: briefing.date,
                    title: briefing.title.clone(),
                    passage: if text { "text" } else { "exchange" },
                    ordinal: exchange.ordinal,
                    asker: if text {
                        briefing.kind.text_label(briefing.lang).to_string()
                    } else {
                        exchange.asker.clone()
                    },
                    terms: found.terms,
                    paragraphs,
                });
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut last_url = "";
    for hit in &hits {
        if hit.url != last_url {
            let day = hit.date.map_or("undated".to_string(), |d| d.to_string());
            println!("\n{day} [{}] {}\n  {}", hit.lang, hit.title, hit.url);
            last_url = &hit.url;
        }
        if hit.passage == "text" {
            println!("  {} — terms: {}", hit.asker, hit.terms.join(", "));
        } else {
            println!(
                "  #{} {} — terms: {}",
                hit.ordinal,
                hit.asker,
                hit.terms.join(", ")
            );
        }
        for paragraph in &hit.paragraphs {
            println!("    {paragraph}");
        }
    }
    let matched: std::collections::HashSet<&str> = hits.iter().map(|h| h.url.as_str()).collect();
    println!(
        "\nrule {name:?}: {} in {} of {}",
        super::plural(hits.len(), "passage", "passages"),
        matched.len(),
        super::plural(briefings, "briefing", "briefings")
    );
    Ok(ExitCode::SUCCESS)
}

fn show_outbox(
    config: &Config,
    state: Option<String>,
    limit: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let state = match state.as_deref() {
        None => None,
        Some(text) => Some(
            [
                OutboxState::Queued,
                OutboxState::Sending,
                OutboxState::Sent,
                OutboxState::Dead,
                OutboxState::Merged,
            ]
            .into_iter()
            .find(|s| s.as_str() == text)
            .with_context(|| {
                format!("unknown state {text:?} (queued, sending, sent, dead, merged)")
            })?,
        ),
    };
    let store = Global::open_existing_store(config)?;
    let rows: Vec<_> = outbox::list(store.connection(), state, limit)?
        .iter()
        .map(|row| row.summary())
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let counts = outbox::counts(store.connection())?;
    let totals: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{} {n}", s.as_str()))
        .collect();
    println!(
        "outbox: {}",
        if totals.is_empty() {
            "empty".to_string()
        } else {
            totals.join(", ")
        }
    );
    for row in rows {
        let when = match row.state {
            OutboxState::Sent => format!(
                "sent {}",
                row.sent_at.map(|t| t.to_rfc3339()).unwrap_or_default()
            ),
            OutboxState::Queued => format!("due {}", row.due_at.to_rfc3339()),
            _ => format!("queued {}", row.created_at.to_rfc3339()),
        };
        let target = match row.channel {
            Channel::Mail => row.recipient.clone(),
            Channel::Webhook => format!("webhook {}", row.recipient),
        };
        println!(
            "{:>5} {:<7} attempts {} {} {}\n      {}",
            row.id,
            row.state.as_str(),
            row.attempts,
            target,
            when,
            row.subject
        );
        if row.channel == Channel::Webhook {
            println!("      delivery: {}", row.message_id);
        }
        if let Some(reply) = row
            .server_reply
            .as_deref()
            .filter(|_| row.state == OutboxState::Sent)
        {
            println!("      server: {reply}");
        }
        if let Some(error) = row.last_error.as_deref() {
            println!("      error: {error}");
        }
        if let Some(target) = row.merged_into {
            println!("      merged into {target} (hourly cap)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn smtp(config: &Config) -> anyhow::Result<&SmtpConfig> {
    config
        .smtp
        .as_ref()
        .context("no [smtp] section in the config: alerts cannot be sent")
}

fn send_test(config: &Config, address: &str) -> anyhow::Result<ExitCode> {
    let smtp = smtp(config)?;
    let settings = smtp.compose_settings(public_url(config)?)?;
    let now = Utc::now();
    let message_id = outbox::new_message_id(now, &smtp.message_id_domain());
    let message = compose_test(&settings, address, now, &message_id)?;
    let transport = transport(smtp)?;
    let reply = super::runtime()?.block_on(send_now(&transport, message))?;
    println!("sent {message_id} to {address}: {reply}");
    Ok(ExitCode::SUCCESS)
}

/// Delivers what is due now (`poll --once`, and `backfill`/`import` with `--alerts`).
pub async fn deliver_due(config: &Config) -> anyhow::Result<Option<DeliveryReport>> {
    let Some(mut sender) = sender(config)? else {
        return Ok(None);
    };
    Ok(Some(sender.deliver_due(Utc::now()).await?))
}

/// One line for the command's report.
/// Ends a backfill or an import: delivers what it queued when alerts were asked for, then prints the
/// fill's report.
pub fn report_fill(
    config: &Config,
    report: &briefwatch::daemon::Report,
    alerts: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let delivery = if alerts {
        super::runtime()?.block_on(deliver_due(config))?
    } else {
        None
    };
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        println!("{}", report.summary());
        if let Some(delivery) = &delivery {
            println!("{}", delivery_summary(delivery));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delivery_summary(report: &DeliveryReport) -> String {
    format!(
        "alerts: {} sent, {} to retry, {} dead, {} folded into a digest",
        report.sent, report.retried, report.dead, report.deferred
    )
}
