//! `briefwatch poll --once [--all] [--alerts]`: one cycle of every due fetch, then the alerts due, then exit.

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
    /// Queue alerts even when this cycle is the first fill of an empty archive.
    #[arg(long)]
    pub alerts: bool,
}

pub fn run(global: &Global, args: PollArgs) -> anyhow::Result<ExitCode> {
    if !args.once {
        anyhow::bail!("`poll` runs one cycle: pass --once (the daemon is `briefwatch run`)");
    }
    let config = global.config()?;
    super::alerts::check_delivery(&config, args.alerts)?;
    let mut store = Global::open_store(&config)?;
    // The first fill of an empty archive indexes silently rather than mailing every briefing.
    let silent = !args.alerts && super::alerts::archive_is_empty(&store)?;
    super::alerts::attach(&config, &mut store, !silent)?;
    let mut engine = Engine::new(config.clone(), store)?;
    let runtime = super::runtime()?;
    let report = runtime.block_on(engine.poll_cycle(&SystemClock, args.all));
    drop(engine);
    let delivery = runtime.block_on(super::alerts::deliver_due(&config))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", report.summary());
        if let Some(delivery) = &delivery {
            println!("{}", super::alerts::delivery_summary(delivery));
        }
    }
    Ok(ExitCode::SUCCESS)
}
