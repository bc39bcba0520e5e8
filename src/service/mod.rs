//! The daemon as one library function: [`start`] assembles the runtime and every task (the poll
//! loop, the HTTP server, the outbox sender, the watchdog), answers stop and reload, and ends them
//! all cleanly; [`Running`] tells where it listens and waits for that end.
//!
//! `briefwatch run` starts it with the system clock and the process's signals; a test starts it
//! in-process with a clock of its own, port 0 and a [`Control`] to stop it. Only this module
//! spawns tasks and threads (extraction's blocking calls and the web handlers' reads aside, which
//! run and end within one request).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use sd_notify::NotifyState;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::alert::{IngestAlerts, RuleSet, Sender};
use crate::api::{self, ApiState};
use crate::config::Config;
use crate::daemon::{self, Clock, Engine, Heartbeat, Report};
use crate::feed::{FeedSettings, Publisher};
use crate::serve::{self, HealthBoard, ServeState};
use crate::store::Store;
use crate::web::{self, Readers, WebState};

pub mod alerts;
mod monitor;
pub mod systemd;

use monitor::Monitor;
pub use systemd::Signal;
use systemd::{Signals, notify};

/// Reads the configuration again on reload (SIGHUP or [`Control::reload`]).
pub type ConfigSource = Box<dyn FnMut() -> anyhow::Result<Config> + Send>;

/// What [`start`] needs.
pub struct Options {
    /// The configuration in force at start.
    pub config: Config,
    /// The archive of `config` (`archive.database_path()`), open for writing.
    pub store: Store,
    /// Where the configuration is read again on reload; by default the start's, unchanged.
    pub reload: ConfigSource,
    /// The time every schedule, status line and feed date is computed from.
    pub clock: Arc<dyn Clock>,
    /// Listen here instead of `[http] listen` (a test binds `127.0.0.1:0`).
    pub listen: Option<SocketAddr>,
    /// Queue alerts even when the first cycle fills an empty archive (`run --alerts`).
    pub alerts_from_start: bool,
    /// Also obey SIGTERM and SIGINT (stop) and SIGHUP (reload), as a daemon does.
    pub os_signals: bool,
    /// Stops or reloads the service from within the process.
    pub control: Control,
}

impl Options {
    /// The service of `config` on `store`: system clock, `[http] listen`, no OS signals, reload
    /// keeping the same configuration.
    pub fn new(config: Config, store: Store) -> Options {
        let same = config.clone();
        Options {
            config,
            store,
            reload: Box::new(move || Ok(same.clone())),
            clock: Arc::new(daemon::SystemClock),
            listen: None,
            alerts_from_start: false,
            os_signals: false,
            control: Control::default(),
        }
    }
}

/// A handle that stops or reloads a running service: cloned freely, usable from any thread, and
/// before [`start`] (a stop asked before is obeyed at once).
#[derive(Debug, Clone, Default)]
pub struct Control {
    inner: Arc<ControlInner>,
}

#[derive(Debug, Default)]
struct ControlInner {
    asked: Mutex<VecDeque<Signal>>,
    wake: Notify,
}

impl Control {
    /// Ends the service as SIGTERM does: no new work, every task stopped, the archive closed.
    pub fn stop(&self) {
        self.send(Signal::Stop);
    }

    /// Reads the configuration again, as SIGHUP does.
    pub fn reload(&self) {
        self.send(Signal::Reload);
    }

    fn send(&self, signal: Signal) {
        self.inner
            .asked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push_back(signal);
        self.inner.wake.notify_one();
    }

    async fn next(&self) -> Signal {
        loop {
            let asked = self
                .inner
                .asked
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop_front();
            if let Some(signal) = asked {
                return signal;
            }
            self.inner.wake.notified().await;
        }
    }
}

/// Where stop and reload come from: the [`Control`], and the process's signals when asked for.
struct Requests {
    control: Control,
    os: Option<Signals>,
}

impl Requests {
    async fn next(&mut self) -> Signal {
        match &mut self.os {
            Some(os) => tokio::select! {
                signal = os.next() => signal,
                signal = self.control.next() => signal,
            },
            None => self.control.next().await,
        }
    }
}

/// A started service.
pub struct Running {
    addr: SocketAddr,
    thread: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// The address the HTTP server is bound to (the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the service has ended (after a stop): every task finished, the archive closed.
    pub fn wait(self) -> anyhow::Result<()> {
        match self.thread.join() {
            Ok(result) => result,
            Err(_) => anyhow::bail!("the service thread panicked"),
        }
    }
}

/// How long the alert sender gets to finish on stop: well inside the unit's TimeoutStopSec=30s.
const SENDER_STOP_GRACE: Duration = Duration::from_secs(15);

