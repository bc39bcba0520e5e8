//! The daemon as a service, through the real binary: systemd notifications on a real
//! `NOTIFY_SOCKET`, signals, journald log lines, faults (SIGKILL, an unwritable state directory, a
//! full disk, a corrupt archive, a config typo) and backups.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::smtp_server::SmtpServer;
use crate::support::{SiteServer, TestEnv, alert_config, count, fixture_site, test_config};

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_briefwatch")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The datagram socket systemd would listen on, drained by a thread as systemd does (a full socket
/// queue would block the daemon's sends), and every message received so far.
struct NotifySocket {
    path: std::path::PathBuf,
    messages: std::sync::mpsc::Receiver<String>,
    received: Vec<String>,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind notify socket");
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = socket.recv(&mut buffer) {
                for line in String::from_utf8_lossy(&buffer[..n]).lines() {
                    if sender.send(line.to_string()).is_err() {
                        return;
                    }
                }
            }
        });
        NotifySocket {
            path,
            messages,
            received: Vec::new(),
        }
    }

    /// Waits for a message line satisfying `wanted`, keeping everything read; its index.
    fn wait_for(&mut self, wanted: impl Fn(&str) -> bool, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let Ok(line) = self.messages.recv_timeout(left) else {
                return None;
            };
            let found = wanted(&line);
            self.received.push(line);
            if found {
                return Some(self.received.len() - 1);
            }
        }
    }
    /// Reads for `duration`, counting lines equal to `line`.
    fn count_for(&mut self, line: &str, duration: Duration) -> usize {
        let before = self.received.len();
        let _ = self.wait_for(|_| false, duration);
        self.received[before..]
            .iter()
            .filter(|m| *m == line)
            .count()
    }
}

/// `briefwatch run` under a fake systemd: the notify socket, a 400 ms watchdog whose
/// `WATCHDOG_PID` is the daemon's own pid (the shell's `$$` survives its `exec`).
fn spawn_notified_daemon(env: &TestEnv, notify: &NotifySocket) -> Child {
    // A file, not a pipe nobody drains: a full pipe would block the daemon's logging.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(daemon_log(env))
        .unwrap();
    Command::new("sh")
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$@\"")
        .arg("sh")
        .arg(binary())
        .arg("--config")
        .arg(&env.config)
        .arg("--state")
        .arg(&env.state)
        .arg("run")
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "400000")
        .env("RUST_LOG", "info,html5ever=error")
        .env_remove("BRIEFWATCH_CONFIG")
        .env_remove("BRIEFWATCH_STATE")
        .env_remove("JOURNAL_STREAM")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn daemon")
}

fn daemon_log(env: &TestEnv) -> std::path::PathBuf {
    env.dir.path().join("daemon.log")
}

fn send_signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// A daemon of the fixture site on a short tick, its web view on a port of its own: (env, port).
fn daemon_env(site: &SiteServer) -> (TestEnv, u16) {
    let port = free_port();
    let config = test_config(site, "\n[schedule]\ntick = \"300ms\"\n").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    (TestEnv::with_config(&config), port)
}

