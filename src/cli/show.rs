//! `briefwatch show URL|ID [--revision N] [--json]`: a document's latest or given revision.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use briefwatch::store::DocumentKey;

use super::Global;

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The document's URL or numeric id.
    pub document: String,
    /// Revision number (1 is the first); the latest when omitted.
    #[arg(long, value_name = "N")]
    pub revision: Option<i64>,
    /// Print the revision (metadata and extracted record) as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    let key = match args.document.parse::<i64>() {
        Ok(id) => DocumentKey::Id(id),
        Err(_) => DocumentKey::Url(&args.document),
    };
    let document = store
        .document(key)?
        .with_context(|| format!("no document {} in the archive", args.document))?;
    let revision = match args.revision {
        Some(seq) => store.revision(document.id, seq)?,
        None => store.latest_revision(document.id)?,
    };
    let revision = revision.with_context(|| match args.revision {
        Some(seq) => format!(
            "document {} has no revision {seq} (it has {})",
            document.id, document.revisions
        ),
        None => format!("document {} has no archived revision yet", document.id),
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&revision)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let briefing = &revision.briefing;
    writeln!(out, "{}", briefing.title)?;
    writeln!(out, "url: {}", document.url)?;
    writeln!(
        out,
        "date: {}  kind: {}  spokesperson: {}  state: {}",
        briefing
            .date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
        briefing.kind.as_str(),
        briefing.spokesperson.as_deref().unwrap_or("-"),
        document.state
    )?;
    writeln!(
        out,
        "revision {} of {}, fetched {}, content {}",
        revision.meta.seq, document.revisions, revision.meta.fetched_at, revision.meta.content_hash
    )?;
    for paragraph in &briefing.opening {
        writeln!(out, "\n{paragraph}")?;
    }
    for exchange in &briefing.exchanges {
        let after = if exchange.after_conference {
            " (after the conference)"
        } else {
            ""
        };
        writeln!(out, "\n[{}] {}{after}:", exchange.ordinal, exchange.asker)?;
        for paragraph in &exchange.question {
            writeln!(out, "  Q: {paragraph}")?;
        }
        for paragraph in &exchange.answer {
            writeln!(out, "  A: {paragraph}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
