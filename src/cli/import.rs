//! `briefwatch import MANIFEST.tsv`: saved pages become revisions with their original fetch times.

use std::path::PathBuf;
use std::process::ExitCode;

use briefwatch::daemon::{Engine, SystemClock};

use super::Global;
use super::progress::{self, Progress};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A corpus manifest: `url status location file bytes sha256 content_type fetched_date`, files
    /// relative to the manifest's directory.
    pub manifest: PathBuf,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
    /// Queue (and deliver) alerts for what is archived; without it the archive fills silently.
    #[arg(long)]
    pub alerts: bool,
}

pub fn run(global: &Global, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    super::alerts::check_delivery(&config, args.alerts)?;
    let store = Global::open_store(&config)?;
    let alerts = super::alerts::attach(&config, args.alerts)?;
    let mut engine = Engine::new(config.clone(), store)?;
    engine.set_alerts(alerts);
    let progress = Progress::new(progress::wanted(args.json), "pages");
    engine.set_progress(progress.hook());
    let report = engine.import_manifest(&args.manifest, &SystemClock)?;
    drop(engine);
    drop(progress);
    let code = super::alerts::report_fill(&config, &report, args.alerts, args.json)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    Ok(super::poll::exit_for(&report, "import"))
}
