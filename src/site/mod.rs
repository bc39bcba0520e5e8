//! Site profiles: selector fallback chains for listing and article pages, and title classification.
//!
//! The ministry has changed its layout at least three times. A profile holds, for each field, a
//! chain of CSS selectors covering every known era; the first selector that yields something
//! wins. Chains are data: the config file can put its own selectors in front of them
//! ([`SelectorOverrides`]). A page that matches no selector is an error naming the selectors
//! tried, never an empty record.

mod bound;
mod classify;
mod dating;
mod fallback;
mod html;
mod window;

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use regex::Regex;
use scraper::{ElementRef, Html, Selector};

use crate::config::SelectorOverrides;
use crate::extract::{content_hash_of_extracted, normalize, segment_owned};
use crate::model::{Briefing, FoundBy, Kind, Lang, Listing, ListingItem};

pub use bound::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS};
pub use classify::{TitleFacts, classify_title};
pub use dating::{DateEvidence, infer_date};
pub use fallback::stable_selector;
pub use html::{block_paragraphs, element_text};

/// Why a page could not be turned into a record.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("layout not recognized: {url}: tried {tried}")]
    LayoutNotRecognized { url: String, tried: String },
    #[error("not a transcript: {url}: {reason}")]
    NotATranscript { url: String, reason: String },
    #[error("listing has no items: {url}: tried {tried}")]
    EmptyListing { url: String, tried: String },
    #[error("page too complex to extract: {url}: {reason}")]
    TooComplex { url: String, reason: String },
    #[error("unknown site profile {0:?} (known: mfa-en, mfa-zh)")]
    UnknownProfile(String),
    #[error("invalid CSS selector {selector:?} for {field}: {reason}")]
    InvalidSelector {
        field: &'static str,
        selector: String,
        reason: String,
    },
}

/// An article's record and, when the content fallback found it, selectors for its parts.
#[derive(Debug, Clone)]
pub struct Explained {
    pub briefing: Briefing,
    pub hint: Option<SelectorHint>,
}

impl Explained {
    fn by_selector(briefing: Briefing) -> Explained {
        Explained {
            briefing,
            hint: None,
        }
    }
}

/// CSS selectors that find a page's title, time and body directly: a `[sites.<profile>]` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorHint {
    pub profile: String,
    pub title: Option<String>,
    pub published_at: Option<String>,
    pub body: String,
}

impl SelectorHint {
    /// The hint as overrides, as the config file would give them.
    pub fn overrides(&self) -> SelectorOverrides {
        SelectorOverrides {
            listing_items: None,
            title: self.title.clone().map(|selector| vec![selector]),
            published_at: self.published_at.clone().map(|selector| vec![selector]),
            body: Some(vec![self.body.clone()]),
        }
    }

    /// The `[sites.<profile>]` block to paste into the config file.
    pub fn to_toml(&self) -> String {
        let table = toml::Table::try_from(self.overrides()).unwrap_or_default();
        let mut sites = toml::Table::new();
        let mut profile = toml::Table::new();
        profile.insert(self.profile.clone(), toml::Value::Table(table));
        sites.insert("sites".to_string(), toml::Value::Table(profile));
        toml::to_string(&sites).unwrap_or_default()
    }
}

/// One field's selector chain: the selectors as written (for error messages) and compiled.
#[derive(Debug, Clone)]
struct Chain {
    field: &'static str,
    /// Shared: profiles are cloned per page and compiled selectors are immutable.
    entries: Arc<Vec<(String, Selector)>>,
}

fn compile_all<'a>(
    field: &'static str,
    selectors: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, Selector)>, SiteError> {
    selectors
        .map(|source| {
            Selector::parse(source)
                .map(|compiled| (source.to_string(), compiled))
                .map_err(|error| SiteError::InvalidSelector {
                    field,
                    selector: source.to_string(),
                    reason: error.to_string(),
                })
        })
        .collect()
}

impl Chain {
    fn new(field: &'static str, selectors: &[&str]) -> Result<Chain, SiteError> {
        Ok(Chain {
            field,
            entries: Arc::new(compile_all(field, selectors.iter().copied())?),
        })
    }

