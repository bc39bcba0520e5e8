//! The ingest pipeline's side of alerts: what it calls, inside its transaction, to queue alerts
//! for what it just stored, and the diff stage's exchange changes turned into alert pairs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tokio::sync::Notify;

use super::AlertError;
use super::outbox;
use super::plan::{BriefingEvent, Channel, ExchangePair, RenderedDiff, link_archive, plan_alerts};
use super::rule::RuleSet;
use crate::diff::{
    Change, ExchangeChange, Significance, render_exchange_html, render_exchange_text,
};
use crate::model::{Briefing, Exchange};

/// What the ingest pipeline needs to queue alerts while ingesting.
#[derive(Clone)]
pub struct IngestAlerts {
    pub rules: Arc<RuleSet>,
    /// Domain of the Message-IDs minted when alerts are queued (that of the `From` address).
    pub message_id_domain: String,
    /// Off while a first backfill or an import indexes the archive silently.
    pub enabled: Arc<AtomicBool>,
    /// Notified after a commit that queued alerts, so that the sender does not wait for its timer.
    pub wake: Arc<Notify>,
    /// Whether mail is queued: off without `[smtp]`, when only the rules' webhooks are served.
    pub mail: bool,
}

impl IngestAlerts {
    pub fn new(rules: RuleSet, message_id_domain: String, enabled: bool) -> IngestAlerts {
        IngestAlerts {
            rules: Arc::new(rules),
            message_id_domain,
            enabled: Arc::new(AtomicBool::new(enabled)),
            wake: Arc::new(Notify::new()),
            mail: true,
        }
    }

    /// Queues webhook posts only: nothing piles up for a mail server there is none of.
    pub fn without_mail(self) -> IngestAlerts {
        IngestAlerts {
            mail: false,
            ..self
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
    }

    /// Plans and queues the alerts of one event, inside the caller's transaction. Returns how many
    /// outbox rows were written or extended; nothing when alerts are switched off.
    pub fn queue_in(
        &self,
        conn: &Connection,
        event: &BriefingEvent,
        document_id: i64,
        revisions: Option<(u32, u32)>,
        now: DateTime<Utc>,
    ) -> Result<usize, AlertError> {
        if !self.is_enabled() || self.rules.is_empty() {
            return Ok(0);
        }
        let mut pending = plan_alerts(&self.rules, event);
        pending.retain(|alert| self.mail || alert.channel != Channel::Mail);
        if pending.is_empty() {
            return Ok(0);
        }
        link_archive(&mut pending, document_id, revisions);
        let ids = outbox::enqueue(conn, &pending, now, &self.message_id_domain)?;
        tracing::info!(
            event = "alerts_queued",
            count = ids.len(),
            document_id,
            "alerts queued"
        );
        Ok(ids.len())
    }
}

/// The diff stage's alignment as alert pairs: unchanged exchanges are left out, split and merged
/// ones are compared as joined text, and each pair carries the diff's own renders and verdict.
pub fn pairs_from_change(change: &Change, old: &Briefing, new: &Briefing) -> Vec<ExchangePair> {
    let find = |briefing: &Briefing, ordinal: u32| {
        briefing
            .exchanges
            .iter()
            .find(|exchange| exchange.ordinal == ordinal)
            .cloned()
    };
    let joined = |briefing: &Briefing, ordinals: &[u32]| {
        let parts: Vec<Exchange> = ordinals.iter().filter_map(|&o| find(briefing, o)).collect();
        let mut iter = parts.into_iter();
        let mut first = iter.next()?;
        for next in iter {
            first.question.extend(next.question);
            first.answer.extend(next.answer);
        }
        Some(first)
    };
    let rendered = |entry: &ExchangeChange| {
        Some(RenderedDiff {
            text: render_exchange_text(entry),
            html: render_exchange_html(entry),
        })
    };
    let cosmetic = |significance: Significance| significance <= Significance::Cosmetic;
    let mut pairs = Vec::new();
    for entry in &change.exchanges {
        let pair = match entry {
            ExchangeChange::Unchanged { .. } => continue,
            ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => ExchangePair {
                old: find(old, edit.old),
                new: find(new, edit.new),
                diff: rendered(entry),
                cosmetic: cosmetic(edit.significance),
            },
            ExchangeChange::Added { exchange, .. } => ExchangePair {
                old: None,
                new: Some(exchange.clone()),
                diff: None,
                cosmetic: false,
            },
            ExchangeChange::Removed { exchange, .. } => ExchangePair {
                old: Some(exchange.clone()),
                new: None,
                diff: None,
                cosmetic: false,
            },
            ExchangeChange::Split {
                old: before,
                new: after,
                significance,
                ..
            } => ExchangePair {
                old: find(old, *before),
                new: joined(new, after),
                diff: rendered(entry),
                cosmetic: cosmetic(*significance),
            },
            ExchangeChange::Merged {
                old: before,
                new: after,
                significance,
                ..
            } => ExchangePair {
                old: joined(old, before),
                new: find(new, *after),
                diff: rendered(entry),
                cosmetic: cosmetic(*significance),
            },
        };
        pairs.push(pair);
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DiffConfig;
    use crate::diff::diff;
    use crate::model::{Kind, Lang};

    fn briefing(answers: &[&str]) -> Briefing {
        Briefing {
            url: "https://www.fmprc.gov.cn/t1.shtml".into(),
            lang: Lang::En,
            kind: Kind::PressConference,
            title: "Regular Press Conference".into(),
            date: None,
            published_at: None,
            spokesperson: None,
            opening: vec![],
            exchanges: answers
                .iter()
                .enumerate()
                .map(|(i, answer)| Exchange {
                    ordinal: i as u32 + 1,
                    asker: "AFP".into(),
                    question: vec![format!(
                        "Question number {} about the region and its future?",
                        i + 1
                    )],
                    answer: vec![answer.to_string()],
                    after_conference: false,
                })
                .collect(),
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    #[test]
    fn the_diffs_changes_become_pairs_with_renders_and_verdicts() {
        let old = briefing(&[
            "We have stated our position on this issue many times.",
            "China's position is consistent and clear.",
            "I have no information to offer on that.",
        ]);
        let mut new = briefing(&[
            "We have stated our position on Taiwan many times.",
            "China’s position is consistent and clear.",
        ]);
        new.exchanges[1].answer = vec!["China\u{2019}s position is consistent and clear.".into()];
        let change = diff(&old, &new, &DiffConfig::default());
        let pairs = pairs_from_change(&change, &old, &new);
        let reworded = pairs
            .iter()
            .find(|p| {
                p.new
                    .as_ref()
                    .is_some_and(|e| e.answer[0].contains("Taiwan"))
            })
            .expect("the reworded exchange");
        assert!(!reworded.cosmetic);
        assert!(reworded.old.as_ref().unwrap().answer[0].contains("this issue"));
        let rendered = reworded.diff.as_ref().expect("a rendered diff");
        assert!(rendered.text.contains("Taiwan") && rendered.html.contains("Taiwan"));
        let removed = pairs
            .iter()
            .find(|p| p.new.is_none())
            .expect("the removed exchange");
        assert!(removed.old.as_ref().unwrap().answer[0].contains("no information"));
        if let Some(quotes) = pairs.iter().find(|p| {
            p.new
                .as_ref()
                .is_some_and(|e| e.answer[0].starts_with("China"))
        }) {
            assert!(quotes.cosmetic, "only the apostrophe changed: {quotes:?}");
        }
    }
}
