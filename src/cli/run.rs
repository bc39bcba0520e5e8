//! `briefwatch run`: the daemon, with the feed server.

use std::process::ExitCode;

use anyhow::Context;
use briefwatch::daemon::{self, Engine, Signal, Signals, SystemClock};
use briefwatch::feed::Publisher;
use briefwatch::serve::{self, ServeState};
use chrono::Utc;
use sd_notify::NotifyState;

use super::Global;

#[derive(clap::Args)]
pub struct RunArgs {}

pub fn run(global: &Global, _args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_store(&config)?;
    let mut publisher = Publisher::new(&config)?;
    // Worker threads serve HTTP while the poll loop runs on this thread.
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
        let router = serve::router(ServeState {
            feeds: publisher.feeds(),
        });
        let server = tokio::spawn(serve::serve(listener, router, async move {
            let _ = server_stopped.await;
        }));
        let mut engine = Engine::new(config, store)?;
        daemon::notify(NotifyState::Ready);
        let watchdog = daemon::spawn_watchdog();
        loop {
            let mut received = Signal::Stop;
            let shutdown = async { received = signals.next().await };
            daemon::run_with(&mut engine, &SystemClock, shutdown, |engine, report| {
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
            })
            .await;
            if received == Signal::Stop {
                break;
            }
            daemon::notify(NotifyState::Reloading);
            match global.config() {
                Ok(new_config) => {
                    if new_config.http.listen != listen {
                        tracing::warn!(addr = %new_config.http.listen, "a new [http] listen address takes effect on restart");
                    }
                    publisher.reconfigure(&new_config)?;
                    let store = engine.into_store();
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
        let _ = stop_server.send(());
        server.await.context("feed server task")??;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
