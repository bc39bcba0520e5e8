//! The command-line interface: one subcommand per file, each a thin layer over the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use briefwatch::config::Config;
use briefwatch::store::Store;

mod alerts;
mod backfill;
mod backup;
mod check_config;
mod diff;
mod export;
mod extract;
mod feeds;
mod history;
mod import;
mod list;
mod logging;
mod manual;
mod pair;
mod poll;
mod progress;
mod run;
mod search;
mod show;
mod status;

#[derive(Parser)]
#[command(
    name = "briefwatch",
    version,
    about = "Watch the Chinese Foreign Ministry's press-conference transcripts",
    after_help = "Exit status: 0 done; 1 error (bad configuration, unusable archive, …); \
                  2 bad command line; 3 `poll`, `backfill` or `import` finished but some pages \
                  failed (the count is printed on stderr)."
)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "BRIEFWATCH_CONFIG",
        default_value = "config/briefwatch.toml"
    )]
    pub config: PathBuf,
    /// State directory (holds the database); overrides `archive.state_dir`.
    #[arg(long, global = true, value_name = "DIR", env = "BRIEFWATCH_STATE")]
    pub state: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Extract one saved page (or every page of a corpus manifest) and print JSON.
    Extract(extract::ExtractArgs),
    /// Run the daemon: poll listings, re-check documents, until interrupted.
    Run(run::RunArgs),
    /// Run one cycle of every due fetch, then exit.
    Poll(poll::PollArgs),
    /// Walk every listing page and archive every item not archived yet.
    Backfill(backfill::BackfillArgs),
    /// Import saved pages listed in a corpus manifest as revisions.
    Import(import::ImportArgs),
    /// List archived documents.
    List(list::ListArgs),
    /// Show a document's latest (or a given) revision.
    Show(show::ShowArgs),
    /// Per source: last success, last error, blocked state, counts.
    Status(status::StatusArgs),
    /// Search every exchange of every revision, in English and Chinese.
    Search(search::SearchArgs),
    /// Validate the configuration and print it with defaults filled in.
    CheckConfig(check_config::CheckConfigArgs),
    /// A document's revisions (time, hash, significance, summary) and events.
    History(history::HistoryArgs),
    /// What changed between two revisions of a document.
    Diff(diff::DiffArgs),
    /// Keyword alerts: test a rule on the archive, show the outbox, send a test message.
    Alerts(alerts::AlertsArgs),
    /// One day's English and Chinese press conferences side by side, unpaired exchanges marked.
    Pair(pair::PairArgs),
    /// Write every RSS feed from the archive as static files.
    Feeds(feeds::FeedsArgs),
    /// Copy the archive to a new file (consistent while the daemon runs), then check the copy.
    Backup(backup::BackupArgs),
    /// Write the archive as a dataset (CSV or JSON Lines): one row per exchange, per aligned
    /// pair, or per revision and event.
    Export(export::ExportArgs),
    /// Print shell completions for bash, zsh or fish.
    Completions(manual::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a directory.
    Man(manual::ManArgs),
}

/// What every command that touches the archive needs.
pub struct Global {
    pub config_path: PathBuf,
    pub state: Option<PathBuf>,
}

impl Global {
    /// The validated configuration, with `--state` applied.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = briefwatch::setup::load(&self.config_path)?;
        if let Some(state) = &self.state {
            config.archive.state_dir = state.clone();
        }
        Ok(config)
    }

    /// Opens (creating if needed) the archive of a configuration.
    pub fn open_store(config: &Config) -> anyhow::Result<Store> {
        let directory = &config.archive.state_dir;
        create_state_dir(directory)?;
        writable_state_dir(directory)?;
        let path = config.archive.database_path();
        backup::refuse_corrupt(&path)?;
        Ok(Store::open(&path)?)
    }

    /// Opens an existing archive for reading.
    pub fn open_existing_store(config: &Config) -> anyhow::Result<Store> {
        let directory = &config.archive.state_dir;
        if !directory.is_dir() {
            anyhow::bail!(
                "the state directory {} does not exist or is not a directory (run `briefwatch \
                 backfill` or `briefwatch poll --once` first, or check archive.state_dir and --state)",
                directory.display()
            );
        }
        let path = config.archive.database_path();
        if !Path::new(&path).exists() {
            anyhow::bail!(
                "no archive at {} (run `briefwatch backfill` or `briefwatch poll --once` first)",
                path.display()
            );
        }
        writable_state_dir(directory)?;
        backup::refuse_corrupt(&path)?;
        Ok(Store::open(&path)?)
    }
}

