//! `briefwatch run [--alerts]`: the daemon, with the feed server and the alert sender beside it.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use briefwatch::alert::{IngestAlerts, RuleSet};
use briefwatch::api::{self, ApiState};
use briefwatch::config::Config;
use briefwatch::daemon::{self, Engine, Heartbeat, Report, Signal, Signals, SystemClock};
use briefwatch::feed::{FeedSettings, Publisher};
use briefwatch::serve::{self, ServeState};
use briefwatch::web::{self, Readers, WebState};
use chrono::Utc;
use sd_notify::NotifyState;

use super::Global;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Queue alerts even when the first cycle fills an empty archive.
    #[arg(long)]
    pub alerts: bool,
}

pub fn run(global: &Global, args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    super::alerts::check_delivery(&config, args.alerts)?;
    let store = Global::open_store(&config)?;
    // The first cycle of an empty archive indexes silently rather than mailing every briefing.
    let first_fill = !args.alerts && super::alerts::archive_is_empty(&store)?;
    let alerts = super::alerts::attach(&config, !first_fill)?;
    let sender = super::alerts::sender(&config)?;
    let mut publisher = Publisher::new(&config)?;
    // Worker threads serve HTTP and deliver mail while the poll loop runs on this thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async move {
        let mut signals = Signals::new().context("cannot install signal handlers")?;
        // Bound before READY: a port clash fails the start instead of a running daemon without feeds.
        let listener = serve::bind(config.http.listen).await?;
        let listen = listener.local_addr().context("listener address")?;
        tracing::info!(addr = %listen, "serving feeds");
        if let Err(error) = publisher.publish(&store, Utc::now()) {
            tracing::error!(%error, "cannot render the feeds");
        }
        let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
        let pages = Readers::open(&config.archive.database_path(), 2)?;
        let health = briefwatch::daemon::health::HealthBoard::default();
        let api_readers = Readers::open(&config.archive.database_path(), 2)?;
        let api_state = ApiState::new(
            Arc::new(api_readers),
            publisher.feeds(),
            FeedSettings::from_config(&config)?,
            config.diff.clone(),
        );
        let router = serve::router(ServeState {
            feeds: publisher.feeds(),
            health: health.clone(),
        })
        .merge(api::routes(api_state))
        .merge(web::routes(WebState::new(pages)));
        let http = config.http.clone();
        let server = tokio::spawn(async move {
            serve::serve_with(listener, router, &http, async move {
                let _ = server_stopped.await;
            })
            .await
        });
        let (stop_sender, sender_stopped) = tokio::sync::oneshot::channel::<()>();
        // Alarm mails to the operator go through the outbox too, so the sender runs whenever
        // there is an [smtp] section (or webhooks), alert rules or not.
        let wake = alerts
            .as_ref()
            .map_or_else(Default::default, |alerts| alerts.wake.clone());
        let sender_task = sender.map(|sender| {
            tokio::spawn(sender.run(wake.clone(), async move {
                let _ = sender_stopped.await;
            }))
        });
        let heartbeat = Heartbeat::new();
        let mut engine = Engine::new(config, store)?;
        engine.set_alerts(alerts.clone());
        engine.set_heartbeat(heartbeat.clone());
        daemon::notify(NotifyState::Ready);
        // Rendering the feeds and opening the archive peaked well above what idling needs.
        daemon::release_free_memory();
        let mut watchdog =
            daemon::spawn_watchdog(heartbeat.clone(), daemon::heartbeat_allowance(engine.config()));
        let mut monitor = Monitor {
            wake: wake.clone(),
            health,
            ..Monitor::default()
        };
        monitor.report(&engine, None);
        let mut stopping = false;
        if let (true, Some(alerts)) = (first_fill, &alerts) {
            tracing::info!(
                event = "first_fill",
                "empty archive: the first cycle indexes without alerts"
            );
            tokio::select! {
                signal = signals.next() => stopping = signal == Signal::Stop,
                report = engine.poll_cycle(&SystemClock, false) => {
                    heartbeat.beat();
                    republish(&publisher, &engine, &report);
                    monitor.report(&engine, Some(&report));
                }
            }
            alerts.set_enabled(true);
        }
        loop {
            if stopping {
                break;
            }
            let mut received = Signal::Stop;
            let shutdown = async { received = signals.next().await };
            daemon::run_with(&mut engine, &SystemClock, shutdown, |engine, report| {
                republish(&publisher, engine, report);
                monitor.report(engine, Some(report));
            })
            .await;
            if received == Signal::Stop {
                stopping = true;
                continue;
            }
            daemon::notify(NotifyState::Reloading);
            match global.config() {
                Ok(new_config) => {
                    if new_config.http.listen != listen {
                        tracing::warn!(addr = %new_config.http.listen, "a new [http] listen address takes effect on restart");
                    }
                    publisher.reconfigure(&new_config)?;
                    let store = engine.into_store();
                    let reattached = reattach_alerts(&new_config, alerts.as_ref())?;
                    engine = Engine::new(new_config, store)?;
                    engine.set_alerts(reattached);
                    engine.set_heartbeat(heartbeat.clone());
                    if let Some(old) = watchdog.take() {
                        old.abort();
                    }
                    watchdog = daemon::spawn_watchdog(
                        heartbeat.clone(),
                        daemon::heartbeat_allowance(engine.config()),
                    );
                    if let Err(error) = publisher.publish(engine.store(), Utc::now()) {
                        tracing::error!(%error, "cannot render the feeds");
                    }
                    tracing::info!("configuration reloaded");
                }
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "configuration not reloaded, keeping the running one")
                }
            }
            daemon::notify(NotifyState::Ready);
            monitor.report(&engine, None);
        }
        // The poll loop has stopped at an await point, so no archive transaction is open: each
        // one is synchronous and was either committed or never begun.
        daemon::notify(NotifyState::Stopping);
        daemon::notify(NotifyState::Status("stopping"));
        tracing::info!(event = "stopping", "stopping: no new work is taken");
        if let Some(watchdog) = watchdog {
            watchdog.abort();
        }
        let _ = stop_sender.send(());
        if let Some(task) = sender_task {
            // The sender finishes the message in hand; a mail server that hangs must not hold the
            // stop past TimeoutStopSec (a message cut short is resent once, same Message-ID).
            if tokio::time::timeout(SENDER_STOP_GRACE, task).await.is_err() {
                tracing::warn!(
                    event = "stopping",
                    "the alert sender did not stop in time; its message in flight is retried at next start"
                );
            }
        }
        let _ = stop_server.send(());
        server.await.context("feed server task")??;
        anyhow::Ok(())
    });
    // A page still being extracted on a blocking thread must not hold the exit past the unit's
    // TimeoutStopSec: dropping the runtime would wait for it.
    runtime.shutdown_background();
    result?;
    Ok(ExitCode::SUCCESS)
}

