//! The feed of a search and the OPML list of every feed: pure rendering over plain values.

use chrono::{DateTime, FixedOffset};

use super::html::Html;
use super::items::{Mark, Quote};
use super::{FeedItem, FeedMeta, FeedSettings};
use crate::model::{Exchange, Lang};

/// The guid namespace of exchanges, shared by every search feed.
const EXCHANGE_GUID_PREFIX: &str = "tag:briefwatch,2024:exchange:";

/// One passage that matched a search, quoted in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchEntry {
    /// The stable key of the exchange (its page, asker and question; see
    /// [`exchange_key`](super::exchange_key)), so a revision that renumbers exchanges keeps the item.
    pub exchange_key: String,
    /// The briefing's date (see [`document_date`](super::document_date)), which dates the item.
    pub date: DateTime<FixedOffset>,
    /// The ministry's page.
    pub url: String,
    /// briefwatch's view of the passage (absolute).
    pub view: String,
    pub lang: Lang,
    pub title: String,
    pub spokesperson: Option<String>,
    /// The passage; the briefing's own text carries its name (such as "Opening remarks") as asker.
    pub exchange: Exchange,
    pub marks: Vec<Mark>,
}

impl SearchEntry {
    pub fn guid(&self) -> String {
        format!("{EXCHANGE_GUID_PREFIX}{}", self.exchange_key)
    }

    pub fn to_item(&self) -> FeedItem {
        let mut html = Html::new();
        Quote {
            exchange: &self.exchange,
            lang: self.lang,
            spokesperson: self.spokesperson.as_deref(),
            marks: &self.marks,
            url: &self.url,
            title: &self.title,
            view: Some(&self.view),
        }
        .write(&mut html);
        FeedItem {
            guid: self.guid(),
            title: format!("{} ({})", self.exchange.asker, self.title),
            link: Some(self.url.clone()),
            pub_date: self.date,
            creator: self.spokesperson.clone(),
            categories: vec![("lang".to_string(), self.lang.as_str().to_string())],
            description_html: html.finish(),
        }
    }
}

impl FeedSettings {
    /// The channel of the search feed whose query string is `query` (already encoded, and the
    /// same that serves it).
    pub fn search_meta(&self, q: &str, query: &str) -> FeedMeta {
        FeedMeta {
            title: format!("briefwatch: search “{q}”"),
            description: format!(
                "The newest press-conference passages that match “{q}”, quoted in full"
            ),
            link: self.url(&format!("search?{query}")),
            self_url: self.url(&format!("feeds/search.xml?{query}")),
            language: None,
            ttl_minutes: self.ttl_minutes(),
            max_items: self.items,
        }
    }
}

/// An OPML 2.0 document listing the feeds named `names` (as [`FeedSet`](super::FeedSet) names
/// them), so that a reader subscribes to all at once.
pub fn opml<'n>(settings: &FeedSettings, names: impl IntoIterator<Item = &'n str>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n    <title>briefwatch feeds</title>\n",
    );
    out.push_str(&format!(
        "    <ownerId>{}</ownerId>\n  </head>\n  <body>\n",
        xml_escape(&settings.url(""))
    ));
    for name in names {
        let meta = settings.meta(name);
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{title}\" title=\"{title}\" xmlUrl=\"{xml}\" htmlUrl=\"{html}\"/>\n",
            title = xml_escape(&meta.title),
            xml = xml_escape(&meta.self_url),
            html = xml_escape(&meta.link),
        ));
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in super::clean_text(text).chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            ch => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::Part;
    use chrono::TimeZone;
    use std::time::Duration;

    fn settings() -> FeedSettings {
        FeedSettings::new("https://example.org/bw/", 50, Duration::from_secs(600)).unwrap()
    }

    fn entry(question: &str) -> SearchEntry {
        SearchEntry {
            exchange_key: "https://example.org/t1.shtml#0011223344556677".to_string(),
            date: FixedOffset::east_opt(8 * 3600)
                .unwrap()
                .with_ymd_and_hms(2020, 7, 3, 15, 0, 0)
                .unwrap(),
            url: "https://example.org/t1.shtml".to_string(),
            view: "https://example.org/bw/b/1#q2".to_string(),
            lang: Lang::En,
            title: "Regular Press Conference on July 3, 2020".to_string(),
            spokesperson: Some("Zhao Lijian".to_string()),
            exchange: Exchange {
                ordinal: 2,
                asker: "Reuters".to_string(),
                question: vec![question.to_string()],
                answer: vec!["On Hong Kong <b>we</b> said so.".to_string()],
                after_conference: false,
            },
            marks: vec![Mark {
                part: Part::Answer,
                paragraph: 0,
                range: 3..12,
            }],
        }
    }

    #[test]
    fn the_guid_names_the_exchange_not_its_number_and_terms_are_marked() {
        let mut renumbered = entry("What about Hong Kong?");
        renumbered.exchange.ordinal = 1;
        assert_eq!(entry("What about Hong Kong?").guid(), renumbered.guid());
        let item = entry("What about Hong Kong?").to_item();
        assert!(
            item.description_html
                .contains("On <mark>Hong Kong</mark> &lt;b&gt;we&lt;/b&gt; said so."),
            "{}",
            item.description_html
        );
        assert_eq!(
            item.title,
            "Reuters (Regular Press Conference on July 3, 2020)"
        );
    }

    #[test]
    fn opml_escapes_and_lists_each_feed() {
        let text = opml(&settings(), ["briefings", "keywords/a_b"]);
        assert!(text.contains("xmlUrl=\"https://example.org/bw/feeds/briefings.xml\""));
        assert!(text.contains("xmlUrl=\"https://example.org/bw/feeds/keywords/a_b.xml\""));
        assert!(text.contains("&#8220;") || text.contains("“a_b”"));
        assert_eq!(text.matches("<outline ").count(), 2);
    }

    #[test]
    fn the_search_channel_links_to_itself_with_its_query() {
        let meta = settings().search_meta("a&b", "q=a%26b");
        assert_eq!(
            meta.self_url,
            "https://example.org/bw/feeds/search.xml?q=a%26b"
        );
        assert_eq!(meta.link, "https://example.org/bw/search?q=a%26b");
    }
}
