//! `briefwatch pair DATE [--json]`: one day's English and Chinese press conferences side by side,
//! exchanges found in one language only marked.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use briefwatch::diff::{self, PairRow};
use briefwatch::model::{Briefing, Exchange, Kind, Lang};
use briefwatch::store::Store;
use chrono::NaiveDate;

use super::Global;

#[derive(clap::Args)]
pub struct PairArgs {
    /// The briefing date, `YYYY-MM-DD`.
    pub date: String,
    /// Print the pairing as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The latest revision of the day's press conference in one language.
fn transcript(store: &Store, date: NaiveDate, lang: Lang) -> anyhow::Result<Briefing> {
    let document = store
        .list_documents(None)?
        .into_iter()
        .filter(|d| d.lang == lang && d.briefing_date == Some(date))
        .find(|d| d.kind == Some(Kind::PressConference))
        .with_context(|| {
            format!(
                "no {} press conference of {date} in the archive",
                lang.as_str()
            )
        })?;
    let revision = store
        .latest_revision(document.id)?
        .with_context(|| format!("document {} has no archived revision yet", document.id))?;
    Ok(revision.briefing)
}

fn opening_words(exchange: &Exchange, chars: usize) -> String {
    let question = exchange.question.join(" ");
    let mut text: String = question.chars().take(chars).collect();
    if question.chars().count() > chars {
        text.push('…');
    }
    text
}

pub fn run(global: &Global, args: PairArgs) -> anyhow::Result<ExitCode> {
    let Ok(date) = args.date.parse::<NaiveDate>() else {
        bail!("{:?} is not a date: give YYYY-MM-DD", args.date);
    };
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    let en = transcript(&store, date, Lang::En)?;
    let zh = transcript(&store, date, Lang::Zh)?;
    let pairing = diff::pair(&en, &zh);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&pairing)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let by_ordinal = |briefing: &Briefing, ordinal: u32| {
        briefing
            .exchanges
            .iter()
            .find(|exchange| exchange.ordinal == ordinal)
            .map(|exchange| opening_words(exchange, 60))
            .unwrap_or_default()
    };
    writeln!(
        out,
        "{date}: {} paired, {} joined, {} English only, {} Chinese only",
        pairing.paired, pairing.joined, pairing.en_only, pairing.zh_only
    )?;
    writeln!(out, "en: {}\nzh: {}", en.url, zh.url)?;
    for row in &pairing.rows {
        writeln!(out)?;
        match row {
            PairRow::Paired {
                en: e,
                zh: z,
                en_asker,
                zh_asker,
                ..
            } => {
                writeln!(out, "en #{e} {en_asker}: {}", by_ordinal(&en, *e))?;
                writeln!(out, "zh #{z} {zh_asker}: {}", by_ordinal(&zh, *z))?;
            }
            PairRow::Joined { en: es, zh: zs, .. } => {
                for e in es {
                    writeln!(out, "en #{e}: {}", by_ordinal(&en, *e))?;
                }
                for z in zs {
                    writeln!(out, "zh #{z}: {}", by_ordinal(&zh, *z))?;
                }
                writeln!(out, "   (one exchange in one language, two in the other)")?;
            }
            PairRow::EnOnly { en: e, asker } => {
                writeln!(out, "en #{e} {asker}: {}", by_ordinal(&en, *e))?;
                writeln!(out, "zh —  UNPAIRED: no Chinese counterpart")?;
            }
            PairRow::ZhOnly { zh: z, asker } => {
                writeln!(out, "en —  UNPAIRED: no English counterpart")?;
                writeln!(out, "zh #{z} {asker}: {}", by_ordinal(&zh, *z))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
