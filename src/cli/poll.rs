//! `briefwatch poll --once [--all]`: one cycle of every due fetch, then exit.

use std::process::ExitCode;

use briefwatch::daemon::{Engine, SystemClock};

use super::Global;

#[derive(clap::Args)]
pub struct PollArgs {
    /// Run one cycle and exit (the daemon is `briefwatch run`).
    #[arg(long)]
    pub once: bool,
    /// Re-fetch every listing and every known document now, due or not.
    #[arg(long)]
    pub all: bool,
    /// Print the cycle's counts as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: PollArgs) -> anyhow::Result<ExitCode> {
    if !args.once {
        anyhow::bail!("`poll` runs one cycle: pass --once (the daemon is `briefwatch run`)");
    }
    let config = global.config()?;
    let store = Global::open_store(&config)?;
    let mut engine = Engine::new(config, store)?;
    let report = super::runtime()?.block_on(engine.poll_cycle(&SystemClock, args.all));
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", report.summary());
    }
    Ok(ExitCode::SUCCESS)
}
