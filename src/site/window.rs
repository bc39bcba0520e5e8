//! The part of an article page worth parsing: the head, then the body from the first element any
//! of the profile's selectors could match.
//!
//! On the ministry's pages the menus before the transcript are 30–40 % of the bytes and most of the
//! elements; the HTML parser's cost follows both. A selector can only match an element at or after
//! the first start tag that carries the id, class or tag name its first compound requires, so the
//! body before that tag can go unparsed. The cut is made only where it is safe: outside comments
//! and raw text (scripts, styles), after a `<body>` tag, and never inside a `<form>` or `<table>`
//! left open, which would change how the rest of the page is parsed.

use memchr::memchr;

/// What the first compound of each selector requires: an id, a class or a tag name. Matching is
/// ASCII case-insensitive, as selectors are on a page in quirks mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Anchors {
    ids: Vec<String>,
    classes: Vec<String>,
    tags: Vec<String>,
}

/// Elements whose content the HTML parser reads as text up to the matching end tag.
pub(super) const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];
/// Elements that may come before `<body>` without implying it.
const HEAD_CONTENT: &[&str] = &[
    "html", "head", "meta", "link", "title", "script", "style", "base", "noscript", "template",
];
/// A window that would save fewer bytes than this is not worth the copy.
const MIN_SAVING: usize = 2048;

impl Anchors {
    /// The anchors of a set of selectors, or `None` when one of them cannot be anchored: a
    /// universal first compound, or a pseudo-class whose meaning depends on siblings the cut
    /// would remove (`:first-child`, `:nth-of-type()`…).
    pub(super) fn of<'a>(selectors: impl IntoIterator<Item = &'a str>) -> Option<Anchors> {
        let mut anchors = Anchors::default();
        for list in selectors {
            if list.contains(':') {
                return None;
            }
            for selector in list.split(',') {
                let first = selector
                    .split(|c: char| c.is_ascii_whitespace() || matches!(c, '>' | '+' | '~'))
                    .find(|part| !part.is_empty())?;
                anchors.add(first)?;
            }
        }
        Some(anchors)
    }

    /// Adds the most selective requirement of one compound selector (`div.content`, `#a`, `h1`,
    /// `meta[name=x]`).
    fn add(&mut self, compound: &str) -> Option<()> {
        let compound = compound.split('[').next().unwrap_or_default();
        let name_end = compound.find(['#', '.']).unwrap_or(compound.len());
        let tag = &compound[..name_end];
        let (mut id, mut class) = (None, None);
        let mut rest = &compound[name_end..];
        while let Some(sigil) = rest.chars().next() {
            let after = &rest[1..];
            let end = after.find(['#', '.']).unwrap_or(after.len());
            let value = &after[..end];
            if !value.is_empty() {
                match sigil {
                    '#' => id = id.or(Some(value)),
                    _ => class = class.or(Some(value)),
                }
            }
            rest = &after[end..];
        }
        match (id, class) {
            (Some(id), _) => self.ids.push(id.to_ascii_lowercase()),
            (None, Some(class)) => self.classes.push(class.to_ascii_lowercase()),
            (None, None) if !tag.is_empty() && tag != "*" => {
                self.tags.push(tag.to_ascii_lowercase())
            }
            (None, None) => return None,
        }
        Some(())
    }

    fn match_tag(&self, tag: &StartTag<'_>) -> bool {
        self.tags.iter().any(|name| name == &tag.name)
            || tag
                .id
                .is_some_and(|id| self.ids.iter().any(|want| want.eq_ignore_ascii_case(id)))
            || tag.class.is_some_and(|class| {
                class.split_ascii_whitespace().any(|one| {
                    self.classes
                        .iter()
                        .any(|want| want.eq_ignore_ascii_case(one))
                })
            })
    }
}

/// A start tag as the scanner reads it.
pub(super) struct StartTag<'a> {
    pub(super) name: String,
    id: Option<&'a str>,
    class: Option<&'a str>,
    /// How many attributes the tag carries.
    pub(super) attributes: usize,
    /// Whether it ends with `/>`.
    pub(super) self_closing: bool,
}

