//! Flattened paragraphs to exchanges; text normalization and the content hash.
//!
//! Everything here is pure: strings in, strings out. The site profiles (`crate::site`) find the
//! paragraphs in a page; this module decides who speaks and what counts as content.

mod segment;

use sha2::{Digest, Sha256};
use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::model::{Briefing, DateFrom};

pub use segment::{segment, segment_owned, segment_with_spokesperson};

/// Fold every kind of white space (NBSP, U+3000 ideographic space, tabs, line breaks, thin spaces)
/// to one ASCII space, drop zero-width characters, trim, and put the text in Unicode NFC.
///
/// Markup-only differences (a word split across `<SPAN>`s, `&nbsp;` instead of a space, a
/// U+3000 indent) disappear here, which is what makes the content hash insensitive to them.
pub fn normalize(text: &str) -> String {
    normalize_cow(text).into_owned()
}

/// [`normalize`] that borrows when the text is already normalized, which paragraphs coming out
/// of the extractor always are (the content hash re-checks them).
pub fn normalize_cow(text: &str) -> Cow<'_, str> {
    if is_normalized(text) {
        return Cow::Borrowed(text);
    }
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut run_start: Option<usize> = None;
    let mut plainly_nfc = true;
    // Copy runs of ordinary characters as slices; only white space and zero-width characters
    // need a decision. The same pass notes whether anything might need composing.
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let (class, width) = if may_be_special(byte) {
            char_class_at(text, index)
        } else {
            (CharClass::Ordinary, 1)
        };
        if plainly_nfc && class == CharClass::Ordinary && !plainly_composed_lead(byte) {
            plainly_nfc = text[index..].chars().next().is_some_and(plainly_composed);
        }
        if class == CharClass::Ordinary {
            if run_start.is_none() {
                if pending_space && !folded.is_empty() {
                    folded.push(' ');
                }
                pending_space = false;
                run_start = Some(index);
            }
        } else {
            if let Some(start) = run_start.take() {
                folded.push_str(&text[start..index]);
            }
            pending_space |= class == CharClass::Space;
        }
        index += width;
    }
    if let Some(start) = run_start {
        folded.push_str(&text[start..]);
    }
    if plainly_nfc || is_nfc_quick(folded.chars()) == IsNormalized::Yes {
        return Cow::Owned(folded);
    }
    Cow::Owned(folded.nfc().collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Space,
    ZeroWidth,
    Ordinary,
}

/// Whether a byte can start a white space or zero-width character: ASCII white space, or one of
/// the lead bytes C2, E1, E2, E3, EF that every non-ASCII one starts with. Continuation bytes
/// (80–BF) never match, so text can be scanned byte by byte without decoding.
#[inline(always)]
fn may_be_special(byte: u8) -> bool {
    matches!(byte, 0x09..=0x0D | b' ' | 0xC2 | 0xE1 | 0xE2 | 0xE3 | 0xEF)
}

/// What the character starting at byte `index` is, and its width in bytes.
#[inline]
fn char_class_at(text: &str, index: usize) -> (CharClass, usize) {
    let lead = text.as_bytes()[index];
    if lead.is_ascii() {
        let class = if lead.is_ascii_whitespace() || lead == 0x0B {
            CharClass::Space
        } else {
            CharClass::Ordinary
        };
        return (class, 1);
    }
    let c = text[index..].chars().next().unwrap_or(' ');
    let class = if c.is_whitespace() {
        CharClass::Space
    } else if is_zero_width(c) {
        CharClass::ZeroWidth
    } else {
        CharClass::Ordinary
    };
    (class, c.len_utf8())
}

/// Already trimmed, single-spaced, free of zero-width characters and in NFC.
fn is_normalized(text: &str) -> bool {
    if text.starts_with(' ') || text.ends_with(' ') {
        return false;
    }
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if !may_be_special(byte) {
            index += 1;
            continue;
        }
        // A single ASCII space between two ordinary characters is what normalized text has.
        if byte == b' ' && bytes.get(index + 1).is_none_or(|&next| next != b' ') {
            index += 1;
            continue;
        }
        let (class, width) = char_class_at(text, index);
        if class != CharClass::Ordinary {
            return false;
        }
        index += width;
    }
    is_nfc(text)
}

