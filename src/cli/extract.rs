//! `briefwatch extract`: run the extraction stage on saved pages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use briefwatch::charset::decode_html;
use briefwatch::site::{Profile, is_listing_url, is_soft_404};

/// Extract one saved page (or every article page of a corpus manifest) and print JSON.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  briefwatch extract --url https://www.fmprc.gov.cn/mfa_eng/.../t1794629.shtml t1794629.shtml\n  briefwatch extract --listing --url https://www.fmprc.gov.cn/web/.../default.shtml default.shtml\n  briefwatch extract --manifest corpus/mfa-2020/MANIFEST.tsv\n  briefwatch extract --explain https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/202401/t20240129_11234850.html page.html"
)]
pub struct ExtractArgs {
    /// Site profile; detected from the URL and the page when omitted.
    #[arg(long, value_parser = ["mfa-en", "mfa-zh"])]
    pub profile: Option<String>,
    /// The URL the page was fetched from (links are resolved against it; it picks the profile).
    #[arg(long, required_unless_present_any = ["manifest", "explain"])]
    pub url: Option<String>,
    /// Parse FILE as a listing page: print its items and page count.
    #[arg(long, conflicts_with = "manifest")]
    pub listing: bool,
    /// `--explain URL FILE`: for an article the content fallback finds, print CSS selectors for
    /// its title, time and body as a `[sites.<profile>]` block for the config file.
    #[arg(long, value_name = "URL", conflicts_with_all = ["manifest", "listing", "url"])]
    pub explain: Option<String>,
    /// The `Content-Type` the page was served with, for its charset.
    #[arg(long)]
    pub content_type: Option<String>,
    /// A corpus manifest (`url status location file bytes sha256 content_type fetched_date`):
    /// print one JSON line per article page, `{"url","error"}` for a page that fails.
    #[arg(long, conflicts_with_all = ["url", "file", "content_type"])]
    pub manifest: Option<PathBuf>,
    /// The saved page.
    #[arg(required_unless_present = "manifest")]
    pub file: Option<PathBuf>,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    if let Some(manifest) = &args.manifest {
        return run_manifest(manifest, args.profile.as_deref());
    }
    let (Some(url), Some(file)) = (args.url.as_ref().or(args.explain.as_ref()), &args.file) else {
        bail!("give --url URL FILE, --explain URL FILE or --manifest MANIFEST.tsv");
    };
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let html = decode_html(&bytes, args.content_type.as_deref());
    let profile = pick_profile(args.profile.as_deref(), url, &html)?;
    if args.explain.is_some() {
        let explained = profile.explain_article(&html, url)?;
        let briefing = &explained.briefing;
        match (&explained.hint, &briefing.selector) {
            (Some(hint), _) => {
                println!(
                    "# {url}: found by the content fallback ({} exchanges); to find pages of this layout\n# by selector, add to the config file:\n{}",
                    briefing.exchanges.len(),
                    hint.to_toml().trim_end()
                );
            }
            (None, selector) => println!(
                "# {url}: found by selector {} ({} exchanges): nothing to add",
                selector.as_deref().unwrap_or("?"),
                briefing.exchanges.len()
            ),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let json = if args.listing {
        let listing = profile.parse_listing(&html, url)?;
        serde_json::to_string_pretty(&listing)?
    } else {
        let briefing = profile.parse_article(&html, url)?;
        serde_json::to_string_pretty(&briefing)?
    };
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

fn pick_profile(name: Option<&str>, url: &str, html: &str) -> anyhow::Result<Profile> {
    Ok(match name {
        Some(name) => Profile::builtin(name)?,
        None => Profile::detect(url, html)?,
    })
}

/// One row of a corpus manifest.
struct ManifestRow {
    url: String,
    status: u16,
    file: String,
    content_type: Option<String>,
}

fn read_manifest(path: &Path) -> anyhow::Result<Vec<ManifestRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .with_context(|| format!("{}: empty manifest", path.display()))?
        .split('\t')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .with_context(|| format!("{}: header has no {name:?} column", path.display()))
    };
    let (url, status, file, content_type) = (
        column("url")?,
        column("status")?,
        column("file")?,
        column("content_type").ok(),
    );
    let mut rows = Vec::new();
    for (index, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let field = |column: usize| {
            fields
                .get(column)
                .copied()
                .with_context(|| format!("{}: line {}: too few columns", path.display(), index + 2))
        };
        rows.push(ManifestRow {
            url: field(url)?.to_string(),
            status: field(status)?.parse().with_context(|| {
                format!(
                    "{}: line {}: status is not a number",
                    path.display(),
                    index + 2
                )
            })?,
            file: field(file)?.to_string(),
            content_type: content_type
                .and_then(|column| fields.get(column))
                .filter(|value| !value.is_empty())
                .map(|value| value.to_string()),
        });
    }
    Ok(rows)
}

fn run_manifest(manifest: &Path, profile: Option<&str>) -> anyhow::Result<ExitCode> {
    let rows = read_manifest(manifest)?;
    let root = manifest.parent().unwrap_or(Path::new("."));
    let fixed_profile = profile.map(Profile::builtin).transpose()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut extracted, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    for row in rows {
        if row.status != 200 || row.url.ends_with("/robots.txt") || is_listing_url(&row.url) {
            skipped += 1;
            continue;
        }
        let path = root.join(&row.file);
        let outcome = std::fs::read(&path)
            .with_context(|| format!("reading {}", path.display()))
            .and_then(|bytes| {
                let html = decode_html(&bytes, row.content_type.as_deref());
                if is_soft_404(&html) {
                    return Ok(None);
                }
                let profile = match &fixed_profile {
                    Some(profile) => profile.clone(),
                    None => Profile::detect(&row.url, &html)?,
                };
                Ok(Some(profile.parse_article(&html, &row.url)?))
            });
        match outcome {
            Ok(Some(briefing)) => {
                extracted += 1;
                serde_json::to_writer(&mut out, &briefing)?;
                writeln!(out)?;
            }
            Ok(None) => skipped += 1,
            Err(error) => {
                failed += 1;
                let record = serde_json::json!({ "url": row.url, "error": format!("{error:#}") });
                serde_json::to_writer(&mut out, &record)?;
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    eprintln!(
        "extracted {extracted} pages, {failed} failed, {skipped} skipped (listings, redirects, error pages)"
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