    /// A copy with `first` in front, built-in selectors repeated there dropped from the tail.
    fn with_front(&self, first: &[String]) -> Result<Chain, SiteError> {
        let mut entries = compile_all(self.field, first.iter().map(String::as_str))?;
        for (source, compiled) in self.entries.iter() {
            if !first.contains(source) {
                entries.push((source.clone(), compiled.clone()));
            }
        }
        Ok(Chain {
            field: self.field,
            entries: Arc::new(entries),
        })
    }

    fn describe(&self) -> String {
        let sources: Vec<&str> = self
            .entries
            .iter()
            .map(|(source, _)| source.as_str())
            .collect();
        format!("{} [{}]", self.field, sources.join(", "))
    }
}

/// A named set of selector chains for one site and language.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub lang: Lang,
    listing_items: Chain,
    title: Chain,
    published_at: Chain,
    body: Chain,
    /// What the article selectors can match, for parsing only that part of a page; `None` when
    /// some selector cannot be anchored and every page is parsed whole.
    anchors: Option<Arc<window::Anchors>>,
}

/// Built-in chains. Order matters: the eras seen in the 2020 capture first, then the layouts
/// reported since (2021–23, current), then generic containers.
const EN_LISTING_ITEMS: &[&str] = &[
    "div.newsLst_mod ul li a",
    ".news_list li a",
    ".news_list a",
    "div.newsBd li a",
    "ul.list1 li a",
    "div.rebox_news ul li a",
];
const ZH_LISTING_ITEMS: &[&str] = &[
    "div.rebox_news ul li a",
    "div.newsBd li a",
    "ul.list1 li a",
    ".news_list li a",
    ".news_list a",
    "div.newsLst_mod ul li a",
];
const EN_TITLE: &[&str] = &[
    ".content_mod h2.title",
    ".news_header_title",
    ".news-title h1",
    "#News_Body_Title",
    "title",
];
const ZH_TITLE: &[&str] = &[
    "#News_Body_Title",
    ".news-title h1",
    ".news_header_title",
    "h1",
    "title",
];
const EN_PUBLISHED_AT: &[&str] = &[
    "#News_Body_Time",
    ".xltime",
    ".news-title p.time",
    ".time span",
    "meta[name=PubDate]",
];
const ZH_PUBLISHED_AT: &[&str] = &[
    "#News_Body_Time",
    ".time span",
    ".news-title p.time",
    ".xltime",
    "meta[name=PubDate]",
];
const EN_BODY: &[&str] = &[
    ".content_mod div.content",
    ".content_text",
    "#News_Body_Txt_A",
    ".TRS_Editor",
    ".news-main",
];
const ZH_BODY: &[&str] = &[
    "#News_Body_Txt_A",
    ".news-main",
    ".content_text",
    ".TRS_Editor",
];

impl Profile {
    /// The built-in profile of that name (`mfa-en`, `mfa-zh`).
    pub fn builtin(name: &str) -> Result<Profile, SiteError> {
        // Compiling the selectors costs more than extracting a small page; do it once.
        static ENGLISH: LazyLock<Profile> =
            LazyLock::new(|| Profile::compile("mfa-en").expect("built-in selectors are valid"));
        static CHINESE: LazyLock<Profile> =
            LazyLock::new(|| Profile::compile("mfa-zh").expect("built-in selectors are valid"));
        match name {
            "mfa-en" => Ok(ENGLISH.clone()),
            "mfa-zh" => Ok(CHINESE.clone()),
            _ => Err(SiteError::UnknownProfile(name.to_string())),
        }
    }

    fn compile(name: &str) -> Result<Profile, SiteError> {
        let (lang, listing, title, published, body) = match name {
            "mfa-en" => (
                Lang::En,
                EN_LISTING_ITEMS,
                EN_TITLE,
                EN_PUBLISHED_AT,
                EN_BODY,
            ),
            "mfa-zh" => (
                Lang::Zh,
                ZH_LISTING_ITEMS,
                ZH_TITLE,
                ZH_PUBLISHED_AT,
                ZH_BODY,
            ),
            _ => return Err(SiteError::UnknownProfile(name.to_string())),
        };
        Ok(Profile {
            name: name.to_string(),
            lang,
            listing_items: Chain::new("listing_items", listing)?,
            title: Chain::new("title", title)?,
            published_at: Chain::new("published_at", published)?,
            body: Chain::new("body", body)?,
            anchors: None,
        }
        .anchored())
    }