/// Whether the text is in NFC, answering from code point ranges for the scripts transcripts are
/// written in and asking the Unicode tables only for anything else.
fn is_nfc(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if plainly_composed_lead(bytes[index]) {
            index += 1;
            continue;
        }
        match text[index..].chars().next() {
            Some(c) if plainly_composed(c) => index += c.len_utf8(),
            _ => return is_nfc_quick(text.chars()) == IsNormalized::Yes,
        }
    }
    true
}

/// Bytes that are ASCII, UTF-8 continuation bytes, or lead bytes of U+0080..U+02FF and
/// U+4000..U+9FFF: nothing in those ranges decomposes or composes.
#[inline(always)]
fn plainly_composed_lead(byte: u8) -> bool {
    matches!(byte, 0x00..=0xBF | 0xC2..=0xCB | 0xE4..=0xE9)
}

/// Characters that are in NFC whatever surrounds them: Latin below U+0300, general punctuation,
/// CJK punctuation and ideographs, full-width forms.
fn plainly_composed(c: char) -> bool {
    matches!(c as u32,
        0..=0x2FF
        | 0x2010..=0x2027
        | 0x2030..=0x205E
        | 0x3001..=0x3011
        | 0x3014..=0x301F
        | 0xFF01..=0xFF5E)
        || crate::text::is_unified_ideograph(c)
}

fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Version tag of the canonical rendering; part of the hashed text so that a deliberate change of
/// the rendering is visible rather than silently colliding with old hashes.
const CANONICAL_VERSION: &str = "briefwatch-canonical-v1";

/// The text the content hash is computed over: title, briefing date, spokesperson, opening
/// paragraphs and every exchange (asker, after-conference flag, question and answer paragraphs),
/// one item per line.
///
/// Left out on purpose: the URL (a re-published transcript is the same content), the publication
/// time (the site re-stamps pages without editing them), the language and kind (the language is a
/// property of the source; the kind is derived from the title, which is included).
/// Paragraphs are normalized and never contain a line break, so the line structure is unambiguous.
pub fn canonical_text(briefing: &Briefing) -> String {
    let mut text = String::with_capacity(4096);
    render_canonical(briefing, true, &mut |piece| text.push_str(piece));
    text
}

/// SHA-256 (lower-case hex) of [`canonical_text`].
pub fn content_hash(briefing: &Briefing) -> String {
    let mut hasher = Sha256::new();
    render_canonical(briefing, true, &mut |piece| hasher.update(piece.as_bytes()));
    hex::encode(hasher.finalize())
}

/// [`content_hash`] of a record the extractor has just built, whose text is normalized by
/// construction: skips checking every paragraph again. Debug builds (the tests) verify the
/// claim against [`content_hash`].
pub(crate) fn content_hash_of_extracted(briefing: &Briefing) -> String {
    let mut hasher = Sha256::new();
    render_canonical(briefing, false, &mut |piece| {
        hasher.update(piece.as_bytes())
    });
    let hash = hex::encode(hasher.finalize());
    debug_assert_eq!(
        hash,
        content_hash(briefing),
        "extracted text was not normalized"
    );
    hash
}

