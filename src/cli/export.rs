//! `briefwatch export`: the archive as a dataset, CSV or JSON Lines. One row per exchange of the
//! latest revision of each transcript; `--pairs`, one row per aligned English/Chinese exchange of
//! each day; `--history`, one row per revision and per event.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Serialize;

use briefwatch::diff::{self, PairRow};
use briefwatch::model::{Briefing, Exchange, Kind, Lang};
use briefwatch::store::{Document, Revision, Store};

use super::Global;
use super::progress::{self, Progress};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line (pandas `read_json(lines=True)`, DuckDB `read_json_auto`).
    Jsonl,
    /// RFC 4180 CSV in UTF-8 with a byte-order mark, so that Excel reads Chinese as Chinese.
    Csv,
}

/// A language, as `--lang` names it.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    En,
    Zh,
}

impl From<LangArg> for Lang {
    fn from(lang: LangArg) -> Lang {
        match lang {
            LangArg::En => Lang::En,
            LangArg::Zh => Lang::Zh,
        }
    }
}

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    briefwatch export --format csv --out briefings.csv\n  \
    briefwatch export --lang zh --since 2020-01-01 --until 2020-06-30 > zh.jsonl\n  \
    briefwatch export --pairs --format csv --out parallel.csv\n  \
    briefwatch export --history --out edits.jsonl")]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
    /// Only briefings in this language.
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Only briefings on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Only briefings on or before this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub until: Option<NaiveDate>,
    /// Write to this file (whole or not at all: through a temporary file renamed at the end)
    /// instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// One row per pair of the day's English and Chinese press-conference exchanges, as
    /// `briefwatch pair` aligns them; an exchange without a counterpart has the other side empty.
    #[arg(long, conflicts_with_all = ["history", "lang"])]
    pub pairs: bool,
    /// One row per revision and one per event of each document (`record_type` tells which),
    /// instead of the exchanges.
    #[arg(long)]
    pub history: bool,
}

/// Columns of the default export, in order.
pub const EXCHANGE_COLUMNS: [&str; 11] = [
    "url",
    "lang",
    "date",
    "spokesperson",
    "kind",
    "ordinal",
    "asker",
    "question",
    "answer",
    "revision",
    "fetched_at",
];

/// One exchange of a latest revision.
#[derive(Serialize)]
struct ExchangeRow<'a> {
    url: &'a str,
    lang: &'static str,
    date: Option<NaiveDate>,
    spokesperson: Option<&'a str>,
    kind: &'static str,
    ordinal: u32,
    asker: &'a str,
    question: String,
    answer: String,
    revision: i64,
    fetched_at: &'a str,
}

/// Columns of `--pairs`, in order.
pub const PAIR_COLUMNS: [&str; 12] = [
    "date",
    "ordinal_en",
    "ordinal_zh",
    "asker_en",
    "asker_zh",
    "question_en",
    "question_zh",
    "answer_en",
    "answer_zh",
    "pairing",
    "url_en",
    "url_zh",
];

/// One aligned pair (or one exchange without a counterpart).
#[derive(Serialize, Default)]
struct PairExport {
    date: Option<NaiveDate>,
    ordinal_en: Option<u32>,
    ordinal_zh: Option<u32>,
    asker_en: String,
    asker_zh: String,
    question_en: String,
    question_zh: String,
    answer_en: String,
    answer_zh: String,
    /// `paired`, `joined` (two consecutive exchanges of one language are one of the other),
    /// `en_only` or `zh_only`.
    pairing: &'static str,
    url_en: String,
    url_zh: String,
}

/// Columns of `--history`, in order.
pub const HISTORY_COLUMNS: [&str; 14] = [
    "record_type",
    "url",
    "lang",
    "date",
    "revision",
    "fetched_at",
    "content_hash",
    "significance",
    "summary",
    "event_id",
    "event_type",
    "created_at",
    "payload",
    "title",
];

/// One revision (`record_type` = `revision`) or one event (`event`) of a document.
#[derive(Serialize)]
struct HistoryRow<'a> {
    record_type: &'static str,
    url: &'a str,
    lang: &'static str,
    date: Option<NaiveDate>,
    revision: Option<i64>,
    fetched_at: Option<&'a str>,
    content_hash: Option<&'a str>,
    significance: Option<String>,
    summary: Option<String>,
    event_id: Option<i64>,
    event_type: Option<&'a str>,
    created_at: Option<&'a str>,
    /// The event's payload, as JSON text.
    payload: Option<String>,
    title: Option<&'a str>,
}

/// Rows written in one format.
enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}

