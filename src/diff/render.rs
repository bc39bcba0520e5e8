//! Lays out a stored `Change` for people, in the presenter's words ([`super::present`]): a one-line
//! summary, plain text (CLI, mail bodies) and an HTML fragment (HTML mail), from the stored
//! structure without recomputing the diff.

use std::fmt::Write;

use super::present::entry_heading;
use super::text::escape_html;
use super::{Change, ExchangeChange, Significance, TextDiff};
use crate::model::Exchange;

/// The presenter's heading of an entry with its significance: `Exchange 2 (AFP) reworded [minor]`.
fn heading(entry: &ExchangeChange) -> String {
    format!(
        "{} [{}]",
        entry_heading(entry),
        entry.significance().as_str()
    )
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn write_exchange_text(out: &mut String, exchange: &Exchange, marker: &str) {
    for paragraph in &exchange.question {
        let _ = writeln!(out, "  {marker} Q: {paragraph}");
    }
    for paragraph in &exchange.answer {
        let _ = writeln!(out, "  {marker} A: {paragraph}");
    }
}

fn write_diff_text(out: &mut String, label: &str, diff: &Option<TextDiff>) {
    if let Some(diff) = diff {
        let _ = writeln!(
            out,
            "{}",
            indent(&format!("{label}: {}", diff.render_text()), "  ")
        );
    }
}

/// Plain-text rendering: one block per changed exchange, `[-removed-]{+added+}` inline, removed
/// and added exchanges quoted in full.
pub fn render_text(change: &Change) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", change.summary);
    if let Some(title) = &change.title {
        let _ = writeln!(out, "Title: {}", title.render_text());
    }
    if let Some(date) = &change.date {
        let show = |d: Option<chrono::NaiveDate>| d.map_or("(none)".to_string(), |d| d.to_string());
        let _ = writeln!(out, "Date: {} → {}", show(date.old), show(date.new));
    }
    if let Some(person) = &change.spokesperson {
        let show = |p: &Option<String>| p.clone().unwrap_or_else(|| "(none)".into());
        let _ = writeln!(
            out,
            "Spokesperson: {} → {}",
            show(&person.old),
            show(&person.new)
        );
    }
    if let Some(opening) = &change.opening {
        let _ = writeln!(out, "Opening remarks [{}]:", opening.significance.as_str());
        let _ = writeln!(out, "{}", indent(&opening.render_text(), "  "));
    }
    for entry in change.changed_exchanges() {
        out.push('\n');
        out.push_str(&render_exchange_text(entry));
    }
    out
}

/// Plain-text rendering of one exchange entry (empty for an unchanged one).
pub fn render_exchange_text(entry: &ExchangeChange) -> String {
    let mut out = String::new();
    match entry {
        ExchangeChange::Unchanged { .. } => {}
        ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => {
            let _ = writeln!(out, "{}", heading(entry));
            if let Some(asker) = &edit.asker_change {
                let _ = writeln!(out, "  Asker: {} → {}", asker.old, asker.new);
            }
            write_diff_text(&mut out, "Q", &edit.question);
            write_diff_text(&mut out, "A", &edit.answer);
        }
        ExchangeChange::Added { exchange, .. } => {
            let _ = writeln!(out, "{}", heading(entry));
            write_exchange_text(&mut out, exchange, "+");
        }
        ExchangeChange::Removed { exchange, .. } => {
            let _ = writeln!(out, "{}", heading(entry));
            write_exchange_text(&mut out, exchange, "-");
        }
        ExchangeChange::Split { text, .. } | ExchangeChange::Merged { text, .. } => {
            let _ = writeln!(out, "{}", heading(entry));
            write_diff_text(&mut out, "Text", text);
        }
    }
    out
}

fn html_exchange(out: &mut String, exchange: &Exchange, tag: &str) {
    for (label, list) in [("Q", &exchange.question), ("A", &exchange.answer)] {
        for paragraph in list {
            let _ = writeln!(
                out,
                "<p><b>{label}:</b> <{tag}>{}</{tag}></p>",
                escape_html(paragraph)
            );
        }
    }
}

fn html_diff(out: &mut String, label: &str, diff: &Option<TextDiff>) {
    if let Some(diff) = diff {
        let _ = writeln!(out, "<p><b>{label}:</b> {}</p>", diff.render_html());
    }
}

fn significance_class(significance: Significance) -> &'static str {
    significance.as_str()
}

/// HTML fragment: a `<div class="change">` with one `<section>` per changed exchange, classes
/// naming the kind and significance, `<del>`/`<ins>` inline, all text escaped.
pub fn render_html(change: &Change) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<div class=\"change {}\">",
        significance_class(change.significance)
    );
    let _ = writeln!(
        out,
        "<p class=\"summary\">{}</p>",
        escape_html(&change.summary)
    );
    if let Some(title) = &change.title {
        let _ = writeln!(
            out,
            "<p class=\"title\"><b>Title:</b> {}</p>",
            title.render_html()
        );
    }
    if let Some(date) = &change.date {
        let show = |d: Option<chrono::NaiveDate>| d.map_or("(none)".to_string(), |d| d.to_string());
        let _ = writeln!(
            out,
            "<p class=\"date\"><b>Date:</b> <del>{}</del> <ins>{}</ins></p>",
            show(date.old),
            show(date.new)
        );
    }
    if let Some(person) = &change.spokesperson {
        let show = |p: &Option<String>| escape_html(p.as_deref().unwrap_or("(none)"));
        let _ = writeln!(
            out,
            "<p class=\"spokesperson\"><b>Spokesperson:</b> <del>{}</del> <ins>{}</ins></p>",
            show(&person.old),
            show(&person.new)
        );
    }
    if let Some(opening) = &change.opening {
        let _ = writeln!(
            out,
            "<section class=\"opening {}\"><h3>Opening remarks</h3><p>{}</p></section>",
            significance_class(opening.significance),
            opening.render_html()
        );
    }
    for entry in change.changed_exchanges() {
        out.push_str(&render_exchange_html(entry));
    }
    out.push_str("</div>\n");
    out
}

/// HTML rendering of one exchange entry: a `<section class="exchange KIND SIGNIFICANCE">`.
pub fn render_exchange_html(entry: &ExchangeChange) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<section class=\"exchange {} {}\">",
        entry.kind(),
        significance_class(entry.significance())
    );
    match entry {
        ExchangeChange::Unchanged { .. } => {}
        ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => {
            let _ = writeln!(out, "<h3>{}</h3>", escape_html(&heading(entry)));
            if let Some(asker) = &edit.asker_change {
                let _ = writeln!(
                    out,
                    "<p><b>Asker:</b> <del>{}</del> <ins>{}</ins></p>",
                    escape_html(&asker.old),
                    escape_html(&asker.new)
                );
            }
            html_diff(&mut out, "Q", &edit.question);
            html_diff(&mut out, "A", &edit.answer);
        }
        ExchangeChange::Added { exchange, .. } => {
            let _ = writeln!(out, "<h3>{}</h3>", escape_html(&entry_heading(entry)));
            html_exchange(&mut out, exchange, "ins");
        }
        ExchangeChange::Removed { exchange, .. } => {
            let _ = writeln!(out, "<h3>{}</h3>", escape_html(&entry_heading(entry)));
            html_exchange(&mut out, exchange, "del");
        }
        ExchangeChange::Split { text, .. } | ExchangeChange::Merged { text, .. } => {
            let _ = writeln!(out, "<h3>{}</h3>", escape_html(&entry_heading(entry)));
            html_diff(&mut out, "Text", text);
        }
    }
    out.push_str("</section>\n");
    out
}
