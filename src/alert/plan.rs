//! Which rules fire for a briefing event, and the resulting alerts grouped per recipient or webhook.
//!
//! Pure: takes the compiled rules and the event (a new briefing, a revision with its exchange
//! alignment, a briefing taken down) and returns what should be queued; nothing here does I/O.
//!
//! Rules look at every text of a briefing: each exchange, and the briefing's own text (title,
//! opening remarks, the body of a statement) as the passage numbered 0
//! ([`Briefing::text_passage`]), which alerts quote by its matching paragraphs only.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::rule::{Match, Part, RuleSet, Span, fold};
use crate::config::{Mode, Trigger};
use crate::diff::present;
use crate::model::{Briefing, EventKind, Exchange, Kind, Lang, TEXT_PASSAGE};

/// What an alert says about the briefing it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefingRef {
    pub url: String,
    pub lang: Lang,
    pub kind: Kind,
    pub title: String,
    pub date: Option<NaiveDate>,
    pub spokesperson: Option<String>,
    /// The archive's id of the document, for links to briefwatch's own view.
    #[serde(default)]
    pub document_id: Option<i64>,
    /// Revision numbers compared (from, to), for a link to the diff view.
    #[serde(default)]
    pub revisions: Option<(u32, u32)>,
}

impl BriefingRef {
    pub fn of(briefing: &Briefing) -> BriefingRef {
        BriefingRef {
            url: briefing.url.clone(),
            lang: briefing.lang,
            kind: briefing.kind,
            title: briefing.title.clone(),
            date: briefing.date,
            spokesperson: briefing.spokesperson.clone(),
            document_id: None,
            revisions: None,
        }
    }
}

/// Records where the archive keeps the briefing, so mails can link to briefwatch's view of it.
pub fn link_archive(pending: &mut [PendingAlert], document_id: i64, revisions: Option<(u32, u32)>) {
    for alert in pending {
        alert.content.briefing.document_id = Some(document_id);
        alert.content.briefing.revisions = revisions;
    }
}

/// A diff of one exchange, rendered for both parts of the mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedDiff {
    pub text: String,
    pub html: String,
}

/// What happened to the quoted exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ItemChange {
    /// Part of a briefing seen for the first time.
    New,
    /// Added to a transcript by a revision.
    Added,
    /// Reworded by a substantive revision so that a match appeared or disappeared.
    Revised { diff: Option<RenderedDiff> },
    /// Reworded by a cosmetic revision.
    Cosmetic { diff: Option<RenderedDiff> },
    /// Removed from the transcript, or the transcript was taken down.
    Removed,
}

impl ItemChange {
    pub fn label(&self) -> &'static str {
        match self {
            ItemChange::New => "new",
            ItemChange::Added => "added",
            ItemChange::Revised { .. } => "revised",
            ItemChange::Cosmetic { .. } => "cosmetic change",
            ItemChange::Removed => "removed",
        }
    }

    pub fn diff(&self) -> Option<&RenderedDiff> {
        match self {
            ItemChange::Revised { diff } | ItemChange::Cosmetic { diff } => diff.as_ref(),
            _ => None,
        }
    }
}

/// One matched passage in an alert: an exchange, or the briefing's own text (ordinal 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertItem {
    /// The recipient's rules that matched, in config order.
    pub rules: Vec<String>,
    /// The terms that matched, as written in the config.
    pub terms: Vec<String>,
    pub change: ItemChange,
    /// The version quoted: the new one, or the old one for a removal.
    pub exchange: Exchange,
    /// Matched stretches of `exchange`, for highlighting.
    pub spans: Vec<Span>,
}

impl AlertItem {
    /// True for the briefing's own text rather than a question and its answer.
    pub fn is_text(&self) -> bool {
        self.exchange.ordinal == TEXT_PASSAGE
    }

    /// What is quoted: an exchange whole; the briefing's own text by the paragraphs that match
    /// (none when a revision took the match away: the diff shows it then).
    pub fn quoted(&self) -> (Exchange, Vec<Span>) {
        if self.is_text() {
            matching_paragraphs(&self.exchange, &self.spans)
        } else {
            (self.exchange.clone(), self.spans.clone())
        }
    }
}