fn render_canonical(briefing: &Briefing, normalize_text: bool, out: &mut dyn FnMut(&str)) {
    let mut line = |tag: &str, value: &str| {
        out(tag);
        out("\t");
        if normalize_text {
            out(&normalize_cow(value));
        } else {
            out(value);
        }
        out("\n");
    };
    line("version", CANONICAL_VERSION);
    line("title", &briefing.title);
    // Only a date the page states in its title is content; one inferred from other evidence
    // (publication time, listing) may change without the page changing.
    line(
        "date",
        &briefing
            .date
            .filter(|_| {
                briefing
                    .date_from
                    .is_none_or(|from| from == DateFrom::Title)
            })
            .map(|date| date.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    );
    line(
        "spokesperson",
        briefing.spokesperson.as_deref().unwrap_or_default(),
    );
    for paragraph in &briefing.opening {
        line("opening", paragraph);
    }
    for exchange in &briefing.exchanges {
        line("exchange", &exchange.ordinal.to_string());
        line("asker", &exchange.asker);
        if exchange.after_conference {
            line("after_conference", "true");
        }
        for paragraph in &exchange.question {
            line("question", paragraph);
        }
        for paragraph in &exchange.answer {
            line("answer", paragraph);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exchange, Kind, Lang};

    #[test]
    fn normalize_folds_spaces_and_composes() {
        assert_eq!(
            normalize("\u{3000}\u{3000}赵立坚：\u{a0} 中方\n\t高度赞赏 "),
            "赵立坚： 中方 高度赞赏"
        );
        assert_eq!(normalize("Cafe\u{301}\u{200b}!"), "Café!");
        assert_eq!(normalize(" \u{a0} "), "");
    }

    /// The obvious definition, to check the fast paths against.
    fn reference_normalize(text: &str) -> String {
        let kept: String = text.chars().filter(|c| !is_zero_width(*c)).collect();
        let folded = kept.split_whitespace().collect::<Vec<_>>().join(" ");
        folded.nfc().collect()
    }

    proptest::proptest! {
        #[test]
        fn normalize_matches_reference_and_is_idempotent(
            text in "[a-z \u{a0}\u{3000}\t\n\u{b}\u{85}\u{200b}\u{301}é中文：\u{ad}\u{feff}\u{2003}\u{3099}\u{fa10}か\u{1680}]{0,40}"
        ) {
            let normalized = normalize(&text);
            proptest::prop_assert_eq!(&normalized, &reference_normalize(&text));
            proptest::prop_assert_eq!(normalize(&normalized), normalized.clone());
            let again = normalize_cow(&normalized);
            proptest::prop_assert_eq!(again.as_ref(), normalized.as_str());
        }
    }

    fn briefing() -> Briefing {
        Briefing {
            url: "https://example.test/a".into(),
            lang: Lang::En,
            kind: Kind::PressConference,
            title: "T".into(),
            date: chrono::NaiveDate::from_ymd_opt(2020, 7, 3),
            published_at: None,
            spokesperson: Some("Zhao Lijian".into()),
            opening: vec!["Opening.".into()],
            exchanges: vec![Exchange {
                ordinal: 1,
                asker: "CCTV".into(),
                question: vec!["Q?".into()],
                answer: vec!["A.".into(), "More.".into()],
                after_conference: false,
            }],
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    #[test]
    fn hash_ignores_url_and_publication_time_but_not_content() {
        let base = briefing();
        let hash = content_hash(&base);
        assert_eq!(hash.len(), 64);

        let mut moved = base.clone();
        moved.url = "https://example.test/republished".into();
        moved.published_at = chrono::DateTime::parse_from_rfc3339("2020-07-03T21:19:00+08:00").ok();
        assert_eq!(content_hash(&moved), hash);

        let mut spaced = base.clone();
        spaced.exchanges[0].answer[0] = "A.\u{a0}".into();
        assert_eq!(content_hash(&spaced), hash);

        let edits: [fn(&mut Briefing); 9] = [
            |b| b.title.push('!'),
            |b| b.date = None,
            |b| b.spokesperson = None,
            |b| b.opening.clear(),
            |b| b.exchanges[0].asker = "AFP".into(),
            |b| b.exchanges[0].after_conference = true,
            |b| b.exchanges[0].question[0].push('?'),
            |b| {
                b.exchanges[0].answer.pop();
            },
            // Moving a paragraph from the answer to the question is a content change too.
            |b| {
                let first = b.exchanges[0].answer.remove(0);
                b.exchanges[0].question.push(first);
            },
        ];
        for edit in edits {
            let mut changed = base.clone();
            edit(&mut changed);
            assert_ne!(content_hash(&changed), hash, "{changed:?}");
        }
    }
}
