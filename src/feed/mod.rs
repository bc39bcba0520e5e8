//! RSS documents rendered from stored briefings and events: a pure core over plain entry structs.
//!
//! The store (or a test) fills [`BriefingEntry`], [`EventEntry`] and [`KeywordEntry`] values; this
//! module turns each into a [`FeedItem`] with a stable guid and sanitized HTML, and [`render`] writes
//! one RSS 2.0 document. [`FeedSet`] renders every feed once per change and hands out the bytes.

mod archive;
mod html;
mod items;
mod search;
mod set;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset};
use rss::extension::atom::{AtomExtension, Link as AtomLink};
use rss::extension::dublincore::DublinCoreExtension;

use crate::config::FeedsConfig;

pub use archive::{
    FeedRules, Publisher, blocks_from_change, exchange_key, inputs_from_store, revision_blocks,
};
pub use html::clean_text;
pub use items::{
    BriefingEntry, ChangeBlock, DATE_ONLY_TIME, EventEntry, EventKind, KeywordEntry, Mark,
    PageDates, Part, Place, Segment, UnpairedNote, document_date,
};
pub use search::{SearchEntry, opml};
pub use set::{FeedInputs, FeedSet, RenderedFeed, SharedFeeds, WriteReport};

/// Why a feed could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{field} must be an absolute http(s) URL, got {value:?}")]
    NotAbsoluteUrl { field: &'static str, value: String },
    #[error("keyword rule name {0:?} cannot name a feed: use letters, digits, '-' and '_' only")]
    InvalidRuleName(String),
    #[error("[feeds] items must be between 1 and 10000, got {0}")]
    InvalidItemCount(usize),
    #[error("writing RSS for feed {feed}: {source}")]
    Xml { feed: String, source: rss::Error },
    #[error("reading the archive for feeds: {source}")]
    Store { source: crate::store::StoreError },
    #[error("feed settings: {0}")]
    Config(String),
    #[error("writing feed file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl FeedsConfig {
    pub fn validate(&self) -> Result<(), FeedError> {
        if !(1..=10_000).contains(&self.items) {
            return Err(FeedError::InvalidItemCount(self.items));
        }
        Ok(())
    }
}

/// What every feed of one installation shares: where it is published and how often it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSettings {
    /// Absolute base URL under which `/feeds/…` and the web view are reachable.
    pub public_url: String,
    pub items: usize,
    /// The poll interval: feeds cannot change faster, so it sets `<ttl>` and `max-age`.
    pub poll_interval: Duration,
}

impl FeedSettings {
    pub fn new(
        public_url: &str,
        items: usize,
        poll_interval: Duration,
    ) -> Result<FeedSettings, FeedError> {
        let public_url = absolute_http_url("public_url", public_url)?;
        Ok(FeedSettings {
            public_url: public_url.trim_end_matches('/').to_string(),
            items,
            poll_interval,
        })
    }

    /// An absolute URL below the public base; `path` starts without a slash.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.public_url, path)
    }

    /// `<ttl>` in minutes: the poll interval rounded up, at least one.
    pub fn ttl_minutes(&self) -> u32 {
        let minutes = self.poll_interval.as_secs().div_ceil(60).max(1);
        u32::try_from(minutes).unwrap_or(u32::MAX)
    }

    /// The channel metadata of the feed named `name` (`briefings`, `briefings-en`, `briefings-zh`,
    /// `revisions`, `keywords/<rule>`).
    pub fn meta(&self, name: &str) -> FeedMeta {
        let (title, description, language) = match name {
            "briefings" => (
                "briefwatch: Foreign Ministry spokesperson briefings".to_string(),
                "Transcripts of the Chinese Foreign Ministry's press conferences, English and Chinese"
                    .to_string(),
                None,
            ),
            "briefings-en" => (
                "briefwatch: Foreign Ministry spokesperson briefings (English)".to_string(),
                "Transcripts of the Chinese Foreign Ministry's press conferences in English"
                    .to_string(),
                Some("en"),
            ),
            "briefings-zh" => (
                "briefwatch：外交部发言人表态（中文）".to_string(),
                "外交部例行记者会及发言人表态的中文实录".to_string(),
                Some("zh-CN"),
            ),
            "revisions" => (
                "briefwatch: revised and withdrawn transcripts".to_string(),
                "Exchanges removed, answers reworded, pages taken down or restored, and exchanges missing from one language version"
                    .to_string(),
                None,
            ),
            other => {
                let rule = other.strip_prefix("keywords/").unwrap_or(other);
                (
                    format!("briefwatch: exchanges matching “{rule}”"),
                    format!(
                        "Every press-conference exchange that matches the alert rule “{rule}”, quoted in full"
                    ),
                    None,
                )
            }
        };
        FeedMeta {
            title,
            description,
            link: self.url(""),
            self_url: self.url(&format!("feeds/{name}.xml")),
            language: language.map(str::to_string),
            ttl_minutes: self.ttl_minutes(),
            max_items: self.items,
        }
    }
}

