//! What a misbehaving web does to the daemon: pages in a lying charset or garbled, a transcript
//! that really loses most of its exchanges, pathologically nested and oversized pages, slow
//! clients holding the HTTP server's connections, unusable archives, manifests reaching outside
//! their folder. Real binary, real loopback servers, real SQLite files.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use briefwatch::store::DocumentKey;

use crate::smtp_server::SmtpServer;
use crate::support::{
    EN_ARTICLE, FIXTURE_EN_ARTICLES, FIXTURE_ZH_ARTICLES, SiteServer, TestEnv, alert_config, count,
    fixture_site, test_config,
};

/// The archive's latest record of a page of the site, if it has one.
fn latest(env: &TestEnv, site: &SiteServer, path: &str) -> Option<briefwatch::model::Briefing> {
    let store = env.store();
    let document = store.document(DocumentKey::Url(&site.url(path))).unwrap()?;
    Some(store.latest_revision(document.id).unwrap()?.briefing)
}

fn document_id(env: &TestEnv, site: &SiteServer, path: &str) -> i64 {
    env.store()
        .document(DocumentKey::Url(&site.url(path)))
        .unwrap()
        .expect("document known")
        .id
}

/// A UTF-8 page with a stray byte in a few places of its text: valid in no encoding.
fn damaged(page: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(page).unwrap();
    let mut out = Vec::new();
    for (index, piece) in text.split("中方").enumerate() {
        if index > 0 {
            out.extend_from_slice("中".as_bytes());
            out.push(0xFF);
            out.extend_from_slice("方".as_bytes());
        }
        out.extend_from_slice(piece.as_bytes());
    }
    assert_ne!(out, page, "the page says 中方 somewhere");
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lying_charset_or_garbled_bytes_make_no_false_revision_event_or_mail() {
    let smtp = SmtpServer::start().await;
    let site = SiteServer::start(fixture_site());
    let extra = format!(
        "{}\n[archive]\nsuspect_recheck = \"2s\"\n",
        alert_config("zh", r#"["中方", "记者"]"#, smtp.port())
    );
    let env = TestEnv::with_config(&test_config(&site, &extra));
    let (lying, garbled) = (FIXTURE_ZH_ARTICLES[0], FIXTURE_ZH_ARTICLES[1]);
    let original = site.page(lying);
    let (gb18030, _, _) = encoding_rs::GB18030.encode(std::str::from_utf8(&original).unwrap());
    // GB18030 bytes under an HTTP header and a <meta> that both say UTF-8.
    site.set_page_typed(lying, gb18030.to_vec(), "text/html; charset=utf-8");
    let garbled_original = site.page(garbled);
    site.set_page(garbled, damaged(&garbled_original));

    tokio::task::block_in_place(|| env.briefwatch(&["poll", "--once", "--alerts"]));
    // The lying page is read as what its bytes are.
    let read = latest(&env, &site, lying).expect("archived");
    assert!(
        read.title.contains("外交部发言人赵立坚主持例行记者会"),
        "{}",
        read.title
    );
    assert!(!read.exchanges.is_empty());
    // The garbled page is held: no revision, no event, a hold in the archive, a log line.
    assert_eq!(latest(&env, &site, garbled), None);
    let held = document_id(&env, &site, garbled);
    let store = env.store();
    assert_eq!(
        count(&store, &format!("events WHERE document_id = {held}")),
        0
    );
    let (_, reason, _) = store.suspect(held).unwrap().expect("held as suspect");
    assert!(reason.contains("mojibake"), "{reason}");
    assert_eq!(
        count(
            &store,
            "fetch_log WHERE error LIKE 'held as suspect%' AND outcome = 'ok'"
        ),
        1
    );
    drop(store);
    let mails = smtp.received().len();

    // The next fetch, once the short delay is over, archives the page as it really is: full,
    // not a 304 to validators of the garbled body.
    site.restore_page(garbled);
    site.clear_seen();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    tokio::task::block_in_place(|| env.briefwatch(&["poll", "--once", "--alerts"]));
    let archived = latest(&env, &site, garbled).expect("archived at the next fetch");
    assert!(!format!("{archived:?}").contains('\u{FFFD}'));
    assert_eq!(env.store().suspect(held).unwrap(), None, "hold cleared");
    let refetch = site
        .seen()
        .into_iter()
        .find(|seen| seen.path == garbled)
        .expect("re-fetched when due");
    assert!(!refetch.conditional, "re-fetched without validators");
    let revisions = count(&env.store(), "revisions");

    // The lying page served right, and lying again: the same transcript, so nothing happens.
    let events = count(&env.store(), "events");
    site.restore_page(lying);
    tokio::task::block_in_place(|| env.briefwatch(&["poll", "--once", "--all", "--alerts"]));
    site.set_page_typed(lying, gb18030.to_vec(), "text/html; charset=utf-8");
    tokio::task::block_in_place(|| env.briefwatch(&["poll", "--once", "--all", "--alerts"]));
    let store = env.store();
    assert_eq!(count(&store, "revisions"), revisions, "no false revision");
    assert_eq!(count(&store, "events"), events, "no false event");
    assert_eq!(
        count(
            &store,
            "events WHERE type IN ('revised', 'exchange_removed')"
        ),
        0
    );
    // The new-briefing mail of the held page is the only one since the first cycle.
    assert!(smtp.received().len() <= mails + 1, "no false mail");
}

/// The English article with every exchange after the third cut out.
fn cut_to_three_exchanges(page: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(page).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let answers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.contains("Zhao Lijian:"))
        .map(|(index, _)| index)
        .collect();
    assert!(answers.len() >= 10, "{} answers", answers.len());
    let (from, to) = (answers[2] + 1, *answers.last().unwrap());
    let kept: Vec<&str> = lines[..from]
        .iter()
        .chain(&lines[to + 1..])
        .copied()
        .collect();
    kept.join("\n").into_bytes()
}

#[test]
fn a_page_that_really_loses_most_exchanges_is_announced_on_the_second_fetch() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["poll", "--once"]);
    let before = latest(&env, &site, EN_ARTICLE).unwrap();
    assert!(before.exchanges.len() >= 10);
    let id = document_id(&env, &site, EN_ARTICLE);
    site.set_page(EN_ARTICLE, cut_to_three_exchanges(&site.page(EN_ARTICLE)));

    // First sight: held, nothing announced, checked again after `suspect_recheck` (10 minutes).
    let fetched_at = chrono::Utc::now();
    env.briefwatch(&["poll", "--once", "--all"]);
    assert_eq!(latest(&env, &site, EN_ARTICLE).unwrap(), before);
    let store = env.store();
    let (_, reason, _) = store.suspect(id).unwrap().expect("held");
    let lost = format!("of {} exchanges left", before.exchanges.len());
    assert!(reason.contains(&lost), "{reason}");
    assert_eq!(count(&store, "events WHERE type = 'exchange_removed'"), 0);
    let next_check = store
        .document(DocumentKey::Id(id))
        .unwrap()
        .unwrap()
        .next_check;
    let next_check = briefwatch::store::parse_time(&next_check).unwrap();
    let wait = (next_check - fetched_at).num_seconds();
    assert!((9 * 60..=11 * 60).contains(&wait), "re-checked in {wait} s");
    drop(store);

    // The second fetch agrees (a new process: the hold was kept in the archive): stored and
    // announced, every removed exchange with it.
    env.briefwatch(&["poll", "--once", "--all"]);
    let after = latest(&env, &site, EN_ARTICLE).unwrap();
    assert!(after.exchanges.len() < before.exchanges.len() / 2);
    let store = env.store();
    assert_eq!(store.suspect(id).unwrap(), None);
    // Each vanished exchange is announced (the last one kept may have absorbed the tail).
    let removed = count(
        &store,
        &format!("events WHERE type = 'exchange_removed' AND document_id = {id}"),
    );
    let vanished = (before.exchanges.len() - after.exchanges.len()) as i64;
    assert!(
        (vanished - 1..=vanished + 1).contains(&removed) && removed > 0,
        "{removed} exchange_removed events for {vanished} exchanges gone"
    );
    assert_eq!(
        count(
            &store,
            &format!("events WHERE type = 'revised' AND document_id = {id}")
        ),
        1
    );
}

