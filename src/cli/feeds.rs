//! `briefwatch feeds --out DIR`: render every feed from the archive into static files.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use briefwatch::feed::{FeedSet, FeedSettings, inputs_from_store};
use chrono::Utc;

use super::Global;

#[derive(clap::Args)]
pub struct FeedsArgs {
    /// Directory to write `<name>.xml` files into (default: `[feeds] out_dir`). Files whose bytes
    /// did not change are left alone; the others are replaced atomically.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(global: &Global, args: FeedsArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let Some(out) = args.out.or_else(|| config.feeds.out_dir.clone()) else {
        anyhow::bail!("no output directory: pass --out DIR or set [feeds] out_dir");
    };
    let store = Global::open_existing_store(&config)?;
    let settings = FeedSettings::from_config(&config)?;
    let inputs = inputs_from_store(&store, settings.items)?;
    let set = FeedSet::build(&settings, &inputs, &FeedSet::default(), Utc::now())?;
    let report = set
        .write_dir(&out)
        .with_context(|| format!("cannot write feeds to {}", out.display()))?;
    let mut stdout = std::io::stdout().lock();
    for name in &report.written {
        writeln!(
            stdout,
            "written   {}",
            out.join(format!("{name}.xml")).display()
        )?;
    }
    for name in &report.unchanged {
        writeln!(
            stdout,
            "unchanged {}",
            out.join(format!("{name}.xml")).display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
