//! Alerts end to end: rules on real transcript text, the outbox in a real SQLite file, delivery
//! through lettre's SMTP transport to a real server on loopback, and the mail as a reader parses it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use briefwatch::alert::outbox::{self, OutboxState};
use briefwatch::alert::plan::align_exchanges;
use briefwatch::alert::sender::resolve_password;
use briefwatch::alert::{
    BriefingEvent, ExchangePair, ItemChange, RuleSet, Sender, link_archive, plan_alerts,
};
use briefwatch::config::{AlertRule, SmtpConfig};
use briefwatch::model::{Briefing, Exchange, Kind, Lang};
use chrono::{Duration, NaiveDate, Utc};
use rusqlite::Connection;
use tokio::sync::Notify;

use crate::smtp_server::{Fault, SmtpServer};

const EN_URL: &str =
    "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1644890.shtml";
const ZH_URL: &str = "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1644829.shtml";

// Text of the 12 March 2019 briefing, from the fixture pages in tests/fixtures/alert/.
const EN_Q1: &str = "The US Ambassador-at-Large for International Religious Freedom Sam Brownback, who is still in Taiwan on a visit, held a press conference today with the wife of Li Mingzhe, the Taiwanese activist who has been jailed in China. Brownback called on China to immediately release Li Mingzhe and said this case is of serious concern to Washington. Is China prepared to release him because of the concern of the US?";
const EN_A1: [&str; 2] = [
    "I want to make two brief points. First, as I said explicitly here yesterday, China firmly opposes any official contacts between the US and China's Taiwan region. This unshakable position remains unchanged. We hope that the US government will strictly abide by the one-China policy.",
    "Second, the individual case you mentioned is between the two sides of the Taiwan Strait. It belongs to China's internal affairs and others have no right to meddle in it.",
];
const EN_Q2: &str = "Tsai Ing-wen will next week visit three of Taiwan's diplomatic allies in the Pacific, namely Palau, Nauru and the Marshall Islands. Taiwanese officials say the government is currently in talks with the US side on her stopovers in the US territories, presumably Guam or Hawaii. Has the Chinese government already warned the US government not to allow Tsai Ing-wen to stop over in US territory?";
const EN_A2: &str = "The one-China principle is a consensus shared by the international community. Any attempts to create \"two Chinas\" or \"one China one Taiwan\" will be strongly opposed by all the Chinese people. The fundamental interests of the people in China's Taiwan region will not be served in that way.";
const ZH_Q1: &str = "美国务院负责国际宗教自由事务的无任所大使布朗巴克目前仍在台湾访问，并与被捕的台湾“人权活动人士”李明哲的妻子共同举行记者会。布朗巴克要求中方立即释放李明哲，并称华盛顿方面高度关切此案。中方会因美方关切而准备释放李明哲吗？";
const ZH_A1: &str = "我简单回答两点。第一，我昨天在这里明确说过，中方坚决反对美国与中国台湾地区开展任何官方往来，这一立场是坚定不移的，没有改变。希望美国政府严格恪守一个中国政策。";

fn exchange(ordinal: u32, asker: &str, question: &[&str], answer: &[&str]) -> Exchange {
    Exchange {
        ordinal,
        asker: asker.to_string(),
        question: question.iter().map(|s| s.to_string()).collect(),
        answer: answer.iter().map(|s| s.to_string()).collect(),
        after_conference: false,
    }
}

fn en_briefing() -> Briefing {
    Briefing {
        url: EN_URL.into(),
        lang: Lang::En,
        kind: Kind::PressConference,
        title: "Foreign Ministry Spokesperson Lu Kang's Regular Press Conference on March 12, 2019"
            .into(),
        date: NaiveDate::from_ymd_opt(2019, 3, 12),
        published_at: None,
        spokesperson: Some("Lu Kang".into()),
        opening: vec![],
        exchanges: vec![
            exchange(1, "Q", &[EN_Q1], &EN_A1),
            exchange(2, "Q", &[EN_Q2], &[EN_A2]),
            exchange(
                3,
                "Q",
                &["What is your comment on the trade talks?"],
                &["The talks are going well."],
            ),
        ],
        content_hash: "en-1".into(),
        found_by: None,
        selector: None,
        date_from: None,
    }
}

fn zh_briefing() -> Briefing {
    Briefing {
        url: ZH_URL.into(),
        lang: Lang::Zh,
        kind: Kind::PressConference,
        title: "2019年3月12日外交部发言人陆慷主持例行记者会".into(),
        date: NaiveDate::from_ymd_opt(2019, 3, 12),
        published_at: None,
        spokesperson: Some("陆慷".into()),
        opening: vec![],
        exchanges: vec![exchange(1, "问", &[ZH_Q1], &[ZH_A1])],
        content_hash: "zh-1".into(),
        found_by: None,
        selector: None,
        date_from: None,
    }
}

fn rules(toml_text: &str) -> RuleSet {
    #[derive(serde::Deserialize)]
    struct Rules {
        alert: Vec<AlertRule>,
    }
    let parsed: Rules = toml::from_str(toml_text).expect("rules parse");
    RuleSet::compile(&parsed.alert).expect("rules compile")
}

const TAIWAN_RULES: &str = r#"
[[alert]]
name = "taiwan"
terms = ["Taiwan", "台湾"]
recipients = ["analyst@example.org"]
"#;

/// A SQLite file with the outbox schema.
struct Archive {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Archive {
    fn new() -> Archive {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("briefwatch.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(outbox::MIGRATION).unwrap();
        conn.execute_batch(outbox::CHANNEL_MIGRATION).unwrap();
        Archive { _dir: dir, path }
    }

    fn conn(&self) -> Connection {
        Connection::open(&self.path).unwrap()
    }

    /// Plans and queues the alerts of an event in one transaction, as the ingest does.
    fn ingest(&self, rules: &RuleSet, event: &BriefingEvent) -> Vec<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction().unwrap();
        let mut pending = plan_alerts(rules, event);
        link_archive(&mut pending, 42, None);
        let ids = outbox::enqueue(&tx, &pending, Utc::now(), "example.org").unwrap();
        tx.commit().unwrap();
        ids
    }
}

fn smtp_config(port: u16, extra: &str) -> SmtpConfig {
    let config: SmtpConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"briefwatch <alerts@example.org>\"\n\
         timeout = \"5s\"\nretry_base = \"10ms\"\nretry_max = \"40ms\"\n{extra}"
    ))
    .unwrap();
    config.validate().unwrap();
    config
}

