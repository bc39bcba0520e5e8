//! Content-based location of a transcript or a listing when no selector of the profile finds it:
//! the last link of every chain, for the day the ministry redesigns its site.
//!
//! An article's body is the block of the page whose paragraphs carry the transcript's own signals
//! (speaker labels, the spokesperson of the title, question marks, prose rather than links); a
//! listing's items are the same-site links whose text the title classifier recognizes. What is
//! found is checked for plausibility, and a stable CSS selector for each part is derived so that
//! the operator can pin the new layout in the config.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset};
use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

use super::html::{is_block, is_skipped};
use super::{ListingItem, classify_title, listing_item, parse_beijing_time};
use crate::extract::{normalize, segment_owned};
use crate::model::{Exchange, Kind, Lang};

/// Elements that are page chrome, never a transcript's text.
fn is_chrome(element: &scraper::node::Element) -> bool {
    matches!(
        element.name(),
        "nav" | "header" | "footer" | "aside" | "menu"
    ) || matches!(
        element.attr("role"),
        Some("navigation" | "banner" | "contentinfo" | "menu" | "search")
    )
}

/// Elements that may hold a whole transcript.
fn is_container(name: &str) -> bool {
    matches!(
        name,
        "div" | "article" | "section" | "main" | "td" | "body" | "center" | "blockquote" | "font"
    )
}

/// The paragraphs of one element as the fallback reads them, with how much of its text is links.
struct Gathered {
    paragraphs: Vec<String>,
    /// Per paragraph: whether most of its text is links (a share bar, a "back" link).
    mostly_links: Vec<bool>,
    chars: usize,
    link_chars: usize,
}

/// Like [`super::block_paragraphs`], also skipping page chrome and the elements in `skip` (the
/// title, the time line).
fn gather(element: ElementRef<'_>, skip: &HashSet<NodeId>, budget: &mut usize) -> Gathered {
    let mut out = Gathered {
        paragraphs: Vec::new(),
        mostly_links: Vec::new(),
        chars: 0,
        link_chars: 0,
    };
    let mut current = Paragraph::default();
    let mut skipping: Option<NodeId> = None;
    let mut link_depth = 0usize;
    for edge in element.traverse() {
        *budget = budget.saturating_sub(1);
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => current.push(text, link_depth > 0),
                    Node::Element(child) => {
                        let name = child.name();
                        if node.id() != element.id()
                            && (is_skipped(name) || is_chrome(child) || skip.contains(&node.id()))
                        {
                            skipping = Some(node.id());
                            current.flush(&mut out);
                        } else if name == "a" {
                            link_depth += 1;
                        } else if is_block(name) {
                            current.flush(&mut out);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(skipped) = skipping {
                    if skipped == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                if let Node::Element(child) = node.value() {
                    if child.name() == "a" {
                        link_depth = link_depth.saturating_sub(1);
                    } else if is_block(child.name()) {
                        current.flush(&mut out);
                    }
                }
            }
        }
    }
    current.flush(&mut out);
    out
}

/// The paragraph being read, and how much of it is link text.
#[derive(Default)]
struct Paragraph {
    text: String,
    chars: usize,
    link_chars: usize,
}

impl Paragraph {
    fn push(&mut self, text: &str, in_link: bool) {
        let count = text.chars().filter(|c| !c.is_whitespace()).count();
        self.chars += count;
        if in_link {
            self.link_chars += count;
        }
        self.text.push_str(text);
    }

    fn flush(&mut self, out: &mut Gathered) {
        let text = normalize(&self.text);
        if !text.is_empty() {
            out.paragraphs.push(text);
            out.mostly_links.push(self.link_chars * 2 > self.chars);
        }
        out.chars += self.chars;
        out.link_chars += self.link_chars;
        *self = Paragraph::default();
    }
}

/// One element weighed as the transcript's body.
struct Candidate<'a> {
    element: ElementRef<'a>,
    gathered: Gathered,
    /// Exchanges with an answer and a plausible asker.
    exchanges: usize,
}

/// A transcript found by its content.
pub(super) struct FoundArticle<'a> {
    pub body: ElementRef<'a>,
    pub paragraphs: Vec<String>,
}

