//! `briefwatch backup PATH`: a consistent copy of the archive, checked; and the corruption check
//! every command runs before it touches the archive.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};

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
    store
        .connection()
        .execute("VACUUM INTO ?1", [target])
        .with_context(|| {
            format!(
                "cannot write the backup {} of {}",
                args.path.display(),
                config.archive.database_path().display()
            )
        })?;
    let verdict = integrity_check(&args.path)
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

fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// The first column of every row a statement answers, as text (a check pragma: `ok`, or one
/// line per problem).
fn text_rows(conn: &Connection, statement: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare(statement)?
        .query_map([], |row| row.get(0))?
        .collect()
}

/// `PRAGMA integrity_check` of a database file: `ok` or the problems found.
pub fn integrity_check(path: &Path) -> rusqlite::Result<String> {
    Ok(text_rows(&open_read_only(path)?, "PRAGMA integrity_check")?.join("; "))
}

/// `PRAGMA quick_check` of every ordinary table and its indexes. A check of the whole file also
/// runs the full-text index's own consistency check, which reads and decodes all of that index:
/// more than half the CPU of a poll cycle with nothing to fetch, and growing with the archive.
/// The index's pages are still walked here, as the ordinary tables that hold them.
fn quick_check_tables(path: &Path) -> rusqlite::Result<String> {
    let conn = open_read_only(path)?;
    let tables = text_rows(
        &conn,
        "SELECT name FROM sqlite_schema
         WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'",
    )?;
    let mut problems = Vec::new();
    for table in tables {
        let pragma = format!("PRAGMA quick_check(\"{}\")", table.replace('"', "\"\""));
        problems.extend(
            text_rows(&conn, &pragma)?
                .into_iter()
                .filter(|line| line != "ok"),
        );
    }
    Ok(if problems.is_empty() {
        "ok".to_string()
    } else {
        problems.join("; ")
    })
}

/// Refuses an archive that fails `PRAGMA quick_check` (or is not a database at all), before any
/// command writes to it and makes things worse. A missing file is fine: it is about to be created.
pub fn refuse_corrupt(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let verdict = match quick_check_tables(path) {
        Ok(verdict) => verdict,
        // Only SQLite's own verdict of corruption is told as corruption: a file it cannot open
        // (read-only or missing directory, full disk) is a different problem with other advice.
        Err(error) => {
            let told = briefwatch::store::StoreError::Sql {
                context: "checking the archive",
                source: error,
            }
            .at(path);
            match told {
                briefwatch::store::StoreError::Corrupt { .. } => return Err(told.into()),
                briefwatch::store::StoreError::Sql { source, .. } => anyhow::bail!(
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
    Err(briefwatch::store::StoreError::Corrupt {
        path: path.display().to_string(),
        detail: verdict,
    }
    .into())
}