/// An article page with `inner` at the start of its transcript body.
fn with_body_prefix(page: &[u8], inner: &str) -> Vec<u8> {
    let text = std::str::from_utf8(page).unwrap();
    let at = ["class=\"content\"", "News_Body_Txt_A"]
        .iter()
        .find_map(|marker| text.find(marker))
        .expect("body element");
    let open_end = at + text[at..].find('>').unwrap() + 1;
    format!("{}{inner}{}", &text[..open_end], &text[open_end..]).into_bytes()
}

fn deep_page(page: &[u8], depth: usize) -> Vec<u8> {
    let nest = format!(
        "{}deep text{}",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    with_body_prefix(page, &nest)
}

#[test]
fn a_deeply_nested_page_is_archived_and_an_oversized_one_is_unparseable_with_the_reason() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let (deep, large) = (FIXTURE_EN_ARTICLES[0], FIXTURE_EN_ARTICLES[1]);
    site.set_page(deep, deep_page(&site.page(deep), 100_000));
    // 4 MB of 450,000 paragraphs.
    let paragraphs = "<p>w</p>".repeat(450_000);
    site.set_page(large, with_body_prefix(&site.page(large), &paragraphs));
    // The oversized page is a failed page: exit status 3.
    env.briefwatch_with_failures(&["poll", "--once"], 1);
    let archived = latest(&env, &site, deep).expect("the deep page is archived");
    assert_eq!(
        archived.opening.first().map(String::as_str),
        Some("deep text")
    );
    assert!(archived.exchanges.len() >= 10);
    assert_eq!(latest(&env, &site, large), None);
    let error: String = env
        .store()
        .connection()
        .query_row(
            "SELECT error FROM fetch_log WHERE url = ?1 AND outcome = 'unparseable'",
            [site.url(large)],
            |row| row.get(0),
        )
        .expect("an unparseable fetch");
    assert!(error.contains("elements"), "{error}");
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

fn signal(child: &Child, number: i32) {
    // SAFETY: kill only sends a signal to the process we spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, number) }, 0);
}

#[test]
fn sigterm_is_honoured_within_the_stop_timeout_while_a_pathological_page_is_parsed() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    // As costly as a page may be and still be extracted: nesting at the depth cap, then close to
    // the element cap of siblings that descendant selectors walk up from.
    let costly = format!(
        "{}{}{}",
        "<div class=a>".repeat(briefwatch::site::MAX_DEPTH - 8),
        "<span class=t>x</span>".repeat(briefwatch::site::MAX_ELEMENTS - 5_000),
        "</div>".repeat(briefwatch::site::MAX_DEPTH - 8)
    );
    for path in FIXTURE_EN_ARTICLES {
        site.set_page(path, with_body_prefix(&site.page(path), &costly));
    }
    let mut child = env
        .command()
        .arg("run")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !site.seen().iter().any(|seen| seen.path == EN_ARTICLE) {
        assert!(started.elapsed() < Duration::from_secs(60), "never fetched");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let stopping = Instant::now();
    signal(&child, libc::SIGTERM);
    let status = wait_exit(&mut child, Duration::from_secs(30)).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("still running 30 s after SIGTERM")
    });
    assert!(status.success(), "{status}");
    eprintln!("stopped {:?} after SIGTERM", stopping.elapsed());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn healthz(port: u16) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut stream =
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(3))?;
        stream.set_read_timeout(Some(Duration::from_secs(3)))?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer.starts_with("HTTP/1.1 200") && answer.contains("ok"))
    };
    probe().unwrap_or(false)
}

