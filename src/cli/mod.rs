//! The command-line interface: one subcommand per file, each a thin layer over the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod extract;

#[derive(Parser)]
#[command(
    name = "briefwatch",
    version,
    about = "Watch the Chinese Foreign Ministry's press-conference transcripts"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Extract one saved page (or every page of a corpus manifest) and print JSON.
    Extract(extract::ExtractArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Extract(args) => extract::run(args),
    }
}