/// Starts the service: the archive's alert wiring, the feeds, the routes and the engine set up,
/// signal handlers installed and the HTTP listener bound before it returns (a port clash or a bad
/// section of the configuration is an error here, before systemd hears READY); then the feeds
/// rendered, the tasks spawned and READY sent on a thread of its own.
pub fn start(options: Options) -> anyhow::Result<Running> {
    // Worker threads serve HTTP and deliver mail while the poll loop runs on the service thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Entered, not blocked on: `start` may be called from async code (a test) as well as from
    // `main`; for the same reason a failed start shuts the runtime down without waiting.
    let entered = runtime.enter();
    let prepared = prepare(options);
    drop(entered);
    let parts = match prepared {
        Ok(parts) => parts,
        Err(error) => {
            runtime.shutdown_background();
            return Err(error);
        }
    };
    let addr = parts.addr;
    let thread = std::thread::Builder::new()
        .name("briefwatch-service".to_string())
        .spawn(move || {
            let result = runtime.block_on(serve_until_stopped(parts));
            // A page still being extracted on a blocking thread must not hold the exit past the
            // unit's TimeoutStopSec: dropping the runtime would wait for it.
            runtime.shutdown_background();
            result
        })
        .context("cannot start the service thread")?;
    Ok(Running { addr, thread })
}

/// Everything [`start`] prepares for the service thread.
struct Parts {
    engine: Engine,
    reload: ConfigSource,
    clock: Arc<dyn Clock>,
    publisher: Publisher,
    listener: TcpListener,
    /// The bound address, and the one the configuration asked for.
    addr: SocketAddr,
    configured_listen: SocketAddr,
    router: axum::Router,
    health: HealthBoard,
    ingest_alerts: Option<IngestAlerts>,
    sender: Option<Sender>,
    first_fill: bool,
    requests: Requests,
}

