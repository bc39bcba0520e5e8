//! Command-line entry point: parses arguments and hands each command to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = briefwatch_cli::Cli::parse();
    match briefwatch_cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("briefwatch: {error:#}");
            ExitCode::from(1)
        }
    }
}

#[path = "cli/mod.rs"]
mod briefwatch_cli;