fn sender(archive: &Archive, config: SmtpConfig) -> Sender {
    let password = resolve_password(&config, |_| None).unwrap();
    let transport = config.transport(password).unwrap();
    let compose = config
        .compose_settings(Some("https://briefwatch.example.org/".into()))
        .unwrap();
    Sender::new(archive.conn(), transport, compose, config).unwrap()
}

fn parse(data: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(data)
        .expect("a parseable message")
}

fn message_ids(server: &SmtpServer) -> Vec<String> {
    server
        .received()
        .iter()
        .map(|r| parse(&r.data).message_id().unwrap_or_default().to_string())
        .collect()
}

fn states(archive: &Archive) -> HashMap<&'static str, usize> {
    let mut counts = HashMap::new();
    for row in outbox::list(&archive.conn(), None, 1000).unwrap() {
        *counts.entry(row.state.as_str()).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn new_briefings_are_mailed_with_headers_both_parts_and_highlights() {
    let server = SmtpServer::start().await;
    let archive = Archive::new();
    let rules = rules(TAIWAN_RULES);
    let en = en_briefing();
    let zh = zh_briefing();
    archive.ingest(&rules, &BriefingEvent::New(&en));
    archive.ingest(&rules, &BriefingEvent::New(&zh));
    let queued = outbox::list(&archive.conn(), None, 10).unwrap();

    let report = sender(&archive, smtp_config(server.port(), ""))
        .deliver_due(Utc::now())
        .await
        .unwrap();
    assert_eq!(report.sent, 2, "{report:?}");
    let received = server.received();
    assert_eq!(received.len(), 2);

    let en_mail = received
        .iter()
        .find(|r| parse(&r.data).subject().unwrap_or("").contains("Lu Kang"))
        .expect("the English alert");
    assert_eq!(en_mail.rcpt_to, ["analyst@example.org"]);
    assert_eq!(en_mail.mail_from, "alerts@example.org");
    let mail = parse(&en_mail.data);
    assert_eq!(
        mail.subject().unwrap(),
        "[briefwatch] 2019-03-12 Lu Kang: taiwan (2 exchanges)"
    );
    let row = queued
        .iter()
        .find(|r| r.alert.briefings[0].briefing.url == EN_URL)
        .unwrap();
    assert_eq!(format!("<{}>", mail.message_id().unwrap()), row.message_id);
    assert_eq!(
        mail.date().unwrap().to_timestamp(),
        row.alert.queued_at.timestamp()
    );
    assert_eq!(
        mail.header_raw("List-Id").unwrap().trim(),
        "briefwatch alerts <alerts.example.org>"
    );
    assert_eq!(
        mail.header_raw("Auto-Submitted").unwrap().trim(),
        "auto-generated"
    );

    let text = mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("in **Taiwan** on a visit"), "{text}");
    assert!(
        text.contains("the Taiwanese activist"),
        "Taiwanese is not Taiwan: {text}"
    );
    assert!(
        text.contains("three of **Taiwan**'s diplomatic allies"),
        "{text}"
    );
    // The whole exchange is quoted, paragraph breaks kept.
    assert!(text.contains("> Second, the individual case you mentioned is between the two sides of the **Taiwan** Strait."));
    assert!(text.contains("one-China policy.\n>\n> Second,"), "{text}");
    assert!(
        !text.contains("trade talks"),
        "the unmatched exchange is left out"
    );
    assert!(text.contains(EN_URL));
    assert!(
        text.contains("In briefwatch: https://briefwatch.example.org/b/42\n"),
        "{text}"
    );

    let html = mail.body_html(0).unwrap();
    assert!(html.contains("in <mark>Taiwan</mark> on a visit"), "{html}");
    assert!(html.contains("<p>Second, the individual case"), "{html}");
    assert!(html.contains(&format!("<a href=\"{EN_URL}\">")));
    assert!(html.contains("China&#39;s <mark>Taiwan</mark> region"));

    let zh_mail = received
        .iter()
        .map(|r| parse(&r.data))
        .find(|m| m.subject().unwrap_or("").contains("陆慷"))
        .expect("the Chinese alert, its subject decoded");
    assert_eq!(
        zh_mail.subject().unwrap(),
        "[briefwatch] 2019-03-12 陆慷: taiwan (1 exchange)"
    );
    let text = zh_mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("仍在**台湾**访问"), "{text}");
    assert!(text.contains("中国**台湾**地区开展任何官方往来"), "{text}");
    assert!(text.contains("陆慷:\n> 我简单回答两点。"), "{text}");
    let html = zh_mail.body_html(0).unwrap();
    assert!(html.contains("中国<mark>台湾</mark>地区"), "{html}");
    assert!(html.contains("lang=\"zh-CN\""));
}