impl Command {
    /// Commands that only read the archive (or a file) and print. A reader that stops early
    /// (`briefwatch list | head -1`) should end them quietly, as it ends `cat`; the commands that
    /// fetch or write keep their own handling of a closed output.
    pub fn only_prints(&self) -> bool {
        matches!(
            self,
            Command::Extract(_)
                | Command::List(_)
                | Command::Show(_)
                | Command::Status(_)
                | Command::Search(_)
                | Command::CheckConfig(_)
                | Command::History(_)
                | Command::Diff(_)
                | Command::Pair(_)
                | Command::Completions(_)
                | Command::Man(_)
        ) || matches!(self, Command::Export(args) if args.out.is_none())
    }
}

/// Creates the state directory, telling apart why it cannot be.
fn create_state_dir(directory: &Path) -> anyhow::Result<()> {
    let Err(error) = std::fs::create_dir_all(directory) else {
        return Ok(());
    };
    let shown = directory.display();
    let why = match error.raw_os_error() {
        Some(libc::ENOTDIR) | Some(libc::EEXIST) => {
            "part of its path is a file, not a directory".to_string()
        }
        Some(libc::EROFS) => "the file system is read-only".to_string(),
        Some(libc::EACCES) | Some(libc::EPERM) => {
            "permission denied: this user may not create it".to_string()
        }
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => "the disk is full".to_string(),
        _ => error.to_string(),
    };
    anyhow::bail!(
        "cannot create state directory {shown}: {why} ({error}). Check archive.state_dir \
         (or --state)"
    )
}

/// Refuses a state directory the archive cannot be written in (a read-only mount, missing write
/// permission) with that reason, before SQLite fails with a vaguer one. `access(2)` reports a
/// read-only file system even to root.
fn writable_state_dir(directory: &Path) -> anyhow::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(name) = std::ffi::CString::new(directory.as_os_str().as_bytes()) else {
        anyhow::bail!(
            "the state directory {} has a NUL byte in its name",
            directory.display()
        );
    };
    // SAFETY: access reads the NUL-terminated path we own and nothing else.
    if unsafe { libc::access(name.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    let why = match error.raw_os_error() {
        Some(libc::EROFS) => "it is on a read-only file system",
        Some(libc::EACCES) | Some(libc::EPERM) => "this user may not write in it",
        _ => "it cannot be written",
    };
    anyhow::bail!(
        "the state directory {} is read-only: {why} ({error}). briefwatch writes the archive and \
         its journal there: check the mount and the permissions (under systemd, StateDirectory=). \
         The archive itself is not damaged",
        directory.display()
    )
}

/// A runtime for the async commands; one thread is plenty for one polite client.
/// `1 exchange`, `2 exchanges`: a number with the word that agrees with it.
pub fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    logging::init();
    let global = Global {
        config_path: cli.config,
        state: cli.state,
    };
    match cli.command {
        Command::Extract(args) => extract::run(args),
        Command::Run(args) => run::run(&global, args),
        Command::Poll(args) => poll::run(&global, args),
        Command::Backfill(args) => backfill::run(&global, args),
        Command::Import(args) => import::run(&global, args),
        Command::List(args) => list::run(&global, args),
        Command::Show(args) => show::run(&global, args),
        Command::Status(args) => status::run(&global, args),
        Command::Search(args) => search::run(&global, args),
        Command::CheckConfig(args) => check_config::run(&global, args),
        Command::History(args) => history::run(&global, args),
        Command::Diff(args) => diff::run(&global, args),
        Command::Pair(args) => pair::run(&global, args),
        Command::Alerts(args) => alerts::run(&global, args),
        Command::Feeds(args) => feeds::run(&global, args),
        Command::Backup(args) => backup::run(&global, args),
        Command::Export(args) => export::run(&global, args),
        Command::Completions(args) => manual::completions(args),
        Command::Man(args) => manual::man(args),
    }
}
