//! `briefwatch backfill [--source NAME] [--since DATE]`: archive every listed item not archived yet.

use std::process::ExitCode;

use chrono::NaiveDate;

use briefwatch::daemon::{Engine, SystemClock};

use super::Global;
use super::progress::{self, Progress};

#[derive(clap::Args)]
pub struct BackfillArgs {
    /// Only this source.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Stop at items the listing dates before this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
    /// Queue (and deliver) alerts for what is archived; without it the archive fills silently.
    #[arg(long)]
    pub alerts: bool,
}

pub fn run(global: &Global, args: BackfillArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    super::alerts::check_delivery(&config, args.alerts)?;
    let store = Global::open_store(&config)?;
    let alerts = super::alerts::attach(&config, args.alerts)?;
    let mut engine = Engine::new(config.clone(), store)?;
    engine.set_alerts(alerts);
    let progress = Progress::new(progress::wanted(args.json), "pages");
    engine.set_progress(progress.hook());
    let report = super::runtime()?.block_on(engine.backfill(
        args.source.as_deref(),
        args.since,
        &SystemClock,
    ))?;
    drop(engine);
    drop(progress);
    let code = super::alerts::report_fill(&config, &report, args.alerts, args.json)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    Ok(super::poll::exit_for(&report, "backfill"))
}