fn prepare(options: Options) -> anyhow::Result<Parts> {
    let Options {
        config,
        store,
        reload,
        clock,
        listen,
        alerts_from_start,
        os_signals,
        control,
    } = options;
    alerts::check_delivery(&config, alerts_from_start)?;
    // The first cycle of an empty archive indexes silently rather than mailing every briefing.
    let first_fill = !alerts_from_start && alerts::archive_is_empty(&store)?;
    let ingest_alerts = alerts::attach(&config, !first_fill)?;
    let sender = alerts::sender(&config)?;
    let publisher = Publisher::new(&config)?;
    let os = if os_signals {
        Some(Signals::new().context("cannot install signal handlers")?)
    } else {
        None
    };
    // Bound before READY: a port clash fails the start instead of a running daemon without feeds.
    let listener = serve::bind_now(listen.unwrap_or(config.http.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    let health = HealthBoard::default();
    let router = routes(&config, &publisher, &health, &clock)?;
    let configured_listen = config.http.listen;
    let mut engine = Engine::new(config, store)?;
    engine.set_alerts(ingest_alerts.clone());
    Ok(Parts {
        engine,
        reload,
        clock,
        publisher,
        listener,
        addr,
        configured_listen,
        router,
        health,
        ingest_alerts,
        sender,
        first_fill,
        requests: Requests { control, os },
    })
}

/// Every route the server answers: the feeds and `/healthz`, the JSON API and the web view, each
/// reading the archive through connections of its own.
fn routes(
    config: &Config,
    publisher: &Publisher,
    health: &HealthBoard,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<axum::Router> {
    let database = config.archive.database_path();
    let api_state = ApiState::new(
        Arc::new(Readers::open(&database, 2)?),
        publisher.feeds(),
        FeedSettings::from_config(config)?,
        config.diff.clone(),
    );
    let page_clock = clock.clone();
    let pages = WebState {
        readers: Arc::new(Readers::open(&database, 2)?),
        clock: Arc::new(move || page_clock.now()),
    };
    Ok(serve::router(ServeState {
        feeds: publisher.feeds(),
        health: health.clone(),
    })
    .merge(api::routes(api_state))
    .merge(web::routes(pages)))
}

async fn serve_until_stopped(parts: Parts) -> anyhow::Result<()> {
    let Parts {
        mut engine,
        mut reload,
        clock,
        mut publisher,
        listener,
        addr,
        configured_listen,
        router,
        health,
        ingest_alerts,
        sender,
        first_fill,
        mut requests,
    } = parts;
    tracing::info!(addr = %addr, "serving feeds");
    if let Err(error) = publisher.publish(engine.store(), clock.now()) {
        tracing::error!(%error, "cannot render the feeds");
    }
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = engine.config().http.clone();
    let server = tokio::spawn(async move {
        serve::serve_with(listener, router, &http, async move {
            let _ = server_stopped.await;
        })
        .await
    });
    let (stop_sender, sender_stopped) = tokio::sync::oneshot::channel::<()>();
    // Alarm mails to the operator go through the outbox too, so the sender runs whenever
    // there is an [smtp] section (or webhooks), alert rules or not.
    let wake = ingest_alerts
        .as_ref()
        .map_or_else(Default::default, |alerts| alerts.wake.clone());
    let sender_task = sender.map(|sender| {
        tokio::spawn(sender.run(wake.clone(), async move {
            let _ = sender_stopped.await;
        }))
    });
    let heartbeat = Heartbeat::new();
    engine.set_heartbeat(heartbeat.clone());
    notify(NotifyState::Ready);
    // Rendering the feeds and opening the archive peaked well above what idling needs.
    daemon::release_free_memory();
    let mut watchdog = systemd::spawn_watchdog(
        heartbeat.clone(),
        systemd::heartbeat_allowance(engine.config()),
    );
    let mut monitor = Monitor::new(wake.clone(), health, clock.clone());
    monitor.report(&engine, None);
    let mut stopping = false;
    if let (true, Some(alerts)) = (first_fill, &ingest_alerts) {
        tracing::info!(
            event = "first_fill",
            "empty archive: the first cycle indexes without alerts"
        );
        tokio::select! {
            signal = requests.next() => stopping = signal == Signal::Stop,
            report = engine.poll_cycle(&*clock, false) => {
                heartbeat.beat();
                republish(&publisher, &engine, &report, &*clock);
                monitor.report(&engine, Some(&report));
            }
        }
        alerts.set_enabled(true);
    }
    loop {
        if stopping {
            break;
        }
        let mut received = Signal::Stop;
        let shutdown = async { received = requests.next().await };
        daemon::run_with(&mut engine, &*clock, shutdown, |engine, report| {
            republish(&publisher, engine, report, &*clock);
            monitor.report(engine, Some(report));
        })
        .await;
        if received == Signal::Stop {
            stopping = true;
            continue;
        }
        notify(NotifyState::Reloading);
        match reload() {
            Ok(new_config) => {
                if new_config.http.listen != configured_listen {
                    tracing::warn!(addr = %new_config.http.listen, "a new [http] listen address takes effect on restart");
                }
                publisher.reconfigure(&new_config)?;
                let store = engine.into_store();
                let reattached = reattach_alerts(&new_config, ingest_alerts.as_ref())?;
                engine = Engine::new(new_config, store)?;
                engine.set_alerts(reattached);
                engine.set_heartbeat(heartbeat.clone());
                if let Some(old) = watchdog.take() {
                    old.abort();
                }
                watchdog = systemd::spawn_watchdog(
                    heartbeat.clone(),
                    systemd::heartbeat_allowance(engine.config()),
                );
                if let Err(error) = publisher.publish(engine.store(), clock.now()) {
                    tracing::error!(%error, "cannot render the feeds");
                }
                tracing::info!("configuration reloaded");
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "configuration not reloaded, keeping the running one"
                )
            }
        }
        notify(NotifyState::Ready);
        monitor.report(&engine, None);
    }
    // The poll loop has stopped at an await point, so no archive transaction is open: each
    // one is synchronous and was either committed or never begun.
    notify(NotifyState::Stopping);
    notify(NotifyState::Status("stopping"));
    tracing::info!(event = "stopping", "stopping: no new work is taken");
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    let _ = stop_sender.send(());
    if let Some(task) = sender_task {
        // The sender finishes the message in hand; a mail server that hangs must not hold the
        // stop past TimeoutStopSec (a message cut short is resent once, same Message-ID).
        if tokio::time::timeout(SENDER_STOP_GRACE, task).await.is_err() {
            tracing::warn!(
                event = "stopping",
                "the alert sender did not stop in time; its message in flight is retried at next start"
            );
        }
    }
    let _ = stop_server.send(());
    server.await.context("feed server task")??;
    drop(engine);
    anyhow::Ok(())
}

/// Re-renders the feeds after a cycle that stored something, or when another process wrote to
/// the archive since the last render (checked at every tick).
fn republish(publisher: &Publisher, engine: &Engine, report: &Report, clock: &dyn Clock) {
    let wrote = report.new_revisions + report.events > 0;
    match publisher.publish_if_changed(engine.store(), wrote, clock.now()) {
        Ok(Some(changed)) if !changed.is_empty() => {
            tracing::info!(feeds = %changed.join(" "), "feeds updated")
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "cannot render the feeds"),
    }
}

/// New alert rules take effect on reload; the running sender keeps its wake-up and on/off switch,
/// while a changed `[smtp]` or `[[webhook]]` section needs a restart.
fn reattach_alerts(
    config: &Config,
    running: Option<&IngestAlerts>,
) -> anyhow::Result<Option<IngestAlerts>> {
    let Some(running) = running else {
        if alerts::deliverable(config) {
            tracing::warn!(
                "alert rules added to a daemon started without them take effect on restart"
            );
        }
        return Ok(None);
    };
    let rules = RuleSet::compile(&config.alerts)?;
    Ok(Some(IngestAlerts {
        rules: Arc::new(rules),
        ..running.clone()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_control_hands_over_requests_in_order_even_those_asked_before_anyone_waits() {
        let control = Control::default();
        control.reload();
        control.stop();
        let mut requests = Requests {
            control: control.clone(),
            os: None,
        };
        assert_eq!(requests.next().await, Signal::Reload);
        assert_eq!(requests.next().await, Signal::Stop);
        // A request from another thread wakes a waiting service.
        let asker = control.clone();
        let waiting = tokio::spawn(async move { requests.next().await });
        std::thread::spawn(move || asker.stop()).join().unwrap();
        assert_eq!(waiting.await.unwrap(), Signal::Stop);
    }
}
