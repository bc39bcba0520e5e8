//! The service's dealings with the operating system: signals, systemd notifications
//! (`READY`, `STATUS`, `RELOADING`, `STOPPING`) and the watchdog fed by the poll loop's heartbeat.

use std::time::Duration;

use crate::config::Config;
use crate::daemon::Heartbeat;

/// What a signal asks the daemon to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM (systemctl stop) or SIGINT (Ctrl-C).
    Stop,
    /// SIGHUP (systemctl reload): re-read the configuration.
    Reload,
}

/// The signals the daemon reacts to, registered once at start so none is lost between waits.
pub struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.terminate.recv() => Signal::Stop,
            _ = self.interrupt.recv() => Signal::Stop,
            _ = self.hangup.recv() => Signal::Reload,
        }
    }
}

/// Tells systemd (`Type=notify`) about a state change; a no-op when not started by systemd.
pub fn notify(state: sd_notify::NotifyState<'_>) {
    if let Err(error) = sd_notify::notify(false, &[state]) {
        tracing::warn!(%error, "cannot notify systemd");
    }
}

/// The longest the loop may legitimately go without a beat: a whole tick of waiting, then two
/// pages (a robots.txt and the page) each spending every retry on timeouts and the longest backoff,
/// after the per-host pause.
pub fn heartbeat_allowance(config: &Config) -> Duration {
    let fetch = &config.fetch;
    let attempts = fetch.max_attempts.max(1);
    let page = fetch.timeout * attempts
        + fetch.backoff_max * (attempts - 1)
        + fetch.min_request_interval.mul_f64(1.5);
    config.schedule.tick + page * 2
}

/// Whether the watchdog may be told all is well: the loop beat within its allowance.
pub fn watchdog_should_ping(heartbeat_age: Duration, allowance: Duration) -> bool {
    heartbeat_age <= allowance
}

/// Pings the systemd watchdog at half its period while the poll loop's heartbeat is fresh: a loop
/// stuck on a lock or a database that fails every write stops the pings, and systemd restarts the
/// service. `None` when no watchdog is set (not under systemd, or `WatchdogSec=` off).
pub fn spawn_watchdog(
    heartbeat: Heartbeat,
    allowance: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut usec = 0;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return None;
    }
    let period = Duration::from_micros(usec / 2);
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stalled = false;
        loop {
            ticker.tick().await;
            let age = heartbeat.age();
            if watchdog_should_ping(age, allowance) {
                if stalled {
                    tracing::info!(event = "progress", "the poll loop makes progress again");
                    stalled = false;
                }
                notify(sd_notify::NotifyState::Watchdog);
            } else if !stalled {
                stalled = true;
                tracing::error!(
                    event = "stalled",
                    age = %humantime::format_duration(Duration::from_secs(age.as_secs())),
                    "the poll loop has made no progress; withholding watchdog pings"
                );
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_is_fed_only_while_the_heartbeat_is_within_its_allowance() {
        let config = Config::default();
        // 30 s tick, then twice (4 × 60 s timeouts + 3 × 120 s backoff + 3 s pause).
        assert_eq!(
            heartbeat_allowance(&config),
            Duration::from_secs(30 + 2 * 603)
        );
        let allowance = Duration::from_secs(60);
        assert!(watchdog_should_ping(Duration::from_secs(59), allowance));
        assert!(watchdog_should_ping(allowance, allowance));
        assert!(!watchdog_should_ping(Duration::from_secs(61), allowance));
        let heartbeat = Heartbeat::new();
        heartbeat.beat();
        assert!(heartbeat.age() < Duration::from_secs(1));
    }
}