/// A passage cut down to the paragraphs that hold a span, the spans renumbered to match.
pub fn matching_paragraphs(passage: &Exchange, spans: &[Span]) -> (Exchange, Vec<Span>) {
    let mut kept = Exchange {
        question: Vec::new(),
        answer: Vec::new(),
        ..passage.clone()
    };
    let mut renumbered = Vec::new();
    for (part, paragraphs) in [
        (Part::Question, &passage.question),
        (Part::Answer, &passage.answer),
    ] {
        for (index, paragraph) in paragraphs.iter().enumerate() {
            let mut here = spans
                .iter()
                .filter(|span| span.part == part && span.paragraph == index)
                .peekable();
            if here.peek().is_none() {
                continue;
            }
            let target = match part {
                Part::Question => &mut kept.question,
                Part::Answer => &mut kept.answer,
            };
            renumbered.extend(here.map(|span| Span {
                paragraph: target.len(),
                ..*span
            }));
            target.push(paragraph.clone());
        }
    }
    (kept, renumbered)
}

/// What happened to a briefing, as an alert reports it: the archive's kind of event (`new`,
/// `revised`, `gone`) and, for a revision, whether all of it was cosmetic. Stored in the outbox
/// and sent to webhooks as one word: `new`, `revised`, `cosmetic` or `gone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertEvent {
    pub kind: EventKind,
    pub cosmetic: bool,
}

impl AlertEvent {
    pub const NEW: AlertEvent = AlertEvent::of(EventKind::New);
    pub const REVISED: AlertEvent = AlertEvent::of(EventKind::Revised);
    pub const COSMETIC: AlertEvent = AlertEvent {
        kind: EventKind::Revised,
        cosmetic: true,
    };
    pub const GONE: AlertEvent = AlertEvent::of(EventKind::Gone);

    const fn of(kind: EventKind) -> AlertEvent {
        AlertEvent {
            kind,
            cosmetic: false,
        }
    }

    /// `new`, `revised`, `cosmetic revision`, `taken down`.
    pub fn label(self) -> &'static str {
        present::alert_label(self.kind, self.cosmetic)
    }

    /// The word it is stored and sent as.
    pub fn name(self) -> &'static str {
        if self.cosmetic {
            "cosmetic"
        } else {
            self.kind.as_str()
        }
    }
}

impl Serialize for AlertEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for AlertEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        [
            AlertEvent::NEW,
            AlertEvent::REVISED,
            AlertEvent::COSMETIC,
            AlertEvent::GONE,
        ]
        .into_iter()
        .find(|event| event.name() == name)
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{name:?} is not an alert event (new, revised, cosmetic, gone)"
            ))
        })
    }
}

/// Everything one recipient is told about one briefing event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefingAlert {
    pub briefing: BriefingRef,
    pub event: AlertEvent,
    pub items: Vec<AlertItem>,
}

/// One e-mail: a briefing event (immediate) or several (digest, or rate-capped overflow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// `<…@…>`, fixed when the alert is queued so that a resend carries the same id.
    pub message_id: String,
    pub recipient: String,
    pub queued_at: DateTime<Utc>,
    /// Set for digests: the window the alert collects.
    #[serde(default)]
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub briefings: Vec<BriefingAlert>,
    /// Set for a mail to the operator about the service itself (an alarm), not about briefings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
}

/// A plain-text mail to the operator; `key` names the problem so repeats can be spaced out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub key: String,
    pub subject: String,
    pub text: String,
}

impl Alert {
    /// Rule names in first-seen order.
    pub fn rule_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for item in self.briefings.iter().flat_map(|b| &b.items) {
            for rule in &item.rules {
                if !names.contains(&rule.as_str()) {
                    names.push(rule);
                }
            }
        }
        names
    }
}

/// How a pending alert is to be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Immediate,
    Digest { window: Duration },
}

