//! Bounds on what one page may cost to parse: absurd nesting flattened, absurd sizes refused.
//!
//! The HTML parser's tree builder searches the stack of open elements at most start tags
//! ("has a `<p>` in button scope"), and CSS selectors with a descendant combinator walk every
//! element's ancestors, so a page of 100,000 nested `<div>`s costs time in the square of its depth
//! (tens of seconds). Each element also costs a tree node of a hundred-odd bytes, and the parser
//! compares every attribute of a tag with the ones before it. Before parsing, one linear scan:
//!
//! - drops start tags nested deeper than [`MAX_DEPTH`] (and their end tags), keeping their text:
//!   no transcript is nested a tenth as deep, and the text still reaches the extraction;
//! - refuses a page with more than [`MAX_ELEMENTS`] elements, or a tag with more than
//!   [`MAX_ATTRIBUTES`] attributes, naming the reason (the fetch is then `unparseable`).
//!
//! The nesting is counted as the parser would see it, closely enough: void elements and elements
//! whose end tag may be left out (`<p>`, `<li>`, `<td>`…) are not counted, since the parser closes
//! them itself; raw text (scripts, styles) and comments are skipped.

use std::borrow::Cow;
use std::collections::HashMap;

use memchr::memchr;

use super::window::{RAW_TEXT, raw_text_end, start_tag, tag_name};

/// Deepest nesting of counted elements kept; deeper start tags are dropped.
pub const MAX_DEPTH: usize = 128;
/// Most elements a page may have (the ministry's pages have one to three thousand).
pub const MAX_ELEMENTS: usize = 100_000;
/// Most attributes one tag may carry.
pub const MAX_ATTRIBUTES: usize = 256;

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "basefont", "bgsound", "frame", "image",
];
/// Elements whose end tag may be omitted: the parser closes them when a sibling starts.
const OPTIONAL_END: &[&str] = &[
    "html", "head", "body", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead",
    "tbody", "tfoot", "caption", "colgroup", "rb", "rt", "rtc", "rp",
];

