//! `briefwatch diff URL|ID [--from N] [--to M] [--format text|html|json]`: what changed between
//! two archived revisions of a document.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use briefwatch::diff;

use super::Global;
use super::history::find_document;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// `[-removed-]{+added+}` inline.
    Text,
    /// An HTML fragment with `<del>`/`<ins>`.
    Html,
    /// The structured change, as stored in `revised` events.
    Json,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The document's URL or numeric id.
    pub document: String,
    /// Older revision number; the one before `--to` when omitted.
    #[arg(long, value_name = "N")]
    pub from: Option<i64>,
    /// Newer revision number; the latest when omitted.
    #[arg(long, value_name = "M")]
    pub to: Option<i64>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(global: &Global, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    let document = find_document(&store, &args.document)?;
    if document.revisions == 0 {
        bail!("document {} has no archived revision yet", document.id);
    }
    let to = args.to.unwrap_or(document.revisions);
    let from = args.from.unwrap_or(to - 1);
    if from < 1 {
        bail!(
            "document {} has only {} revision(s): nothing to compare (give --from and --to)",
            document.id,
            document.revisions
        );
    }
    let load = |seq: i64| {
        store.revision(document.id, seq)?.with_context(|| {
            format!(
                "document {} has no revision {seq} (it has {})",
                document.id, document.revisions
            )
        })
    };
    let (old, new) = (load(from)?, load(to)?);
    let change = diff::diff(&old.briefing, &new.briefing, &config.diff);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string(&change)?)?,
        Format::Html => write!(out, "{}", diff::render_html(&change))?,
        Format::Text => {
            writeln!(out, "{}", new.briefing.title)?;
            writeln!(
                out,
                "{}: revision {from} ({}) → {to} ({})",
                document.url, old.meta.fetched_at, new.meta.fetched_at
            )?;
            write!(out, "{}", diff::render_text(&change))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
