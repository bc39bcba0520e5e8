//! `briefwatch run`: the daemon.

use std::process::ExitCode;

use briefwatch::daemon::{self, Engine, SystemClock};

use super::Global;

#[derive(clap::Args)]
pub struct RunArgs {}

pub fn run(global: &Global, _args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_store(&config)?;
    let mut engine = Engine::new(config, store)?;
    super::runtime()?.block_on(async {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        daemon::run(&mut engine, &SystemClock, shutdown).await;
    });
    Ok(ExitCode::SUCCESS)
}
