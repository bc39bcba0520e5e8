//! `briefwatch run [--alerts]`: the daemon, with the feed server and the alert sender beside it.

use std::process::ExitCode;

use briefwatch::service::{self, Options};

use super::Global;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Queue alerts even when the first cycle fills an empty archive.
    #[arg(long)]
    pub alerts: bool,
}

pub fn run(global: &Global, args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    super::alerts::check_delivery(&config, args.alerts)?;
    let store = Global::open_store(&config)?;
    let reread = Global {
        config_path: global.config_path.clone(),
        state: global.state.clone(),
    };
    let options = Options {
        reload: Box::new(move || reread.config()),
        alerts_from_start: args.alerts,
        os_signals: true,
        ..Options::new(config, store)
    };
    service::start(options)?.wait()?;
    Ok(ExitCode::SUCCESS)
}