/// Raises this process's own descriptor limit to its hard limit: the test holds 1,100 sockets.
fn raise_own_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write only the struct we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    assert!(
        limit.rlim_cur >= 1_200,
        "this test holds 1,100 connections and may only open {}",
        limit.rlim_cur
    );
}

#[test]
fn healthz_answers_while_1100_slow_clients_hold_connections_under_1024_descriptors() {
    raise_own_descriptor_limit();
    let site = SiteServer::start(fixture_site());
    let port = free_port();
    let env = TestEnv::with_config(&test_config(&site, "").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    ));
    let log = env.dir.path().join("daemon.log");
    // The socket systemd would listen on: READY, and the watchdog pings that must go on.
    let notify_path = env.dir.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    let notified = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(Instant, String)>::new()));
    {
        let notified = notified.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = notify.recv(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]).to_string();
                notified.lock().unwrap().push((Instant::now(), text));
            }
        });
    }
    // Through `sh -c 'WATCHDOG_PID=$$ exec …'`, so that the watchdog's pid is the daemon's own.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_briefwatch"))
        .arg("--config")
        .arg(&env.config)
        .arg("--state")
        .arg(&env.state)
        .arg("run")
        .env("RUST_LOG", "warn,html5ever=error")
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "400000")
        .env_remove("JOURNAL_STREAM")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    // SAFETY: setrlimit is async-signal-safe; it runs in the child between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 1024,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    while !healthz(port) {
        assert!(started.elapsed() < Duration::from_secs(30), "never served");
        std::thread::sleep(Duration::from_millis(50));
    }

    // 1,100 clients that send a request line, then one header line every two seconds, forever.
    let mut slow: Vec<TcpStream> = Vec::new();
    for _ in 0..1_100 {
        if let Ok(mut stream) =
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))
        {
            let _ = stream.set_nonblocking(true);
            let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\n");
            slow.push(stream);
        }
    }
    assert!(slow.len() >= 1_000, "only {} slow connections", slow.len());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickle = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut line = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                for stream in &mut slow {
                    let _ = stream.write_all(format!("X-Slow-{line}: 1\r\n").as_bytes());
                }
                line += 1;
                std::thread::sleep(Duration::from_secs(2));
            }
            slow.len()
        })
    };
    let load_started = Instant::now();
    let mut answered = 0;
    for _ in 0..10 {
        if healthz(port) {
            answered += 1;
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    let load_ended = Instant::now();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    trickle.join().unwrap();
    let pings = notified
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, text)| {
            *at >= load_started && *at <= load_ended && text.contains("WATCHDOG=1")
        })
        .count();
    let running = child.try_wait().unwrap().is_none();
    signal(&child, libc::SIGTERM);
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(running, "the daemon died under the load:\n{logged}");
    assert!(
        answered >= 9,
        "/healthz answered {answered} of 10\n{logged}"
    );
    // Pinged every 200 ms; a few late ones are fine, a silence is not.
    assert!(
        pings as u128 >= (load_ended - load_started).as_millis() / 400,
        "{pings} watchdog pings over {:?} of load\n{logged}",
        load_ended - load_started
    );
    assert!(
        !logged.contains("Too many open files"),
        "ran out of descriptors:\n{logged}"
    );
    assert!(status.is_some_and(|status| status.success()), "{status:?}");
}

