//! One alert to one multipart e-mail (plain text + HTML), with matched terms highlighted.

use std::fmt::Write as _;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::AlertError;
use super::plan::{Alert, AlertItem, BriefingAlert, BriefingRef};
use super::rule::{Part, Span};
use crate::diff::present::language_name;
use crate::model::{EventKind, Exchange, Lang};

/// What composition needs from the config.
#[derive(Debug, Clone)]
pub struct ComposeSettings {
    pub from: Mailbox,
    /// `List-Id` value, e.g. `briefwatch alerts <alerts.briefwatch.example.org>`.
    pub list_id: String,
    /// Base URL of briefwatch's own web view; links to it are left out when unset.
    pub public_url: Option<String>,
}

/// The e-mail for an alert. Pure: the same alert gives the same headers and bodies (the MIME
/// boundary aside), so a resend after a crash carries the same Message-ID and Date.
pub fn compose(alert: &Alert, settings: &ComposeSettings) -> Result<Message, AlertError> {
    let failed = |reason: String| AlertError::Compose {
        message_id: alert.message_id.clone(),
        reason,
    };
    let to: Mailbox = alert
        .recipient
        .parse()
        .map_err(|error| failed(format!("recipient {:?}: {error}", alert.recipient)))?;
    if let Some(notice) = &alert.notice {
        return headers(
            settings,
            to,
            notice.subject.clone(),
            alert.queued_at,
            &alert.message_id,
        )
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(notice.text.clone())
        .map_err(|error| failed(error.to_string()));
    }
    let subject = subject(alert);
    let headers = headers(
        settings,
        to,
        subject.clone(),
        alert.queued_at,
        &alert.message_id,
    );
    with_list_id(headers, settings)
        .multipart(MultiPart::alternative_plain_html(
            text_body(alert, settings),
            html_body(alert, settings, &subject),
        ))
        .map_err(|error| failed(error.to_string()))
}

/// The headers of every mail briefwatch sends: a fixed date and Message-ID (so that a resend is
/// the same message) and `Auto-Submitted`, which keeps vacation responders from answering.
fn headers(
    settings: &ComposeSettings,
    to: Mailbox,
    subject: String,
    date: DateTime<Utc>,
    message_id: &str,
) -> lettre::message::MessageBuilder {
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(subject)
        .date(SystemTime::from(date))
        .message_id(Some(message_id.to_string()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_string(),
        ))
}

/// Adds the `List-Id` that subscribers filter alerts by.
fn with_list_id(
    builder: lettre::message::MessageBuilder,
    settings: &ComposeSettings,
) -> lettre::message::MessageBuilder {
    builder.raw_header(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Id"),
        settings.list_id.clone(),
    ))
}

/// A test mail for `alerts send-test`: the same headers and both parts as an alert, with a
/// Chinese sample so that the encoding can be checked in the receiving client.
pub fn compose_test(
    settings: &ComposeSettings,
    recipient: &str,
    now: DateTime<Utc>,
    message_id: &str,
) -> Result<Message, AlertError> {
    let failed = |reason: String| AlertError::Compose {
        message_id: message_id.to_string(),
        reason,
    };
    let to: Mailbox = recipient
        .parse()
        .map_err(|error| failed(format!("recipient {recipient:?}: {error}")))?;
    let sample = "中方坚决反对美国与中国台湾地区开展任何官方往来。";
    let text = format!(
        "This is a test message from briefwatch, sent at {}.\n\nIf you can read it, alerts can reach you.\n\nChinese sample:\n> {}\n",
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        sample.replace("台湾", "**台湾**")
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>briefwatch test</title></head>\n<body>\n<p>This is a test message from briefwatch, sent at {}.</p>\n<p>If you can read it, alerts can reach you.</p>\n<blockquote lang=\"zh-CN\"><p>{}</p></blockquote>\n</body></html>\n",
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        sample.replace("台湾", "<mark>台湾</mark>")
    );
    let headers = headers(
        settings,
        to,
        "[briefwatch] test message 测试".to_string(),
        now,
        message_id,
    );
    with_list_id(headers, settings)
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|error| failed(error.to_string()))
}