    /// This profile with the anchors of its article selectors.
    fn anchored(mut self) -> Profile {
        let sources = [&self.title, &self.published_at, &self.body]
            .into_iter()
            .flat_map(|chain| chain.entries.iter().map(|(source, _)| source.as_str()));
        self.anchors = window::Anchors::of(sources).map(Arc::new);
        self
    }

    /// This profile parsing every article page whole, as the extraction would without the
    /// window: the reference the window is checked against.
    pub fn without_window(&self) -> Profile {
        Profile {
            anchors: None,
            ..self.clone()
        }
    }

    /// Pick the profile for a page: by the URL's path first (`/mfa_eng/`, `/eng/` are English;
    /// `/web/`, `/chn/`, `/mfa_chn/` Chinese), then by `<html lang>`, then by the script of the
    /// `<title>`.
    pub fn detect(url: &str, html: &str) -> Result<Profile, SiteError> {
        match detect_lang(url, html) {
            Some(Lang::En) => Profile::builtin("mfa-en"),
            Some(Lang::Zh) => Profile::builtin("mfa-zh"),
            None => Err(SiteError::LayoutNotRecognized {
                url: url.to_string(),
                tried: "URL path (/mfa_eng/, /eng/, /web/, /chn/, /mfa_chn/), <html lang>, script of <title>"
                    .to_string(),
            }),
        }
    }

    /// This profile with the configured selectors tried before the built-in ones.
    pub fn with_overrides(&self, overrides: &SelectorOverrides) -> Result<Profile, SiteError> {
        let apply = |chain: &Chain, first: &Option<Vec<String>>| match first {
            Some(first) => chain.with_front(first),
            None => Ok(chain.clone()),
        };
        Ok(Profile {
            name: self.name.clone(),
            lang: self.lang,
            listing_items: apply(&self.listing_items, &overrides.listing_items)?,
            title: apply(&self.title, &overrides.title)?,
            published_at: apply(&self.published_at, &overrides.published_at)?,
            body: apply(&self.body, &overrides.body)?,
            anchors: None,
        }
        .anchored())
    }

    /// The links of a listing page, resolved against `base_url`, with the date shown beside each
    /// link and the page count announced by the pager script.
    pub fn parse_listing(&self, html: &str, base_url: &str) -> Result<Listing, SiteError> {
        let html = bounded(html, base_url)?;
        let html = html.as_ref();
        let document = Html::parse_document(html);
        let base = url::Url::parse(base_url).ok();
        for (_, selector) in self.listing_items.entries.iter() {
            let mut items: Vec<ListingItem> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for link in document.select(selector) {
                let Some(item) = listing_item(link, base.as_ref()) else {
                    continue;
                };
                if seen.insert(item.url.clone()) {
                    items.push(item);
                }
            }
            if !items.is_empty() {
                return Ok(Listing {
                    items,
                    page_count: page_count(html),
                });
            }
        }
        // A new layout: the same-site links the title classifier recognizes, and the pager
        // from its script or from its links.
        let items = fallback::find_listing_items(&document, base.as_ref(), self.lang);
        if !items.is_empty() {
            return Ok(Listing {
                items,
                page_count: page_count(html).or_else(|| fallback::page_count_from_links(&document)),
            });
        }
        Err(SiteError::EmptyListing {
            url: base_url.to_string(),
            tried: format!(
                "{}; content fallback: no same-site links with recognized titles",
                self.listing_items.describe()
            ),
        })
    }

    /// The transcript of an article page: title, classification, publication time and the
    /// segmented body. When no body selector finds it (or what one finds is no transcript), the
    /// content fallback looks for it; a record it finds must pass the plausibility checks.
    pub fn parse_article(&self, html: &str, url: &str) -> Result<Briefing, SiteError> {
        self.explain_article(html, url)
            .map(|explained| explained.briefing)
    }