/// The title of a page without selectors: a heading the `<title>` (or `og:title`) repeats, else
/// `og:title`, else `<title>` without the site's name, else the first `<h1>`.
pub(super) fn find_title(document: &Html) -> Option<(String, Option<ElementRef<'_>>)> {
    let head_title = first_text(document, "title");
    let og_title = select_first(document, "meta[property=\"og:title\"]")
        .and_then(|meta| meta.value().attr("content").map(normalize))
        .filter(|text| !text.is_empty());
    let references: Vec<&String> = [head_title.as_ref(), og_title.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    let headings = Selector::parse("h1, h2, h3").expect("valid selector");
    for heading in document.select(&headings) {
        let text = super::element_text(heading);
        if text.chars().count() >= 6 && references.iter().any(|title| title.contains(&text)) {
            return Some((text, Some(heading)));
        }
    }
    if let Some(title) = og_title {
        return Some((title, None));
    }
    if let Some(title) = head_title.map(|title| strip_any_site_name(&title)) {
        if !title.is_empty() {
            return Some((title, None));
        }
    }
    let first_h1 = select_first(document, "h1")?;
    Some((super::element_text(first_h1), Some(first_h1)))
}

/// `<title>` text without the site's name: the longest part between the usual separators.
fn strip_any_site_name(title: &str) -> String {
    let stripped = super::strip_site_suffix(title);
    if stripped != title {
        return stripped;
    }
    const SEPARATORS: &[&str] = &[" | ", " - ", " – ", " — ", "_"];
    let mut marked = title.to_string();
    for separator in SEPARATORS {
        marked = marked.replace(separator, "\u{1}");
    }
    // The longest part; the first of equals (pages put their own title first).
    marked
        .split('\u{1}')
        .map(normalize)
        .rev()
        .max_by_key(|part| part.chars().count())
        .unwrap_or_default()
}

/// The publication time without selectors: a `<time>` element, a meta tag of the usual names,
/// or a date in the short lines right after the title.
pub(super) fn find_published<'a>(
    document: &'a Html,
    title: Option<ElementRef<'a>>,
) -> Option<(DateTime<FixedOffset>, Option<ElementRef<'a>>)> {
    let time = Selector::parse("time").expect("valid selector");
    // The page's own time follows its title; `<time>`s of a sidebar or of links to other
    // articles do not count.
    let after_title = |element: &ElementRef<'_>| {
        title.is_none_or(|title| {
            document
                .tree
                .root()
                .descendants()
                .map(|node| node.id())
                .find(|id| *id == title.id() || *id == element.id())
                == Some(title.id())
        })
    };
    let in_link = |element: &ElementRef<'_>| {
        element
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|ancestor| matches!(ancestor.value().name(), "a" | "li"))
    };
    for element in document
        .select(&time)
        .filter(|element| after_title(element) && !in_link(element))
    {
        let parsed = element
            .value()
            .attr("datetime")
            .and_then(parse_any_time)
            .or_else(|| parse_any_time(&super::element_text(element)));
        if let Some(parsed) = parsed {
            return Some((parsed, Some(element)));
        }
    }
    let metas = Selector::parse(
        "meta[property=\"article:published_time\"], meta[itemprop=datePublished], meta[name=pubdate], meta[name=publishdate], meta[name=\"dcterms.date\"], meta[name=date]",
    )
    .expect("valid selector");
    for meta in document.select(&metas) {
        if let Some(parsed) = meta.value().attr("content").and_then(parse_any_time) {
            return Some((parsed, Some(meta)));
        }
    }
    // The lines right after the title: "2024-01-29 21:19", "Source: … 2020/07/03".
    let title = title?;
    let mut seen = 0;
    for node in title.next_siblings().chain(
        title
            .parent()
            .into_iter()
            .flat_map(|parent| parent.next_siblings()),
    ) {
        let Some(element) = ElementRef::wrap(node) else {
            continue;
        };
        seen += 1;
        if seen > 4 {
            break;
        }
        let text = super::element_text(element);
        if text.chars().count() <= 80 {
            if let Some(parsed) = parse_beijing_time(&text) {
                return Some((parsed, Some(element)));
            }
        }
    }
    None
}