/// The page with the body cut to start at the first element an anchor matches, or `None` when
/// the whole page should be parsed.
pub(super) fn content_window(html: &str, anchors: &Anchors) -> Option<String> {
    let bytes = html.as_bytes();
    let mut at = 0;
    let mut body_end = None;
    // Net count of `<form>` and `<table>` opened in the part that would be cut.
    let mut open_forms = 0i32;
    let mut open_tables = 0i32;
    while let Some(offset) = memchr(b'<', &bytes[at..]) {
        let start = at + offset;
        let rest = &html[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            at = start + 4 + comment.find("-->")? + 3;
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            at = start + rest.find('>')? + 1;
        } else if let Some(end_tag) = rest.strip_prefix("</") {
            let name = tag_name(end_tag);
            match name.as_str() {
                "form" => open_forms -= 1,
                "table" => open_tables -= 1,
                _ => {}
            }
            at = start + rest.find('>')? + 1;
        } else if rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            let (tag, length) = start_tag(rest)?;
            at = start + length;
            match body_end {
                None if tag.name == "body" => body_end = Some(at),
                None if !HEAD_CONTENT.contains(&tag.name.as_str()) => return None,
                None => {}
                Some(body_end) if anchors.match_tag(&tag) => {
                    let safe = open_forms <= 0 && open_tables <= 0;
                    return (safe && start - body_end >= MIN_SAVING)
                        .then(|| format!("{}{}", &html[..body_end], &html[start..]));
                }
                Some(_) => match tag.name.as_str() {
                    "form" => open_forms += 1,
                    "table" => open_tables += 1,
                    "plaintext" => return None,
                    _ => {}
                },
            }
            if RAW_TEXT.contains(&tag.name.as_str()) {
                at += raw_text_end(&html[at..], &tag.name)?;
            }
        } else {
            at = start + 1;
        }
    }
    None
}

/// The lower-cased tag name at the start of `text` (after `<` or `</`).
pub(super) fn tag_name(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Reads a start tag at the start of `text` (which begins with `<`): its name, id and class, and
/// its length up to and including `>`. `None` when the tag never ends.
pub(super) fn start_tag(text: &str) -> Option<(StartTag<'_>, usize)> {
    let name = tag_name(&text[1..]);
    let bytes = text.as_bytes();
    let mut at = 1 + name.len();
    let mut id = None;
    let mut class = None;
    let mut attributes = 0;
    loop {
        let mut self_closing = false;
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            self_closing = bytes[at] == b'/';
            at += 1;
        }
        match bytes.get(at)? {
            b'>' => {
                let tag = StartTag {
                    name,
                    id,
                    class,
                    attributes,
                    self_closing,
                };
                return Some((tag, at + 1));
            }
            _ => {
                let name_start = at;
                while at < bytes.len()
                    && !bytes[at].is_ascii_whitespace()
                    && !matches!(bytes[at], b'=' | b'>' | b'/')
                {
                    at += 1;
                }
                let attribute = &text[name_start..at];
                attributes += 1;
                while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                    at += 1;
                }
                if bytes.get(at) != Some(&b'=') {
                    continue;
                }
                at += 1;
                while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                    at += 1;
                }
                let value = match bytes.get(at)? {
                    quote @ (b'"' | b'\'') => {
                        let end = at + 1 + memchr(*quote, &bytes[at + 1..])?;
                        let value = &text[at + 1..end];
                        at = end + 1;
                        value
                    }
                    _ => {
                        let value_start = at;
                        while at < bytes.len()
                            && !bytes[at].is_ascii_whitespace()
                            && bytes[at] != b'>'
                        {
                            at += 1;
                        }
                        &text[value_start..at]
                    }
                };
                // The parser keeps the first of repeated attributes.
                if attribute.eq_ignore_ascii_case("id") && id.is_none() {
                    id = Some(value);
                } else if attribute.eq_ignore_ascii_case("class") && class.is_none() {
                    class = Some(value);
                }
            }
        }
    }
}