#[tokio::test]
async fn smtp_down_while_briefings_arrive_loses_nothing_and_sends_each_once() {
    let server = SmtpServer::start().await;
    let addr = server.stop();
    let archive = Archive::new();
    let rules = rules(TAIWAN_RULES);
    let en = en_briefing();
    let zh = zh_briefing();
    archive.ingest(&rules, &BriefingEvent::New(&en));

    let mut sender = sender(&archive, smtp_config(addr.port(), ""));
    let report = sender.deliver_due(Utc::now()).await.unwrap();
    assert_eq!((report.sent, report.retried), (0, 1), "{report:?}");
    archive.ingest(&rules, &BriefingEvent::New(&zh));
    let report = sender
        .deliver_due(Utc::now() + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(
        (report.sent, report.retried),
        (0, 1),
        "a refused connection ends the pass: {report:?}"
    );
    let rows = outbox::list(&archive.conn(), None, 10).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.state == OutboxState::Queued));
    assert!(rows.iter().any(|r| {
        r.last_error
            .as_deref()
            .is_some_and(|e| e.contains("onnection"))
    }));

    let server = SmtpServer::start_on(addr)
        .await
        .expect("the port is free again");
    let report = sender
        .deliver_due(Utc::now() + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(report.sent, 2, "{report:?}");
    let report = sender
        .deliver_due(Utc::now() + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(report.sent, 0, "nothing is sent twice");
    let mut ids = message_ids(&server);
    ids.sort();
    let mut expected: Vec<String> = rows
        .iter()
        .map(|r| r.message_id.trim_matches(['<', '>']).to_string())
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_4xx_then_250_is_delivered_once() {
    let server = SmtpServer::start().await;
    server.push_fault(Fault::RejectMail("451 4.3.2 please try again later".into()));
    let archive = Archive::new();
    archive.ingest(&rules(TAIWAN_RULES), &BriefingEvent::New(&en_briefing()));

    let mut sender = sender(&archive, smtp_config(server.port(), ""));
    let report = sender.deliver_due(Utc::now()).await.unwrap();
    assert_eq!((report.sent, report.retried), (0, 1));
    let row = &outbox::list(&archive.conn(), None, 1).unwrap()[0];
    assert!(
        row.last_error.as_deref().unwrap().contains("451"),
        "{row:?}"
    );
    assert!(row.due_at > Utc::now() - Duration::seconds(1));

    let report = sender
        .deliver_due(Utc::now() + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    sender
        .deliver_due(Utc::now() + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(server.received().len(), 1);
    let row = &outbox::list(&archive.conn(), None, 1).unwrap()[0];
    assert_eq!((row.state, row.attempts), (OutboxState::Sent, 2));
    assert!(row.server_reply.as_deref().unwrap().starts_with("250"));
}

#[tokio::test]
async fn a_5xx_is_dead_with_the_server_reply() {
    let server = SmtpServer::start().await;
    server.push_fault(Fault::RejectData(
        "554 5.7.1 message refused by policy".into(),
    ));
    let archive = Archive::new();
    archive.ingest(&rules(TAIWAN_RULES), &BriefingEvent::New(&en_briefing()));

    let mut sender = sender(&archive, smtp_config(server.port(), ""));
    let report = sender.deliver_due(Utc::now()).await.unwrap();
    assert_eq!(report.dead, 1, "{report:?}");
    sender
        .deliver_due(Utc::now() + Duration::hours(3))
        .await
        .unwrap();
    let dead = outbox::list(&archive.conn(), Some(OutboxState::Dead), 10).unwrap();
    assert_eq!(dead.len(), 1);
    let error = dead[0].last_error.as_deref().unwrap();
    assert!(
        error.contains("554") && error.contains("message refused by policy"),
        "{error}"
    );
}

#[tokio::test]
async fn exhausted_retries_are_dead_with_the_last_reply() {
    let server = SmtpServer::start().await;
    for _ in 0..3 {
        server.push_fault(Fault::RejectMail("421 4.7.0 too busy".into()));
    }
    let archive = Archive::new();
    archive.ingest(&rules(TAIWAN_RULES), &BriefingEvent::New(&en_briefing()));
    let mut sender = sender(&archive, smtp_config(server.port(), "max_attempts = 3"));
    for minute in 0..3 {
        sender
            .deliver_due(Utc::now() + Duration::minutes(minute))
            .await
            .unwrap();
    }
    let rows = outbox::list(&archive.conn(), None, 10).unwrap();
    assert_eq!(rows[0].state, OutboxState::Dead);
    let error = rows[0].last_error.as_deref().unwrap();
    assert!(
        error.starts_with("gave up after 3 attempts") && error.contains("421"),
        "{error}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn killed_between_accepted_and_marked_resends_only_that_message() {
    let server = SmtpServer::start().await;
    let archive = Archive::new();
    let rules = rules(
        r#"
[[alert]]
name = "taiwan"
terms = ["Taiwan"]
recipients = ["one@example.org", "two@example.org", "three@example.org"]
"#,
    );
    archive.ingest(&rules, &BriefingEvent::New(&en_briefing()));
    let reached = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    server.push_fault(Fault::HoldAfterData {
        reached: reached.clone(),
        release: release.clone(),
    });

    // The server stores the first message and holds its 250; the process dies meanwhile.
    let config = smtp_config(server.port(), "");
    let mut doomed = sender(&archive, config.clone());
    let task = tokio::spawn(async move { doomed.deliver_due(Utc::now()).await });
    reached.notified().await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    release.notify_one();
    assert_eq!(states(&archive).get("sending"), Some(&1));

    let report = sender(&archive, config)
        .deliver_due(Utc::now())
        .await
        .unwrap();
    assert_eq!(report.sent, 3, "{report:?}");
    let ids = message_ids(&server);
    assert_eq!(ids.len(), 4);
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for id in &ids {
        *per_id.entry(id).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_id.values().copied().collect();
    counts.sort();
    assert_eq!(
        counts,
        [1, 1, 2],
        "only the interrupted message is seen twice, same Message-ID"
    );
    assert_eq!(ids[0], ids[1], "the resend is the interrupted message");
    assert_eq!(states(&archive).get("sent"), Some(&3));
}

#[tokio::test]
async fn a_connection_dropped_after_data_is_resent_with_the_same_message_id() {
    let server = SmtpServer::start().await;
    server.push_fault(Fault::DropAfterData);
    let archive = Archive::new();
    archive.ingest(&rules(TAIWAN_RULES), &BriefingEvent::New(&en_briefing()));
    let mut sender = sender(&archive, smtp_config(server.port(), ""));
    assert_eq!(sender.deliver_due(Utc::now()).await.unwrap().retried, 1);
    assert_eq!(
        sender
            .deliver_due(Utc::now() + Duration::seconds(1))
            .await
            .unwrap()
            .sent,
        1
    );
    let ids = message_ids(&server);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn the_hourly_cap_folds_the_excess_into_one_digest() {
    let server = SmtpServer::start().await;
    let archive = Archive::new();
    let rules = rules(TAIWAN_RULES);
    for day in 1..=5 {
        let mut briefing = en_briefing();
        briefing.url = format!("{EN_URL}?day={day}");
        briefing.date = NaiveDate::from_ymd_opt(2019, 3, day);
        archive.ingest(&rules, &BriefingEvent::New(&briefing));
    }
    let mut sender = sender(
        &archive,
        smtp_config(server.port(), "max_per_recipient_per_hour = 2"),
    );
    let now = Utc::now();
    let report = sender.deliver_due(now).await.unwrap();
    assert_eq!((report.sent, report.deferred), (2, 3), "{report:?}");
    let digest = outbox::list(&archive.conn(), Some(OutboxState::Queued), 10).unwrap();
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0].alert.briefings.len(), 3);
    assert!(digest[0].due_at > now + Duration::minutes(59));
    assert_eq!(states(&archive).get("merged"), Some(&3));

    assert_eq!(
        sender
            .deliver_due(now + Duration::minutes(30))
            .await
            .unwrap()
            .sent,
        0
    );
    assert_eq!(
        sender
            .deliver_due(now + Duration::minutes(61))
            .await
            .unwrap()
            .sent,
        1
    );
    let received = server.received();
    assert_eq!(received.len(), 3);
    let mail = parse(&received[2].data);
    let subject = mail.subject().unwrap();
    assert_eq!(
        subject,
        "[briefwatch] digest 2019-03-03 to 2019-03-05 Lu Kang: taiwan (6 exchanges in 3 briefings)"
    );
    let text = mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(text.matches("== Foreign Ministry Spokesperson").count(), 3);
}

#[tokio::test]
async fn a_digest_rule_collects_its_window_into_one_mail() {
    let server = SmtpServer::start().await;
    let archive = Archive::new();
    let rules = rules(
        r#"
[[alert]]
name = "taiwan-daily"
terms = ["Taiwan", "台湾"]
recipients = ["analyst@example.org"]
mode = "digest"
window = "1h"
"#,
    );
    let ids_en = archive.ingest(&rules, &BriefingEvent::New(&en_briefing()));
    let ids_zh = archive.ingest(&rules, &BriefingEvent::New(&zh_briefing()));
    assert_eq!(ids_en, ids_zh, "both join the open digest");
    let row = &outbox::list(&archive.conn(), None, 10).unwrap()[0];
    let (start, end) = row.alert.window.unwrap();
    assert_eq!(end - start, Duration::hours(1));
    assert_eq!(row.due_at, end);

    let mut sender = sender(&archive, smtp_config(server.port(), ""));
    assert_eq!(
        sender.deliver_due(Utc::now()).await.unwrap().sent,
        0,
        "not before the window ends"
    );
    assert_eq!(sender.deliver_due(end).await.unwrap().sent, 1);
    let received = server.received();
    let mail = parse(&received[0].data);
    assert!(mail.subject().unwrap().starts_with(
        "[briefwatch] digest 2019-03-12 Lu Kang, 陆慷: taiwan-daily (3 exchanges in 2 briefings)"
    ));
    let html = mail.body_html(0).unwrap();
    assert!(html.contains("<mark>台湾</mark>地区") && html.contains("<mark>Taiwan</mark>"));
}

#[tokio::test]
async fn credentials_come_from_the_credential_file_and_dots_are_unstuffed() {
    use lettre::AsyncTransport;
    let server = SmtpServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret: &Path = &dir.path().join("smtp-password");
    std::fs::write(secret, "s3cret\n").unwrap();
    let config = smtp_config(server.port(), "username = \"briefwatch\"");
    let credentials_dir = dir.path().display().to_string();
    let password = resolve_password(&config, |name| {
        (name == "CREDENTIALS_DIRECTORY").then(|| credentials_dir.clone())
    })
    .unwrap();
    let transport = config.transport(password).unwrap();
    let message = lettre::Message::builder()
        .from("alerts@example.org".parse().unwrap())
        .to("analyst@example.org".parse().unwrap())
        .subject("dots")
        .body(".leading dot\n..two dots\n.\nend\n".to_string())
        .unwrap();
    transport.send(message).await.unwrap();
    let received = server.received();
    assert_eq!(received[0].auth.as_deref(), Some("briefwatch:s3cret"));
    let body = parse(&received[0].data).body_text(0).unwrap().to_string();
    // The client ends DATA with CRLF.CRLF after the body's own line end, so a blank line follows.
    assert_eq!(
        body.replace("\r\n", "\n").trim_end(),
        ".leading dot\n..two dots\n.\nend"
    );
}

#[test]
fn revisions_alert_on_added_removed_and_changed_matches_only() {
    let rules = rules(
        r#"
[[alert]]
name = "taiwan"
terms = ["Taiwan"]
recipients = ["analyst@example.org"]

[[alert]]
name = "trade-cosmetic"
terms = ["trade"]
recipients = ["analyst@example.org"]
on = ["new", "revised", "removed", "cosmetic"]
"#,
    );
    let old = en_briefing();
    let mut new = old.clone();
    // The trade answer now mentions Taiwan, the first Taiwan exchange disappears, and the
    // second is reworded without changing its matches.
    new.exchanges[2].answer = vec!["The talks are going well, Taiwan aside.".into()];
    new.exchanges.remove(0);
    new.exchanges[0].answer = vec![EN_A2.replace("strongly opposed", "firmly opposed")];
    let pairs = align_exchanges(&old, &new);
    let alerts = plan_alerts(
        &rules,
        &BriefingEvent::Revised {
            old: &old,
            new: &new,
            pairs,
        },
    );
    assert_eq!(alerts.len(), 1);
    let items = &alerts[0].content.items;
    let summary: Vec<(u32, &str, Vec<&str>)> = items
        .iter()
        .map(|i| {
            (
                i.exchange.ordinal,
                i.change.label(),
                i.rules.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "removed", vec!["taiwan"]),
            (3, "revised", vec!["taiwan"])
        ]
    );
    let ItemChange::Revised { diff: Some(diff) } = &items[1].change else {
        panic!("a revised item carries its diff: {:?}", items[1].change);
    };
    assert!(
        diff.text.contains("{+, Taiwan aside.+}") || diff.text.contains("{+Taiwan+}"),
        "{}",
        diff.text
    );

    // The same change judged cosmetic fires only the rule that asks for cosmetic changes.
    let pairs = align_exchanges(&old, &new)
        .into_iter()
        .map(|pair| ExchangePair {
            cosmetic: true,
            ..pair
        })
        .collect();
    let cosmetic = plan_alerts(
        &rules,
        &BriefingEvent::Revised {
            old: &old,
            new: &new,
            pairs,
        },
    );
    let rules_fired: Vec<&str> = cosmetic[0]
        .content
        .items
        .iter()
        .flat_map(|i| i.rules.iter().map(String::as_str))
        .collect();
    assert!(rules_fired.contains(&"trade-cosmetic"));
    assert!(
        !cosmetic[0]
            .content
            .items
            .iter()
            .any(|i| i.rules == ["taiwan"] && i.change.label() == "cosmetic change")
    );
}

#[tokio::test]
async fn the_sender_task_delivers_when_woken_and_stops_on_shutdown() {
    let server = SmtpServer::start().await;
    let archive = Archive::new();
    let sender = sender(&archive, smtp_config(server.port(), ""));
    let wake = Arc::new(Notify::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sender.run(wake.clone(), async move {
        let _ = stopped.await;
    }));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    archive.ingest(&rules(TAIWAN_RULES), &BriefingEvent::New(&en_briefing()));
    wake.notify_one();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.received().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        server.received().len(),
        1,
        "woken sender delivers without waiting a minute"
    );
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("the sender stops on shutdown")
        .unwrap();
    assert_eq!(states(&archive).get("sent"), Some(&1));
}

#[test]
fn the_fifty_rule_config_compiles_and_matches_real_text() {
    let rules = rules(include_str!("../fixtures/alert/bench-rules.toml"));
    assert_eq!(rules.len(), 50);
    let en = en_briefing();
    let names: Vec<&str> = rules
        .matches_all(&en.exchanges[0], Lang::En)
        .into_iter()
        .map(|(index, _)| rules.rule(index).name.as_str())
        .collect();
    // "WHO" is an acronym and does not fire on "who is still in Taiwan".
    assert_eq!(names, ["taiwan", "religion"]);
}

#[tokio::test]
async fn a_test_message_arrives_with_alert_headers_and_chinese_intact() {
    let server = SmtpServer::start().await;
    let config = smtp_config(server.port(), "");
    let transport = config.transport(None).unwrap();
    let settings = config.compose_settings(None).unwrap();
    let message = briefwatch::alert::compose_test(
        &settings,
        "analyst@example.org",
        Utc::now(),
        "<test.1@example.org>",
    )
    .unwrap();
    let reply = briefwatch::alert::sender::send_now(&transport, message)
        .await
        .unwrap();
    assert!(reply.starts_with("250"), "{reply}");
    let received = server.received();
    let mail = parse(&received[0].data);
    assert_eq!(mail.subject().unwrap(), "[briefwatch] test message 测试");
    assert_eq!(mail.message_id().unwrap(), "test.1@example.org");
    assert_eq!(
        mail.header_raw("Auto-Submitted").unwrap().trim(),
        "auto-generated"
    );
    assert!(mail.body_text(0).unwrap().contains("中国**台湾**地区"));
    assert!(
        mail.body_html(0)
            .unwrap()
            .contains("中国<mark>台湾</mark>地区")
    );
}

/// A fixture page of tests/fixtures/alert/, extracted by the site profile.
fn extracted(file: &str, profile: &str, url: &str) -> Briefing {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/alert")
        .join(file);
    let html = briefwatch::charset::decode_html(&std::fs::read(path).unwrap(), Some("text/html"));
    briefwatch::site::Profile::builtin(profile)
        .unwrap()
        .parse_article(&html, url)
        .unwrap()
}

/// (ordinal, matched texts) of every exchange the rule matches.
fn rule_hits(rule_toml: &str, briefing: &Briefing) -> Vec<(u32, Vec<String>)> {
    let rules = rules(rule_toml);
    briefing
        .exchanges
        .iter()
        .filter_map(|exchange| {
            let (_, found) = rules
                .matches_all(exchange, briefing.lang)
                .into_iter()
                .next()?;
            let texts = found
                .spans
                .iter()
                .map(|span| {
                    briefwatch::alert::rule::span_text(exchange, span)
                        .unwrap()
                        .to_string()
                })
                .collect();
            Some((exchange.ordinal, texts))
        })
        .collect()
}

fn one_rule(body: &str) -> String {
    format!("[[alert]]\nname = \"r\"\nrecipients = [\"a@example.org\"]\n{body}\n")
}

#[test]
fn rules_on_a_real_english_transcript() {
    let briefing = extracted("t1644890.shtml", "mfa-en", EN_URL);
    assert_eq!(briefing.spokesperson.as_deref(), Some("Lu Kang"));
    // "Taiwan" on word boundaries: Taiwan's counts, Taiwanese does not.
    let taiwan = rule_hits(&one_rule("terms = [\"Taiwan\"]"), &briefing);
    let all: Vec<&str> = taiwan
        .iter()
        .flat_map(|(_, t)| t.iter().map(String::as_str))
        .collect();
    assert!(all.iter().all(|t| *t == "Taiwan"), "{all:?}");
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alert/t1644890.shtml"),
    )
    .unwrap();
    // Every standalone "Taiwan" in the page, "Taiwan's" included, is found in the exchanges.
    let in_page = source.matches("Taiwan").count() - source.matches("Taiwanese").count();
    assert_eq!(all.len(), in_page, "{taiwan:?}");
    let prefixed = rule_hits(&one_rule("terms = [\"Taiwan*\"]"), &briefing);
    let prefixed_texts: Vec<&str> = prefixed
        .iter()
        .flat_map(|(_, t)| t.iter().map(String::as_str))
        .collect();
    assert_eq!(
        prefixed_texts.iter().filter(|t| **t == "Taiwan").count(),
        in_page
    );
    assert!(
        prefixed_texts.len() > in_page,
        "the prefix also finds Taiwanese"
    );

    // A phrase, case-insensitive; an exclude in the same scope vetoes the exchange.
    let strait = rule_hits(&one_rule("terms = ['\"taiwan strait\"']"), &briefing);
    assert_eq!(strait.len(), 1);
    assert_eq!(strait[0].1, ["Taiwan Strait"]);
    let vetoed = rule_hits(
        &one_rule("terms = [\"Taiwan\"]\nexclude = ['\"Taiwan Strait\"']"),
        &briefing,
    );
    assert_eq!(vetoed.len(), taiwan.len() - 1);
    assert!(!vetoed.iter().any(|(ordinal, _)| *ordinal == strait[0].0));

    // Scopes: the Tsai Ing-wen question names Taiwan in the question; asked about the answer only,
    // the exchanges found are those whose answer says Taiwan.
    let answers = rule_hits(
        &one_rule("terms = [\"Taiwan\"]\nscope = \"answer\""),
        &briefing,
    );
    for (ordinal, _) in &answers {
        let exchange = &briefing.exchanges[*ordinal as usize - 1];
        assert!(exchange.answer.iter().any(|p| p.contains("Taiwan")));
    }
    let questions = rule_hits(
        &one_rule("terms = [\"Taiwan\"]\nscope = \"question\""),
        &briefing,
    );
    for (ordinal, _) in &questions {
        let exchange = &briefing.exchanges[*ordinal as usize - 1];
        assert!(exchange.question.iter().any(|p| p.contains("Taiwan")));
    }
    assert!(!answers.is_empty() && !questions.is_empty());
    // Chinese terms never fire on the English page, and a Chinese-only rule skips it.
    assert!(rule_hits(&one_rule("terms = [\"台湾\"]"), &briefing).is_empty());
    assert!(
        rule_hits(
            &one_rule("terms = [\"Taiwan\"]\nlanguages = [\"zh\"]"),
            &briefing
        )
        .is_empty()
    );
}

#[test]
fn rules_on_a_real_chinese_transcript() {
    let briefing = extracted("t1644829.shtml", "mfa-zh", ZH_URL);
    assert_eq!(briefing.spokesperson.as_deref(), Some("陆慷"));
    let hits = rule_hits(&one_rule("terms = [\"台湾地区\"]"), &briefing);
    assert_eq!(hits.len(), 2, "{hits:?}");
    let substring = rule_hits(&one_rule("terms = [\"台湾\"]"), &briefing);
    assert!(substring.len() >= hits.len());
    let all: Vec<&str> = substring
        .iter()
        .flat_map(|(_, t)| t.iter().map(String::as_str))
        .collect();
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alert/t1644829.shtml"),
    )
    .unwrap();
    // The page has one more 台湾 than the exchanges: the bold title of a related link, outside the body.
    assert!(all.len() >= source.matches("台湾").count() - 2, "{all:?}");
    assert!(all.iter().all(|t| *t == "台湾"));
    // Words joined by spaces in a term must all occur: 蔡英文 and 过境 are in one question.
    let both = rule_hits(&one_rule("terms = [\"蔡英文 过境\"]"), &briefing);
    assert_eq!(both.len(), 1);
    assert!(rule_hits(&one_rule("terms = [\"蔡英文 香港\"]"), &briefing).is_empty());
}

// Through the archive: the real binary, the loopback ministry site and the loopback SMTP server.

fn archive_env(
    site: &crate::support::SiteServer,
    smtp_port: u16,
    extra: &str,
) -> crate::support::TestEnv {
    let alert = crate::support::alert_config("india", r#"["India", "印度"]"#, smtp_port);
    crate::support::TestEnv::with_config(&crate::support::test_config(
        site,
        &format!("{alert}{extra}"),
    ))
}

fn outbox_rows(env: &crate::support::TestEnv) -> Vec<serde_json::Value> {
    let json = env.briefwatch(&["alerts", "outbox", "--json"]);
    serde_json::from_str(&json).expect("outbox JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_is_silent_and_a_revision_that_adds_a_match_is_mailed_with_its_diff() {
    let smtp = SmtpServer::start().await;
    let site = crate::support::SiteServer::start(crate::support::fixture_site());
    let env = archive_env(&site, smtp.port(), "");
    let config = std::fs::read_to_string(&env.config).unwrap().replace(
        "listen = \"127.0.0.1:0\"",
        "listen = \"127.0.0.1:0\"\npublic_url = \"https://briefwatch.example.org/\"",
    );
    std::fs::write(&env.config, config).unwrap();
    let backfill = env.briefwatch(&["backfill"]);
    assert!(!backfill.contains("alerts:"), "{backfill}");
    assert!(outbox_rows(&env).is_empty(), "a backfill queues nothing");
    assert!(smtp.received().is_empty());

    // The ministry edits the 3 July transcript: an exchange about Hong Kong now names India.
    let page = String::from_utf8(site.page(crate::support::EN_ARTICLE)).unwrap();
    site.set_page(
        crate::support::EN_ARTICLE,
        page.replacen("Hong Kong", "India", 1),
    );
    let poll = env.briefwatch(&["poll", "--once", "--all"]);
    assert!(poll.contains("alerts: 1 sent"), "{poll}");

    let received = smtp.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, ["desk@example.org"]);
    let mail = parse(&received[0].data);
    assert_eq!(
        mail.subject().unwrap(),
        "[briefwatch] revised 2020-07-03 Zhao Lijian: india (1 exchange)"
    );
    assert_eq!(
        mail.header_raw("Auto-Submitted").unwrap().trim(),
        "auto-generated"
    );
    let text = mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("(revised) · rules: india"), "{text}");
    assert!(text.contains("**India**"), "{text}");
    assert!(text.contains("What changed"), "{text}");
    // The link to briefwatch's own diff view, from [http] public_url and the revision numbers.
    let view = regex::Regex::new(
        r"In briefwatch: https://briefwatch\.example\.org/b/\d+/diff\?from=1&to=2\n",
    )
    .unwrap();
    assert!(view.is_match(&text), "{text}");
    assert!(
        text.contains("Hong Kong") && text.contains("India"),
        "the diff names both"
    );
    let html = mail.body_html(0).unwrap();
    assert!(html.contains("<mark>India</mark>"), "{html}");
    assert!(html.contains("<div class=\"diff\">"), "{html}");

    let rows = outbox_rows(&env);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "sent");
    assert_eq!(
        format!("<{}>", mail.message_id().unwrap()),
        rows[0]["message_id"].as_str().unwrap()
    );
    // Polling again sends nothing more.
    let again = env.briefwatch(&["poll", "--once", "--all"]);
    assert!(again.contains("alerts: 0 sent"), "{again}");
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_with_alerts_delivers_and_a_5xx_shows_as_dead_in_the_outbox() {
    let smtp = SmtpServer::start().await;
    smtp.push_fault(Fault::RejectData(
        "550 5.1.1 <desk@example.org>: mailbox unavailable".into(),
    ));
    let site = crate::support::SiteServer::start(crate::support::fixture_site());
    let env = archive_env(&site, smtp.port(), "");
    let backfill = env.briefwatch(&["backfill", "--alerts"]);
    let rows = outbox_rows(&env);
    let dead: Vec<&serde_json::Value> = rows.iter().filter(|r| r["state"] == "dead").collect();
    let sent = rows.iter().filter(|r| r["state"] == "sent").count();
    assert_eq!(dead.len(), 1, "{rows:?}");
    assert!(sent >= 1, "{rows:?}");
    assert!(
        backfill.contains(&format!("alerts: {sent} sent, 0 to retry, 1 dead")),
        "{backfill}"
    );
    assert_eq!(
        smtp.received().len(),
        sent,
        "the refused message is not stored"
    );
    let error = dead[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("550") && error.contains("mailbox unavailable"),
        "{error}"
    );

    let listing = env.briefwatch(&["alerts", "outbox"]);
    assert!(listing.contains("dead 1"), "{listing}");
    assert!(
        listing.contains("error: permanent error (550)"),
        "{listing}"
    );
    assert!(listing.contains("mailbox unavailable"), "{listing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_wait_in_the_outbox_while_smtp_is_down_and_go_out_once_when_it_returns() {
    let smtp = SmtpServer::start().await;
    let addr = smtp.stop();
    let site = crate::support::SiteServer::start(crate::support::fixture_site());
    let env = archive_env(&site, addr.port(), "");
    let backfill = env.briefwatch(&["backfill", "--alerts"]);
    assert!(
        backfill.contains("alerts: 0 sent, 1 to retry, 0 dead"),
        "{backfill}"
    );
    let queued = outbox_rows(&env);
    assert!(queued.len() >= 2, "{queued:?}");
    assert!(queued.iter().all(|r| r["state"] == "queued"));

    let smtp = SmtpServer::start_on(addr)
        .await
        .expect("the port is free again");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let poll = env.briefwatch(&["poll", "--once"]);
    assert!(
        poll.contains(&format!("alerts: {} sent", queued.len())),
        "{poll}"
    );
    let mut delivered = message_ids(&smtp);
    delivered.sort();
    let mut expected: Vec<String> = queued
        .iter()
        .map(|r| {
            r["message_id"]
                .as_str()
                .unwrap()
                .trim_matches(['<', '>'])
                .to_string()
        })
        .collect();
    expected.sort();
    assert_eq!(
        delivered, expected,
        "every queued alert once, with the Message-ID it was queued with"
    );
    env.briefwatch(&["poll", "--once"]);
    assert_eq!(smtp.received().len(), expected.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_test_shows_what_a_rule_matches_and_send_test_reaches_the_server() {
    let smtp = SmtpServer::start().await;
    let site = crate::support::SiteServer::start(crate::support::fixture_site());
    let env = archive_env(&site, smtp.port(), "");
    env.briefwatch(&["backfill"]);
    let shown = env.briefwatch(&["alerts", "test", "india", "--date", "2020-07-03"]);
    assert!(shown.contains("**India**"), "{shown}");
    assert!(shown.contains("2020-07-03 [en]"), "{shown}");
    assert!(shown.contains("rule \"india\":"), "{shown}");
    let json = env.briefwatch(&["alerts", "test", "india", "--json"]);
    let hits: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert!(
        hits.iter()
            .all(|h| h["paragraphs"].as_array().unwrap().iter().all(|p| {
                let p = p.as_str().unwrap();
                p.contains("**India**") || p.contains("**印度**")
            }))
    );
    let unknown = env.briefwatch_output(&["alerts", "test", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("no alert rule named \"nope\" (rules: india)")
    );

    let sent = env.briefwatch(&["alerts", "send-test", "me@example.org"]);
    assert!(sent.contains("250"), "{sent}");
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(smtp.received()[0].rcpt_to, ["me@example.org"]);
    assert!(
        outbox_rows(&env).is_empty(),
        "a test message bypasses the outbox"
    );
}

#[test]
fn check_config_names_the_invalid_rule_and_term() {
    let site = crate::support::SiteServer::start(crate::support::fixture_site());
    let env = archive_env(&site, 2525, "");
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(&env.config, text.replace("\"India\",", "'\"India',")).unwrap();
    let output = env.briefwatch_output(&["check-config"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("alert rule \"india\": invalid term \"\\\"India\": a quote is not closed"),
        "{stderr}"
    );

    let with_password =
        crate::support::TestEnv::with_config(&format!("{text}password = \"hunter2\"\n"));
    let output = with_password.briefwatch_output(&["check-config"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown field `password`"), "{stderr}");
    assert!(!stderr.contains("hunter2"));
}

/// Runs the daemon until `done` holds (or 20 s pass), then interrupts it; returns whether `done` held.
fn run_daemon_until(env: &crate::support::TestEnv, args: &[&str], done: impl Fn() -> bool) -> bool {
    let mut child = env.command().arg("run").args(args).spawn().unwrap();
    let started = std::time::Instant::now();
    let mut reached = false;
    while started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if done() {
            reached = true;
            break;
        }
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    reached
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_fills_an_empty_archive_silently_and_delivers_with_alerts_on() {
    let smtp = SmtpServer::start().await;
    let site = crate::support::SiteServer::start(crate::support::fixture_site());
    let revisions = |env: &crate::support::TestEnv| {
        briefwatch::store::Store::open(&env.database())
            .map_or(0, |store| crate::support::count(&store, "revisions"))
    };

    let silent = archive_env(&site, smtp.port(), "\n[schedule]\ntick = \"200ms\"\n");
    assert!(run_daemon_until(&silent, &[], || revisions(&silent) >= 6));
    assert_eq!(crate::support::count(&silent.store(), "outbox"), 0);
    assert!(smtp.received().is_empty());

    let loud = archive_env(&site, smtp.port(), "\n[schedule]\ntick = \"200ms\"\n");
    let settled = || {
        revisions(&loud) >= 6
            && !smtp.received().is_empty()
            && crate::support::count(&loud.store(), "outbox WHERE state <> 'sent'") == 0
    };
    assert!(run_daemon_until(&loud, &["--alerts"], settled));
    let rows = outbox_rows(&loud);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["state"] == "sent"), "{rows:?}");
    let mut ids = message_ids(&smtp);
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "each alert delivered once");
    assert_eq!(count, rows.len());
}

#[test]
fn the_shipped_config_with_its_alert_example_uncommented_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/briefwatch.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("# [[alert]]").expect("the alert example");
    let (before, example) = text.split_at(start);
    let uncommented: String = example
        .lines()
        .filter(|line| !line.starts_with("# The password") && !line.starts_with("# $CREDENTIALS"))
        .map(|line| {
            line.strip_prefix("# ")
                .or(line.strip_prefix('#'))
                .unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config =
        briefwatch::config::Config::from_toml_str(&format!("{before}{uncommented}\n"), "example")
            .expect("the example parses");
    briefwatch::setup::validate(&config, "example").expect("the example is valid");
    assert_eq!(config.alerts.len(), 2);
    assert!(config.smtp.is_some());
    assert_eq!(config.webhooks.len(), 1);
}

#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn fifty_rules_on_every_exchange_of_the_corpus() {
    let corpus = crate::support::corpus_dir().join("mfa-2020");
    let rules = rules(include_str!("../fixtures/alert/bench-rules.toml"));
    let english = briefwatch::site::Profile::builtin("mfa-en").unwrap();
    let chinese = briefwatch::site::Profile::builtin("mfa-zh").unwrap();
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut fired = vec![0usize; rules.len()];
    let mut exchanges = 0;
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [url, "200", _, file, ..] = fields.as_slice() else {
            continue;
        };
        if !file.contains("/t") {
            continue;
        }
        let profile = if url.contains("/mfa_eng/") {
            &english
        } else {
            &chinese
        };
        let html =
            briefwatch::charset::decode_html(&std::fs::read(corpus.join(file)).unwrap(), None);
        let Ok(briefing) = profile.parse_article(&html, url) else {
            continue;
        };
        for exchange in &briefing.exchanges {
            exchanges += 1;
            for (index, found) in rules.matches_all(exchange, briefing.lang) {
                fired[index] += 1;
                for span in &found.spans {
                    let text =
                        briefwatch::alert::rule::span_text(exchange, span).unwrap_or_else(|| {
                            panic!("span {span:?} outside {url} #{}", exchange.ordinal)
                        });
                    assert!(!text.is_empty());
                    if rules.rule(index).name == "taiwan" {
                        assert!(
                            text.eq_ignore_ascii_case("taiwan") || text == "台湾",
                            "{text:?} in {url}"
                        );
                    }
                }
            }
        }
    }
    assert!(exchanges > 7000, "{exchanges} exchanges extracted");
    let silent: Vec<&str> = (0..rules.len())
        .filter(|&i| fired[i] == 0)
        .map(|i| rules.rule(i).name.as_str())
        .collect();
    assert!(
        silent.len() <= 5,
        "rules that never fire on two years of transcripts: {silent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_taken_down_mails_its_matching_exchanges_as_removed() {
    let smtp = SmtpServer::start().await;
    let site = crate::support::SiteServer::start(crate::support::fixture_site());
    let env = archive_env(&site, smtp.port(), "");
    env.briefwatch(&["backfill"]);
    site.remove_page(crate::support::EN_ARTICLE);
    // A page counts as gone after `gone_after` (2) failed fetches in a row.
    env.briefwatch(&["poll", "--once", "--all"]);
    assert!(smtp.received().is_empty(), "one 404 is not yet a removal");
    let poll = env.briefwatch(&["poll", "--once", "--all"]);
    assert!(poll.contains("alerts: 1 sent"), "{poll}");
    let received = smtp.received();
    let mail = parse(&received[0].data);
    let subject = mail.subject().unwrap();
    assert!(
        subject.starts_with("[briefwatch] taken down 2020-07-03 Zhao Lijian: india ("),
        "{subject}"
    );
    let text = mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("(removed) · rules: india"), "{text}");
    assert!(text.contains("**India**"), "{text}");
}