/// The last short line with a date before the body, outside links and scripts ("发布时间：
/// 2020-07-03", "Updated 2024-01-29 21:19"): where pages print the time above the text.
pub(super) fn date_line_before<'a>(
    document: &'a Html,
    body: ElementRef<'a>,
) -> Option<(DateTime<FixedOffset>, ElementRef<'a>)> {
    let mut found = None;
    for node in document.tree.root().descendants() {
        if node.id() == body.id() {
            break;
        }
        let Node::Text(text) = node.value() else {
            continue;
        };
        let Some(parent) = node.parent().and_then(ElementRef::wrap) else {
            continue;
        };
        let hidden = parent
            .ancestors()
            .filter_map(ElementRef::wrap)
            .chain([parent])
            .any(|ancestor| {
                let name = ancestor.value().name();
                name == "a" || name == "title" || is_skipped(name)
            });
        if hidden || text.chars().count() > 60 {
            continue;
        }
        if let Some(time) = parse_beijing_time(text) {
            found = Some((time, parent));
        }
    }
    found
}

/// RFC 3339 (any offset, shown in Beijing time), else the page's usual date forms.
pub(super) fn parse_any_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let beijing = FixedOffset::east_opt(8 * 3600)?;
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text.trim()) {
        return Some(parsed.with_timezone(&beijing));
    }
    parse_beijing_time(text)
}

/// Node visits (and paragraphs segmented, weighted) the search for a transcript block may spend
/// on one page; a real page needs a few hundred thousand at most.
const WORK_BUDGET: usize = 4_000_000;

/// The block of the page holding the transcript, its paragraphs, or why none looks like one.
pub(super) fn find_article<'a>(
    document: &'a Html,
    lang: Lang,
    spokesperson: Option<&str>,
    skip: &HashSet<NodeId>,
) -> Result<FoundArticle<'a>, String> {
    let all = Selector::parse("body, body *").expect("valid selector");
    let mut candidates: Vec<Candidate<'a>> = Vec::new();
    // Every block is read on its own, which costs the page's size times its depth: plenty for
    // any real page, bounded for a hostile one.
    let mut budget = WORK_BUDGET;
    for element in document.select(&all) {
        let name = element.value().name();
        if !is_container(name) || is_chrome(element.value()) || skip.contains(&element.id()) {
            continue;
        }
        if budget == 0 {
            return Err("the page is too large or too deeply nested to search by content".into());
        }
        let gathered = gather(element, skip, &mut budget);
        if gathered.paragraphs.is_empty() {
            continue;
        }
        budget = budget.saturating_sub(16 * gathered.paragraphs.len());
        let (_, exchanges) = segment_owned(gathered.paragraphs.clone(), lang, spokesperson);
        // Only exchanges that are answered count: a "Source: MFA" line above the text is no
        // question.
        let answered = exchanges
            .iter()
            .filter(|exchange| !exchange.answer.is_empty() && looks_like_asker(&exchange.asker))
            .count();
        candidates.push(Candidate {
            element,
            exchanges: answered,
            gathered,
        });
    }
    let most_exchanges = candidates.iter().map(|c| c.exchanges).max().unwrap_or(0);
    let chosen = if most_exchanges > 0 {
        transcript_block(&candidates, most_exchanges)
    } else {
        prose_block(&candidates)
    };
    let chosen = chosen.ok_or("no block of text on the page")?;
    let gathered = &candidates[chosen].gathered;
    if gathered.link_chars * 2 > gathered.chars {
        return Err(format!(
            "the block with the most text is mostly links ({} of {} characters)",
            gathered.link_chars, gathered.chars
        ));
    }
    // Lines that are mostly links (a share bar, "Print", "Back to top", a promotion between two
    // parts of the text) are the page's, not the transcript's.
    let paragraphs = gathered
        .paragraphs
        .iter()
        .zip(&gathered.mostly_links)
        .filter(|(_, links)| !**links)
        .map(|(paragraph, _)| paragraph.clone())
        .collect();
    Ok(FoundArticle {
        body: candidates[chosen].element,
        paragraphs,
    })
}

