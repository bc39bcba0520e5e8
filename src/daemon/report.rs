//! What a poll cycle, a backfill or an import did: counts by outcome, told to the log, the CLI
//! and the progress display.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::fetch::Outcome;

/// A page a backfill or an import has just handled, told to a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// The listing page or article.
    pub url: &'a str,
    /// Pages in all, when known: an import knows the lines of its manifest; a backfill learns the
    /// length of its walk as it goes, and tells none.
    pub total: Option<u64>,
}

/// Told of each [`Step`] of a backfill or an import.
pub type ProgressHook = Box<dyn FnMut(Step<'_>) + Send>;

/// Counts of one cycle, one backfill or one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Requests by outcome.
    pub outcomes: BTreeMap<String, u64>,
    pub listings: u64,
    pub articles: u64,
    pub new_documents: u64,
    pub new_revisions: u64,
    /// Articles fetched (or answered 304) whose content had not changed.
    pub unchanged: u64,
    pub events: u64,
    /// Pages skipped because robots.txt disallows them or their host is blocked.
    pub skipped: u64,
    /// Pages not asked for because their host cannot be reached (or its robots.txt cannot be
    /// read); they are due again once the host answers.
    pub unreachable: u64,
    /// Listing links ignored: not `http`/`https` on a host and port of the site.
    pub off_site: u64,
    /// New listing items left for the next cycle (over `fetch.max_new_per_page` or
    /// `fetch.max_new_per_cycle`).
    pub deferred: u64,
    /// Pages whose processing failed in the archive (logged, the loop went on).
    pub errors: u64,
}

impl Report {
    pub(super) fn count(&mut self, outcome: Outcome) {
        *self
            .outcomes
            .entry(outcome.as_str().to_string())
            .or_default() += 1;
    }

    /// Pages that failed: fetches that ended `transient`, `blocked` or `unparseable`, pages not
    /// asked for because the host could not be reached, and pages the archive could not take.
    pub fn failed(&self) -> u64 {
        let outcome = |name: &str| self.outcomes.get(name).copied().unwrap_or(0);
        outcome("transient")
            + outcome("blocked")
            + outcome("unparseable")
            + self.unreachable
            + self.errors
    }

    pub fn summary(&self) -> String {
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let count = |count: u64, one: &str, many: &str| {
            if count == 1 {
                format!("1 {one}")
            } else {
                format!("{count} {many}")
            }
        };
        format!(
            "{}, {}: {}, {}, {} unchanged, {}, {} skipped, {} unreachable, {} ignored, {} deferred, {} [{}]",
            count(self.listings, "listing page", "listing pages"),
            count(self.articles, "article", "articles"),
            count(self.new_documents, "new document", "new documents"),
            count(self.new_revisions, "new revision", "new revisions"),
            self.unchanged,
            count(self.events, "event", "events"),
            self.skipped,
            self.unreachable,
            count(self.off_site, "off-site link", "off-site links"),
            count(self.deferred, "new item", "new items"),
            count(self.errors, "error", "errors"),
            outcomes.join(" ")
        )
    }
}
