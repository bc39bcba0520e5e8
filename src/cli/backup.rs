//! `briefwatch backup PATH`: a consistent copy of the archive, checked; and the corruption check
//! every command runs before it touches the archive.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use briefwatch::store::{StoreError, integrity_check_file, quick_check_file_tables};

use super::Global;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// Where the copy goes: a new file (an existing one is never overwritten).
    pub path: PathBuf,
}

pub fn run(global: &Global, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    if args.path.exists() {
        anyhow::bail!(
            "{} already exists; a backup never overwrites a file (remove it or pick another name)",
            args.path.display()
        );
    }
    let target = args
        .path
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", args.path.display()))?;
    // VACUUM INTO reads one snapshot, so the daemon may go on writing while the copy is made.
    store.backup_into(target).with_context(|| {
        format!(
            "cannot write the backup {} of {}",
            args.path.display(),
            config.archive.database_path().display()
        )
    })?;
    let verdict = integrity_check_file(&args.path)
        .with_context(|| format!("cannot check the backup {}", args.path.display()))?;
    if verdict != "ok" {
        anyhow::bail!(
            "the backup {} failed its integrity check: {verdict}",
            args.path.display()
        );
    }
    let bytes = std::fs::metadata(&args.path).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup of {} written to {} ({bytes} bytes, integrity check ok)",
        config.archive.database_path().display(),
        args.path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses an archive that fails `PRAGMA quick_check` (or is not a database at all), before any
/// command writes to it and makes things worse. A missing file is fine: it is about to be created.
pub fn refuse_corrupt(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let verdict = match quick_check_file_tables(path) {
        Ok(verdict) => verdict,
        // Only SQLite's own verdict of corruption is told as corruption: a file it cannot open
        // (read-only or missing directory, full disk) is a different problem with other advice.
        Err(error) => {
            let told = error.at(path);
            match told {
                StoreError::Corrupt { .. } => return Err(told.into()),
                StoreError::Sql { source, .. } => anyhow::bail!(
                    "cannot check the archive {} before using it: {source}",
                    path.display()
                ),
                other => return Err(other.into()),
            }
        }
    };
    if verdict == "ok" {
        return Ok(());
    }
    Err(StoreError::Corrupt {
        path: path.display().to_string(),
        detail: verdict,
    }
    .into())
}