/// `[briefwatch] 2020-07-03 Zhao Lijian: taiwan, hong-kong (3 exchanges)`, with the event when it
/// is not a new briefing, and the date range for digests.
pub fn subject(alert: &Alert) -> String {
    if let Some(notice) = &alert.notice {
        return notice.subject.clone();
    }
    let rules = alert.rule_names().join(", ");
    let count = matched_summary(alert);
    match alert.briefings.as_slice() {
        [single] if alert.window.is_none() => {
            let event = match single.event.kind {
                EventKind::New => String::new(),
                _ => format!("{} ", single.event.label()),
            };
            format!(
                "[briefwatch] {event}{} {}: {rules} ({count})",
                date_label(single),
                single
                    .briefing
                    .spokesperson
                    .as_deref()
                    .unwrap_or("spokesperson unknown"),
            )
        }
        briefings => {
            let mut dates: Vec<String> = briefings.iter().map(date_label).collect();
            dates.sort();
            dates.dedup();
            let range = match (dates.first(), dates.last()) {
                (Some(first), Some(last)) if first != last => format!("{first} to {last}"),
                (Some(first), _) => first.clone(),
                _ => String::new(),
            };
            let mut speakers: Vec<&str> = Vec::new();
            for b in briefings {
                if let Some(name) = b.briefing.spokesperson.as_deref() {
                    if !speakers.contains(&name) {
                        speakers.push(name);
                    }
                }
            }
            format!(
                "[briefwatch] digest {range} {}: {rules} ({count} in {})",
                speakers.join(", "),
                plural(briefings.len(), "briefing")
            )
        }
    }
}

/// What matched: "2 exchanges", "statement", "opening remarks and 1 exchange"; in a digest with
/// several texts, "3 texts and 2 exchanges".
fn matched_summary(alert: &Alert) -> String {
    let items = || {
        alert
            .briefings
            .iter()
            .flat_map(|b| b.items.iter().map(move |i| (b, i)))
    };
    let exchanges = items().filter(|(_, item)| !item.is_text()).count();
    let texts: Vec<String> = items()
        .filter(|(_, item)| item.is_text())
        .map(|(briefing, _)| text_label(briefing).to_lowercase())
        .collect();
    let text = match texts.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(plural(many.len(), "text")),
    };
    match (text, exchanges) {
        (None, exchanges) => plural(exchanges, "exchange"),
        (Some(text), 0) => text,
        (Some(text), exchanges) => format!("{text} and {}", plural(exchanges, "exchange")),
    }
}

/// What the briefing's own text is called in mails: "Opening remarks", "Statement", "Remarks".
pub(crate) fn text_label(briefing: &BriefingAlert) -> &'static str {
    briefing.briefing.kind.text_label(Lang::En)
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

pub(crate) fn date_label(briefing: &BriefingAlert) -> String {
    briefing
        .briefing
        .date
        .map(|date| date.to_string())
        .unwrap_or_else(|| "undated".to_string())
}

/// briefwatch's page for the briefing (`b/<id>`), or its diff view for a revision.
fn view_url(settings: &ComposeSettings, briefing: &BriefingRef) -> Option<String> {
    view_link(settings.public_url.as_deref(), briefing)
}

/// briefwatch's page for the briefing under `public_url`, or its diff view for a revision.
pub(crate) fn view_link(public_url: Option<&str>, briefing: &BriefingRef) -> Option<String> {
    let base = public_url?.trim_end_matches('/');
    let id = briefing.document_id?;
    Some(match briefing.revisions {
        Some((from, to)) => format!("{base}/b/{id}/diff?from={from}&to={to}"),
        None => format!("{base}/b/{id}"),
    })
}

pub(crate) fn answer_label(briefing: &BriefingAlert) -> String {
    match (&briefing.briefing.spokesperson, briefing.briefing.lang) {
        (Some(name), _) => name.clone(),
        (None, Lang::En) => "A".to_string(),
        (None, Lang::Zh) => "答".to_string(),
    }
}

