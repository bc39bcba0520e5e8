//! Feed server for `scripts/bench-feeds`: renders a full-size feed set, writes it as static files for
//! nginx to serve too, then serves it with the production router until stdin closes.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use briefwatch::feed::{BriefingEntry, FeedInputs, FeedSettings, SharedFeeds};
use briefwatch::model::{Briefing, Exchange, Kind, Lang};
use briefwatch::serve::{self, ServeState};
use chrono::{FixedOffset, NaiveDate, TimeZone, Utc};

/// Fifty briefings of about the size of a real one (twenty exchanges, some 30 kB of text).
fn briefings() -> Vec<BriefingEntry> {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let paragraph = "Since its return to the motherland, Hong Kong has given full play to its unique advantage as a global hub backed by the mainland, and its status as an international financial, shipping and trading center has been consolidated.";
    (0..50)
        .map(|index| {
            let date = NaiveDate::from_ymd_opt(2020, 5, 1).expect("valid date")
                + chrono::Days::new(index);
            let published = beijing
                .from_local_datetime(&date.and_hms_opt(21, 19, 0).expect("valid time"))
                .single()
                .expect("no DST in Beijing");
            let exchanges = (1..=20)
                .map(|ordinal| Exchange {
                    ordinal,
                    asker: "Beijing Youth Daily".to_string(),
                    question: vec![format!("Question {ordinal}: {paragraph}")],
                    answer: vec![paragraph.to_string(); 5],
                    after_conference: false,
                })
                .collect();
            BriefingEntry {
                briefing: Briefing {
                    url: format!("https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t17{index:05}.shtml"),
                    lang: Lang::En,
                    kind: Kind::PressConference,
                    title: format!("Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on {}", date.format("%B %-d, %Y")),
                    date: Some(date),
                    published_at: Some(published),
                    spokesperson: Some("Zhao Lijian".to_string()),
                    opening: vec![paragraph.to_string()],
                    exchanges,
                    content_hash: format!("{index}"),
                    found_by: None,
                    selector: None,
                    date_from: None,
                },
                archive_date: None,
                fetched_at: None,
            }
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(out_dir)) = (args.next(), args.next()) else {
        return Err("usage: bench_feed_server LISTEN_ADDR OUT_DIR".into());
    };
    let listener = serve::bind(listen.parse()?).await?;
    let settings = FeedSettings::new(
        &format!("http://{}", listener.local_addr()?),
        50,
        Duration::from_secs(900),
    )?;
    let feeds = SharedFeeds::default();
    let inputs = FeedInputs {
        briefings: briefings(),
        ..FeedInputs::default()
    };
    feeds.refresh(&settings, &inputs, Utc::now())?;
    feeds.load().write_dir(&PathBuf::from(out_dir))?;
    let feed = feeds.load();
    let briefings = feed.get("briefings").ok_or("no briefings feed")?;
    println!("etag {} bytes {}", briefings.etag, briefings.body.len());

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = stop.send(());
    });
    let router = serve::router(ServeState {
        feeds,
        ..ServeState::default()
    });
    serve::serve(listener, router, async move {
        let _ = stopped.await;
    })
    .await?;
    Ok(())
}
