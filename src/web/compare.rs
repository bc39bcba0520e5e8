//! The diff page: two revisions of a briefing side by side (stacked on narrow screens), removed
//! exchanges in full on red, added on green, reworded ones with `<del>`/`<ins>` inside, and
//! cosmetic changes folded away behind a link.

use maud::{Markup, html};
use serde::Serialize;

use super::WebError;
use super::pages::{lang_name, layout};
use crate::config::DiffConfig;
use crate::diff::present::entry_heading;
use crate::diff::{Change, ExchangeChange, Op, Segment, Significance, TextDiff, diff};
use crate::model::{Briefing, Exchange};
use crate::store::{Document, DocumentKey, Revision, Store};

/// What the diff page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffView {
    pub document: Document,
    pub old: Revision,
    pub new: Revision,
    pub change: Change,
}

/// Revision `from` against revision `to` of briefing `id`.
/// Revisions `from` and `to` of briefing `id` compared. Either may be left out: `to` defaults to
/// the latest revision, `from` to the one before `to`, so no numbers at all compare the last two.
pub fn diff_view(
    store: &Store,
    id: i64,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<DiffView, WebError> {
    let document = store
        .document(DocumentKey::Id(id))?
        .filter(|document| document.revisions > 0)
        .ok_or_else(|| WebError::NotFound(format!("there is no briefing {id}")))?;
    let to = to.unwrap_or(document.revisions);
    let from = match from {
        Some(from) => from,
        None if to > 1 => to - 1,
        None => {
            return Err(WebError::NotFound(format!(
                "briefing {id} has a single revision: there is no change to show yet"
            )));
        }
    };
    if from == to {
        return Err(WebError::BadRequest(
            "parameters from and to: must name two different revisions".into(),
        ));
    }
    let revision = |seq: i64| -> Result<Revision, WebError> {
        store.revision(id, seq)?.ok_or_else(|| {
            WebError::NotFound(format!(
                "briefing {id} has no revision {seq} (it has {})",
                document.revisions
            ))
        })
    };
    let old = revision(from)?;
    let new = revision(to)?;
    let change = diff(&old.briefing, &new.briefing, &DiffConfig::default());
    Ok(DiffView {
        document,
        old,
        new,
        change,
    })
}

/// True for entries hidden unless cosmetic changes are asked for.
fn is_cosmetic(entry: &ExchangeChange) -> bool {
    !matches!(entry, ExchangeChange::Unchanged { .. })
        && entry.significance() <= Significance::Cosmetic
}

fn side(text: &TextDiff, keep: Op) -> Markup {
    html! {
        @for paragraph in text.paragraphs() {
            p { @for Segment { op, text } in paragraph.iter().filter(|s| s.op == Op::Equal || s.op == keep) {
                @match op {
                    Op::Delete => del { (text) },
                    Op::Insert => ins { (text) },
                    Op::Equal => (text),
                }
            } }
        }
    }
}

fn plain(paragraphs: &[String]) -> Markup {
    html! { @for p in paragraphs { p { (p) } } }
}

fn full_exchange(exchange: &Exchange) -> Markup {
    html! {
        div.head { span.anchor { "#" (exchange.ordinal) } " " span.asker { (exchange.asker) } }
        div.question { (plain(&exchange.question)) }
        div.answer { (plain(&exchange.answer)) }
    }
}

fn find(briefing: &Briefing, ordinal: u32) -> Option<&Exchange> {
    briefing.exchanges.iter().find(|e| e.ordinal == ordinal)
}

/// One side of an edited exchange: the text diff where there is one, the text itself otherwise.
fn edited_side(
    exchange: Option<&Exchange>,
    question: Option<&TextDiff>,
    answer: Option<&TextDiff>,
    keep: Op,
) -> Markup {
    html! {
        @if let Some(exchange) = exchange {
            div.head { span.anchor { "#" (exchange.ordinal) } " " span.asker { (exchange.asker) } }
            div.question { @match question { Some(d) => (side(d, keep)), None => (plain(&exchange.question)) } }
            div.answer { @match answer { Some(d) => (side(d, keep)), None => (plain(&exchange.answer)) } }
        }
    }
}

fn row(kind: &str, label: Markup, old: Markup, new: Markup) -> Markup {
    html! {
        div class=(format!("diff-row {kind}")) data-kind=(kind) {
            div.label { (label) }
            div.diff {
                div.side.old { (old) }
                div.side.new { (new) }
            }
        }
    }
}

fn entry(view: &DiffView, entry: &ExchangeChange) -> Markup {
    let (old, new) = (&view.old.briefing, &view.new.briefing);
    match entry {
        ExchangeChange::Unchanged { old, new, asker } => html! {
            div.diff-row.unchanged data-kind="unchanged" {
                "#" (old) @if old != new { " → #" (new) } " " (asker) ": unchanged"
            }
        },
        ExchangeChange::Removed { exchange, .. } => row(
            "removed",
            html! { span.badge.removed { (entry_heading(entry)) } },
            full_exchange(exchange),
            html! {},
        ),
        ExchangeChange::Added { exchange, .. } => row(
            "added",
            html! { span.badge.added { (entry_heading(entry)) } },
            html! {},
            full_exchange(exchange),
        ),
        ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => {
            let kind = entry.kind();
            row(
                kind,
                html! {
                    (entry_heading(entry)) " (" (edit.significance.as_str()) ")"
                    @if let Some(asker) = &edit.asker_change { " asker: " del { (asker.old) } " " ins { (asker.new) } }
                },
                edited_side(
                    find(old, edit.old),
                    edit.question.as_ref(),
                    edit.answer.as_ref(),
                    Op::Delete,
                ),
                edited_side(
                    find(new, edit.new),
                    edit.question.as_ref(),
                    edit.answer.as_ref(),
                    Op::Insert,
                ),
            )
        }
        ExchangeChange::Split {
            old: from,
            new: into,
            significance,
            text,
        } => row(
            "split",
            html! { (entry_heading(entry)) " (" (significance.as_str()) ")" },
            html! { @match text { Some(d) => (side(d, Op::Delete)), None => @if let Some(e) = find(old, *from) { (full_exchange(e)) } } },
            html! { @match text { Some(d) => (side(d, Op::Insert)), None => @for n in into { @if let Some(e) = find(new, *n) { (full_exchange(e)) } } } },
        ),
        ExchangeChange::Merged {
            old: from,
            new: into,
            significance,
            text,
        } => row(
            "merged",
            html! { (entry_heading(entry)) " (" (significance.as_str()) ")" },
            html! { @match text { Some(d) => (side(d, Op::Delete)), None => @for n in from { @if let Some(e) = find(old, *n) { (full_exchange(e)) } } } },
            html! { @match text { Some(d) => (side(d, Op::Insert)), None => @if let Some(e) = find(new, *into) { (full_exchange(e)) } } },
        ),
    }
}

pub fn diff_page(view: &DiffView, show_cosmetic: bool) -> Markup {
    let change = &view.change;
    let id = view.document.id;
    let (from, to) = (view.old.meta.seq, view.new.meta.seq);
    let cosmetic = change.exchanges.iter().filter(|e| is_cosmetic(e)).count();
    let toggle = |show: bool| {
        if show {
            format!("/b/{id}/diff?from={from}&to={to}&cosmetic=1")
        } else {
            format!("/b/{id}/diff?from={from}&to={to}")
        }
    };
    let lang = view.new.briefing.lang;
    layout(
        &format!("Changes to {}", view.new.briefing.title),
        html! {
            h1 lang=(lang.as_str()) { (view.new.briefing.title) }
            p.meta {
                a href=(format!("/b/{id}?rev={from}")) { "revision " (from) } " (" (view.old.meta.fetched_at) ") → "
                a href=(format!("/b/{id}?rev={to}")) { "revision " (to) } " (" (view.new.meta.fetched_at) ") · "
                (lang_name(lang)) " · " a href=(format!("/b/{id}")) { "the briefing" }
            }
            p.summary { strong { (change.summary) } }
            @if cosmetic > 0 {
                p.toggle {
                    @if show_cosmetic {
                        a.cosmetic-toggle href=(toggle(false)) { "Hide " (cosmetic) " cosmetic " @if cosmetic == 1 { "change" } @else { "changes" } }
                    } @else {
                        a.cosmetic-toggle href=(toggle(true)) { "Show " (cosmetic) " cosmetic " @if cosmetic == 1 { "change" } @else { "changes" } " (spacing, punctuation, quotes)" }
                    }
                }
            }
            div.diff.columns { div.label { "revision " (from) } div.label { "revision " (to) } }
            @if let Some(title) = &change.title {
                (row("title", html! { "title" }, side(title, Op::Delete), side(title, Op::Insert)))
            }
            @if let Some(opening) = &change.opening {
                (row("opening", html! { "opening remarks" }, side(opening, Op::Delete), side(opening, Op::Insert)))
            }
            section.changes lang=(lang.as_str()) {
                @for item in &change.exchanges {
                    @if show_cosmetic || !is_cosmetic(item) { (entry(view, item)) }
                }
            }
        },
    )
}