/// Channel-level data of one feed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedMeta {
    pub title: String,
    pub description: String,
    /// The site the channel belongs to (absolute).
    pub link: String,
    /// Where this very document is served (absolute); becomes `atom:link rel="self"`.
    pub self_url: String,
    /// `en`, `zh-CN`; `None` for feeds mixing languages.
    pub language: Option<String>,
    pub ttl_minutes: u32,
    pub max_items: usize,
}

/// One `<item>`, ready to write: every field plain text except `description_html`, which is
/// already sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// Not a URL (`tag:` URI), so written with `isPermaLink="false"`.
    pub guid: String,
    pub title: String,
    pub link: Option<String>,
    pub pub_date: DateTime<FixedOffset>,
    pub creator: Option<String>,
    /// `(domain, name)` pairs.
    pub categories: Vec<(String, String)>,
    pub description_html: String,
}

/// Writes one RSS 2.0 document: items newest first (ties by guid), at most `meta.max_items`.
/// Output depends only on the arguments, so an unchanged archive renders byte-identical feeds.
pub fn render(meta: &FeedMeta, mut items: Vec<FeedItem>) -> Result<String, FeedError> {
    let self_url = absolute_http_url("self_url", &meta.self_url)?;
    let link = absolute_http_url("link", &meta.link)?;
    items.sort_by(|a, b| {
        b.pub_date
            .cmp(&a.pub_date)
            .then_with(|| a.guid.cmp(&b.guid))
    });
    items.truncate(meta.max_items);

    let newest = items
        .iter()
        .filter_map(|item| rfc822(&item.pub_date))
        .next();
    let channel = rss::Channel {
        title: clean_text(&meta.title).into_owned(),
        link,
        description: clean_text(&meta.description).into_owned(),
        language: meta.language.clone(),
        generator: Some(format!("briefwatch {}", env!("CARGO_PKG_VERSION"))),
        docs: Some("https://www.rssboard.org/rss-specification".to_string()),
        ttl: Some(meta.ttl_minutes.to_string()),
        pub_date: newest.clone(),
        last_build_date: newest,
        atom_ext: Some(AtomExtension {
            links: vec![AtomLink {
                href: self_url,
                rel: "self".to_string(),
                mime_type: Some("application/rss+xml".to_string()),
                ..AtomLink::default()
            }],
        }),
        items: items.into_iter().filter_map(rss_item).collect(),
        ..rss::Channel::default()
    };
    let bytes = channel
        .write_to(Vec::new())
        .map_err(|source| FeedError::Xml {
            feed: meta.self_url.clone(),
            source,
        })?;
    // The rss crate writes only what it was given, and every string above is valid UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn rss_item(item: FeedItem) -> Option<rss::Item> {
    let Some(pub_date) = rfc822(&item.pub_date) else {
        tracing::warn!(guid = %item.guid, "feed item dropped: its date has no four-digit year");
        return None;
    };
    let link = item
        .link
        .and_then(|link| match absolute_http_url("link", &link) {
            Ok(link) => Some(link),
            Err(error) => {
                tracing::warn!(guid = %item.guid, %error, "feed item link left out");
                None
            }
        });
    Some(rss::Item {
        title: Some(clean_text(&item.title).into_owned()),
        link,
        description: Some(item.description_html),
        guid: Some(rss::Guid {
            value: clean_text(&item.guid).into_owned(),
            permalink: false,
        }),
        pub_date: Some(pub_date),
        categories: item
            .categories
            .iter()
            .map(|(domain, name)| rss::Category {
                name: clean_text(name).into_owned(),
                domain: Some(clean_text(domain).into_owned()),
            })
            .collect(),
        dublin_core_ext: item.creator.map(|creator| DublinCoreExtension {
            creators: vec![clean_text(&creator).into_owned()],
            ..DublinCoreExtension::default()
        }),
        ..rss::Item::default()
    })
}