/// The tightest block with every exchange, grown upward over blocks that only add sentences
/// (a lead or a last answer split from the rest), never over chrome.
fn transcript_block(candidates: &[Candidate<'_>], most_exchanges: usize) -> Option<usize> {
    let mut chosen = candidates
        .iter()
        .enumerate()
        .filter(|(_, candidate)| candidate.exchanges == most_exchanges)
        // Fewest paragraphs, then the innermost (later in document order).
        .min_by_key(|(index, candidate)| (candidate.gathered.paragraphs.len(), usize::MAX - index))
        .map(|(index, _)| index)?;
    loop {
        let tight = &candidates[chosen];
        let parent = tight
            .element
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find_map(|ancestor| {
                candidates
                    .iter()
                    .position(|candidate| candidate.element.id() == ancestor.id())
            });
        let Some(parent) = parent else {
            return Some(chosen);
        };
        let wider = &candidates[parent];
        let (inner, outer) = (&tight.gathered.paragraphs, &wider.gathered.paragraphs);
        // The wider block adds only sentences (no links, no exchange): the rest of a body that
        // was split into several blocks, an opening or a last answer's continuation.
        let only_adds_prose = wider.exchanges == tight.exchanges
            && wider.gathered.link_chars == tight.gathered.link_chars
            && (0..=outer.len().saturating_sub(inner.len())).any(|start| {
                outer[start..start + inner.len()] == inner[..]
                    && outer[..start]
                        .iter()
                        .chain(&outer[start + inner.len()..])
                        .all(|paragraph| is_prose(paragraph))
            });
        if only_adds_prose {
            chosen = parent;
        } else {
            return Some(chosen);
        }
    }
}

/// A sentence rather than a menu entry or a date line.
fn is_prose(paragraph: &str) -> bool {
    paragraph.chars().count() >= 20
        && paragraph
            .trim_end_matches(['”', '"', '’', ')', '）'])
            .ends_with(['.', '。', '!', '！', '?', '？', ':', '：', ';', '；'])
}

/// For pages without exchanges (statements, remarks): the block with the most text outside
/// links, links counting against it; the innermost of equals.
fn prose_block(candidates: &[Candidate<'_>]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .max_by_key(|(index, candidate)| {
            let gathered = &candidate.gathered;
            let score = gathered.chars as i64 - 3 * gathered.link_chars as i64;
            (score, usize::MAX - gathered.paragraphs.len(), *index)
        })
        .map(|(index, _)| index)
}

/// Why a record found by the fallback cannot be trusted, if it cannot.
pub(super) fn implausible(
    kind: Kind,
    title: &str,
    opening: &[String],
    exchanges: &[Exchange],
) -> Option<String> {
    if title.chars().count() < 6 {
        return Some(format!("no plausible title ({title:?})"));
    }
    if kind == Kind::PressConference && exchanges.is_empty() {
        let text: usize = opening.iter().map(|p| p.chars().count()).sum();
        if text < 200 {
            return Some(
                "the title names a press conference but no block holds its exchanges".to_string(),
            );
        }
    }
    if !exchanges.is_empty() && exchanges.iter().all(|exchange| exchange.answer.is_empty()) {
        return Some("questions without one answer".to_string());
    }
    if let Some(exchange) = exchanges
        .iter()
        .find(|exchange| !looks_like_asker(&exchange.asker))
    {
        return Some(format!(
            "asker {:?} does not look like an outlet or a question label",
            exchange.asker
        ));
    }
    None
}

fn looks_like_asker(asker: &str) -> bool {
    let length = asker.chars().count();
    (1..=60).contains(&length)
        && !asker.starts_with(['·', '•', '|', '-', '>', '»', '*', '/'])
        && !asker.contains(['.', '?', '!', '。', '？', '！', '，'])
}