impl<W: Write> Sink<W> {
    fn new(format: Format, mut out: W, columns: &[&str]) -> anyhow::Result<Sink<W>> {
        Ok(match format {
            Format::Jsonl => Sink::Jsonl(out),
            Format::Csv => {
                // The byte-order mark is how Excel learns that a CSV file is UTF-8.
                out.write_all("\u{feff}".as_bytes())?;
                let mut writer = csv::WriterBuilder::new()
                    .has_headers(false)
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(out);
                // Written here, not from the first row, so that an empty export has its header.
                writer.write_record(columns)?;
                Sink::Csv(Box::new(writer))
            }
        })
    }

    fn row<T: Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        match self {
            Sink::Csv(writer) => writer.serialize(row)?,
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, row)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<W> {
        let mut out = match self {
            Sink::Csv(writer) => writer
                .into_inner()
                .map_err(|error| anyhow::anyhow!("{}", error.error()))?,
            Sink::Jsonl(out) => out,
        };
        out.flush()?;
        Ok(out)
    }
}

/// Paragraphs of a question or an answer as one text, one line each.
fn joined(paragraphs: &[String]) -> String {
    paragraphs.join("\n")
}

/// The documents an export covers, oldest briefing first: those of the language asked for, dated
/// within the range asked for. A document's date and kind are those of its latest revision.
fn documents_in_scope(store: &Store, args: &ExportArgs) -> anyhow::Result<Vec<Document>> {
    let mut documents = store.list_documents(None)?;
    documents.retain(|document| {
        args.lang.is_none_or(|lang| document.lang == lang.into())
            && in_range(document.briefing_date, args)
    });
    // The archive lists the newest first; a stable sort keeps the first seen first within a day.
    documents.reverse();
    documents.sort_by_key(|d| (d.briefing_date.is_none(), d.briefing_date, d.lang.as_str()));
    Ok(documents)
}

/// Calls `each` with every document in scope and its latest revision, one at a time, so that an
/// export of any size holds one record in memory.
fn for_each_latest(
    store: &Store,
    documents: &[Document],
    progress: &Progress,
    mut each: impl FnMut(&Document, Revision) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    progress.set_total(documents.len() as u64);
    for document in documents {
        progress.step(&document.url);
        if let Some(revision) = store.latest_revision(document.id)? {
            each(document, revision)?;
        }
    }
    Ok(())
}

/// Whether a briefing of this date falls within `--since` and `--until`; an undated one only
/// when neither is given.
fn in_range(date: Option<NaiveDate>, args: &ExportArgs) -> bool {
    match date {
        Some(date) => {
            args.since.is_none_or(|since| date >= since)
                && args.until.is_none_or(|until| date <= until)
        }
        None => args.since.is_none() && args.until.is_none(),
    }
}

fn export_exchanges<W: Write>(
    store: &Store,
    args: &ExportArgs,
    sink: &mut Sink<W>,
    progress: &Progress,
) -> anyhow::Result<usize> {
    let mut rows = 0;
    let documents = documents_in_scope(store, args)?;
    for_each_latest(store, &documents, progress, |document, revision| {
        let briefing = &revision.briefing;
        for exchange in &briefing.exchanges {
            sink.row(&ExchangeRow {
                url: &document.url,
                lang: briefing.lang.as_str(),
                date: briefing.date,
                spokesperson: briefing.spokesperson.as_deref(),
                kind: briefing.kind.as_str(),
                ordinal: exchange.ordinal,
                asker: &exchange.asker,
                question: joined(&exchange.question),
                answer: joined(&exchange.answer),
                revision: revision.meta.seq,
                fetched_at: &revision.meta.fetched_at,
            })?;
            rows += 1;
        }
        Ok(())
    })?;
    Ok(rows)
}

