//! Which characters the stages that treat Chinese apart must tell from the rest: one predicate
//! per purpose, each named for it, in one place.
//!
//! The ranges differ because the purposes do: the search index wants every Han ideograph, the
//! word-boundary rules of alerts and diffs every script written without spaces, and the
//! normalization fast paths only characters that normalization leaves as they are.

/// Han ideographs: the unified ideographs, their extensions and the compatibility ideographs.
/// The search index makes each one a token of its own, so that a Chinese word of any length is a
/// phrase of characters; a page whose title has one is in Chinese.
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Letters of scripts written without spaces between words: Han ideographs, kana and hangul.
/// Alert terms in them match as substrings (no word boundary), and diffs compare them character
/// by character.
pub fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F
        | 0xAC00..=0xD7FF | 0xF900..=0xFAFF | 0xFF66..=0xFF9F | 0x20000..=0x3FFFF)
}

/// The CJK unified ideographs of the Basic Multilingual Plane (with extension A): unchanged by
/// every Unicode normalization form, whatever surrounds them, so a normalizer can pass them
/// through. (The compatibility ideographs are not: NFKC maps them to unified ones.)
pub fn is_unified_ideograph(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_has_its_characters() {
        for c in ['台', '湾', '\u{3400}', '\u{F900}', '\u{20000}'] {
            assert!(is_han(c) && is_unspaced(c), "{c}");
        }
        for c in ['あ', 'カ', '한', 'ｶ'] {
            assert!(!is_han(c) && is_unspaced(c), "{c}");
        }
        for c in ['a', 'é', '1', '，', '。', ' '] {
            assert!(
                !is_han(c) && !is_unspaced(c) && !is_unified_ideograph(c),
                "{c}"
            );
        }
        assert!(is_unified_ideograph('中') && !is_unified_ideograph('\u{F900}'));
    }
}
