//! `briefwatch run [--alerts]`: the daemon, with the alert sender beside it.

use std::process::ExitCode;

use briefwatch::daemon::{self, Engine, SystemClock};

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
    let mut engine = Engine::new(config, store)?;
    super::runtime()?.block_on(async {
        let (stop_sender, sender_stopped) = tokio::sync::oneshot::channel::<()>();
        let sender_task = match (sender, &alerts) {
            (Some(sender), Some(alerts)) => {
                Some(tokio::spawn(sender.run(alerts.wake.clone(), async move {
                    let _ = sender_stopped.await;
                })))
            }
            _ => None,
        };
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        tokio::pin!(shutdown);
        let mut interrupted = false;
        if let (true, Some(alerts)) = (first_fill, &alerts) {
            tracing::info!(
                event = "first_fill",
                "empty archive: the first cycle indexes without alerts"
            );
            tokio::select! {
                _ = &mut shutdown => interrupted = true,
                _ = engine.poll_cycle(&SystemClock, false) => {}
            }
            alerts.set_enabled(true);
        }
        if !interrupted {
            daemon::run(&mut engine, &SystemClock, shutdown).await;
        }
        let _ = stop_sender.send(());
        if let Some(task) = sender_task {
            let _ = task.await;
        }
    });
    Ok(ExitCode::SUCCESS)
}