#[test]
fn under_systemd_the_daemon_notifies_ready_watchdog_status_reload_and_stopping() {
    let site = SiteServer::start(fixture_site());
    let (env, port) = daemon_env(&site);
    let mut notify = NotifySocket::bind(env.dir.path());
    let mut child = spawn_notified_daemon(&env, &notify);

    let ready = notify.wait_for(|m| m == "READY=1", Duration::from_secs(20));
    assert!(ready.is_some(), "READY=1 never came: {:?}", notify.received);
    // The listener was bound before READY: the very next connection is served.
    let health = http_get(port, "/healthz").expect("listener accepts right after READY");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Polling (a cycle every 300 ms) keeps the watchdog fed at half its 400 ms period.
    let pings = notify.count_for("WATCHDOG=1", Duration::from_secs(2));
    assert!(
        pings >= 5,
        "{pings} watchdog pings in 2 s: {:?}",
        notify.received
    );
    let status = notify
        .received
        .iter()
        .rev()
        // After 21:00 Beijing time on a weekday the line starts with the stale alarm (the fixture
        // site has no briefing of today): `STATUS=ALARM … | last poll …`.
        .find(|m| m.starts_with("STATUS=") && m.contains("last poll"))
        .cloned();
    let status = status.expect("a STATUS= line after the cycles");
    assert!(status.contains("mail(s) queued"), "{status}");
    assert!(status.contains("blocked: none"), "{status}");
    assert!(!status.contains("last poll never"), "{status}");

    // A broken config on reload: the old one stays in force, the daemon goes on and is ready again.
    let good = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(&env.config, format!("{good}\n[fetch]\ncontact = \"dup\"\n")).unwrap();
    let before_reload = notify.received.len();
    send_signal(&child, "HUP");
    assert!(
        notify
            .wait_for(|m| m == "RELOADING=1", Duration::from_secs(10))
            .is_some(),
        "RELOADING=1: {:?}",
        &notify.received[before_reload..]
    );
    assert!(
        notify
            .wait_for(|m| m == "READY=1", Duration::from_secs(10))
            .is_some(),
        "READY=1 after the reload"
    );
    assert!(child.try_wait().unwrap().is_none(), "alive after SIGHUP");
    assert!(
        http_get(port, "/healthz")
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    assert!(notify.count_for("WATCHDOG=1", Duration::from_secs(1)) >= 2);

    send_signal(&child, "TERM");
    assert!(
        notify
            .wait_for(|m| m == "STOPPING=1", Duration::from_secs(10))
            .is_some(),
        "STOPPING=1 on SIGTERM"
    );
    let status = wait_exit(&mut child, Duration::from_secs(20)).expect("exits after SIGTERM");
    assert!(status.success(), "{status}");
    let stderr = std::fs::read_to_string(daemon_log(&env)).unwrap();
    assert!(
        stderr.contains("configuration not reloaded"),
        "the rejected reload is logged: {stderr}"
    );
    assert!(stderr.contains("duplicate key"), "{stderr}");
}

#[test]
fn without_systemd_the_daemon_runs_and_stops_the_same() {
    let site = SiteServer::start(fixture_site());
    let (env, port) = daemon_env(&site);
    let mut child = env
        .command()
        .arg("run")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while http_get(port, "/healthz").is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "never served");
        std::thread::sleep(Duration::from_millis(50));
    }
    send_signal(&child, "INT");
    let status = wait_exit(&mut child, Duration::from_secs(20)).expect("exits on SIGINT");
    assert!(status.success(), "{status}");
}

fn message_id(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .find(|line| line.to_ascii_lowercase().starts_with("message-id:"))
        .map(|line| line["message-id:".len()..].trim().to_string())
}