fn intro(alert: &Alert) -> String {
    let matched = matched_summary(alert);
    let rules = alert.rule_names().join(", ");
    match alert.window {
        Some((start, end)) => format!(
            "Digest from {} to {} UTC: {matched} in {} matched your rules {rules}.",
            start.format("%Y-%m-%d %H:%M"),
            end.format("%Y-%m-%d %H:%M"),
            plural(alert.briefings.len(), "briefing"),
        ),
        None => {
            let mut sentence = format!("{matched} matched your rules {rules}.");
            if let Some(first) = sentence.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            sentence
        }
    }
}

fn text_body(alert: &Alert, settings: &ComposeSettings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", intro(alert));
    for briefing in &alert.briefings {
        let meta = &briefing.briefing;
        let _ = writeln!(out, "== {}", meta.title);
        let _ = writeln!(
            out,
            "{} · {} · {} · {}",
            date_label(briefing),
            meta.spokesperson
                .as_deref()
                .unwrap_or("spokesperson unknown"),
            language_name(meta.lang),
            briefing.event.label()
        );
        let _ = writeln!(out, "Ministry page: {}", meta.url);
        if let Some(view) = view_url(settings, meta) {
            let _ = writeln!(out, "In briefwatch: {view}");
        }
        out.push('\n');
        for item in &briefing.items {
            text_item(&mut out, briefing, item);
        }
    }
    out.push_str("-- \nSent by briefwatch because of the alert rules named above.\n");
    out
}

fn text_item(out: &mut String, briefing: &BriefingAlert, item: &AlertItem) {
    if item.is_text() {
        return text_passage_item(out, briefing, item);
    }
    let exchange = &item.exchange;
    let _ = writeln!(
        out,
        "-- Exchange {} ({}){} · rules: {} · terms: {}\n",
        exchange.ordinal,
        item.change.label(),
        if exchange.after_conference {
            " · after the press conference"
        } else {
            ""
        },
        item.rules.join(", "),
        item.terms.join(", ")
    );
    quote_text(out, &exchange.asker, exchange, Part::Question, &item.spans);
    if !exchange.answer.is_empty() {
        quote_text(
            out,
            &answer_label(briefing),
            exchange,
            Part::Answer,
            &item.spans,
        );
    }
    diff_text(out, item);
}

/// The briefing's own text: its matching paragraphs, each quoted with its terms marked.
fn text_passage_item(out: &mut String, briefing: &BriefingAlert, item: &AlertItem) {
    let _ = writeln!(
        out,
        "-- {} ({}) · rules: {} · terms: {}\n",
        text_label(briefing),
        item.change.label(),
        item.rules.join(", "),
        item.terms.join(", ")
    );
    let (quoted, spans) = item.quoted();
    for (index, paragraph) in quoted.answer.iter().enumerate() {
        let marked = highlight(
            paragraph,
            &spans_of(&spans, Part::Answer, index),
            "**",
            "**",
            |s| s.to_string(),
        );
        for line in marked.lines() {
            let _ = writeln!(out, "> {line}");
        }
        out.push('\n');
    }
    diff_text(out, item);
}

fn diff_text(out: &mut String, item: &AlertItem) {
    if let Some(diff) = item.change.diff() {
        out.push_str("What changed ([-removed-] {+added+}):\n");
        for line in diff.text.lines() {
            let _ = writeln!(out, "| {line}");
        }
        out.push('\n');
    }
}

fn quote_text(out: &mut String, label: &str, exchange: &Exchange, part: Part, spans: &[Span]) {
    let _ = writeln!(out, "{label}:");
    for (index, paragraph) in paragraphs(exchange, part).iter().enumerate() {
        if index > 0 {
            out.push_str(">\n");
        }
        let marked = highlight(paragraph, &spans_of(spans, part, index), "**", "**", |s| {
            s.to_string()
        });
        for line in marked.lines() {
            let _ = writeln!(out, "> {line}");
        }
    }
    out.push('\n');
}