/// The page with over-deep nesting removed (borrowed when nothing was), or why it is refused.
pub fn bound(html: &str) -> Result<Cow<'_, str>, String> {
    let bytes = html.as_bytes();
    let mut at = 0;
    let mut elements = 0usize;
    // Counted elements open, innermost last; never longer than MAX_DEPTH.
    let mut open: Vec<String> = Vec::new();
    // Inside <svg> or <math>, `/>` closes an element as it says.
    let mut foreign = 0usize;
    // Start tags dropped per name, whose end tags are dropped too.
    let mut dropped: HashMap<String, usize> = HashMap::new();
    // Byte ranges left out of the output.
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    while let Some(offset) = memchr(b'<', &bytes[at..]) {
        let start = at + offset;
        let rest = &html[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let Some(end) = comment.find("-->") else {
                break;
            };
            at = start + 4 + end + 3;
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            let Some(end) = memchr(b'>', rest.as_bytes()) else {
                break;
            };
            at = start + end + 1;
        } else if let Some(end_tag) = rest.strip_prefix("</") {
            let Some(end) = memchr(b'>', rest.as_bytes()) else {
                break;
            };
            at = start + end + 1;
            let name = tag_name(end_tag);
            if let Some(count) = dropped.get_mut(&name).filter(|count| **count > 0) {
                *count -= 1;
                cuts.push((start, at));
                continue;
            }
            if let Some(index) = open.iter().rposition(|open| *open == name) {
                for closed in open.drain(index..) {
                    if closed == "svg" || closed == "math" {
                        foreign -= 1;
                    }
                }
            }
        } else if rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            let Some((tag, length)) = start_tag(rest) else {
                break;
            };
            at = start + length;
            if tag.attributes > MAX_ATTRIBUTES {
                return Err(format!(
                    "a <{}> tag with {} attributes (at most {MAX_ATTRIBUTES} are read)",
                    tag.name, tag.attributes
                ));
            }
            if tag.name == "plaintext" {
                break;
            }
            let raw_text = RAW_TEXT.contains(&tag.name.as_str());
            let name = tag.name.as_str();
            // A self-closing tag only closes itself inside SVG or MathML.
            let closes_itself = tag.self_closing && foreign > 0;
            let opens = !(raw_text
                || VOID.contains(&name)
                || OPTIONAL_END.contains(&name)
                || closes_itself);
            if opens && open.len() >= MAX_DEPTH {
                *dropped.entry(tag.name).or_default() += 1;
                cuts.push((start, at));
                continue;
            }
            // Only elements that reach the parser count: a dropped one costs no tree node.
            elements += 1;
            if elements > MAX_ELEMENTS {
                return Err(format!(
                    "more than {MAX_ELEMENTS} elements, far more than a transcript page has"
                ));
            }
            if raw_text {
                // Its content is text up to its end tag, which closes it.
                match raw_text_end(&html[at..], &tag.name) {
                    Some(end) => at += end,
                    None => break,
                }
                continue;
            }
            if !opens {
                continue;
            }
            if tag.name == "svg" || tag.name == "math" {
                foreign += 1;
            }
            open.push(tag.name);
        } else {
            at = start + 1;
        }
    }
    if cuts.is_empty() {
        return Ok(Cow::Borrowed(html));
    }
    let mut kept = String::with_capacity(html.len());
    let mut from = 0;
    for (start, end) in cuts {
        kept.push_str(&html[from..start]);
        from = end;
    }
    kept.push_str(&html[from..]);
    Ok(Cow::Owned(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(tag: &str, depth: usize, inner: &str) -> String {
        format!(
            "{}{inner}{}",
            format!("<{tag} class=x>").repeat(depth),
            format!("</{tag}>").repeat(depth)
        )
    }

    #[test]
    fn ordinary_pages_pass_untouched() {
        let page = "<html><head><script>if (a < b) { x = '<div>'; }</script></head><body>\
                    <div class=a><p>one<p>two<br><img src=x><ul><li>a<li>b</ul></div>\
                    <!-- <div><div> --><svg><path d=M0/><g/></svg></body></html>";
        assert!(matches!(bound(page), Ok(Cow::Borrowed(_))));
        let deep_enough = format!("<body>{}</body>", nested("div", MAX_DEPTH - 1, "text"));
        assert!(matches!(bound(&deep_enough), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn nesting_past_the_limit_is_flattened_and_its_text_kept() {
        let page = format!(
            "<body>{}<p>after</p></body>",
            nested("div", MAX_ELEMENTS + 10, "deep text")
        );
        let kept = bound(&page).unwrap();
        assert_eq!(kept.matches("<div").count(), MAX_DEPTH);
        assert_eq!(kept.matches("</div>").count(), MAX_DEPTH);
        assert!(kept.contains("deep text"));
        assert!(kept.ends_with("<p>after</p></body>"));
        // Unclosed start tags count as open, as the parser keeps them open.
        let unclosed = format!("<body>{}x", "<span>".repeat(5000));
        assert_eq!(
            bound(&unclosed).unwrap().matches("<span>").count(),
            MAX_DEPTH
        );
    }

    #[test]
    fn paragraphs_and_list_items_do_not_nest() {
        let page = format!("<body>{}</body>", "<p>para<li>item<td>cell".repeat(5000));
        assert!(matches!(bound(&page), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn absurd_pages_are_refused_with_the_reason() {
        let many = "<p>x</p>".repeat(MAX_ELEMENTS + 1);
        assert!(bound(&many).unwrap_err().contains("elements"));
        let attributes: String = (0..1000).map(|i| format!(" a{i}=1")).collect();
        let wide = format!("<body><div{attributes}>x</div>");
        assert!(bound(&wide).unwrap_err().contains("1000 attributes"));
    }
}
