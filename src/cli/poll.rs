//! `briefwatch poll --once [--all] [--alerts]`: one cycle of every due fetch, then the alerts due, then exit.

use std::process::ExitCode;

use briefwatch::daemon::{Engine, Report, SystemClock};

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
    let store = Global::open_store(&config)?;
    // The first fill of an empty archive indexes silently rather than mailing every briefing.
    let silent = !args.alerts && super::alerts::archive_is_empty(&store)?;
    let alerts = super::alerts::attach(&config, !silent)?;
    let mut engine = Engine::new(config.clone(), store)?;
    engine.set_alerts(alerts);
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
    Ok(exit_for(&report, "poll"))
}

/// Exit status 3 when pages failed, with the count on stderr; 0 otherwise.
pub fn exit_for(report: &Report, command: &str) -> ExitCode {
    let failed = report.failed();
    if failed == 0 {
        return ExitCode::SUCCESS;
    }
    let unreachable = if report.unreachable > 0 {
        format!(
            ", {} of them not asked for because the host cannot be reached",
            report.unreachable
        )
    } else {
        String::new()
    };
    eprintln!(
        "briefwatch: {command}: {failed} page(s) failed{unreachable}; `briefwatch status` shows the causes"
    );
    ExitCode::from(EXIT_PAGES_FAILED)
}

/// The exit status of a `poll`, `backfill` or `import` that finished with failed pages.
pub const EXIT_PAGES_FAILED: u8 = 3;
