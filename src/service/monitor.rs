//! After every cycle, what the service tells about the watch: alarms in the log and by mail to
//! the operator, `/healthz`'s verdict, and systemd's `STATUS=` line.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sd_notify::NotifyState;
use tokio::sync::Notify;

use super::systemd::notify;
use crate::alert::outbox;
use crate::alert::plan::Notice;
use crate::daemon::health::{Alarm, alarm_mail_due};
use crate::daemon::status::status_line;
use crate::daemon::{Clock, Engine, Report};
use crate::serve::HealthBoard;

/// Tells systemd (`STATUS=`) and the log how the watch is going, after every cycle.
pub(super) struct Monitor {
    last_poll: Option<DateTime<Utc>>,
    /// The alarms raised at the last look, to log each once when it appears and when it clears.
    raised: BTreeSet<(String, &'static str)>,
    /// Wakes the outbox sender after an alarm mail is queued.
    wake: Arc<Notify>,
    /// What `/healthz` answers.
    health: HealthBoard,
    clock: Arc<dyn Clock>,
}

impl Monitor {
    pub(super) fn new(wake: Arc<Notify>, health: HealthBoard, clock: Arc<dyn Clock>) -> Monitor {
        Monitor {
            last_poll: None,
            raised: BTreeSet::new(),
            wake,
            health,
            clock,
        }
    }

    pub(super) fn report(&mut self, engine: &Engine, cycle: Option<&Report>) {
        let now = self.clock.now();
        if cycle.is_some() {
            self.last_poll = Some(now);
        }
        let alarms = match engine.alarms(now) {
            Ok(alarms) => alarms,
            Err(error) => {
                tracing::error!(%error, "cannot check the sources' health");
                Vec::new()
            }
        };
        let current: BTreeSet<(String, &'static str)> = alarms
            .iter()
            .map(|alarm| (alarm.source.clone(), alarm.kind))
            .collect();
        for alarm in &alarms {
            if !self.raised.contains(&(alarm.source.clone(), alarm.kind)) {
                tracing::warn!(source = %alarm.source, event = "alarm", outcome = alarm.kind, since = %alarm.since, "{}", alarm.message);
            }
        }
        for (source, kind) in self.raised.difference(&current) {
            tracing::info!(source = %source, event = "alarm_cleared", outcome = *kind, "alarm cleared");
        }
        self.raised = current;
        match engine.unhealthy(now) {
            Ok(verdict) => {
                if verdict.is_some() && self.health.verdict().is_none() {
                    tracing::warn!(event = "unhealthy", "{}", verdict.as_deref().unwrap_or(""));
                } else if verdict.is_none() && self.health.verdict().is_some() {
                    tracing::info!(event = "healthy", "a source is fetched again");
                }
                self.health.set(verdict);
            }
            Err(error) => tracing::error!(%error, "cannot check the sources' failures"),
        }
        if let Err(error) = mail_operator(engine, &alarms, now) {
            tracing::error!(error = format!("{error:#}"), "cannot queue an alarm mail");
        } else if !alarms.is_empty() {
            self.wake.notify_one();
        }
        match engine.status_facts(now) {
            Ok(mut facts) => {
                facts.last_poll = self.last_poll;
                let line = status_line(&facts, now);
                notify(NotifyState::Status(&line));
            }
            Err(error) => tracing::error!(%error, "cannot read the service status"),
        }
    }
}

/// Queues one mail per alarm to `[service] operator`, unless one about the same alarm was queued
/// within `alarm_repeat` (the outbox remembers, so a restart does not mail again).
fn mail_operator(engine: &Engine, alarms: &[Alarm], now: DateTime<Utc>) -> anyhow::Result<()> {
    let config = engine.config();
    let (Some(operator), Some(smtp)) = (&config.service.operator, &config.smtp) else {
        return Ok(());
    };
    let conn = engine.store().connection();
    for alarm in alarms {
        let key = format!("alarm:{}:{}", alarm.source, alarm.kind);
        let last = outbox::last_notice_at(conn, operator, &key)?;
        if !alarm_mail_due(now, last, config.service.alarm_repeat) {
            continue;
        }
        let notice = Notice {
            key,
            subject: format!("[briefwatch] alarm: {} {}", alarm.source, alarm.kind),
            text: format!(
                "briefwatch on {host}: source {source} is {kind} since {since}.\n\n{message}\n\n\
                 `briefwatch status` shows the details; this mail is repeated at most every {repeat} \
                 while the problem lasts.\n",
                host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|name| name.trim().to_string())
                    .unwrap_or_else(|_| "this host".to_string()),
                source = alarm.source,
                kind = alarm.kind,
                since = crate::store::format_time(alarm.since),
                message = alarm.message,
                repeat = humantime::format_duration(config.service.alarm_repeat),
            ),
        };
        outbox::enqueue_notice(conn, operator, notice, now, &smtp.message_id_domain())?;
        tracing::info!(source = %alarm.source, event = "alarm_mail", outcome = alarm.kind, "alarm mail queued for the operator");
    }
    Ok(())
}
