//! `briefwatch check-config`: validate the configuration and print it with defaults filled in.

use std::process::ExitCode;

use super::Global;

#[derive(clap::Args)]
pub struct CheckConfigArgs {
    /// Only validate; print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(global: &Global, args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    if !args.quiet {
        println!(
            "# effective configuration of {}",
            global.config_path.display()
        );
        print!("{}", config.to_toml_string());
        if config.alerts.iter().any(|rule| !rule.recipients.is_empty()) && config.smtp.is_none() {
            eprintln!(
                "note: no [smtp] section: the alert rules serve `alerts test`, the keyword feeds and their webhooks; no mail is sent"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