/// The listing's items without selectors: same-site links whose text the title classifier
/// recognizes, with the other article links of the same list, in page order.
pub(super) fn find_listing_items(
    document: &Html,
    base: Option<&url::Url>,
    lang: Lang,
) -> Vec<ListingItem> {
    let links = Selector::parse("a[href]").expect("valid selector");
    let host = base.and_then(|base| base.host_str().map(str::to_string));
    let mut found: Vec<(ElementRef<'_>, ListingItem, usize)> = Vec::new();
    for link in document.select(&links) {
        if link
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|ancestor| is_chrome(ancestor.value()))
        {
            continue;
        }
        let Some(mut item) = listing_item(link, base) else {
            continue;
        };
        if item.date.is_none() {
            item.date = date_beside(link);
        }
        let Ok(parsed) = url::Url::parse(&item.url) else {
            continue;
        };
        if parsed.host_str().map(str::to_string) != host
            || super::is_listing_url(&item.url)
            || item.title.chars().count() < 6
        {
            continue;
        }
        // How much the link text reads like an item of the column: a date, a spokesperson, a
        // kind of item, the length of a headline rather than of a menu entry.
        let facts = classify_title(&item.title, lang);
        let headline = match lang {
            Lang::En => 25,
            Lang::Zh => 12,
        };
        let weight = 2 * usize::from(facts.date.is_some())
            + usize::from(facts.spokesperson.is_some())
            + usize::from(facts.kind != Kind::Other)
            + usize::from(item.title.chars().count() >= headline);
        let recognized = if facts.kind == Kind::Other && facts.date.is_none() {
            0
        } else {
            weight
        };
        found.push((link, item, recognized));
    }
    // A list is the nearest ancestor holding more than one of these links: the rows of the
    // listing, apart from a menu or a related-links box.
    let mut held: std::collections::HashMap<NodeId, usize> = std::collections::HashMap::new();
    for (link, _, _) in &found {
        for ancestor in link.ancestors() {
            *held.entry(ancestor.id()).or_default() += 1;
        }
    }
    let mut groups: Vec<(NodeId, Vec<ListingItem>, usize)> = Vec::new();
    for (link, item, recognized) in found {
        let list = link
            .ancestors()
            .find(|ancestor| held.get(&ancestor.id()).is_some_and(|count| *count > 1))
            .map_or(link.id(), |ancestor| ancestor.id());
        match groups.iter_mut().find(|(id, _, _)| *id == list) {
            Some((_, items, hits)) => {
                if !items.iter().any(|seen| seen.url == item.url) {
                    items.push(item);
                }
                *hits += recognized;
            }
            None => groups.push((list, vec![item], recognized)),
        }
    }
    groups
        .into_iter()
        .filter(|(_, _, hits)| *hits > 0)
        .max_by_key(|(_, items, hits)| (*hits, items.len()))
        .map(|(_, items, _)| items)
        .unwrap_or_default()
}

/// The date printed beside a link wrapped in its own elements (`<li><div><a>…</a></div>
/// <span>2020-07-03</span></li>`): the text of the nearest ancestor holding only this link.
fn date_beside(link: ElementRef<'_>) -> Option<chrono::NaiveDate> {
    let links = Selector::parse("a").expect("valid selector");
    let own: String = link.text().collect();
    link.ancestors()
        .filter_map(ElementRef::wrap)
        .take(3)
        .take_while(|ancestor| ancestor.select(&links).count() == 1)
        .find_map(|ancestor| {
            let beside = ancestor.text().collect::<String>().replacen(&own, "", 1);
            super::parse_date(&beside)
        })
}

/// Pages announced by links to `index_N` / `default_N` (page N + 1 in all).
pub(super) fn page_count_from_links(document: &Html) -> Option<u32> {
    static PAGE_LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:^|/)(?:index|default)(?:_(\d+))?\.s?html?(?:$|[?#])")
            .expect("valid regex")
    });
    let links = Selector::parse("a[href]").expect("valid selector");
    document
        .select(&links)
        .filter_map(|link| {
            let href = link.value().attr("href")?;
            let captures = PAGE_LINK.captures(href)?;
            // `index.html` is page 0.
            captures
                .get(1)
                .map_or(Some(0), |number| number.as_str().parse::<u32>().ok())
        })
        .max()
        .map(|last| last + 1)
}

fn select_first<'a>(document: &'a Html, selector: &str) -> Option<ElementRef<'a>> {
    let selector = Selector::parse(selector).ok()?;
    document.select(&selector).next()
}