fn html_body(alert: &Alert, settings: &ComposeSettings, subject: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n<p>{}</p>\n",
        escape_html(subject),
        escape_html(&intro(alert))
    );
    for briefing in &alert.briefings {
        let meta = &briefing.briefing;
        let html_lang = match meta.lang {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        };
        let _ = write!(
            out,
            "<h2 lang=\"{html_lang}\"><a href=\"{}\">{}</a></h2>\n<p>{} · {} · {} · {}",
            escape_html(&meta.url),
            escape_html(&meta.title),
            escape_html(&date_label(briefing)),
            escape_html(
                meta.spokesperson
                    .as_deref()
                    .unwrap_or("spokesperson unknown")
            ),
            language_name(meta.lang),
            briefing.event.label()
        );
        if let Some(view) = view_url(settings, meta) {
            let _ = write!(
                out,
                " · <a href=\"{}\">view in briefwatch</a>",
                escape_html(&view)
            );
        }
        out.push_str("</p>\n");
        for item in &briefing.items {
            html_item(&mut out, briefing, item, html_lang);
        }
    }
    out.push_str("<hr>\n<p><small>Sent by briefwatch because of the alert rules named above.</small></p>\n</body></html>\n");
    out
}

fn html_item(out: &mut String, briefing: &BriefingAlert, item: &AlertItem, html_lang: &str) {
    if item.is_text() {
        return html_passage_item(out, briefing, item, html_lang);
    }
    let exchange = &item.exchange;
    let _ = write!(
        out,
        "<h3>Exchange {} ({}){}</h3>\n<p>rules: {} · terms: {}</p>\n<blockquote lang=\"{html_lang}\">\n",
        exchange.ordinal,
        item.change.label(),
        if exchange.after_conference {
            " · after the press conference"
        } else {
            ""
        },
        escape_html(&item.rules.join(", ")),
        escape_html(&item.terms.join(", "))
    );
    quote_html(out, &exchange.asker, exchange, Part::Question, &item.spans);
    if !exchange.answer.is_empty() {
        quote_html(
            out,
            &answer_label(briefing),
            exchange,
            Part::Answer,
            &item.spans,
        );
    }
    out.push_str("</blockquote>\n");
    diff_html(out, item);
}

fn diff_html(out: &mut String, item: &AlertItem) {
    if let Some(diff) = item.change.diff() {
        let _ = write!(
            out,
            "<p>What changed:</p>\n<div class=\"diff\">{}</div>\n",
            diff.html
        );
    }
}

/// The briefing's own text in HTML: its matching paragraphs, terms in `<mark>`.
fn html_passage_item(
    out: &mut String,
    briefing: &BriefingAlert,
    item: &AlertItem,
    html_lang: &str,
) {
    let _ = write!(
        out,
        "<h3>{} ({})</h3>\n<p>rules: {} · terms: {}</p>\n",
        text_label(briefing),
        item.change.label(),
        escape_html(&item.rules.join(", ")),
        escape_html(&item.terms.join(", "))
    );
    let (quoted, spans) = item.quoted();
    if !quoted.answer.is_empty() {
        let _ = writeln!(out, "<blockquote lang=\"{html_lang}\">");
        for (index, paragraph) in quoted.answer.iter().enumerate() {
            let marked = highlight(
                paragraph,
                &spans_of(&spans, Part::Answer, index),
                "<mark>",
                "</mark>",
                escape_html,
            )
            .replace('\n', "<br>\n");
            let _ = writeln!(out, "<p>{marked}</p>");
        }
        out.push_str("</blockquote>\n");
    }
    diff_html(out, item);
}

fn quote_html(out: &mut String, label: &str, exchange: &Exchange, part: Part, spans: &[Span]) {
    for (index, paragraph) in paragraphs(exchange, part).iter().enumerate() {
        let marked = highlight(
            paragraph,
            &spans_of(spans, part, index),
            "<mark>",
            "</mark>",
            escape_html,
        )
        .replace('\n', "<br>\n");
        if index == 0 {
            let _ = writeln!(
                out,
                "<p><strong>{}:</strong> {marked}</p>",
                escape_html(label)
            );
        } else {
            let _ = writeln!(out, "<p>{marked}</p>");
        }
    }
}

fn paragraphs(exchange: &Exchange, part: Part) -> &[String] {
    match part {
        Part::Question => &exchange.question,
        Part::Answer => &exchange.answer,
    }
}

pub(crate) fn spans_of(spans: &[Span], part: Part, paragraph: usize) -> Vec<(usize, usize)> {
    spans
        .iter()
        .filter(|span| span.part == part && span.paragraph == paragraph)
        .map(|span| (span.start, span.end))
        .collect()
}