/// How an outbox row reaches its target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// An e-mail to the address in `recipient`, through `[smtp]`.
    #[default]
    Mail,
    /// A POST to the `[[webhook]]` named in `recipient`.
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        [Channel::Mail, Channel::Webhook]
            .into_iter()
            .find(|channel| channel.as_str() == text)
    }
}

/// An alert to queue, before it has a Message-ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAlert {
    pub channel: Channel,
    /// The e-mail address, or the webhook's name.
    pub recipient: String,
    pub delivery: Delivery,
    pub content: BriefingAlert,
}

/// Two aligned versions of an exchange: `old` only when removed, `new` only when added. When the
/// diff split or merged exchanges, the several exchanges of one side are joined into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangePair {
    pub old: Option<Exchange>,
    pub new: Option<Exchange>,
    pub diff: Option<RenderedDiff>,
    /// True when the diff judged this pair's change cosmetic.
    pub cosmetic: bool,
}

/// Something that happened to a briefing, as the archive saw it.
#[derive(Debug, Clone)]
pub enum BriefingEvent<'a> {
    New(&'a Briefing),
    Revised {
        old: &'a Briefing,
        new: &'a Briefing,
        /// Exchange alignment; unchanged pairs may be included and are skipped.
        pairs: Vec<ExchangePair>,
    },
    Gone(&'a Briefing),
}

/// The alerts an event causes: one per recipient (or webhook) and delivery, listing every matched
/// exchange.
pub fn plan_alerts(rules: &RuleSet, event: &BriefingEvent) -> Vec<PendingAlert> {
    let (briefing, kind, fired) = match event {
        BriefingEvent::New(briefing) => (
            *briefing,
            AlertEvent::NEW,
            whole_briefing(rules, briefing, Trigger::New, ItemChange::New),
        ),
        BriefingEvent::Gone(briefing) => (
            *briefing,
            AlertEvent::GONE,
            whole_briefing(rules, briefing, Trigger::Removed, ItemChange::Removed),
        ),
        BriefingEvent::Revised { old, new, pairs } => {
            let mut pairs = pairs.clone();
            pairs.extend(text_pair(old, new));
            (
                *new,
                if pairs.iter().all(|pair| pair.cosmetic) {
                    AlertEvent::COSMETIC
                } else {
                    AlertEvent::REVISED
                },
                revision(rules, old, new, &pairs),
            )
        }
    };
    group(rules, BriefingRef::of(briefing), kind, fired)
}

/// (rule index, item) for every rule that fires.
type Fired = Vec<(usize, AlertItem)>;

fn item(found: Match, change: ItemChange, exchange: &Exchange) -> AlertItem {
    AlertItem {
        rules: vec![found.rule],
        terms: found.terms,
        change,
        exchange: exchange.clone(),
        spans: found.spans,
    }
}

fn fires(rules: &RuleSet, index: usize, trigger: Trigger) -> bool {
    rules.rule(index).on.contains(&trigger)
}

fn whole_briefing(
    rules: &RuleSet,
    briefing: &Briefing,
    trigger: Trigger,
    change: ItemChange,
) -> Fired {
    let mut fired = Vec::new();
    for passage in briefing.passages() {
        for (index, found) in rules.matches_all(&passage, briefing.lang) {
            if fires(rules, index, trigger) {
                fired.push((index, item(found, change.clone(), &passage)));
            }
        }
    }
    fired
}

/// The briefing's own text (title, opening) of two revisions as a pair, when it changed; its diff
/// shows only the paragraphs that changed.
fn text_pair(old: &Briefing, new: &Briefing) -> Option<ExchangePair> {
    use similar::{Algorithm, DiffOp, capture_diff_slices};
    let (before, after) = (old.text_passage(), new.text_passage());
    if before.answer == after.answer {
        return None;
    }
    let mut removed: Vec<&str> = Vec::new();
    let mut added: Vec<&str> = Vec::new();
    for op in capture_diff_slices(Algorithm::Patience, &before.answer, &after.answer) {
        if let DiffOp::Equal { .. } = op {
            continue;
        }
        let (old_range, new_range) = (op.old_range(), op.new_range());
        removed.extend(before.answer[old_range].iter().map(String::as_str));
        added.extend(after.answer[new_range].iter().map(String::as_str));
    }
    let (removed, added) = (removed.join("\n\n"), added.join("\n\n"));
    Some(ExchangePair {
        cosmetic: fold(&removed) == fold(&added),
        diff: Some(render_word_diff(&removed, &added)),
        old: Some(before),
        new: Some(after),
    })
}

fn revision(rules: &RuleSet, old: &Briefing, new: &Briefing, pairs: &[ExchangePair]) -> Fired {
    let mut fired = Vec::new();
    for pair in pairs {
        let cosmetic = pair.cosmetic;
        match (pair.old.as_ref(), pair.new.as_ref()) {
            (None, Some(added)) => {
                for (index, found) in rules.matches_all(added, new.lang) {
                    let trigger = if cosmetic {
                        Trigger::Cosmetic
                    } else {
                        Trigger::Revised
                    };
                    if fires(rules, index, trigger) {
                        fired.push((index, item(found, ItemChange::Added, added)));
                    }
                }
            }
            (Some(removed), None) => {
                for (index, found) in rules.matches_all(removed, old.lang) {
                    if fires(rules, index, Trigger::Removed) {
                        fired.push((index, item(found, ItemChange::Removed, removed)));
                    }
                }
            }
            (Some(before), Some(after)) if !same_text(before, after) => {
                let mut old_matches: BTreeMap<usize, Match> =
                    rules.matches_all(before, old.lang).into_iter().collect();
                let new_matches: BTreeMap<usize, Match> =
                    rules.matches_all(after, new.lang).into_iter().collect();
                let mut indices: Vec<usize> = old_matches
                    .keys()
                    .chain(new_matches.keys())
                    .copied()
                    .collect();
                indices.sort_unstable();
                indices.dedup();
                for index in indices {
                    let was = old_matches.remove(&index);
                    let now = new_matches.get(&index);
                    let changed_matches = was.as_ref().map(|m| m.occurrences(before))
                        != now.map(|m| m.occurrences(after));
                    let (trigger, change) = if cosmetic {
                        (
                            Trigger::Cosmetic,
                            ItemChange::Cosmetic {
                                diff: pair.diff.clone(),
                            },
                        )
                    } else if changed_matches {
                        (
                            Trigger::Revised,
                            ItemChange::Revised {
                                diff: pair.diff.clone(),
                            },
                        )
                    } else {
                        continue;
                    };
                    if !fires(rules, index, trigger) {
                        continue;
                    }
                    // Quote the new version; when the match disappeared, name the terms it had.
                    let found = match now {
                        Some(found) => found.clone(),
                        None => Match {
                            spans: Vec::new(),
                            ..was.expect("index came from one of the two maps")
                        },
                    };
                    fired.push((index, item(found, change, after)));
                }
            }
            _ => {}
        }
    }
    fired
}

fn same_text(a: &Exchange, b: &Exchange) -> bool {
    a.asker == b.asker && a.question == b.question && a.answer == b.answer
}

fn group(
    rules: &RuleSet,
    briefing: BriefingRef,
    kind: AlertEvent,
    fired: Fired,
) -> Vec<PendingAlert> {
    let mut pending: Vec<PendingAlert> = Vec::new();
    for (index, fired_item) in fired {
        let rule = rules.rule(index);
        let delivery = match (rule.mode, rule.window) {
            (Mode::Digest, Some(window)) => Delivery::Digest { window },
            _ => Delivery::Immediate,
        };
        let targets = (rule.recipients.iter().map(|r| (Channel::Mail, r)))
            .chain(rule.webhooks.iter().map(|w| (Channel::Webhook, w)));
        for (channel, recipient) in targets {
            let position = pending.iter().position(|p| {
                p.channel == channel && p.recipient == *recipient && p.delivery == delivery
            });
            let alert = match position {
                Some(position) => &mut pending[position],
                None => {
                    pending.push(PendingAlert {
                        channel,
                        recipient: recipient.clone(),
                        delivery,
                        content: BriefingAlert {
                            briefing: briefing.clone(),
                            event: kind,
                            items: Vec::new(),
                        },
                    });
                    pending.last_mut().expect("just pushed")
                }
            };
            merge_item(&mut alert.content.items, fired_item.clone());
        }
    }
    for alert in &mut pending {
        alert
            .content
            .items
            .sort_by_key(|item| item.exchange.ordinal);
    }
    pending
}

/// Adds an item, folding it into an existing one when another rule matched the same exchange.
fn merge_item(items: &mut Vec<AlertItem>, new: AlertItem) {
    let existing = items
        .iter_mut()
        .find(|item| item.change == new.change && item.exchange == new.exchange);
    match existing {
        Some(existing) => {
            for rule in new.rules {
                if !existing.rules.contains(&rule) {
                    existing.rules.push(rule);
                }
            }
            for term in new.terms {
                if !existing.terms.contains(&term) {
                    existing.terms.push(term);
                }
            }
            existing.spans.extend(new.spans);
            existing.spans.sort();
            existing.spans.dedup();
        }
        None => items.push(new),
    }
}

/// A fallback alignment of two versions' exchanges, keyed on the question (questions are edited
/// less than answers), with word diffs for reworded pairs; a pair is cosmetic when only case,
/// white space or quote style changed. The diff stage's alignment is preferred when available.
pub fn align_exchanges(old: &Briefing, new: &Briefing) -> Vec<ExchangePair> {
    use similar::{Algorithm, DiffOp, capture_diff_slices};
    let question_key = |e: &Exchange| format!("{}\u{1f}{}", e.asker, e.question.join("\n"));
    let old_keys: Vec<String> = old.exchanges.iter().map(question_key).collect();
    let new_keys: Vec<String> = new.exchanges.iter().map(question_key).collect();
    let pair = |o: Option<usize>, n: Option<usize>| {
        let before = o.map(|o| old.exchanges[o].clone());
        let after = n.map(|n| new.exchanges[n].clone());
        let (diff, cosmetic) = match (&before, &after) {
            (Some(before), Some(after)) => {
                let (before, after) = (exchange_text(before), exchange_text(after));
                let cosmetic = fold(&before) == fold(&after);
                (Some(render_word_diff(&before, &after)), cosmetic)
            }
            _ => (None, false),
        };
        ExchangePair {
            old: before,
            new: after,
            diff,
            cosmetic,
        }
    };
    let mut pairs = Vec::new();
    for op in capture_diff_slices(Algorithm::Patience, &old_keys, &new_keys) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    if !same_text(&old.exchanges[old_index + k], &new.exchanges[new_index + k]) {
                        pairs.push(pair(Some(old_index + k), Some(new_index + k)));
                    }
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => pairs.extend((old_index..old_index + old_len).map(|i| pair(Some(i), None))),
            DiffOp::Insert {
                new_index, new_len, ..
            } => pairs.extend((new_index..new_index + new_len).map(|i| pair(None, Some(i)))),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                for k in 0..old_len.max(new_len) {
                    pairs.push(pair(
                        (k < old_len).then_some(old_index + k),
                        (k < new_len).then_some(new_index + k),
                    ));
                }
            }
        }
    }
    pairs
}

