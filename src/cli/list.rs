//! `briefwatch list [--json]`: one archived document per line.

use std::io::Write;
use std::process::ExitCode;

use super::Global;

#[derive(clap::Args)]
pub struct ListArgs {
    /// Only this source.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// One JSON object per line: url, lang, kind, date, revisions, state (and id, source, title).
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: ListArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    let documents = store.list_documents(args.source.as_deref())?;
    let mut out = std::io::stdout().lock();
    for document in documents {
        let date = document.briefing_date.map(|d| d.to_string());
        let kind = document.kind.map(|k| k.as_str());
        if args.json {
            let line = serde_json::json!({
                "id": document.id,
                "source": document.source,
                "url": document.url,
                "lang": document.lang.as_str(),
                "kind": kind,
                "date": date,
                "revisions": document.revisions,
                "state": document.state,
                "title": document.title,
            });
            writeln!(out, "{line}")?;
        } else {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                document.id,
                date.as_deref().unwrap_or("-"),
                document.lang.as_str(),
                kind.unwrap_or("-"),
                document.revisions,
                document.state,
                document.url,
                document.title.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