/// Runs the binary with the state directory `state` mounted read-only in a mount namespace of
/// its own (as root: a read-only bind mount; otherwise the directory's write bit is cleared, which
/// binds an ordinary user as the mount binds root).
fn run_on_read_only_state(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let state = env.state.to_str().unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o555);
        std::fs::set_permissions(&env.state, mode).unwrap();
        let output = env.briefwatch_output(args);
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&env.state, mode).unwrap();
        return output;
    }
    let binary = env!("CARGO_BIN_EXE_briefwatch");
    let script =
        "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && shift && exec \"$@\"";
    let output = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            state,
        ])
        .arg(binary)
        .arg("--config")
        .arg(&env.config)
        .arg("--state")
        .arg(&env.state)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run unshare");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("unshare failed") && !stderr.contains("mount:"),
        "this test needs a private mount namespace (root with CAP_SYS_ADMIN): {stderr}"
    );
    output
}

#[test]
fn a_read_only_state_directory_is_told_apart_from_a_corrupt_archive() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["poll", "--once"]);
    let before = std::fs::read(env.database()).unwrap();
    for args in [&["poll", "--once"][..], &["status"]] {
        let output = run_on_read_only_state(&env, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{args:?} wrote to a read-only directory"
        );
        assert!(
            stderr.contains("read-only") && stderr.contains(env.state.to_str().unwrap()),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("corrupt") && !stderr.contains("move the file aside"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(std::fs::read(env.database()).unwrap(), before);
    env.briefwatch(&["status"]);
}

#[test]
fn an_archive_from_a_newer_version_is_refused_as_such() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["poll", "--once"]);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    for args in [&["poll", "--once"][..], &["status"], &["list"]] {
        let output = env.briefwatch_output(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr.contains("schema version 999") && stderr.contains("newer version"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("is corrupt"), "{args:?}: {stderr}");
    }
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 999, "left as found");
}