fn first_text(document: &Html, selector: &str) -> Option<String> {
    let selector = Selector::parse(selector).ok()?;
    document
        .select(&selector)
        .map(|element| normalize(&element.text().collect::<String>()))
        .find(|text| !text.is_empty())
}

/// A CSS selector that finds `element` and nothing else in `document`, as stable as the page
/// allows: an id, then tag and classes, then the tag alone, then a path from the nearest ancestor
/// that has one of those, with `:nth-child` only for steps that have nothing better.
pub fn stable_selector(document: &Html, element: ElementRef<'_>) -> String {
    let unique = |selector: &str| {
        Selector::parse(selector).is_ok_and(|parsed| {
            let mut found = document.select(&parsed);
            found.next().is_some_and(|first| first.id() == element.id()) && found.next().is_none()
        })
    };
    let own = own_part(element);
    for option in [
        element
            .value()
            .id()
            .filter(|id| is_identifier(id))
            .map(|id| format!("#{id}")),
        meta_part(element),
        Some(own.clone()),
        Some(element.value().name().to_string()),
    ]
    .into_iter()
    .flatten()
    {
        if unique(&option) {
            return option;
        }
    }
    // A path of steps up to the nearest ancestor with an id or a class.
    let mut path = step(element);
    let mut current = element;
    while let Some(parent) = current.parent().and_then(ElementRef::wrap) {
        let anchored = parent.value().id().is_some_and(is_identifier) || part_has_class(parent);
        if anchored {
            let candidate = format!("{} > {path}", stable_anchor(parent));
            if unique(&candidate) {
                return candidate;
            }
        }
        if parent.value().name() == "html" {
            break;
        }
        path = format!("{} > {path}", step(parent));
        current = parent;
    }
    path
}

/// One step of a path: tag and classes, or the tag and its position among its siblings when it
/// has neither a class nor a unique tag there.
fn step(element: ElementRef<'_>) -> String {
    if part_has_class(element) {
        return own_part(element);
    }
    let name = element.value().name();
    let siblings = || {
        element
            .parent()
            .into_iter()
            .flat_map(|parent| parent.children())
            .filter_map(ElementRef::wrap)
    };
    if siblings()
        .filter(|sibling| sibling.value().name() == name)
        .count()
        <= 1
    {
        return name.to_string();
    }
    let position = element
        .prev_siblings()
        .filter(|sibling| sibling.value().is_element())
        .count()
        + 1;
    format!("{name}:nth-child({position})")
}

fn stable_anchor(element: ElementRef<'_>) -> String {
    match element.value().id().filter(|id| is_identifier(id)) {
        Some(id) => format!("#{id}"),
        None => own_part(element),
    }
}

fn part_has_class(element: ElementRef<'_>) -> bool {
    element.value().classes().any(is_identifier)
}

fn own_part(element: ElementRef<'_>) -> String {
    let mut part = element.value().name().to_string();
    for class in element
        .value()
        .classes()
        .filter(|class| is_identifier(class))
    {
        part.push('.');
        part.push_str(class);
    }
    part
}

