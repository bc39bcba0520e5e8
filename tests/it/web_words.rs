//! What readers are told in words: the diff page without revision numbers, the timeline of events
//! in sentences rather than stored field names, and counts that agree with their nouns.

use std::process::Command;

use crate::support::assert_success;
use crate::web::fixture;

#[test]
fn a_diff_without_revision_numbers_compares_the_last_two() {
    let web = fixture();
    let (status, explicit) = web.get(&format!("/b/{}/diff?from=1&to=2", web.en_id));
    assert_eq!(status, 200);
    let (status, bare) = web.get(&format!("/b/{}/diff", web.en_id));
    assert_eq!(status, 200, "{bare}");
    assert_eq!(bare, explicit);
    let (status, from_only) = web.get(&format!("/b/{}/diff?from=1", web.en_id));
    assert_eq!(status, 200);
    assert_eq!(from_only, explicit);

    let (status, single) = web.get(&format!("/b/{}/diff", web.zh_id));
    assert_eq!(status, 404, "{single}");
    assert!(
        single.contains("has a single revision: there is no change to show yet"),
        "{single}"
    );
    let (status, same) = web.get(&format!("/b/{}/diff?from=2&to=2", web.en_id));
    assert_eq!(status, 400);
    assert!(same.contains("must name two different revisions"), "{same}");
}

#[test]
fn events_read_as_sentences_not_field_names() {
    let web = fixture();
    let (status, body) = web.get("/events");
    assert_eq!(status, 200);
    assert!(
        body.contains("was removed from the transcript:"),
        "the removed exchange: {body}"
    );
    assert!(
        body.contains("The page is taken down: the ministry&#39;s server answers 404 Not Found, twice in a row.")
            || body.contains("The page is taken down: the ministry's server answers 404 Not Found, twice in a row."),
        "the take-down: {body}"
    );
    for raw in [
        "old_ordinal",
        "outcome:",
        "status:",
        "detail:",
        "consecutive",
    ] {
        assert!(!body.contains(raw), "{raw} shown: {body}");
    }
}

#[test]
fn counts_of_one_are_singular_in_the_command_line() {
    let web = fixture();
    let out = web.env.briefwatch(&["search", "竹内亮"]);
    assert!(out.starts_with("1 matching passage\n"), "{out}");

    // `alerts test` with a rule that matches that one exchange.
    let config = std::fs::read_to_string(&web.env.config).unwrap();
    let with_rule = web.env.dir.path().join("with-rule.toml");
    std::fs::write(
        &with_rule,
        format!(
            "{config}\n[[alert]]\nname = \"director\"\nterms = ['竹内亮']\n\
             recipients = [\"desk@example.org\"]\n\n[smtp]\nhost = \"127.0.0.1\"\n\
             security = \"none\"\nfrom = \"briefwatch <alerts@example.org>\"\n"
        ),
    )
    .unwrap();
    let args = ["alerts", "test", "director"];
    let output = Command::new(env!("CARGO_BIN_EXE_briefwatch"))
        .arg("--config")
        .arg(&with_rule)
        .arg("--state")
        .arg(&web.env.state)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_success(&output, &args);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("rule \"director\": 1 passage in 1 of "),
        "{stdout}"
    );
    assert!(!stdout.contains("1 exchanges"), "{stdout}");
}