/// Length of the raw text of a `name` element up to and including its end tag.
pub(super) fn raw_text_end(text: &str, name: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    loop {
        at += memchr(b'<', &bytes[at..])?;
        let after = &bytes[at + 1..];
        if after.first() == Some(&b'/')
            && after.len() > name.len()
            && after[1..=name.len()].eq_ignore_ascii_case(name.as_bytes())
            && after
                .get(1 + name.len())
                .is_none_or(|c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/'))
        {
            return Some(at + 1 + memchr(b'>', &bytes[at..])?);
        }
        at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors(selectors: &[&str]) -> Anchors {
        Anchors::of(selectors.iter().copied()).unwrap()
    }

    const MENU: &str = "<ul class=nav><li><a href=/a>A</a></li><li><a href=/b>B</a></li></ul>";

    fn page(before: &str, content: &str) -> String {
        format!(
            "<!DOCTYPE html><html><head><title>T</title><style>.content_mod{{x:1}}</style>\
             <script>var s = '<div class=\"content_mod\">';</script></head>\
             <body class=page>{before}{content}<div class=footer>F</div></body></html>"
        )
    }

    #[test]
    fn selectors_give_their_most_selective_requirement() {
        let found = anchors(&[
            ".content_mod div.content",
            "#News_Body_Txt_A",
            "div#a.b",
            "h1",
            "meta[name=PubDate]",
            ".a > .b, .c",
        ]);
        assert_eq!(found.ids, ["news_body_txt_a", "a"]);
        assert_eq!(found.classes, ["content_mod", "a", "c"]);
        assert_eq!(found.tags, ["h1", "meta"]);
        assert_eq!(Anchors::of(["li:first-child"]), None);
        assert_eq!(Anchors::of(["* p"]), None);
    }

    #[test]
    fn cuts_the_body_before_the_first_anchored_element() {
        let menu = MENU.repeat(40);
        let content = "<div class='main content_mod'><h2 class=title>Title</h2></div>";
        let html = page(&menu, content);
        let window = content_window(&html, &anchors(&[".content_mod h2.title"])).unwrap();
        assert!(window.starts_with("<!DOCTYPE html><html><head><title>T</title>"));
        assert!(window.contains("<body class=page><div class='main content_mod'>"));
        assert!(!window.contains("nav"));
        assert!(window.ends_with("</html>"));
    }

    #[test]
    fn anchors_in_scripts_styles_and_comments_do_not_count() {
        let menu = format!("<!-- <div class=content_mod> -->{}", MENU.repeat(40));
        let content = "<div class=content_mod>x</div>";
        let html = page(&menu, content);
        let window = content_window(&html, &anchors(&[".content_mod"])).unwrap();
        assert!(window.contains("<body class=page><div class=content_mod>x</div>"));
    }

    #[test]
    fn no_cut_where_it_could_change_the_parse() {
        let menu = MENU.repeat(40);
        let content = "<div id=News_Body_Txt_A>x</div>";
        let wanted = anchors(&["#News_Body_Txt_A"]);
        // Too little to save, an open form or table, no body tag, an anchor inside the menu.
        assert_eq!(content_window(&page("", content), &wanted), None);
        let in_form = page(&format!("<form>{menu}"), content);
        assert_eq!(content_window(&in_form, &wanted), None);
        let in_table = page(&format!("<table><tr><td>{menu}"), content);
        assert_eq!(content_window(&in_table, &wanted), None);
        let closed_table = page(&format!("<table><tr><td>{menu}</td></tr></table>"), content);
        assert!(content_window(&closed_table, &wanted).is_some());
        let no_body = format!("<html><head></head><p>{menu}{content}");
        assert_eq!(content_window(&no_body, &wanted), None);
        let early = page(&format!("<span ID=news_body_txt_a></span>{menu}"), content);
        assert_eq!(content_window(&early, &wanted), None);
    }
}