fn meta_part(element: ElementRef<'_>) -> Option<String> {
    if element.value().name() != "meta" {
        return None;
    }
    ["name", "property", "itemprop"]
        .iter()
        .find_map(|attribute| {
            element
                .value()
                .attr(attribute)
                .filter(|value| !value.contains('"'))
                .map(|value| format!("meta[{attribute}=\"{value}\"]"))
        })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_selectors_prefer_ids_and_classes() {
        let html = Html::parse_document(
            "<html><body><div id=\"main\"><div class=\"a b\"><p>x</p></div><div><p>y</p><p>z</p></div></div></body></html>",
        );
        let pick = |selector: &str| {
            html.select(&Selector::parse(selector).unwrap())
                .next()
                .unwrap()
        };
        assert_eq!(stable_selector(&html, pick("#main")), "#main");
        assert_eq!(stable_selector(&html, pick("div.a")), "div.a.b");
        let z = html.select(&Selector::parse("p").unwrap()).nth(2).unwrap();
        let selector = stable_selector(&html, z);
        assert!(selector.starts_with("#main > "), "{selector}");
        let found: Vec<_> = html
            .select(&Selector::parse(&selector).unwrap())
            .map(|element| element.text().collect::<String>())
            .collect();
        assert_eq!(found, ["z"]);
    }

    #[test]
    fn hostile_nesting_ends_with_an_error_not_a_hang() {
        let depth = 3_000;
        let html = format!(
            "<html><body>{}<p>AFP: Why?</p><p>Lin Jian: Because.</p>{}</body></html>",
            "<div>x".repeat(depth),
            "</div>".repeat(depth)
        );
        let document = Html::parse_document(&html);
        let error = find_article(&document, Lang::En, None, &HashSet::new())
            .err()
            .expect("the work budget runs out");
        assert!(error.contains("too large or too deeply nested"), "{error}");
    }

    #[test]
    fn a_body_split_around_a_promotion_is_found_whole() {
        let html = Html::parse_document(
            "<html><body><div class=\"page\"><h1>Foreign Ministry Spokesperson Lin Jian's Regular Press Conference on May 6, 2025</h1>\
             <div class=\"text\"><div class=\"part\"><p>AFP: Any comment on the talks?</p><p>Lin Jian: They went well.</p></div>\
             <div class=\"promo\"><a href=\"/app\">Download our app for the latest transcripts</a></div>\
             <div class=\"part\"><p>Reuters: And the visit?</p><p>Lin Jian: We will release information in due course.</p><p>We hope it goes well.</p></div></div>\
             <div class=\"share\"><a href=\"#\">Print</a> <a href=\"#\">Share</a></div></div>\
             <div class=\"footer\"><p>Copyright the Ministry of Foreign Affairs. All rights reserved.</p></div></body></html>",
        );
        let found = find_article(&html, Lang::En, Some("Lin Jian"), &HashSet::new()).unwrap();
        assert_eq!(
            found.paragraphs,
            [
                "AFP: Any comment on the talks?",
                "Lin Jian: They went well.",
                "Reuters: And the visit?",
                "Lin Jian: We will release information in due course.",
                "We hope it goes well."
            ]
        );
        assert_eq!(found.body.value().classes().collect::<Vec<_>>(), ["text"]);
    }

    #[test]
    fn titles_without_selectors() {
        let html = Html::parse_document(
            "<html><head><title>Spokesperson's Remarks on Trade | MFA</title></head><body><h1>MFA</h1><h2>Spokesperson's Remarks on Trade</h2></body></html>",
        );
        let (title, element) = find_title(&html).unwrap();
        assert_eq!(title, "Spokesperson's Remarks on Trade");
        assert_eq!(element.unwrap().value().name(), "h2");
        let bare = Html::parse_document("<title>Remarks on Trade | Foreign Ministry</title>");
        assert_eq!(find_title(&bare).unwrap().0, "Remarks on Trade");
    }

    #[test]
    fn times_without_selectors() {
        let html = Html::parse_document(
            "<body><h1>Title of the page</h1><time datetime=\"2024-01-29T13:19:00Z\">29 Jan</time></body>",
        );
        let (time, _) = find_published(&html, None).unwrap();
        assert_eq!(time.to_rfc3339(), "2024-01-29T21:19:00+08:00");
        let sidebar = Html::parse_document(
            "<body><ul><li><a href=\"/x\">Other</a> <time datetime=\"2024-01-02\">2 Jan</time></li></ul>\
             <h1>Title of the page</h1><time datetime=\"2024-01-29T21:19:00+08:00\">29 Jan</time></body>",
        );
        let title = sidebar
            .select(&Selector::parse("h1").unwrap())
            .next()
            .unwrap();
        let (time, _) = find_published(&sidebar, Some(title)).unwrap();
        assert_eq!(time.to_rfc3339(), "2024-01-29T21:19:00+08:00");
        let near = Html::parse_document(
            "<body><div><h1>Title of the page</h1><span>Updated 2020-07-03 21:19</span></div></body>",
        );
        let title = near.select(&Selector::parse("h1").unwrap()).next().unwrap();
        let (time, _) = find_published(&near, Some(title)).unwrap();
        assert_eq!(time.to_rfc3339(), "2020-07-03T21:19:00+08:00");
    }
}
