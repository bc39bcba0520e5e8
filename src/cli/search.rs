//! `briefwatch search QUERY [--json]`: the web view's full-text search from the command line, and
//! `search --reindex`, which rebuilds its index from the archive.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use briefwatch::model::Lang;
use briefwatch::search::Query;
use briefwatch::search::{Highlighted, Passage, SearchFilter, search};
use chrono::NaiveDate;

use super::Global;
use super::progress::{self, Progress};

/// Search every text of every revision (English and Chinese): exchanges, titles, opening remarks,
/// statements.
#[derive(clap::Args)]
#[command(
    after_help = "Query syntax: words must all appear; \"a phrase\"; a OR b; a NOT b (or a -b); prefix*; (grouping).\nA word in capitals (WHO, U.S.) is an acronym: it matches only in capitals.\nExamples:\n  briefwatch search '\"South China Sea\" NOT Philippines'\n  briefwatch search 台湾 --lang zh --from 2020-01-01 --json"
)]
pub struct SearchArgs {
    /// The query.
    #[arg(required_unless_present = "reindex")]
    pub query: Option<String>,
    /// Only briefings in this language.
    #[arg(long, value_parser = ["en", "zh"])]
    pub lang: Option<String>,
    /// Only briefings on or after this date (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Only briefings on or before this date (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Only briefings of this spokesperson (English or Chinese name).
    #[arg(long)]
    pub spokesperson: Option<String>,
    /// Most results to print.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print the results as one JSON document (matches as segments with "marked": true).
    #[arg(long)]
    pub json: bool,
    /// Rebuild the search index from the archived records instead of searching (the repair for
    /// a damaged index; searches keep the old index until it is done).
    #[arg(long, conflicts_with_all = ["query", "lang", "from", "to", "spokesperson", "json"])]
    pub reindex: bool,
}

fn reindex(global: &Global) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let mut store = Global::open_existing_store(&config)?;
    let working = Progress::working(progress::wanted(false), "rebuilding the search index");
    let revisions = store
        .rebuild_search_index()
        .context("the search index was left as it was")?;
    drop(working);
    println!("search index rebuilt: {revisions} revisions indexed");
    Ok(ExitCode::SUCCESS)
}

fn plain(paragraphs: &[Highlighted]) -> String {
    paragraphs
        .iter()
        .map(|p| {
            p.iter()
                .map(|s| {
                    if s.marked {
                        format!("*{}*", s.text)
                    } else {
                        s.text.clone()
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n     ")
}

pub fn run(global: &Global, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let Some(query) = args.query.as_deref() else {
        return reindex(global);
    };
    let query = Query::parse(query).context("bad query")?;
    if let (Some(from), Some(to)) = (args.from, args.to) {
        anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
    }
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    let filter = SearchFilter {
        lang: args.lang.as_deref().and_then(Lang::parse),
        from: args.from,
        to: args.to,
        spokesperson: args.spokesperson,
    };
    let results = search(store.connection(), &query, &filter, 0, args.limit)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&results)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{}",
        super::plural(results.total, "matching passage", "matching passages")
    )?;
    for hit in &results.hits {
        let date = hit
            .date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "undated".into());
        let revision = if hit.in_latest {
            String::new()
        } else {
            format!(
                " (revision {} of {}, changed later)",
                hit.seq, hit.latest_seq
            )
        };
        writeln!(
            out,
            "\n{date} {} {} {}{revision}\n  {}",
            hit.lang.as_str(),
            hit.view,
            match hit.passage {
                Passage::Exchange => hit.asker.clone(),
                Passage::Text => hit.kind.text_label(hit.lang).to_string(),
            },
            hit.url
        )?;
        if hit.passage == Passage::Exchange {
            writeln!(out, "  Q: {}", plain(&hit.question))?;
            writeln!(out, "  A: {}", plain(&hit.answer))?;
        } else {
            writeln!(out, "  > {}", plain(&hit.answer))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
