//! `briefwatch status [--json]`: per source, last success, last error and its cause, how long the
//! source has been failing, blocked state, counts.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;

use super::Global;

#[derive(clap::Args)]
pub struct StatusArgs {
    /// One JSON object per source.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    let summaries = store.source_summaries(&names)?;
    let now = Utc::now();
    let blocked = store.blocked_hosts(now)?;
    let alarms =
        briefwatch::daemon::health::check(&store, now, &names, &config.service, &config.schedule)?;
    let mut out = std::io::stdout().lock();
    for (source, summary) in config.sources.iter().zip(&summaries) {
        let host = source
            .listing_url
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let blocked_until = blocked
            .iter()
            .find(|(h, _)| *h == host)
            .map(|(_, until)| until.clone());
        let listing = store.listing_state(source.listing_url.as_str())?;
        let source_alarms: Vec<_> = alarms.iter().filter(|a| a.source == source.name).collect();
        let failing = briefwatch::daemon::health::source_failure(&store, &source.name)?;
        if args.json {
            let mut value = serde_json::to_value(summary)?;
            value["blocked_until"] = serde_json::json!(blocked_until);
            value["listing_last_success"] =
                serde_json::json!(listing.as_ref().and_then(|l| l.last_success.clone()));
            value["alarms"] = serde_json::to_value(&source_alarms)?;
            if let Some(error) = &summary.last_error {
                let cause = briefwatch::fetch::failure_cause(
                    &error.outcome,
                    error.status,
                    error.error.as_deref(),
                );
                value["last_error"]["cause"] = serde_json::json!(cause.as_str());
                value["last_error"]["description"] = serde_json::json!(cause.describe());
            }
            value["failing"] = match &failing {
                Some(failure) => {
                    let mut failing = serde_json::to_value(failure)?;
                    failing["lasting"] = serde_json::json!(failure.lasting(now));
                    failing["lasting_seconds"] =
                        serde_json::json!((now - failure.since).num_seconds().max(0));
                    failing
                }
                None => serde_json::Value::Null,
            };
            writeln!(out, "{value}")?;
            continue;
        }
        writeln!(out, "{} ({})", summary.source, source.listing_url)?;
        writeln!(
            out,
            "  documents: {} ({} archived, {} pending, {} gone), revisions: {}",
            summary.documents, summary.archived, summary.pending, summary.gone, summary.revisions
        )?;
        match &summary.last_success {
            Some(fetch) => writeln!(out, "  last success: {} {}", fetch.at, fetch.url)?,
            None => writeln!(out, "  last success: never")?,
        }
        match &summary.last_error {
            Some(fetch) => writeln!(
                out,
                "  last error: {} {}: {} {} {}",
                fetch.at,
                fetch.outcome,
                briefwatch::fetch::failure_cause(
                    &fetch.outcome,
                    fetch.status,
                    fetch.error.as_deref()
                )
                .describe(),
                fetch.url,
                fetch.error.as_deref().unwrap_or("")
            )?,
            None => writeln!(out, "  last error: none")?,
        }
        if let Some(failure) = &failing {
            writeln!(
                out,
                "  failing: {} since {} (for {}, {} failed requests)",
                failure.description,
                briefwatch::store::format_time(failure.since),
                failure.lasting(now),
                failure.failures
            )?;
        }
        match blocked_until {
            Some(until) => writeln!(
                out,
                "  blocked: until {until} ({host} answered with a challenge)"
            )?,
            None => writeln!(out, "  blocked: no")?,
        }
        let outcomes: Vec<String> = summary
            .outcomes
            .iter()
            .map(|(o, n)| format!("{o}={n}"))
            .collect();
        writeln!(out, "  requests: {}", outcomes.join(" "))?;
        for alarm in source_alarms {
            writeln!(
                out,
                "  warning: {} since {}: {}",
                alarm.kind,
                briefwatch::store::format_time(alarm.since),
                alarm.message
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