/// The exchanges of a run of one language's ordinals, texts joined line by line.
fn side(briefing: &Briefing, ordinals: &[u32]) -> (Option<u32>, String, String, String) {
    let exchanges: Vec<&Exchange> = ordinals
        .iter()
        .filter_map(|ordinal| briefing.exchanges.iter().find(|e| e.ordinal == *ordinal))
        .collect();
    let mut askers: Vec<&str> = Vec::new();
    for exchange in &exchanges {
        if !askers.contains(&exchange.asker.as_str()) {
            askers.push(&exchange.asker);
        }
    }
    let texts = |part: fn(&Exchange) -> &Vec<String>| {
        exchanges
            .iter()
            .map(|e| joined(part(e)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    (
        ordinals.first().copied(),
        askers.join("\n"),
        texts(|e| &e.question),
        texts(|e| &e.answer),
    )
}

/// The rows of one day: aligned when both languages have a press conference, one-sided otherwise.
fn day_rows(date: NaiveDate, en: Option<&Briefing>, zh: Option<&Briefing>) -> Vec<PairExport> {
    let row = |pairing: &'static str, en_ordinals: &[u32], zh_ordinals: &[u32]| {
        let mut row = PairExport {
            date: Some(date),
            pairing,
            ..PairExport::default()
        };
        if let Some(en) = en {
            row.url_en = en.url.clone();
            (row.ordinal_en, row.asker_en, row.question_en, row.answer_en) = side(en, en_ordinals);
        }
        if let Some(zh) = zh {
            row.url_zh = zh.url.clone();
            (row.ordinal_zh, row.asker_zh, row.question_zh, row.answer_zh) = side(zh, zh_ordinals);
        }
        row
    };
    let ordinals = |b: &Briefing| b.exchanges.iter().map(|e| e.ordinal).collect::<Vec<_>>();
    match (en, zh) {
        (Some(en), Some(zh)) => diff::pair(en, zh)
            .rows
            .iter()
            .map(|pair| match pair {
                PairRow::Paired { en, zh, .. } => row("paired", &[*en], &[*zh]),
                PairRow::Joined { en, zh, .. } => row("joined", en, zh),
                PairRow::EnOnly { en, .. } => row("en_only", &[*en], &[]),
                PairRow::ZhOnly { zh, .. } => row("zh_only", &[], &[*zh]),
            })
            .collect(),
        (Some(en), None) => ordinals(en)
            .iter()
            .map(|o| row("en_only", &[*o], &[]))
            .collect(),
        (None, Some(zh)) => ordinals(zh)
            .iter()
            .map(|o| row("zh_only", &[], &[*o]))
            .collect(),
        (None, None) => Vec::new(),
    }
}

fn export_pairs<W: Write>(
    store: &Store,
    args: &ExportArgs,
    sink: &mut Sink<W>,
    progress: &Progress,
) -> anyhow::Result<usize> {
    // Documents come day by day: a day's rows go out when the next day begins. Each day's press
    // conference in each language; when a day has two, the one seen last, which is the one
    // `briefwatch pair` shows.
    let mut documents = documents_in_scope(store, args)?;
    documents.retain(|d| d.kind == Some(Kind::PressConference) && d.briefing_date.is_some());
    let mut day: Option<(NaiveDate, Option<Briefing>, Option<Briefing>)> = None;
    let mut rows = 0;
    let mut flush = |day: Option<(NaiveDate, Option<Briefing>, Option<Briefing>)>,
                     sink: &mut Sink<W>|
     -> anyhow::Result<()> {
        if let Some((date, en, zh)) = day {
            for row in day_rows(date, en.as_ref(), zh.as_ref()) {
                sink.row(&row)?;
                rows += 1;
            }
        }
        Ok(())
    };
    for_each_latest(store, &documents, progress, |document, revision| {
        let Some(date) = document.briefing_date else {
            return Ok(());
        };
        if day.as_ref().is_none_or(|(current, _, _)| *current != date) {
            flush(day.take(), sink)?;
            day = Some((date, None, None));
        }
        if let Some((_, en, zh)) = day.as_mut() {
            let slot = match revision.briefing.lang {
                Lang::En => en,
                Lang::Zh => zh,
            };
            *slot = Some(revision.briefing);
        }
        Ok(())
    })?;
    flush(day, sink)?;
    Ok(rows)
}

fn export_history<W: Write>(
    store: &Store,
    args: &ExportArgs,
    sink: &mut Sink<W>,
    progress: &Progress,
) -> anyhow::Result<usize> {
    let mut rows = 0;
    let documents = documents_in_scope(store, args)?;
    progress.set_total(documents.len() as u64);
    for document in &documents {
        progress.step(&document.url);
        let date = document.briefing_date;
        let lang = document.lang.as_str();
        let revisions = store.revisions(document.id)?;
        let events = store.document_events(document.id)?;
        for revision in &revisions {
            let (significance, summary) =
                super::history::described(&events, revision.id, revision.seq);
            sink.row(&HistoryRow {
                record_type: "revision",
                url: &document.url,
                lang,
                date,
                revision: Some(revision.seq),
                fetched_at: Some(&revision.fetched_at),
                content_hash: Some(&revision.content_hash),
                significance: Some(significance),
                summary: Some(summary),
                event_id: None,
                event_type: None,
                created_at: None,
                payload: None,
                title: document.title.as_deref(),
            })?;
            rows += 1;
        }
        for event in &events {
            let seq = event
                .revision_id
                .and_then(|id| revisions.iter().find(|r| r.id == id))
                .map(|r| r.seq);
            sink.row(&HistoryRow {
                record_type: "event",
                url: &document.url,
                lang,
                date,
                revision: seq,
                fetched_at: None,
                content_hash: None,
                significance: None,
                summary: None,
                event_id: Some(event.id),
                event_type: Some(event.kind.as_str()),
                created_at: Some(&event.created_at),
                payload: Some(serde_json::to_string(&event.payload)?),
                title: document.title.as_deref(),
            })?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// Runs the export asked for into `out`; the number of rows.
fn export_into<W: Write>(
    store: &Store,
    args: &ExportArgs,
    out: W,
    progress: &Progress,
) -> anyhow::Result<usize> {
    let columns: &[&str] = if args.pairs {
        &PAIR_COLUMNS
    } else if args.history {
        &HISTORY_COLUMNS
    } else {
        &EXCHANGE_COLUMNS
    };
    let mut sink = Sink::new(args.format, out, columns)?;
    let rows = if args.pairs {
        export_pairs(store, args, &mut sink, progress)?
    } else if args.history {
        export_history(store, args, &mut sink, progress)?
    } else {
        export_exchanges(store, args, &mut sink, progress)?
    };
    sink.finish()?;
    Ok(rows)
}

/// A file beside `path` to write first: same directory, so the rename is atomic.
fn temporary_beside(path: &Path) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("--out {} names no file", path.display()))?;
    Ok(path.with_file_name(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    )))
}

fn export_to_file(
    store: &Store,
    args: &ExportArgs,
    path: &Path,
    progress: &Progress,
) -> anyhow::Result<usize> {
    let temporary = temporary_beside(path)?;
    let written = (|| -> anyhow::Result<usize> {
        let file = File::create(&temporary)
            .with_context(|| format!("cannot create {}", temporary.display()))?;
        let mut out = BufWriter::new(file);
        let rows = export_into(store, args, &mut out, progress)?;
        let file = out.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
            .with_context(|| format!("cannot rename to {}", path.display()))?;
        Ok(rows)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(global: &Global, args: ExportArgs) -> anyhow::Result<ExitCode> {
    if let (Some(since), Some(until)) = (args.since, args.until) {
        anyhow::ensure!(since <= until, "--since {since} is after --until {until}");
    }
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    // Rows printed on the terminal show their own progress; a bar would only break into them.
    let shown = progress::wanted(false) && (args.out.is_some() || !std::io::stdout().is_terminal());
    let progress = Progress::new(shown, "documents");
    match &args.out {
        Some(path) => {
            let rows = export_to_file(&store, &args, path, &progress)?;
            drop(progress);
            if shown {
                eprintln!(
                    "{} written to {}",
                    super::plural(rows, "row", "rows"),
                    path.display()
                );
            }
        }
        None => {
            let stdout = std::io::stdout().lock();
            export_into(&store, &args, BufWriter::new(stdout), &progress)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header written first must name the fields in the order rows serialize them.
    fn header_of<T: Serialize>(row: &T) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(row).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_string()
    }

    #[test]
    fn headers_name_the_fields_in_order() {
        let exchange = ExchangeRow {
            url: "u",
            lang: "en",
            date: None,
            spokesperson: None,
            kind: "qa",
            ordinal: 1,
            asker: "",
            question: String::new(),
            answer: String::new(),
            revision: 1,
            fetched_at: "",
        };
        assert_eq!(header_of(&exchange), EXCHANGE_COLUMNS.join(","));
        assert_eq!(header_of(&PairExport::default()), PAIR_COLUMNS.join(","));
        let history = HistoryRow {
            record_type: "event",
            url: "",
            lang: "en",
            date: None,
            revision: None,
            fetched_at: None,
            content_hash: None,
            significance: None,
            summary: None,
            event_id: None,
            event_type: None,
            created_at: None,
            payload: None,
            title: None,
        };
        assert_eq!(header_of(&history), HISTORY_COLUMNS.join(","));
    }

    #[test]
    fn dates_outside_the_range_are_left_out() {
        let date = |text: &str| text.parse::<NaiveDate>().ok();
        let args = |since: Option<NaiveDate>, until: Option<NaiveDate>| ExportArgs {
            format: Format::Csv,
            lang: None,
            since,
            until,
            out: None,
            pairs: false,
            history: false,
        };
        let range = args(date("2020-07-01"), date("2020-07-03"));
        assert!(in_range(date("2020-07-01"), &range));
        assert!(in_range(date("2020-07-03"), &range));
        assert!(!in_range(date("2020-06-30"), &range));
        assert!(!in_range(date("2020-07-04"), &range));
        assert!(!in_range(None, &range));
        assert!(in_range(None, &args(None, None)));
    }
}