    /// [`Profile::parse_article`], with, for a page found by the fallback, selectors that would
    /// find its parts directly.
    pub fn explain_article(&self, html: &str, url: &str) -> Result<Explained, SiteError> {
        if is_soft_404(html) {
            return Err(SiteError::NotATranscript {
                url: url.to_string(),
                reason: "the site's error page (error.htm): the page is missing or was taken down"
                    .to_string(),
            });
        }
        let html = bounded(html, url)?;
        let html = html.as_ref();
        let window = self
            .anchors
            .as_deref()
            .and_then(|anchors| window::content_window(html, anchors));
        let mut document = Html::parse_document(window.as_deref().unwrap_or(html));
        let mut found = self.body_and_title(&document);
        let mut whole = window.is_none();
        if !whole && (found.0.is_none() || found.1.is_none()) {
            // Every element a selector can match lies inside the window, so this should not
            // happen; if the cut misjudged a page, the whole page still gets its chance.
            document = Html::parse_document(html);
            found = self.body_and_title(&document);
            whole = true;
        }
        if let (Some((paragraphs, selector)), Some(title)) = found {
            let published_at = self.published_at(&document);
            let briefing = self.assemble(url, title, published_at, paragraphs);
            let briefing = Briefing {
                found_by: Some(FoundBy::Selector),
                selector: Some(selector),
                ..briefing
            };
            // A press conference without one exchange is not what the selector was meant to
            // find: a block with the exchanges wins, if the page has one.
            if briefing.kind != Kind::PressConference || !briefing.exchanges.is_empty() {
                return Ok(Explained::by_selector(briefing));
            }
            if !whole {
                document = Html::parse_document(html);
            }
            return Ok(match self.fallback_article(&document, url) {
                Ok(found) if !found.briefing.exchanges.is_empty() => found,
                _ => Explained::by_selector(briefing),
            });
        }
        if !whole {
            document = Html::parse_document(html);
        }
        self.fallback_article(&document, url)
            .map_err(|reason| SiteError::LayoutNotRecognized {
                url: url.to_string(),
                tried: format!(
                    "{}; {}; content fallback: {reason}",
                    self.body.describe(),
                    self.title.describe()
                ),
            })
    }

    /// The record out of its parts, the date completed from the publication time when the
    /// title leaves it out.
    fn assemble(
        &self,
        url: &str,
        title: String,
        published_at: Option<DateTime<FixedOffset>>,
        paragraphs: Vec<String>,
    ) -> Briefing {
        let facts = classify_title(&title, self.lang);
        let (date, date_from) = dating::article_date(&title, self.lang, &facts, published_at);
        let (opening, exchanges) =
            segment_owned(paragraphs, self.lang, facts.spokesperson.as_deref());
        let mut briefing = Briefing {
            url: url.to_string(),
            lang: self.lang,
            kind: facts.kind,
            title,
            date,
            published_at,
            spokesperson: facts.spokesperson,
            opening,
            exchanges,
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from,
        };
        briefing.content_hash = content_hash_of_extracted(&briefing);
        briefing
    }

    /// The transcript located by its content, checked, with selectors for its parts.
    fn fallback_article(&self, document: &Html, url: &str) -> Result<Explained, String> {
        let (title, title_element) = self
            .specific_title(document)
            .or_else(|| fallback::find_title(document))
            .ok_or("no title (<h1>, og:title, <title>)")?;
        let (published_at, time_element) = match self.published_at_element(document) {
            Some((time, element)) => (Some(time), Some(element)),
            None => match fallback::find_published(document, title_element) {
                Some((time, element)) => (Some(time), element),
                None => (None, None),
            },
        };
        let facts = classify_title(&title, self.lang);
        let skip: std::collections::HashSet<_> = [title_element, time_element]
            .into_iter()
            .flatten()
            .map(|element| element.id())
            .collect();
        let found =
            fallback::find_article(document, self.lang, facts.spokesperson.as_deref(), &skip)?;
        let (published_at, time_element) = match published_at {
            Some(time) => (Some(time), time_element),
            None => match fallback::date_line_before(document, found.body) {
                Some((time, element)) => (Some(time), Some(element)),
                None => (None, None),
            },
        };
        let briefing = Briefing {
            found_by: Some(FoundBy::Fallback),
            ..self.assemble(url, title, published_at, found.paragraphs)
        };
        if let Some(reason) = fallback::implausible(
            briefing.kind,
            &briefing.title,
            &briefing.opening,
            &briefing.exchanges,
        ) {
            return Err(reason);
        }
        let hint = SelectorHint {
            profile: self.name.clone(),
            title: title_element.map(|element| fallback::stable_selector(document, element)),
            published_at: time_element.map(|element| fallback::stable_selector(document, element)),
            body: fallback::stable_selector(document, found.body),
        };
        Ok(Explained {
            briefing,
            hint: Some(hint),
        })
    }

