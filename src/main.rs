//! Command-line entry point: parses arguments and hands each command to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = briefwatch_cli::Cli::parse();
    if cli.command.only_prints() {
        restore_default_sigpipe();
    }
    match briefwatch_cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("briefwatch: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Rust ignores SIGPIPE, so a write to a closed pipe is an error ("Broken pipe") that every print
/// would have to handle; with the default action the process ends silently, as Unix tools do.
fn restore_default_sigpipe() {
    // SAFETY: called once, before any thread is started; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[path = "cli/mod.rs"]
mod briefwatch_cli;