fn alert_env(site: &SiteServer, smtp_port: u16) -> TestEnv {
    let config = test_config(
        site,
        &alert_config("china", r#"["China", "中国"]"#, smtp_port),
    )
    // Paced, so that a kill lands in the middle of the walk rather than after it.
    .replace(
        "min_request_interval = \"0s\"",
        "min_request_interval = \"40ms\"",
    );
    TestEnv::with_config(&config)
}

fn outbox_by_message_id(env: &TestEnv) -> HashMap<String, String> {
    let store = env.store();
    let mut statement = store
        .connection()
        .prepare("SELECT message_id, state FROM outbox")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_twenty_times_during_a_backfill_with_alerts_loses_and_duplicates_nothing() {
    // The same backfill without interruption, for what a complete run stores and mails.
    let reference_smtp = SmtpServer::start().await;
    let site = SiteServer::start(fixture_site());
    let reference = alert_env(&site, reference_smtp.port());
    let output = tokio::task::spawn_blocking({
        let mut command = reference.command();
        command.args(["backfill", "--alerts"]);
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    crate::support::assert_success(&output, &["backfill", "--alerts"]);
    let expected_revisions = count(&reference.store(), "revisions");
    let expected_mails = reference_smtp.received().len();
    assert!(expected_revisions > 0 && expected_mails > 0);

    let smtp = SmtpServer::start().await;
    let env = alert_env(&site, smtp.port());
    let mut killed = 0;
    for round in 0..20 {
        let mut child = env
            .command()
            .args(["backfill", "--alerts"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let delay = rand::thread_rng().gen_range(0..900);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        let status = tokio::task::spawn_blocking(move || {
            let status = child.wait().unwrap();
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            (status, stderr)
        })
        .await
        .unwrap();
        // A run that was not killed must have succeeded (never refused a half-written archive).
        if status.0.code().is_some() {
            assert!(status.0.success(), "round {round}: {}", status.1);
        }
        if env.database().exists() {
            assert_eq!(
                env.store().integrity_check().unwrap(),
                "ok",
                "round {round}"
            );
        }
    }
    assert!(killed > 0, "no run was interrupted");

    let output = tokio::task::spawn_blocking({
        let mut command = env.command();
        command.args(["backfill", "--alerts"]);
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    crate::support::assert_success(&output, &["backfill", "--alerts"]);

    let store = env.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(
        count(&store, "revisions"),
        expected_revisions,
        "every page archived once"
    );
    assert_eq!(
        count(
            &store,
            "(SELECT document_id, content_hash FROM revisions GROUP BY 1, 2 HAVING COUNT(*) > 1)"
        ),
        0,
        "no duplicate revision"
    );
    let outbox = outbox_by_message_id(&env);
    assert_eq!(
        outbox.len(),
        expected_mails,
        "one outbox row per mail of a clean run"
    );
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for message in smtp.received() {
        let id = message_id(&message.data).expect("every mail has a Message-ID");
        *delivered.entry(id).or_default() += 1;
    }
    for (id, state) in &outbox {
        assert_eq!(state, "sent", "{id}");
        let copies = delivered.get(id).copied().unwrap_or(0);
        assert!(copies >= 1, "{id} never delivered");
    }
    // Each kill that lands between the server's 250 and the `sent` mark may resend that one
    // message, with the same Message-ID; a message requeued that way is the first one the next run
    // sends, so one message can take several such kills. No kill may resend more than one.
    let resends: usize = delivered.values().map(|copies| copies - 1).sum();
    assert!(
        resends <= killed,
        "{resends} resends for {killed} kills: {delivered:?}"
    );
    assert!(
        delivered.keys().all(|id| outbox.contains_key(id)),
        "a mail that no outbox row explains"
    );
    eprintln!(
        "{killed} of 20 runs killed; {} mails, {} resent",
        outbox.len(),
        delivered.values().filter(|n| **n > 1).count()
    );
}

#[test]
fn a_config_typo_stops_the_daemon_before_it_starts_naming_the_key() {
    let site = SiteServer::start(fixture_site());
    let config = test_config(&site, "").replace("max_attempts = 3", "max_attempt = 3");
    let env = TestEnv::with_config(&config);
    let output = env.briefwatch_output(&["run"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`fetch.max_attempt`"), "{stderr}");
    assert!(stderr.contains("unknown field"), "{stderr}");
    assert!(!env.database().exists(), "nothing created");
}

/// Tests run as root, and root writes through `chmod 555`; a state directory whose parent is a
/// regular file cannot be created by anyone, which is the same failure for the daemon.
#[test]
fn an_unusable_state_directory_is_a_clear_error() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let blocker = env.dir.path().join("not-a-directory");
    std::fs::write(
        &blocker,
        "a file where the state directory's parent should be",
    )
    .unwrap();
    let state = blocker.join("state");
    for command in [&["run"][..], &["poll", "--once"], &["backfill"]] {
        let output = Command::new(binary())
            .arg("--config")
            .arg(&env.config)
            .arg("--state")
            .arg(&state)
            .args(command)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{command:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot create state directory") && stderr.contains("not-a-directory"),
            "{command:?}: {stderr}"
        );
    }
}

/// A 1 MB tmpfs as the state directory; needs the right to mount, so it is marked ignored and
/// fails with a message when run without it.
#[test]
#[ignore = "needs root (mounts a tmpfs)"]
fn a_full_disk_is_a_clear_error_and_corrupts_nothing() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    std::fs::create_dir_all(&env.state).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&env.state)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        mounted,
        "cannot mount a tmpfs on {}: this test needs root",
        env.state.display()
    );
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&env.state);
    let filler = env.state.join("filler");
    let fill = |leave: u64| {
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let size = file.metadata().unwrap().len();
        file.set_len(size.saturating_sub(leave)).unwrap();
    };
    // No room at all: the archive cannot even be opened, and the error names it.
    fill(0);
    let full = env.briefwatch_output(&["backfill"]);
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert!(!full.status.success());
    assert!(
        stderr.contains("full") && stderr.contains(env.database().to_str().unwrap()),
        "{stderr}"
    );
    // Room for the schema but not for every page: pages that cannot be stored are errors naming
    // the cause, each transaction rolls back whole, and the archive left behind is sound.
    std::fs::remove_file(&filler).unwrap();
    let _ = std::fs::remove_file(env.database());
    fill(200 * 1024);
    let partial = env.briefwatch_output(&["backfill"]);
    let stderr = String::from_utf8_lossy(&partial.stderr);
    assert!(
        stderr.contains("full"),
        "a full disk goes unnoticed: {stderr}"
    );
    assert_eq!(env.store().integrity_check().unwrap(), "ok");
    std::fs::remove_file(&filler).unwrap();
    env.briefwatch(&["backfill"]);
    assert_eq!(env.store().integrity_check().unwrap(), "ok");
    assert!(count(&env.store(), "revisions") > 0);
}

#[test]
fn a_corrupt_archive_is_refused_by_name_and_a_backup_is_checked() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    let revisions = count(&env.store(), "revisions");

    let backup = env.dir.path().join("copy.sqlite3");
    let out = env.briefwatch(&["backup", backup.to_str().unwrap()]);
    assert!(out.contains("integrity check ok"), "{out}");
    let copy = briefwatch::store::Store::open(&backup).unwrap();
    assert_eq!(count(&copy, "revisions"), revisions);
    drop(copy);
    let again = env.briefwatch_output(&["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success(), "overwrote a file");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Scribble over the middle of the archive, as a failing disk would.
    let database = env.database();
    let mut bytes = std::fs::read(&database).unwrap();
    let (start, end) = (bytes.len() / 4, bytes.len() * 3 / 4);
    for byte in &mut bytes[start..end] {
        *byte = 0x5a;
    }
    std::fs::write(&database, &bytes).unwrap();
    for command in [&["status"][..], &["poll", "--once"], &["list"]] {
        let output = env.briefwatch_output(command);
        assert!(
            !output.status.success(),
            "{command:?} ran on a corrupt archive"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("is corrupt") && stderr.contains(database.to_str().unwrap()),
            "{command:?}: {stderr}"
        );
    }
    assert_eq!(std::fs::read(&database).unwrap(), bytes, "left as found");
}

#[test]
fn under_the_journal_log_lines_carry_syslog_priorities_and_no_timestamps() {
    use std::os::unix::fs::MetadataExt;
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let log_path = env.dir.path().join("journal.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let meta = log.metadata().unwrap();
    let status = env
        .command()
        .args(["poll", "--once"])
        .env("RUST_LOG", "info,html5ever=error")
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(
            line.starts_with("<3>")
                || line.starts_with("<4>")
                || line.starts_with("<6>")
                || line.starts_with("<7>"),
            "{line}"
        );
        assert!(!line.contains('\x1b'), "ANSI in {line:?}");
        assert!(!line.contains(" INFO "), "{line}");
    }
    let listing = text
        .lines()
        .find(|line| line.contains("listing"))
        .expect("a listing line");
    assert!(
        listing.starts_with("<6>briefwatch::daemon: listing"),
        "{listing}"
    );
    assert!(listing.contains("source=mfa-en") || listing.contains("source=mfa-zh"));
    assert!(
        listing.contains("outcome=\"ok\"") || listing.contains("outcome=ok"),
        "{listing}"
    );

    // The same variable with stderr elsewhere (inherited, redirected): plain lines.
    let plain = env
        .command()
        .args(["poll", "--once", "--all"])
        .env("RUST_LOG", "info,html5ever=error")
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(
        stderr.lines().all(|line| !line.starts_with('<')),
        "{stderr}"
    );
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "no colour when stderr is not a terminal: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_source_warns_in_status_and_systemd_and_mails_the_operator_once() {
    let smtp = SmtpServer::start().await;
    let site = SiteServer::start(fixture_site());
    // The fixture transcripts are of 2020, so with every day a briefing day and the hour at
    // midnight, both sources are stale now, whatever the day.
    let env = TestEnv::with_config(&test_config(
        &site,
        &format!(
            r#"
[schedule]
tick = "300ms"
window_days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

[service]
operator = "ops@example.org"
fresh_by = "00:00:00"

[smtp]
host = "127.0.0.1"
port = {}
security = "none"
from = "briefwatch <alerts@example.org>"
timeout = "5s"
retry_base = "10ms"
retry_max = "50ms"
"#,
            smtp.port()
        ),
    ));
    env.briefwatch(&["backfill"]);
    let status = env.briefwatch(&["status"]);
    assert!(status.contains("warning: stale since"), "{status}");
    assert!(status.contains("no press conference of"), "{status}");
    let json = env.briefwatch(&["status", "--json"]);
    for line in json.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["alarms"][0]["kind"], "stale", "{line}");
    }

    let mut notify = NotifySocket::bind(env.dir.path());
    let mut child = spawn_notified_daemon(&env, &notify);
    let alarm = notify.wait_for(|m| m.starts_with("STATUS=ALARM"), Duration::from_secs(20));
    let alarm = alarm.map(|index| notify.received[index].clone());
    let alarm = alarm.expect("an ALARM status line");
    assert!(
        alarm.contains("mfa-en stale") && alarm.contains("mfa-zh stale"),
        "{alarm}"
    );
    // Several cycles later, still one mail per source.
    let started = Instant::now();
    while smtp.received().len() < 2 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    send_signal(&child, "TERM");
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20)))
            .await
            .unwrap()
            .unwrap_or_else(|| {
                panic!(
                    "exits: {}",
                    std::fs::read_to_string(daemon_log(&env)).unwrap()
                )
            });
    assert!(status.success());
    let mails = smtp.received();
    assert_eq!(mails.len(), 2, "one alarm mail per stale source");
    for mail in &mails {
        assert_eq!(mail.rcpt_to, vec!["ops@example.org".to_string()]);
        let text = String::from_utf8_lossy(&mail.data);
        assert!(text.contains("[briefwatch] alarm: mfa-"), "{text}");
        assert!(text.contains("no press conference of"), "{text}");
    }

    // A restart within alarm_repeat mails nobody again: the outbox remembers.
    let mut notify = NotifySocket::bind(&env.dir.path().join("again").tap_create());
    let child = spawn_notified_daemon(&env, &notify);
    assert!(
        notify
            .wait_for(|m| m.starts_with("STATUS=ALARM"), Duration::from_secs(20))
            .is_some()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    send_signal(&child, "TERM");
    let mut child = child;
    tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("exits");
    assert_eq!(smtp.received().len(), 2, "no repeat within a day");
}

trait TapCreate {
    fn tap_create(self) -> Self;
}

impl TapCreate for std::path::PathBuf {
    fn tap_create(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
