//! `briefwatch completions SHELL` and `briefwatch man`: shell completions and the manual page,
//! generated from the same argument definitions the command line parses.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

#[derive(clap::Args)]
#[command(after_help = "Install, e.g.:\n  \
    briefwatch completions bash > /etc/bash_completion.d/briefwatch\n  \
    briefwatch completions zsh > \"${fpath[1]}/_briefwatch\"\n  \
    briefwatch completions fish > ~/.config/fish/completions/briefwatch.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(clap::Args)]
#[command(
    after_help = "Read it with `briefwatch man | man -l -` (`briefwatch man export | man -l -` for \
    one command), or install the pages with `briefwatch man --dir /usr/local/share/man/man1`."
)]
pub struct ManArgs {
    /// Print the page of this command (`briefwatch man export`) instead of the main page.
    #[arg(conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write `briefwatch.1` and one `briefwatch-COMMAND.1` per command into this directory
    /// instead of printing `briefwatch.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "briefwatch", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    match args.dir {
        None => {
            if let Some(name) = &args.command {
                // Built as `--dir` builds it, so that the page is the one written there.
                command = command.disable_help_subcommand(true);
                command.build();
                let Some(sub) = command.find_subcommand(name) else {
                    anyhow::bail!("no command {name:?}: see `briefwatch --help`");
                };
                command = sub.clone();
            }
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(command).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("cannot write the pages into {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