/// RFC 822 date with a four-digit year (`Fri, 03 Jul 2020 21:19:00 +0800`); `None` outside
/// years 1000–9999, which RFC 822 readers cannot represent.
pub fn rfc822(date: &DateTime<FixedOffset>) -> Option<String> {
    if !(1000..=9999).contains(&date.year()) {
        return None;
    }
    Some(date.format("%a, %d %b %Y %H:%M:%S %z").to_string())
}

fn absolute_http_url(field: &'static str, value: &str) -> Result<String, FeedError> {
    let cleaned = clean_text(value.trim());
    match url::Url::parse(&cleaned) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(FeedError::NotAbsoluteUrl {
            field,
            value: value.to_string(),
        }),
    }
}

/// A keyword rule name usable as a feed path segment.
pub fn check_rule_name(rule: &str) -> Result<(), FeedError> {
    let valid = !rule.is_empty()
        && rule.len() <= 64
        && rule
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if valid {
        Ok(())
    } else {
        Err(FeedError::InvalidRuleName(rule.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_are_rfc822_with_four_digit_years() {
        let beijing = FixedOffset::east_opt(8 * 3600).unwrap();
        let date = beijing.with_ymd_and_hms(2020, 7, 3, 21, 19, 0).unwrap();
        assert_eq!(rfc822(&date).unwrap(), "Fri, 03 Jul 2020 21:19:00 +0800");
        let ancient = beijing.with_ymd_and_hms(999, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(rfc822(&ancient), None);
    }

    #[test]
    fn ttl_rounds_the_poll_interval_up_to_whole_minutes() {
        let settings = |secs| {
            FeedSettings::new("http://127.0.0.1:8787/", 50, Duration::from_secs(secs)).unwrap()
        };
        assert_eq!(settings(900).ttl_minutes(), 15);
        assert_eq!(settings(901).ttl_minutes(), 16);
        assert_eq!(settings(5).ttl_minutes(), 1);
    }

    #[test]
    fn settings_reject_relative_public_urls_and_trim_the_slash() {
        assert!(matches!(
            FeedSettings::new("/feeds", 50, Duration::from_secs(60)),
            Err(FeedError::NotAbsoluteUrl {
                field: "public_url",
                ..
            })
        ));
        let settings =
            FeedSettings::new("https://example.org/bw/", 50, Duration::from_secs(60)).unwrap();
        assert_eq!(
            settings.meta("revisions").self_url,
            "https://example.org/bw/feeds/revisions.xml"
        );
    }

    #[test]
    fn rule_names_must_be_path_safe() {
        assert!(check_rule_name("taiwan-strait_2").is_ok());
        for bad in ["", "../etc", "a/b", "台湾", "a b"] {
            assert!(check_rule_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn feeds_config_defaults_and_rejects_unknown_keys() {
        let config: FeedsConfig = toml::from_str("").unwrap();
        assert_eq!(config, FeedsConfig::default());
        assert_eq!(config.items, 50);
        let config: FeedsConfig = toml::from_str("items = 20\nout_dir = \"/srv/feeds\"").unwrap();
        assert_eq!(config.items, 20);
        assert!(toml::from_str::<FeedsConfig>("itmes = 20").is_err());
        assert!(
            FeedsConfig {
                items: 0,
                out_dir: None
            }
            .validate()
            .is_err()
        );
    }
}
