//! Text out of parsed HTML: block-level paragraphs of a body element, and plain element text.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Node};

use crate::extract::normalize;

/// Elements whose content is never transcript text.
pub(super) fn is_skipped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "object"
            | "embed"
            | "select"
            | "option"
            | "button"
            | "textarea"
            | "input"
            | "form"
            | "head"
            | "title"
            | "svg"
            | "video"
            | "audio"
    )
}

/// Elements that end one paragraph and start another.
pub(super) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "table"
            | "tbody"
            | "thead"
            | "tr"
            | "td"
            | "th"
            | "blockquote"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "pre"
            | "hr"
            | "center"
            | "figure"
            | "figcaption"
            | "address"
    )
}

/// The body's paragraphs as normalized text, in document order: inline markup (split `<SPAN>`s,
/// `<B>`, `<FONT>`) is joined, block elements and `<br>` separate paragraphs, scripts and forms are
/// skipped, and paragraphs with no text (a photo, an `&nbsp;`) are dropped.
///
/// Iterative on purpose: hostile pages can nest elements deeper than the stack allows recursion.
pub fn block_paragraphs(body: ElementRef<'_>) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let mut skipping: Option<ego_tree::NodeId> = None;
    let flush = |current: &mut String, paragraphs: &mut Vec<String>| {
        if !current.is_empty() {
            let text = normalize(current);
            if !text.is_empty() {
                paragraphs.push(text);
            }
            current.clear();
        }
    };
    for edge in body.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => current.push_str(text),
                    Node::Element(element) => {
                        let name = element.name();
                        if is_skipped(name) {
                            skipping = Some(node.id());
                        } else if is_block(name) {
                            flush(&mut current, &mut paragraphs);
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
                if let Node::Element(element) = node.value() {
                    if is_block(element.name()) {
                        flush(&mut current, &mut paragraphs);
                    }
                }
            }
        }
    }
    flush(&mut current, &mut paragraphs);
    paragraphs
}

/// All text of an element (scripts and styles excluded), normalized to one line.
pub fn element_text(element: ElementRef<'_>) -> String {
    let mut text = String::new();
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(chunk) => text.push_str(chunk),
                    Node::Element(child)
                        if is_skipped(child.name()) && node.id() != element.id() =>
                    {
                        skipping = Some(node.id())
                    }
                    Node::Element(child) if is_block(child.name()) => text.push(' '),
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
            }
        }
    }
    normalize(&text)
}