/// The exchange as plain text: asker, question paragraphs, answer paragraphs.
pub fn exchange_text(exchange: &Exchange) -> String {
    let mut text = format!("{}: {}", exchange.asker, exchange.question.join("\n\n"));
    if !exchange.answer.is_empty() {
        text.push_str("\n\n");
        text.push_str(&exchange.answer.join("\n\n"));
    }
    text
}

/// A word diff: `[-removed-]{+added+}` in text, `<del>`/`<ins>` in HTML.
pub fn render_word_diff(old: &str, new: &str) -> RenderedDiff {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_unicode_words(old, new);
    let escape = |value: &str| super::compose::escape_html(value).replace('\n', "<br>\n");
    let mut text = String::new();
    let mut html = String::new();
    for change in diff.iter_all_changes() {
        let value = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                text.push_str(value);
                html.push_str(&escape(value));
            }
            ChangeTag::Delete => {
                text.push_str(&format!("[-{value}-]"));
                html.push_str(&format!("<del>{}</del>", escape(value)));
            }
            ChangeTag::Insert => {
                text.push_str(&format!("{{+{value}+}}"));
                html.push_str(&format!("<ins>{}</ins>", escape(value)));
            }
        }
    }
    RenderedDiff { text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AlertRule;

    fn rules(terms: &[&str], scope: &str) -> RuleSet {
        let rule: AlertRule = toml::from_str(&format!(
            "name = \"r\"\nterms = {terms:?}\nscope = \"{scope}\"\nrecipients = [\"a@example.org\"]\n"
        ))
        .unwrap();
        RuleSet::compile(&[rule]).unwrap()
    }

    fn statement(paragraphs: &[&str]) -> Briefing {
        Briefing {
            url: "https://www.fmprc.gov.cn/t1.shtml".into(),
            lang: Lang::En,
            kind: Kind::Statement,
            title: "Spokesperson's Statement on the Law".into(),
            date: None,
            published_at: None,
            spokesperson: None,
            opening: paragraphs.iter().map(|p| p.to_string()).collect(),
            exchanges: vec![],
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    fn only_item(pending: &[PendingAlert]) -> &AlertItem {
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(pending[0].content.items.len(), 1, "{pending:?}");
        &pending[0].content.items[0]
    }

    #[test]
    fn a_statement_fires_and_is_quoted_by_its_matching_paragraph() {
        let briefing = statement(&["First, on trade.", "Second, on Hong Kong.", "Third."]);
        let pending = plan_alerts(
            &rules(&["Hong Kong"], "both"),
            &BriefingEvent::New(&briefing),
        );
        let item = only_item(&pending);
        assert!(item.is_text());
        let (quoted, spans) = item.quoted();
        assert_eq!(quoted.answer, ["Second, on Hong Kong."]);
        // Unquoted words match each on its own: "Hong" and "Kong".
        let starts: Vec<(usize, usize)> = spans.iter().map(|s| (s.paragraph, s.start)).collect();
        assert_eq!(starts, [(0, 11), (0, 16)]);
        // The title is a paragraph of the text too.
        let pending = plan_alerts(&rules(&["law"], "both"), &BriefingEvent::New(&briefing));
        assert_eq!(
            only_item(&pending).quoted().0.answer,
            ["Spokesperson's Statement on the Law"]
        );
        // The briefing's own text is no question.
        let question_only = rules(&["Hong Kong"], "question");
        assert!(plan_alerts(&question_only, &BriefingEvent::New(&briefing)).is_empty());
        let gone = plan_alerts(
            &rules(&["Hong Kong"], "both"),
            &BriefingEvent::Gone(&briefing),
        );
        assert_eq!(only_item(&gone).change, ItemChange::Removed);
    }

    #[test]
    fn an_opening_revised_to_mention_a_term_fires_with_the_changed_paragraph_only() {
        let old = statement(&["Unchanged paragraph.", "On the region."]);
        let new = statement(&["Unchanged paragraph.", "On Hong Kong."]);
        let event = BriefingEvent::Revised {
            old: &old,
            new: &new,
            pairs: vec![],
        };
        let pending = plan_alerts(&rules(&["Hong Kong"], "both"), &event);
        assert_eq!(pending[0].content.event, AlertEvent::REVISED);
        let item = only_item(&pending);
        let diff = item.change.diff().expect("a diff");
        assert_eq!(diff.text, "On [-the-]{+Hong+} [-region-]{+Kong+}.");
        assert_eq!(item.quoted().0.answer, ["On Hong Kong."]);

        // Typography only: cosmetic, which rules do not fire on by default.
        let curly = statement(&["Unchanged paragraph.", "On \u{201c}Hong Kong\u{201d}."]);
        let straight = statement(&["Unchanged paragraph.", "On \"Hong Kong\"."]);
        let event = BriefingEvent::Revised {
            old: &straight,
            new: &curly,
            pairs: vec![],
        };
        assert!(plan_alerts(&rules(&["Hong Kong"], "both"), &event).is_empty());
    }
}