/// How long the alert sender gets to finish on stop: well inside the unit's TimeoutStopSec=30s.
const SENDER_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// Tells systemd (`STATUS=`) and the log how the watch is going, after every cycle.
#[derive(Default)]
struct Monitor {
    last_poll: Option<chrono::DateTime<Utc>>,
    /// The alarms raised at the last look, to log each once when it appears and when it clears.
    raised: std::collections::BTreeSet<(String, &'static str)>,
    /// Wakes the outbox sender after an alarm mail is queued.
    wake: std::sync::Arc<tokio::sync::Notify>,
    /// What `/healthz` answers.
    health: briefwatch::daemon::health::HealthBoard,
}

impl Monitor {
    fn report(&mut self, engine: &Engine, cycle: Option<&Report>) {
        let now = Utc::now();
        if cycle.is_some() {
            self.last_poll = Some(now);
        }
        let alarms = match engine.alarms(now) {
            Ok(alarms) => alarms,
            Err(error) => {
                tracing::error!(%error, "cannot check the sources' health");
                Vec::new()
            }
        };
        let current: std::collections::BTreeSet<(String, &'static str)> = alarms
            .iter()
            .map(|alarm| (alarm.source.clone(), alarm.kind))
            .collect();
        for alarm in &alarms {
            if !self.raised.contains(&(alarm.source.clone(), alarm.kind)) {
                tracing::warn!(source = %alarm.source, event = "alarm", outcome = alarm.kind, since = %alarm.since, "{}", alarm.message);
            }
        }
        for (source, kind) in self.raised.difference(&current) {
            tracing::info!(source = %source, event = "alarm_cleared", outcome = *kind, "alarm cleared");
        }
        self.raised = current;
        match engine.unhealthy(now) {
            Ok(verdict) => {
                if verdict.is_some() && self.health.verdict().is_none() {
                    tracing::warn!(event = "unhealthy", "{}", verdict.as_deref().unwrap_or(""));
                } else if verdict.is_none() && self.health.verdict().is_some() {
                    tracing::info!(event = "healthy", "a source is fetched again");
                }
                self.health.set(verdict);
            }
            Err(error) => tracing::error!(%error, "cannot check the sources' failures"),
        }
        if let Err(error) = mail_operator(engine, &alarms, now) {
            tracing::error!(error = format!("{error:#}"), "cannot queue an alarm mail");
        } else if !alarms.is_empty() {
            self.wake.notify_one();
        }
        match engine.status_facts(now) {
            Ok(mut facts) => {
                facts.last_poll = self.last_poll;
                let line = daemon::status_line(&facts, now);
                daemon::notify(NotifyState::Status(&line));
            }
            Err(error) => tracing::error!(%error, "cannot read the service status"),
        }
    }
}

/// Queues one mail per alarm to `[service] operator`, unless one about the same alarm was queued
/// within `alarm_repeat` (the outbox remembers, so a restart does not mail again).
fn mail_operator(
    engine: &Engine,
    alarms: &[briefwatch::daemon::health::Alarm],
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    use briefwatch::alert::outbox;
    use briefwatch::alert::plan::Notice;
    use briefwatch::daemon::health::alarm_mail_due;
    let config = engine.config();
    let (Some(operator), Some(smtp)) = (&config.service.operator, &config.smtp) else {
        return Ok(());
    };
    let conn = engine.store().connection();
    for alarm in alarms {
        let key = format!("alarm:{}:{}", alarm.source, alarm.kind);
        let last = outbox::last_notice_at(conn, operator, &key)?;
        if !alarm_mail_due(now, last, config.service.alarm_repeat) {
            continue;
        }
        let notice = Notice {
            key,
            subject: format!("[briefwatch] alarm: {} {}", alarm.source, alarm.kind),
            text: format!(
                "briefwatch on {host}: source {source} is {kind} since {since}.\n\n{message}\n\n\
                 `briefwatch status` shows the details; this mail is repeated at most every {repeat} \
                 while the problem lasts.\n",
                host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|name| name.trim().to_string())
                    .unwrap_or_else(|_| "this host".to_string()),
                source = alarm.source,
                kind = alarm.kind,
                since = briefwatch::store::format_time(alarm.since),
                message = alarm.message,
                repeat = humantime::format_duration(config.service.alarm_repeat),
            ),
        };
        outbox::enqueue_notice(conn, operator, notice, now, &smtp.message_id_domain())?;
        tracing::info!(source = %alarm.source, event = "alarm_mail", outcome = alarm.kind, "alarm mail queued for the operator");
    }
    Ok(())
}

/// Re-renders the feeds after a cycle that stored something, or when another process wrote to
/// the archive since the last render (checked at every tick).
fn republish(publisher: &Publisher, engine: &Engine, report: &Report) {
    let wrote = report.new_revisions + report.events > 0;
    match publisher.publish_if_changed(engine.store(), wrote, Utc::now()) {
        Ok(Some(changed)) if !changed.is_empty() => {
            tracing::info!(feeds = %changed.join(" "), "feeds updated")
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "cannot render the feeds"),
    }
}

/// New alert rules take effect on reload; the running sender keeps its wake-up and on/off switch,
/// while a changed `[smtp]` or `[[webhook]]` section needs a restart.
fn reattach_alerts(
    config: &Config,
    running: Option<&IngestAlerts>,
) -> anyhow::Result<Option<IngestAlerts>> {
    let Some(running) = running else {
        if super::alerts::deliverable(config) {
            tracing::warn!(
                "alert rules added to a daemon started without them take effect on restart"
            );
        }
        return Ok(None);
    };
    let rules = RuleSet::compile(&config.alerts)?;
    Ok(Some(IngestAlerts {
        rules: std::sync::Arc::new(rules),
        ..running.clone()
    }))
}
