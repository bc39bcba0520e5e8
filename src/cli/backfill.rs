//! `briefwatch backfill [--source NAME] [--since DATE]`: archive every listed item not archived yet.

use std::process::ExitCode;

use chrono::NaiveDate;

use briefwatch::daemon::{Engine, SystemClock};

use super::Global;

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
}

pub fn run(global: &Global, args: BackfillArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_store(&config)?;
    let mut engine = Engine::new(config, store)?;
    let report = super::runtime()?.block_on(engine.backfill(
        args.source.as_deref(),
        args.since,
        &SystemClock,
    ))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", report.summary());
    }
    Ok(ExitCode::SUCCESS)
}