    /// The paragraphs of the first body selector that has any (with that selector), and the
    /// title.
    fn body_and_title(&self, document: &Html) -> (Option<(Vec<String>, String)>, Option<String>) {
        let paragraphs = self.body.entries.iter().find_map(|(source, selector)| {
            document
                .select(selector)
                .map(block_paragraphs)
                .find(|paragraphs| !paragraphs.is_empty())
                .map(|paragraphs| (paragraphs, source.clone()))
        });
        (paragraphs, self.title(document))
    }

    fn title(&self, document: &Html) -> Option<String> {
        self.title
            .entries
            .iter()
            .flat_map(|(_, selector)| document.select(selector))
            .map(|element| strip_site_suffix(&element_text(element)))
            .find(|title| !title.is_empty())
    }

    /// The title by a selector naming a particular element (not the generic `title` or `h1`,
    /// which the fallback weighs itself).
    fn specific_title<'a>(&self, document: &'a Html) -> Option<(String, Option<ElementRef<'a>>)> {
        self.title
            .entries
            .iter()
            .filter(|(source, _)| !matches!(source.as_str(), "title" | "h1"))
            .flat_map(|(_, selector)| document.select(selector))
            .map(|element| (strip_site_suffix(&element_text(element)), Some(element)))
            .find(|(title, _)| !title.is_empty())
    }

    fn published_at(&self, document: &Html) -> Option<DateTime<FixedOffset>> {
        self.published_at_element(document).map(|(time, _)| time)
    }

    fn published_at_element<'a>(
        &self,
        document: &'a Html,
    ) -> Option<(DateTime<FixedOffset>, ElementRef<'a>)> {
        self.published_at
            .entries
            .iter()
            .flat_map(|(_, selector)| document.select(selector))
            .find_map(|element| {
                let text = match element.value().attr("content") {
                    Some(content) if element.value().name() == "meta" => content.to_string(),
                    _ => match element.value().attr("datetime") {
                        Some(datetime) if element.value().name() == "time" => {
                            return fallback::parse_any_time(datetime).map(|time| (time, element));
                        }
                        _ => element_text(element),
                    },
                };
                parse_beijing_time(&text).map(|time| (time, element))
            })
    }
}

/// The page with its nesting bounded, or the reason it is too much to parse (see [`bound`]).
fn bounded<'a>(html: &'a str, url: &str) -> Result<std::borrow::Cow<'a, str>, SiteError> {
    bound::bound(html).map_err(|reason| SiteError::TooComplex {
        url: url.to_string(),
        reason,
    })
}

fn detect_lang(url: &str, html: &str) -> Option<Lang> {
    let path = url::Url::parse(url)
        .map(|parsed| parsed.path().to_ascii_lowercase())
        .unwrap_or_else(|_| url.to_ascii_lowercase());
    if ["/mfa_eng/", "/eng/", "/en/"]
        .iter()
        .any(|marker| path.contains(marker))
    {
        return Some(Lang::En);
    }
    if ["/web/", "/chn/", "/mfa_chn/", "/fyrbt_673021/", "/zh/"]
        .iter()
        .any(|marker| path.contains(marker))
    {
        return Some(Lang::Zh);
    }
    static HTML_LANG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)<html[^>]*\slang\s*=\s*["']?(en|zh)"#).expect("valid regex")
    });
    let head = truncate_at_char_boundary(html, 4096);
    if let Some(captures) = HTML_LANG.captures(head) {
        return Lang::parse(&captures[1].to_ascii_lowercase());
    }
    static TITLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?is)<title[^>]*>(.*?)</title>").expect("valid regex"));
    let title = TITLE.captures(truncate_at_char_boundary(html, 16384))?;
    let title = &title[1];
    if title.chars().any(crate::text::is_han) {
        Some(Lang::Zh)
    } else if title.chars().any(|c| c.is_ascii_alphabetic()) {
        Some(Lang::En)
    } else {
        None
    }
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The ministry's soft 404: missing pages (and `robots.txt`) redirect to `error.htm`, which
/// answers 200 with "对不起，我们没有找到您要的网页" / "Sorry, the page you requested cannot be
/// found". A transcript that starts answering with it has been taken down.
pub fn is_soft_404(html: &str) -> bool {
    is_soft_404_bytes(html.as_bytes())
}

