//! `briefwatch extract`: run the extraction stage on saved pages.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExtractArgs {}

pub fn run(_args: ExtractArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("extract is not available yet")
}
