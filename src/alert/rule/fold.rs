//! Text and terms made comparable: case, white space runs and curly quotes folded, with a map back
//! to the original offsets.

/// A character that continues a word for boundary purposes: letters and digits, except CJK ideographs
/// and syllabaries, which are written without spaces and so always match as substrings.
pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

use crate::text::is_unspaced as is_cjk;

/// Whether folding would change anything but ASCII case in `text`: white space other than single
/// spaces (when some term has a space), curly quotes (when some term has a quote), or a non-ASCII
/// character with a lower case. A byte scan with a fast path for CJK ideographs.
pub(super) fn needs_folding(text: &str, spaces: bool, quotes: bool) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut after_space = false;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte < 0x80 {
            if byte.is_ascii_whitespace() {
                if spaces && (byte != b' ' || after_space) {
                    return true;
                }
                after_space = true;
            } else {
                after_space = false;
            }
            at += 1;
            continue;
        }
        after_space = false;
        // U+4000..U+9FFF: ideographs, caseless and never white space.
        if (0xE4..=0xE9).contains(&byte) {
            at += 3;
            continue;
        }
        let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
            return true;
        };
        if c.is_whitespace() {
            if spaces {
                return true;
            }
        } else if matches!(
            c,
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{201C}' | '\u{201D}'
        ) {
            if quotes {
                return true;
            }
        } else if c.to_lowercase().ne(std::iter::once(c)) {
            return true;
        }
        at += c.len_utf8();
    }
    false
}

/// The original byte range of the folded range `start..end`.
pub(super) fn original_range(
    origin: &[u32],
    original: &str,
    start: usize,
    end: usize,
) -> (usize, usize) {
    let from = origin[start] as usize;
    let last = origin[end - 1] as usize;
    let last_len = original[last..].chars().next().map_or(0, char::len_utf8);
    (from, last + last_len)
}

/// Lowercases, collapses whitespace runs (U+3000 and no-break spaces included) to one space and
/// straightens curly quotes, so that terms match however the page typeset them.
pub(crate) fn fold(source: &str) -> String {
    let mut text = String::new();
    let _ = fold_into(source, &mut text, None);
    text
}

/// Folds `source` into `text`; true when every byte offset is unchanged (no whitespace run
/// collapsed, no character folded to a different length), so that no offset map is needed.
pub(super) fn fold_into(
    source: &str,
    text: &mut String,
    mut origin: Option<&mut Vec<u32>>,
) -> bool {
    text.clear();
    text.reserve(source.len());
    if let Some(origin) = origin.as_deref_mut() {
        origin.clear();
        origin.reserve(source.len());
    }
    let mut in_space = false;
    let mut identity = true;
    for (offset, c) in source.char_indices() {
        let offset = offset as u32;
        let before = text.len();
        if c.is_ascii() {
            if c.is_ascii_whitespace() {
                if in_space {
                    identity = false;
                    continue;
                }
                in_space = true;
                text.push(' ');
            } else {
                in_space = false;
                text.push(c.to_ascii_lowercase());
            }
        } else if c.is_whitespace() {
            identity = false;
            if in_space {
                continue;
            }
            in_space = true;
            text.push(' ');
        } else if is_cjk(c) {
            // Ideographs and syllabaries have no case: the common case in Chinese text, kept cheap.
            in_space = false;
            text.push(c);
        } else {
            in_space = false;
            match c {
                '\u{2018}' | '\u{2019}' | '\u{02BC}' => text.push('\''),
                '\u{201C}' | '\u{201D}' => text.push('"'),
                other => text.extend(other.to_lowercase()),
            }
        }
        identity &= text.len() - before == c.len_utf8();
        if let Some(origin) = origin.as_deref_mut() {
            origin.extend(std::iter::repeat_n(offset, text.len() - before));
        }
    }
    identity
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_maps_back_to_original_offsets() {
        let source = "Ünited\u{3000}\u{3000}Nations’ İstanbul";
        let mut folded = String::new();
        let mut origin = Vec::new();
        fold_into(source, &mut folded, Some(&mut origin));
        assert_eq!(folded, "ünited nations' i\u{307}stanbul");
        assert_eq!(fold(source), folded);
        let at = folded.find("nations'").unwrap();
        let (start, end) = original_range(&origin, source, at, at + "nations'".len());
        assert_eq!(&source[start..end], "Nations’");
    }

    #[test]
    fn needs_folding_only_when_it_changes_more_than_ascii_case() {
        assert!(!needs_folding(
            "Taiwan's TAIWAN 台湾地区，“台独”",
            true,
            false
        ));
        assert!(needs_folding("台湾\u{3000}地区", true, false));
        assert!(!needs_folding("台湾\u{3000}地区", false, false));
        assert!(needs_folding("two  spaces", true, false));
        assert!(needs_folding("line\nbreak", true, false));
        assert!(needs_folding("China’s", false, true));
        assert!(needs_folding("CÔTE", false, false));
        assert!(needs_folding("ＷＨＯ", false, false));
        assert!(!needs_folding("côte", false, false));
    }
}