/// [`is_soft_404`] on a body not yet decoded: the markers are UTF-8, as the error page is.
pub fn is_soft_404_bytes(body: &[u8]) -> bool {
    // One pass with a multi-literal search rather than three substring scans of every page.
    static ERROR_PAGE: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(
            r"我们没有找到您要的网页|the page you requested cannot be found|/images/img-error\.gif",
        )
        .expect("valid regex")
    });
    ERROR_PAGE.is_match(body)
}

/// Whether a URL is a listing page of the spokesperson's column (`default.shtml`,
/// `default_3.shtml`, `index_2.html`, or the column's directory) rather than an article.
pub fn is_listing_url(url: &str) -> bool {
    let path = url::Url::parse(url)
        .map(|parsed| parsed.path().to_string())
        .unwrap_or_else(|_| url.to_string());
    let file = path.rsplit('/').next().unwrap_or_default();
    static LISTING_FILE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:default|index)(?:_\d+)?\.s?html?$").expect("valid regex")
    });
    file.is_empty() || LISTING_FILE.is_match(file)
}

fn listing_item(link: ElementRef<'_>, base: Option<&url::Url>) -> Option<ListingItem> {
    let href = link.value().attr("href")?.trim();
    if href.is_empty()
        || href.starts_with('#')
        || href.to_ascii_lowercase().starts_with("javascript:")
    {
        return None;
    }
    let url = match base {
        Some(base) => base.join(href).ok()?.to_string(),
        None => url::Url::parse(href).ok()?.to_string(),
    };
    let title = element_text(link);
    if title.is_empty() {
        return None;
    }
    // The date sits beside the link: trailing text "(2020-07-03)" (2020) or a <span> (current).
    // A parent with more text than a list item holds is not read: with thousands of links in
    // one element, reading it for each link would cost the square of their number.
    let date = link.parent().and_then(ElementRef::wrap).and_then(|parent| {
        let mut text = String::new();
        for chunk in parent.text() {
            text.push_str(chunk);
            if text.len() > BESIDE_MAX_BYTES {
                return None;
            }
        }
        let beside = text.replacen(&link.text().collect::<String>(), "", 1);
        parse_date(&beside)
    });
    Some(ListingItem { url, title, date })
}

/// Most text read around a listing link for its date.
const BESIDE_MAX_BYTES: usize = 1024;

static PAGE_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\bcountPage\s*=\s*|\bcreatePageHTML\s*\(\s*)(\d+)").expect("valid regex")
});

/// Total pages announced by the pager script: `var countPage = 13` (2020) or
/// `createPageHTML(143, 0, "index", "html")` (current).
fn page_count(html: &str) -> Option<u32> {
    PAGE_COUNT.captures(html)?[1].parse().ok()
}

static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:\s*日)?(?:\s*T?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?)?",
    )
    .expect("valid regex")
});

fn parse_date(text: &str) -> Option<NaiveDate> {
    let captures = DATE_TIME.captures(text)?;
    NaiveDate::from_ymd_opt(
        captures[1].parse().ok()?,
        captures[2].parse().ok()?,
        captures[3].parse().ok()?,
    )
}

