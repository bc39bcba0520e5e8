//! What `systemctl status` shows (`STATUS=`) and what `/healthz` and the alarms say about the
//! engine's sources, read from its archive.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Engine, health};
use crate::store::StoreError;

/// What `systemctl status` shows after a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusFacts {
    pub last_poll: Option<DateTime<Utc>>,
    /// Earliest listing or document check due.
    pub next_poll: Option<DateTime<Utc>>,
    pub queued_mails: u64,
    pub blocked_hosts: Vec<String>,
    /// One line of every alarm raised, empty when all is well.
    pub alarms: String,
}

/// The `STATUS=` text: short, in the order a person scans it.
pub fn status_line(facts: &StatusFacts, now: DateTime<Utc>) -> String {
    let time = |at: Option<DateTime<Utc>>| {
        at.map_or("never".to_string(), |at| {
            at.format("%Y-%m-%d %H:%M UTC").to_string()
        })
    };
    let next = match facts.next_poll {
        Some(at) if at <= now => "now".to_string(),
        Some(at) => {
            let wait = (at - now).to_std().unwrap_or_default();
            format!(
                "in {}",
                humantime::format_duration(Duration::from_secs(wait.as_secs().max(1) / 60 * 60))
            )
            .replace("in 0s", "in under a minute")
        }
        None => "nothing scheduled".to_string(),
    };
    let blocked = if facts.blocked_hosts.is_empty() {
        "none".to_string()
    } else {
        facts.blocked_hosts.join(", ")
    };
    let mut line = format!(
        "last poll {}; next {next}; {} mail(s) queued; blocked: {blocked}",
        time(facts.last_poll),
        facts.queued_mails
    );
    if !facts.alarms.is_empty() {
        line = format!("ALARM {} | {line}", facts.alarms);
    }
    line
}

impl Engine {
    /// Gathers [`StatusFacts`] from the archive; `last_poll` is the caller's.
    pub fn status_facts(&self, now: DateTime<Utc>) -> Result<StatusFacts, StoreError> {
        let next_poll = self.store.next_check()?;
        let queued_mails = self.store.outbox_pending()?;
        let blocked_hosts = self
            .store
            .blocked_hosts(now)?
            .into_iter()
            .map(|(host, until)| format!("{host} until {until}"))
            .collect();
        let alarms = self.alarms(now)?;
        Ok(StatusFacts {
            last_poll: None,
            next_poll,
            queued_mails,
            blocked_hosts,
            alarms: health::alarm_summary(&alarms),
        })
    }

    /// Why `/healthz` should not say ok at `now`, if every source is failing (see
    /// [`health::unhealthy`]).
    pub fn unhealthy(&self, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        let names: Vec<&str> = self
            .config
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let failures = health::failures(&self.store, &names)?;
        Ok(health::unhealthy(
            now,
            &failures,
            self.config.service.unhealthy_after,
        ))
    }

    /// The alarms at `now` (see [`health`]).
    pub fn alarms(&self, now: DateTime<Utc>) -> Result<Vec<health::Alarm>, StoreError> {
        let names: Vec<&str> = self
            .config
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        health::check(
            &self.store,
            now,
            &names,
            &self.config.service,
            &self.config.schedule,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_status_line_reads_as_a_sentence() {
        let now = utc("2020-07-02T08:00:00Z");
        let facts = StatusFacts {
            last_poll: Some(utc("2020-07-02T07:59:30Z")),
            next_poll: Some(utc("2020-07-02T08:10:00Z")),
            queued_mails: 2,
            blocked_hosts: vec![],
            alarms: String::new(),
        };
        assert_eq!(
            status_line(&facts, now),
            "last poll 2020-07-02 07:59 UTC; next in 10m; 2 mail(s) queued; blocked: none"
        );
        let alarmed = StatusFacts {
            blocked_hosts: vec!["www.fmprc.gov.cn until 2020-07-02T14:00:00Z".into()],
            alarms: "mfa-en stale: no press conference".into(),
            next_poll: Some(utc("2020-07-02T07:00:00Z")),
            ..facts
        };
        assert_eq!(
            status_line(&alarmed, now),
            "ALARM mfa-en stale: no press conference | last poll 2020-07-02 07:59 UTC; next now; 2 mail(s) queued; blocked: www.fmprc.gov.cn until 2020-07-02T14:00:00Z"
        );
    }
}
