//! The command line as a shell user meets it: output piped into a reader that stops early.

use std::io::Read;
use std::process::Stdio;

use crate::support::{SiteServer, TestEnv, fixture_site};

/// `briefwatch list | head -1`: the reader closes the pipe before briefwatch has written; the
/// command must end without a word on stderr (no "Broken pipe", no panic).
#[test]
fn a_reader_that_stops_early_gets_no_error_on_stderr() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    assert!(env.briefwatch(&["list"]).lines().count() > 1);

    for args in [&["list"][..], &["list", "--json"], &["status"]] {
        let mut child = env
            .command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run briefwatch");
        // Closed at once, before the command has opened the archive: its first write meets a
        // pipe with no reader, as it does behind `head -1` on a long listing.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(stderr, "", "briefwatch {args:?} wrote to stderr ({status})");
        assert!(
            status.code().is_none_or(|code| code == 0),
            "briefwatch {args:?} failed: {status}"
        );
    }
}