/// A time shown on the page, in Beijing time (+08:00). A date without a time (the 2020 Chinese
/// layout) is taken as midnight of that day.
fn parse_beijing_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let captures = DATE_TIME.captures(text)?;
    let date = NaiveDate::from_ymd_opt(
        captures[1].parse().ok()?,
        captures[2].parse().ok()?,
        captures[3].parse().ok()?,
    )?;
    let number = |index: usize| -> Option<u32> {
        captures
            .get(index)
            .and_then(|value| value.as_str().parse().ok())
    };
    let time = chrono::NaiveTime::from_hms_opt(
        number(4).unwrap_or(0),
        number(5).unwrap_or(0),
        number(6).unwrap_or(0),
    )?;
    let beijing = FixedOffset::east_opt(8 * 3600)?;
    beijing
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
}

/// `<title>` carries the site name after an underscore in the current layout.
fn strip_site_suffix(title: &str) -> String {
    for suffix in [
        "_Ministry of Foreign Affairs",
        "_中华人民共和国外交部",
        "_外交部",
    ] {
        if let Some(index) = title.find(suffix) {
            return normalize(&title[..index]);
        }
    }
    title.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_go_first_and_bad_selectors_are_named() {
        let profile = Profile::builtin("mfa-en").unwrap();
        let overrides = SelectorOverrides {
            body: Some(vec!["article .text".into()]),
            ..SelectorOverrides::default()
        };
        let custom = profile.with_overrides(&overrides).unwrap();
        assert_eq!(custom.body.entries[0].0, "article .text");
        assert_eq!(custom.body.entries.len(), profile.body.entries.len() + 1);

        let bad = SelectorOverrides {
            title: Some(vec!["h1[".into()]),
            ..SelectorOverrides::default()
        };
        let error = profile.with_overrides(&bad).unwrap_err().to_string();
        assert!(
            error.contains("\"h1[\"") && error.contains("title"),
            "{error}"
        );
    }

    #[test]
    fn overrides_reject_unknown_keys() {
        let parsed: Result<SelectorOverrides, _> = toml::from_str("bodies = [\"x\"]");
        assert!(parsed.is_err());
        let parsed: SelectorOverrides = toml::from_str("body = [\"x\", \"y\"]").unwrap();
        assert_eq!(parsed.body, Some(vec!["x".to_string(), "y".to_string()]));
    }

    #[test]
    fn unknown_profile() {
        assert!(matches!(
            Profile::builtin("mfa-fr"),
            Err(SiteError::UnknownProfile(_))
        ));
    }

    #[test]
    fn detect_by_path_lang_and_title() {
        let en =
            "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml";
        assert_eq!(Profile::detect(en, "").unwrap().name, "mfa-en");
        let zh = "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1794584.shtml";
        assert_eq!(Profile::detect(zh, "").unwrap().name, "mfa-zh");
        let other = "https://mirror.test/page.html";
        assert_eq!(
            Profile::detect(other, "<html lang=\"zh-CN\">")
                .unwrap()
                .name,
            "mfa-zh"
        );
        assert_eq!(
            Profile::detect(other, "<title>例行记者会</title>")
                .unwrap()
                .name,
            "mfa-zh"
        );
        assert!(Profile::detect(other, "<p>1</p>").is_err());
    }

    #[test]
    fn listing_urls() {
        assert!(is_listing_url(
            "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/default_12.shtml"
        ));
        assert!(is_listing_url(
            "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/"
        ));
        assert!(is_listing_url(
            "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/index_3.html"
        ));
        assert!(!is_listing_url(
            "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1794584.shtml"
        ));
    }

    #[test]
    fn times_are_beijing_time() {
        let time = parse_beijing_time("2024-01-29 21:19").unwrap();
        assert_eq!(time.to_rfc3339(), "2024-01-29T21:19:00+08:00");
        let date_only = parse_beijing_time("2020-07-03").unwrap();
        assert_eq!(date_only.to_rfc3339(), "2020-07-03T00:00:00+08:00");
        assert!(parse_beijing_time("").is_none());
        assert!(parse_beijing_time("2020-13-40").is_none());
    }

    #[test]
    fn page_count_from_either_pager() {
        assert_eq!(page_count("var countPage = 13//共多少页"), Some(13));
        assert_eq!(
            page_count("createPageHTML(143, 0, \"index\", \"html\");"),
            Some(143)
        );
        assert_eq!(page_count("<p>no pager</p>"), None);
    }
}
