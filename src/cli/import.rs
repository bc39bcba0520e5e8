//! `briefwatch import MANIFEST.tsv`: saved pages become revisions with their original fetch times.

use std::path::PathBuf;
use std::process::ExitCode;

use briefwatch::daemon::{Engine, SystemClock};

use super::Global;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A corpus manifest: `url status location file bytes sha256 content_type fetched_date`, files
    /// relative to the manifest's directory.
    pub manifest: PathBuf,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_store(&config)?;
    let mut engine = Engine::new(config, store)?;
    let report = engine.import_manifest(&args.manifest, &SystemClock)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", report.summary());
    }
    Ok(ExitCode::SUCCESS)
}
