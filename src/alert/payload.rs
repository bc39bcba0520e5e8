//! One alert to the body of a webhook post: the documented JSON object, or a Slack-compatible
//! `{"text": …}` message; and the body's HMAC-SHA256 signature. Pure.

use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::compose::{
    answer_label, date_label, highlight, spans_of, subject, text_label, view_link,
};
use super::plan::{Alert, AlertEvent, AlertItem, BriefingAlert, ItemChange};
use super::rule::{Part, Span, span_text};
use crate::diff::present::language_name;
use crate::model::{Exchange, Kind, Lang};

/// The JSON body of a `format = "json"` webhook (schema in the README).
#[derive(Debug, Clone, Serialize)]
pub struct JsonAlert {
    /// The delivery id, also sent as `X-Briefwatch-Delivery`; the same on a resend.
    pub delivery: String,
    /// `alert` for one briefing event, `digest` for a window's collection.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The one-line summary mails use as their subject.
    pub summary: String,
    pub queued_at: DateTime<Utc>,
    /// The rules that matched, in first-seen order.
    pub rules: Vec<String>,
    pub window: Option<Window>,
    pub briefings: Vec<JsonBriefing>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonBriefing {
    /// `new`, `revised`, `cosmetic` (a cosmetic revision) or `gone` (taken down).
    pub event: AlertEvent,
    pub briefing: BriefingInfo,
    pub passages: Vec<JsonPassage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BriefingInfo {
    /// The ministry's page.
    pub url: String,
    pub lang: Lang,
    pub kind: Kind,
    pub date: Option<NaiveDate>,
    pub title: String,
    pub spokesperson: Option<String>,
    /// briefwatch's own page (or diff view) when `[http] public_url` is set.
    pub view_url: Option<String>,
    /// The revisions compared, for a revision.
    pub revisions: Option<Revisions>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Revisions {
    pub from: u32,
    pub to: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonPassage {
    /// `exchange`, or `text` for the briefing's own text (title, opening remarks, statement).
    pub passage: &'static str,
    /// The exchange's number; 0 for the briefing's own text.
    pub ordinal: u32,
    /// `new`, `added`, `revised`, `cosmetic` or `removed`.
    pub change: &'static str,
    pub after_conference: bool,
    pub rules: Vec<String>,
    pub terms: Vec<String>,
    /// The asker; for the briefing's own text, what it is ("Opening remarks", "Statement").
    pub asker: String,
    /// Paragraphs; for the briefing's own text only those that match.
    pub question: Vec<String>,
    pub answer: Vec<String>,
    /// Every match: UTF-8 byte offsets into `question[paragraph]` or `answer[paragraph]`.
    pub highlights: Vec<Highlight>,
    /// The same paragraphs with the matches marked `**like this**`.
    pub marked: Marked,
    /// For a revision: the words removed and added, `[-removed-] {+added+}`.
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Highlight {
    pub part: Part,
    pub paragraph: usize,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Marked {
    pub question: Vec<String>,
    pub answer: Vec<String>,
}

fn change_name(change: &ItemChange) -> &'static str {
    match change {
        ItemChange::New => "new",
        ItemChange::Added => "added",
        ItemChange::Revised { .. } => "revised",
        ItemChange::Cosmetic { .. } => "cosmetic",
        ItemChange::Removed => "removed",
    }
}

/// The JSON object for an alert; `delivery` is its outbox id.
pub fn json_alert(alert: &Alert, delivery: &str, public_url: Option<&str>) -> JsonAlert {
    JsonAlert {
        delivery: delivery.to_string(),
        kind: if alert.window.is_some() {
            "digest"
        } else {
            "alert"
        },
        summary: subject(alert),
        queued_at: alert.queued_at,
        rules: alert.rule_names().into_iter().map(String::from).collect(),
        window: alert.window.map(|(start, end)| Window { start, end }),
        briefings: alert
            .briefings
            .iter()
            .map(|briefing| JsonBriefing {
                event: briefing.event,
                briefing: BriefingInfo {
                    url: briefing.briefing.url.clone(),
                    lang: briefing.briefing.lang,
                    kind: briefing.briefing.kind,
                    date: briefing.briefing.date,
                    title: briefing.briefing.title.clone(),
                    spokesperson: briefing.briefing.spokesperson.clone(),
                    view_url: view_link(public_url, &briefing.briefing),
                    revisions: briefing
                        .briefing
                        .revisions
                        .map(|(from, to)| Revisions { from, to }),
                },
                passages: briefing
                    .items
                    .iter()
                    .map(|item| json_passage(briefing, item))
                    .collect(),
            })
            .collect(),
    }
}

fn json_passage(briefing: &BriefingAlert, item: &AlertItem) -> JsonPassage {
    let (quoted, spans) = item.quoted();
    let marked = |part: Part, paragraphs: &[String]| -> Vec<String> {
        paragraphs
            .iter()
            .enumerate()
            .map(|(index, text)| {
                highlight(text, &spans_of(&spans, part, index), "**", "**", |s| {
                    s.to_string()
                })
            })
            .collect()
    };
    JsonPassage {
        passage: if item.is_text() { "text" } else { "exchange" },
        ordinal: quoted.ordinal,
        change: change_name(&item.change),
        after_conference: quoted.after_conference,
        rules: item.rules.clone(),
        terms: item.terms.clone(),
        asker: if item.is_text() {
            text_label(briefing).to_string()
        } else {
            quoted.asker.clone()
        },
        highlights: highlights(&quoted, &spans),
        marked: Marked {
            question: marked(Part::Question, &quoted.question),
            answer: marked(Part::Answer, &quoted.answer),
        },
        diff: item.change.diff().map(|diff| diff.text.clone()),
        question: quoted.question,
        answer: quoted.answer,
    }
}

/// The spans that fit the quoted text, with the text they cover.
fn highlights(exchange: &Exchange, spans: &[Span]) -> Vec<Highlight> {
    spans
        .iter()
        .filter_map(|span| {
            Some(Highlight {
                part: span.part,
                paragraph: span.paragraph,
                start: span.start,
                end: span.end,
                text: span_text(exchange, span)?.to_string(),
            })
        })
        .collect()
}

/// The body of a `format = "json"` post.
pub fn json_body(alert: &Alert, delivery: &str, public_url: Option<&str>) -> Vec<u8> {
    serde_json::to_vec(&json_alert(alert, delivery, public_url)).expect("alerts serialize")
}

/// Slack and its look-alikes truncate or refuse longer texts.
const SLACK_MAX_CHARS: usize = 30_000;

/// The body of a `format = "slack"` post: `{"text": …}` in Slack's mrkdwn, which Slack,
/// Mattermost, Discord's `/slack` endpoint and Matrix hookshot accept.
pub fn slack_body(alert: &Alert, public_url: Option<&str>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "text": slack_text(alert, public_url) }))
        .expect("text serializes")
}

/// The message: the summary, then per briefing its linked title, its facts, a link to briefwatch's
/// view, and each matching passage quoted with its terms in bold.
pub fn slack_text(alert: &Alert, public_url: Option<&str>) -> String {
    let mut out = format!("*{}*\n", escape_mrkdwn(&subject(alert)));
    for briefing in &alert.briefings {
        let meta = &briefing.briefing;
        out.push_str(&format!(
            "\n*<{}|{}>*\n{} · {} · {} · {}\n",
            escape_mrkdwn(&meta.url),
            escape_mrkdwn(&meta.title).replace('|', "¦"),
            date_label(briefing),
            escape_mrkdwn(
                meta.spokesperson
                    .as_deref()
                    .unwrap_or("spokesperson unknown")
            ),
            language_name(meta.lang),
            briefing.event.label()
        ));
        if let Some(view) = view_link(public_url, meta) {
            out.push_str(&format!("<{}|View in briefwatch>\n", escape_mrkdwn(&view)));
        }
        for item in &briefing.items {
            slack_item(&mut out, briefing, item);
        }
    }
    if out.chars().count() > SLACK_MAX_CHARS {
        out = out.chars().take(SLACK_MAX_CHARS - 1).collect();
        out.push('…');
    }
    out
}

fn slack_item(out: &mut String, briefing: &BriefingAlert, item: &AlertItem) {
    let (quoted, spans) = item.quoted();
    let heading = if item.is_text() {
        text_label(briefing).to_string()
    } else {
        format!("Exchange {}", quoted.ordinal)
    };
    out.push_str(&format!(
        "\n_{heading} ({}) · rules: {} · terms: {}_\n",
        item.change.label(),
        escape_mrkdwn(&item.rules.join(", ")),
        escape_mrkdwn(&item.terms.join(", "))
    ));
    let mut quote = |label: Option<String>, part: Part, paragraphs: &[String]| {
        for (index, paragraph) in paragraphs.iter().enumerate() {
            let marked = highlight(
                paragraph,
                &spans_of(&spans, part, index),
                "*",
                "*",
                escape_mrkdwn,
            );
            let mut lines = marked.lines();
            let first = lines.next().unwrap_or_default();
            match (&label, index) {
                (Some(label), 0) => {
                    out.push_str(&format!(">*{}:* {first}\n", escape_mrkdwn(label)))
                }
                _ => out.push_str(&format!(">{first}\n")),
            }
            for line in lines {
                out.push_str(&format!(">{line}\n"));
            }
        }
    };
    if item.is_text() {
        quote(None, Part::Answer, &quoted.answer);
    } else {
        quote(Some(quoted.asker.clone()), Part::Question, &quoted.question);
        quote(Some(answer_label(briefing)), Part::Answer, &quoted.answer);
    }
    if let Some(diff) = item.change.diff() {
        out.push_str(&format!(
            "What changed (`[-removed-] {{+added+}}`):\n```{}```\n",
            escape_mrkdwn(&diff.text).replace("```", "`‘`")
        ));
    }
}

/// Slack's three reserved characters.
fn escape_mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes, keyed with the webhook's secret.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::super::plan::{BriefingRef, RenderedDiff};
    use super::*;

    fn alert() -> Alert {
        Alert {
            message_id: "1593748538000-00000000000000aa".into(),
            recipient: "newsroom".into(),
            queued_at: DateTime::from_timestamp(1_593_748_538, 0).unwrap(),
            window: None,
            notice: None,
            briefings: vec![BriefingAlert {
                briefing: BriefingRef {
                    url: "https://www.fmprc.gov.cn/t1.shtml".into(),
                    lang: Lang::En,
                    kind: Kind::PressConference,
                    title: "Press <Conference> & more".into(),
                    date: NaiveDate::from_ymd_opt(2020, 7, 3),
                    spokesperson: Some("Zhao Lijian".into()),
                    document_id: Some(7),
                    revisions: Some((1, 2)),
                },
                event: AlertEvent::REVISED,
                items: vec![AlertItem {
                    rules: vec!["india".into()],
                    terms: vec!["India".into()],
                    change: ItemChange::Revised {
                        diff: Some(RenderedDiff {
                            text: "[-Hong Kong-] {+India+}".into(),
                            html: String::new(),
                        }),
                    },
                    exchange: Exchange {
                        ordinal: 3,
                        asker: "PTI".into(),
                        question: vec!["On India and China.".into()],
                        answer: vec!["We & India <agree>.".into()],
                        after_conference: false,
                    },
                    spans: vec![
                        Span {
                            part: Part::Question,
                            paragraph: 0,
                            start: 3,
                            end: 8,
                        },
                        Span {
                            part: Part::Answer,
                            paragraph: 0,
                            start: 5,
                            end: 10,
                        },
                    ],
                }],
            }],
        }
    }

    #[test]
    fn json_carries_the_briefing_the_passage_its_highlights_and_the_change() {
        let body = json_body(&alert(), "d-1", Some("https://bw.example.org/"));
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["delivery"], "d-1");
        assert_eq!(value["type"], "alert");
        assert_eq!(value["rules"], serde_json::json!(["india"]));
        let briefing = &value["briefings"][0];
        assert_eq!(briefing["event"], "revised");
        assert_eq!(briefing["briefing"]["date"], "2020-07-03");
        assert_eq!(briefing["briefing"]["kind"], "press_conference");
        assert_eq!(
            briefing["briefing"]["view_url"],
            "https://bw.example.org/b/7/diff?from=1&to=2"
        );
        let passage = &briefing["passages"][0];
        assert_eq!(passage["change"], "revised");
        assert_eq!(passage["highlights"][1]["text"], "India");
        assert_eq!(passage["highlights"][1]["part"], "answer");
        assert_eq!(passage["marked"]["answer"][0], "We & **India** <agree>.");
        assert_eq!(passage["diff"], "[-Hong Kong-] {+India+}");
    }

    #[test]
    fn slack_text_escapes_links_the_title_and_bolds_the_terms() {
        let text = slack_text(&alert(), Some("https://bw.example.org"));
        assert!(
            text.contains(
                "*<https://www.fmprc.gov.cn/t1.shtml|Press &lt;Conference&gt; &amp; more>*"
            ),
            "{text}"
        );
        assert!(text.contains(">*PTI:* On *India* and China.\n"), "{text}");
        assert!(
            text.contains(">*Zhao Lijian:* We &amp; *India* &lt;agree&gt;.\n"),
            "{text}"
        );
        assert!(
            text.contains("<https://bw.example.org/b/7/diff?from=1&amp;to=2|View in briefwatch>"),
            "{text}"
        );
    }

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
