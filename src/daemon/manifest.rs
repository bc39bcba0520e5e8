//! A corpus manifest read and checked for `import`: every row, before any page is imported.
//!
//! A manifest (`url status location file bytes sha256 content_type fetched_date`, tab-separated)
//! may only make briefwatch read files inside its own folder: no absolute paths, no `..`, no
//! symbolic link leading out. A file must have the size and SHA-256 the manifest gives (either
//! may be left empty or `-`), and a URL must be `http` or `https`. One bad row refuses the whole
//! manifest, naming the line, so that nothing is imported from a manifest that does not hold.

use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::DaemonError;

/// One row of a manifest, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRow {
    pub line: usize,
    pub url: String,
    pub status: String,
    /// The saved page, inside the manifest's folder (only for rows with status 200).
    pub file: Option<PathBuf>,
    pub content_type: String,
    pub fetched_at: DateTime<Utc>,
}

/// Reads and checks every row of the manifest at `path` (see the module documentation).
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestRow>, DaemonError> {
    let path_text = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| DaemonError::Manifest {
        path: path_text.clone(),
        source,
    })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let root = folder
        .canonicalize()
        .map_err(|source| DaemonError::Manifest {
            path: path_text.clone(),
            source,
        })?;
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let fields: Vec<&str> = line.split('\t').collect();
        if index == 0 && fields.first() == Some(&"url") || line.trim().is_empty() {
            continue;
        }
        let row_error = |message: String| DaemonError::ManifestRow {
            path: path_text.clone(),
            line: line_number,
            message,
        };
        let [
            url,
            status,
            _location,
            file,
            bytes,
            sha256,
            content_type,
            fetched_date,
        ] = fields[..]
        else {
            return Err(row_error(format!(
                "expected 8 tab-separated fields, found {}",
                fields.len()
            )));
        };
        match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {}
            Ok(parsed) => {
                return Err(row_error(format!(
                    "url {url:?}: only http and https URLs are imported, not {}:",
                    parsed.scheme()
                )));
            }
            Err(error) => return Err(row_error(format!("url {url:?}: {error}"))),
        }
        let fetched_at: DateTime<Utc> = httpdate::parse_http_date(fetched_date)
            .map(DateTime::<Utc>::from)
            .map_err(|_| row_error(format!("fetched_date {fetched_date:?} is not an HTTP date")))?;
        let file = if status == "200" {
            let resolved = confined(&root, file).map_err(&row_error)?;
            check_contents(&resolved, bytes, sha256)
                .map_err(|message| row_error(format!("file {file:?}: {message}")))?;
            Some(resolved)
        } else {
            None
        };
        rows.push(ManifestRow {
            line: line_number,
            url: url.to_string(),
            status: status.to_string(),
            file,
            content_type: content_type.to_string(),
            fetched_at,
        });
    }
    Ok(rows)
}

/// The file `relative` names inside `root` (canonical), or why it is refused.
fn confined(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let named = Path::new(relative);
    if relative.is_empty() {
        return Err("no file given for a page with status 200".to_string());
    }
    if named.is_absolute() {
        return Err(format!(
            "file {relative:?} is an absolute path; files must be inside the manifest's folder"
        ));
    }
    if named
        .components()
        .any(|part| !matches!(part, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "file {relative:?} leaves the manifest's folder (`..`)"
        ));
    }
    let resolved = root
        .join(named)
        .canonicalize()
        .map_err(|error| format!("cannot read {relative:?}: {error}"))?;
    if !resolved.starts_with(root) {
        return Err(format!(
            "file {relative:?} is a symbolic link to {}, outside the manifest's folder",
            resolved.display()
        ));
    }
    if !resolved.is_file() {
        return Err(format!("file {relative:?} is not a regular file"));
    }
    Ok(resolved)
}

