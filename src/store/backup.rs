//! Copies of the archive and checks of database files: `VACUUM INTO` for a backup, and the
//! integrity pragmas run on a file opened read-only.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Result, Store, sql};

impl Store {
    /// Writes a consistent copy of the archive to `target`, a new file. `VACUUM INTO` reads one
    /// snapshot, so another connection may go on writing while the copy is made.
    pub fn backup_into(&self, target: &str) -> Result<()> {
        self.connection()
            .execute("VACUUM INTO ?1", [target])
            .map(|_| ())
            .map_err(sql("writing the backup"))
    }

    /// Hands back the memory this connection's page cache holds (`PRAGMA shrink_memory`).
    pub fn release_memory(&self) -> Result<()> {
        self.connection()
            .execute_batch("PRAGMA shrink_memory")
            .map_err(sql("releasing memory"))
    }
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

/// `PRAGMA integrity_check` of a database file: `ok` or the problems found, joined by `; `.
pub fn integrity_check_file(path: &Path) -> Result<String> {
    open_read_only(path)
        .and_then(|conn| text_rows(&conn, "PRAGMA integrity_check"))
        .map(|rows| rows.join("; "))
        .map_err(sql("checking the integrity of a database file"))
}

/// `PRAGMA quick_check` of every ordinary table and its indexes of a database file: `ok` or the
/// problems found, joined by `; `. A check of the whole file also runs the full-text index's own
/// consistency check, which reads and decodes all of that index: more than half the CPU of a
/// poll cycle with nothing to fetch, and growing with the archive. The index's pages are still
/// walked here, as the ordinary tables that hold them.
pub fn quick_check_file_tables(path: &Path) -> Result<String> {
    quick_check_tables(path).map_err(sql("checking the archive"))
}

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
