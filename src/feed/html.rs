//! Building feed-item HTML from structured data: text cleaning, escaping and the allowlist sanitizer.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

/// Removes characters that XML 1.0 forbids or that only hide text: C0 controls other than tab,
/// newline and carriage return, DEL, C1 controls and the noncharacters U+FFFE / U+FFFF.
pub fn clean_text(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_allowed_char) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&ch| is_allowed_char(ch)).collect())
    }
}

fn is_allowed_char(ch: char) -> bool {
    match ch {
        '\t' | '\n' | '\r' => true,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => false,
        '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    }
}

/// An HTML fragment assembled element by element; every piece of text goes through
/// [`Html::text`], so nothing reaches the markup unescaped.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
}

impl Html {
    pub fn new() -> Html {
        Html::default()
    }

    pub fn open(&mut self, tag: &str) -> &mut Html {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Html {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    pub fn text(&mut self, text: &str) -> &mut Html {
        for ch in clean_text(text).chars() {
            match ch {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                _ => self.out.push(ch),
            }
        }
        self
    }

    /// `<tag>text</tag>`
    pub fn element(&mut self, tag: &str, text: &str) -> &mut Html {
        self.open(tag).text(text).close(tag)
    }

    pub fn link(&mut self, href: &str, text: &str) -> &mut Html {
        self.out.push_str("<a href=\"");
        for ch in clean_text(href).chars() {
            match ch {
                '&' => self.out.push_str("&amp;"),
                '"' => self.out.push_str("&quot;"),
                '<' => self.out.push_str("&lt;"),
                _ => self.out.push(ch),
            }
        }
        self.out.push_str("\">");
        self.text(text).close("a")
    }

    /// The fragment after the allowlist sanitizer: only the tags this module emits survive, links
    /// must be absolute http(s) URLs.
    pub fn finish(self) -> String {
        sanitize(&self.out)
    }
}

static ALLOWED_TAGS: &[&str] = &[
    "p",
    "strong",
    "em",
    "blockquote",
    "del",
    "ins",
    "mark",
    "a",
    "h3",
    "ul",
    "li",
    "br",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(ALLOWED_TAGS.iter().copied().collect())
        .tag_attributes([("a", HashSet::from(["href"]))].into_iter().collect())
        .url_schemes(HashSet::from(["http", "https"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"));
    builder
});

/// Passes an HTML fragment through the allowlist; text is re-serialized escaped.
pub fn sanitize(fragment: &str) -> String {
    SANITIZER.clean(fragment).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_removed_and_ordinary_text_is_borrowed() {
        assert_eq!(
            clean_text("a\u{0}b\u{7}c\u{1b}[0m\u{85}d\u{ffff}"),
            "abc[0md"
        );
        assert_eq!(
            clean_text("line\tone\r\nline two 中文 😀"),
            "line\tone\r\nline two 中文 😀"
        );
        assert!(matches!(clean_text("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_is_escaped_exactly_once() {
        let mut html = Html::new();
        html.element("p", "a < b && c > d ]]> &amp;");
        assert_eq!(
            html.finish(),
            "<p>a &lt; b &amp;&amp; c &gt; d ]]&gt; &amp;amp;</p>"
        );
    }

    #[test]
    fn sanitizer_drops_markup_outside_the_allowlist_and_relative_links() {
        let cleaned = sanitize(
            "<p onclick=\"x()\">ok<script>alert(1)</script><img src=x></p>\
             <a href=\"/relative\">rel</a><a href=\"javascript:alert(1)\">js</a>\
             <a href=\"https://example.org/?a=1&amp;b=2\">abs</a>",
        );
        assert_eq!(
            cleaned,
            "<p>ok</p><a rel=\"noopener noreferrer\">rel</a><a rel=\"noopener noreferrer\">js</a>\
             <a href=\"https://example.org/?a=1&amp;b=2\" rel=\"noopener noreferrer\">abs</a>"
        );
    }
}