/// Wraps each span in `open`/`close`; overlapping spans merge, spans that do not fit the text
/// (a stored alert against edited text) are ignored rather than trusted.
pub(crate) fn highlight(
    text: &str,
    spans: &[(usize, usize)],
    open: &str,
    close: &str,
    escape: impl Fn(&str) -> String,
) -> String {
    let mut ranges: Vec<(usize, usize)> = spans
        .iter()
        .copied()
        .filter(|&(start, end)| start < end && text.get(start..end).is_some())
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let mut out = String::with_capacity(text.len() + merged.len() * (open.len() + close.len()));
    let mut at = 0;
    for (start, end) in merged {
        out.push_str(&escape(&text[at..start]));
        out.push_str(open);
        out.push_str(&escape(&text[start..end]));
        out.push_str(close);
        at = end;
    }
    out.push_str(&escape(&text[at..]));
    out
}

/// A paragraph with its matched spans (byte ranges) marked `**like this**`, as in the text part.
pub fn mark_text(paragraph: &str, spans: &[(usize, usize)]) -> String {
    highlight(paragraph, spans, "**", "**", |s| s.to_string())
}

pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_merges_overlaps_and_escapes() {
        let text = "Taiwan <island> Taiwan";
        let marked = highlight(
            text,
            &[(0, 6), (3, 6), (16, 22), (40, 50)],
            "<mark>",
            "</mark>",
            escape_html,
        );
        assert_eq!(
            marked,
            "<mark>Taiwan</mark> &lt;island&gt; <mark>Taiwan</mark>"
        );
    }

    #[test]
    fn highlight_skips_spans_that_split_a_character() {
        let text = "台湾地区";
        assert_eq!(
            highlight(text, &[(1, 6), (0, 6)], "**", "**", |s| s.to_string()),
            "**台湾**地区"
        );
    }

    fn one_item_alert(answer: Vec<String>) -> Alert {
        use super::super::plan::{AlertEvent, BriefingRef, ItemChange};
        use crate::model::Kind;
        Alert {
            message_id: "<1.2@example.org>".into(),
            recipient: "a@example.org".into(),
            queued_at: chrono::DateTime::from_timestamp(1_600_000_000, 0).unwrap(),
            window: None,
            notice: None,
            briefings: vec![BriefingAlert {
                briefing: BriefingRef {
                    url: "https://www.fmprc.gov.cn/t1.shtml".into(),
                    lang: Lang::En,
                    kind: Kind::PressConference,
                    title: "T".into(),
                    date: None,
                    spokesperson: None,
                    document_id: None,
                    revisions: None,
                },
                event: AlertEvent::NEW,
                items: vec![AlertItem {
                    rules: vec!["r".into()],
                    terms: vec!["x".into()],
                    change: ItemChange::New,
                    exchange: Exchange {
                        ordinal: 4,
                        asker: "Q".into(),
                        question: vec!["A <question> & more".into()],
                        answer,
                        after_conference: true,
                    },
                    spans: vec![],
                }],
            }],
        }
    }

    #[test]
    fn line_breaks_and_paragraphs_survive_in_both_parts() {
        let alert = one_item_alert(vec!["line one\nline two".into(), "second paragraph".into()]);
        let settings = ComposeSettings {
            from: "b <b@example.org>".parse().unwrap(),
            list_id: "l <l.example.org>".into(),
            public_url: Some("https://bw.example.org".into()),
        };
        let text = text_body(&alert, &settings);
        assert!(
            text.contains("A:\n> line one\n> line two\n>\n> second paragraph\n"),
            "{text}"
        );
        assert!(text.contains("after the press conference"));
        assert!(
            !text.contains("In briefwatch"),
            "no link without a document id"
        );
        let html = html_body(&alert, &settings, &subject(&alert));
        assert!(
            html.contains(
                "<p><strong>A:</strong> line one<br>\nline two</p>\n<p>second paragraph</p>"
            ),
            "{html}"
        );
        assert!(html.contains("A &lt;question&gt; &amp; more"));
        assert_eq!(
            subject(&alert),
            "[briefwatch] undated spokesperson unknown: r (1 exchange)"
        );
    }
}