#[test]
fn a_missing_state_directory_is_told_as_missing() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let output = env.briefwatch_output(&["list"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("does not exist") && stderr.contains(env.state.to_str().unwrap()),
        "{stderr}"
    );
}

#[test]
fn import_refuses_a_manifest_reaching_outside_its_folder_and_imports_nothing() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let folder = env.dir.path().join("corpus");
    std::fs::create_dir_all(&folder).unwrap();
    let page = site.page(EN_ARTICLE);
    std::fs::write(folder.join("good.html"), &page).unwrap();
    std::fs::write(env.dir.path().join("outside.html"), &page).unwrap();
    std::os::unix::fs::symlink(
        env.dir.path().join("outside.html"),
        folder.join("link.html"),
    )
    .unwrap();
    let header = "url\tstatus\tlocation\tfile\tbytes\tsha256\tcontent_type\tfetched_date";
    let date = "Sat, 04 Jul 2020 03:55:38 GMT";
    let good = format!(
        "https://www.fmprc.gov.cn{EN_ARTICLE}\t200\t\tgood.html\t{}\t-\ttext/html\t{date}",
        page.len()
    );
    let cases = [
        (
            "../outside.html".to_string(),
            "leaves the manifest's folder",
        ),
        (
            env.dir.path().join("outside.html").display().to_string(),
            "absolute path",
        ),
        ("link.html".to_string(), "symbolic link"),
    ];
    for (file, expected) in cases {
        let bad = format!(
            "https://www.fmprc.gov.cn/mfa_eng/t2.shtml\t200\t\t{file}\t\t\ttext/html\t{date}"
        );
        let manifest = folder.join("MANIFEST.tsv");
        std::fs::write(&manifest, format!("{header}\n{good}\n{bad}\n")).unwrap();
        let output = env.briefwatch_output(&["import", manifest.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{file}");
        assert!(
            stderr.contains("line 3") && stderr.contains(expected),
            "{file}: {stderr}"
        );
    }
    let lying_size = good.replace(&format!("\t{}\t", page.len()), "\t12\t");
    let javascript = format!("javascript:alert(1)\t200\t\tgood.html\t\t\ttext/html\t{date}");
    for (row, expected) in [
        (lying_size, "the manifest says 12"),
        (javascript, "only http"),
    ] {
        let manifest = folder.join("MANIFEST.tsv");
        std::fs::write(&manifest, format!("{header}\n{row}\n")).unwrap();
        let output = env.briefwatch_output(&["import", manifest.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains(expected), "{stderr}");
    }
    assert_eq!(count(&env.store(), "revisions"), 0, "nothing imported");
    // The good row alone imports.
    let manifest = folder.join("MANIFEST.tsv");
    std::fs::write(&manifest, format!("{header}\n{good}\n")).unwrap();
    env.briefwatch(&["import", manifest.to_str().unwrap()]);
    assert_eq!(count(&env.store(), "revisions"), 1);
}

#[tokio::test]
async fn the_server_times_out_slow_headers_and_limits_keep_alive() {
    use briefwatch::config::HttpConfig;
    use briefwatch::serve::{self, ServeState};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = serve::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = HttpConfig {
        header_timeout: Duration::from_millis(500),
        max_requests_per_connection: 2,
        ..HttpConfig::default()
    };
    let router = serve::router(ServeState::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve::serve_with(listener, router, &config, async move {
            let _ = stopped.await;
        })
        .await
    });

    // Headers that never end: closed once the header timeout is over.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "a connection with unfinished headers stayed open"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));

    // Keep-alive: the second response on a connection closes it.
    let mut kept = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    kept.write_all(request).await.unwrap();
    kept.write_all(request).await.unwrap();
    let mut answers = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), kept.read_to_end(&mut answers))
        .await
        .expect("closed after the second request")
        .unwrap();
    let answers = String::from_utf8_lossy(&answers).to_ascii_lowercase();
    assert_eq!(answers.matches("200 ok").count(), 2, "{answers}");
    assert!(answers.contains("connection: close"), "{answers}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
}