/// Checks a file against the size and SHA-256 the manifest gives (empty or `-`: not given).
fn check_contents(file: &Path, bytes: &str, sha256: &str) -> Result<(), String> {
    let given = |field: &str| !field.trim().is_empty() && field.trim() != "-";
    if given(bytes) {
        let expected: u64 = bytes
            .trim()
            .parse()
            .map_err(|_| format!("bytes {bytes:?} is not a number"))?;
        let actual = std::fs::metadata(file)
            .map_err(|error| error.to_string())?
            .len();
        if actual != expected {
            return Err(format!("has {actual} bytes, the manifest says {expected}"));
        }
    }
    if given(sha256) {
        let expected = sha256.trim().to_ascii_lowercase();
        if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("sha256 {sha256:?} is not 64 hexadecimal digits"));
        }
        let body = std::fs::read(file).map_err(|error| error.to_string())?;
        let actual = hex::encode(Sha256::digest(&body));
        if actual != expected {
            return Err(format!(
                "has SHA-256 {actual}, the manifest says {expected}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "url\tstatus\tlocation\tfile\tbytes\tsha256\tcontent_type\tfetched_date";
    const DATE: &str = "Sat, 04 Jul 2020 03:55:38 GMT";

    fn manifest(dir: &Path, rows: &[String]) -> PathBuf {
        let path = dir.join("MANIFEST.tsv");
        let mut text = vec![HEADER.to_string()];
        text.extend(rows.iter().cloned());
        std::fs::write(&path, text.join("\n")).unwrap();
        path
    }

    fn row(url: &str, file: &str, bytes: &str, sha: &str) -> String {
        format!("{url}\t200\t\t{file}\t{bytes}\t{sha}\ttext/html\t{DATE}")
    }

    fn refused(dir: &Path, rows: &[String]) -> String {
        read_manifest(&manifest(dir, rows)).unwrap_err().to_string()
    }

    #[test]
    fn files_inside_the_folder_with_matching_size_and_hash_are_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("site")).unwrap();
        std::fs::write(dir.path().join("site/a.html"), b"<p>a</p>").unwrap();
        let sha = hex::encode(Sha256::digest(b"<p>a</p>"));
        let rows = read_manifest(&manifest(
            dir.path(),
            &[
                row("https://site.invalid/a.html", "site/a.html", "8", &sha),
                row("http://site.invalid/b.html", "./site/a.html", "", "-"),
                format!(
                    "https://site.invalid/robots.txt\t302\t\t../robots.txt\t0\t-\ttext/html\t{DATE}"
                ),
            ],
        ))
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].file.as_ref().unwrap().ends_with("site/a.html"));
        assert_eq!(rows[2].file, None);
    }

    #[test]
    fn paths_leaving_the_folder_are_refused() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("corpus");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(outer.path().join("secret.html"), b"secret").unwrap();
        let url = "https://site.invalid/a.html";
        assert!(refused(&dir, &[row(url, "../secret.html", "", "")]).contains("line 2"));
        let absolute = outer.path().join("secret.html").display().to_string();
        assert!(refused(&dir, &[row(url, &absolute, "", "")]).contains("absolute"));
        std::os::unix::fs::symlink(outer.path().join("secret.html"), dir.join("link.html"))
            .unwrap();
        assert!(refused(&dir, &[row(url, "link.html", "", "")]).contains("symbolic link"));
    }

    #[test]
    fn size_hash_and_scheme_must_hold() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.html"), b"<p>a</p>").unwrap();
        let url = "https://site.invalid/a.html";
        assert!(refused(dir.path(), &[row(url, "a.html", "9", "")]).contains("8 bytes"));
        let wrong = "0".repeat(64);
        assert!(refused(dir.path(), &[row(url, "a.html", "", &wrong)]).contains("SHA-256"));
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,x",
        ] {
            assert!(
                refused(dir.path(), &[row(bad, "a.html", "", "")]).contains("only http and https"),
                "{bad}"
            );
        }
    }
}
