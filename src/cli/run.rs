//! `briefwatch run [--alerts]`: the daemon, with the feed server and the alert sender beside it.

use std::process::ExitCode;

use anyhow::Context;
use briefwatch::alert::{IngestAlerts, RuleSet};
use briefwatch::config::Config;
use briefwatch::daemon::{self, Engine, Report, Signal, Signals, SystemClock};
use briefwatch::feed::Publisher;
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
    let mut store = Global::open_store(&config)?;
    // The first cycle of an empty archive indexes silently rather than mailing every briefing.
    let first_fill = !args.alerts && super::alerts::archive_is_empty(&store)?;
    let alerts = super::alerts::attach(&config, &mut store, !first_fill)?;
    let sender = super::alerts::sender(&config)?;
    let mut publisher = Publisher::new(&config)?;
    // Worker threads serve HTTP and deliver mail while the poll loop runs on this thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
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
        let router = serve::router(ServeState {
            feeds: publisher.feeds(),
        })
        .merge(web::routes(WebState::new(pages)));
        let server = tokio::spawn(serve::serve(listener, router, async move {
            let _ = server_stopped.await;
        }));
        let (stop_sender, sender_stopped) = tokio::sync::oneshot::channel::<()>();
        let sender_task = match (sender, &alerts) {
            (Some(sender), Some(alerts)) => {
                Some(tokio::spawn(sender.run(alerts.wake.clone(), async move {
                    let _ = sender_stopped.await;
                })))
            }
            _ => None,
        };
        let mut engine = Engine::new(config, store)?;
        daemon::notify(NotifyState::Ready);
        let watchdog = daemon::spawn_watchdog();
        let mut stopping = false;
        if let (true, Some(alerts)) = (first_fill, &alerts) {
            tracing::info!(
                event = "first_fill",
                "empty archive: the first cycle indexes without alerts"
            );
            tokio::select! {
                signal = signals.next() => stopping = signal == Signal::Stop,
                report = engine.poll_cycle(&SystemClock, false) => republish(&publisher, &engine, &report),
            }
            alerts.set_enabled(true);
        }
        while !stopping {
            let mut received = Signal::Stop;
            let shutdown = async { received = signals.next().await };
            daemon::run_with(&mut engine, &SystemClock, shutdown, |engine, report| {
                republish(&publisher, engine, report)
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
                    let mut store = engine.into_store();
                    reattach_alerts(&new_config, &mut store, alerts.as_ref())?;
                    engine = Engine::new(new_config, store)?;
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
        }
        daemon::notify(NotifyState::Stopping);
        if let Some(watchdog) = watchdog {
            watchdog.abort();
        }
        let _ = stop_sender.send(());
        if let Some(task) = sender_task {
            let _ = task.await;
        }
        let _ = stop_server.send(());
        server.await.context("feed server task")??;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Re-renders the feeds after a cycle that stored something.
fn republish(publisher: &Publisher, engine: &Engine, report: &Report) {
    if report.new_revisions + report.events == 0 {
        return;
    }
    match publisher.publish(engine.store(), Utc::now()) {
        Ok(changed) if !changed.is_empty() => {
            tracing::info!(feeds = %changed.join(" "), "feeds updated")
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "cannot render the feeds"),
    }
}

/// New alert rules take effect on reload; the running sender keeps its wake-up and on/off switch,
/// while a changed `[smtp]` section needs a restart.
fn reattach_alerts(
    config: &Config,
    store: &mut briefwatch::store::Store,
    running: Option<&IngestAlerts>,
) -> anyhow::Result<()> {
    let Some(running) = running else {
        if !config.alerts.is_empty() {
            tracing::warn!(
                "alert rules added to a daemon started without them take effect on restart"
            );
        }
        return Ok(());
    };
    let rules = RuleSet::compile(&config.alerts)?;
    store.set_alerts(Some(IngestAlerts {
        rules: std::sync::Arc::new(rules),
        ..running.clone()
    }));
    Ok(())
}
