//! Bytes of a fetched page to text: BOM, HTTP charset, `<meta>` prescan, UTF-8, GB18030.
//!
//! A declaration is only believed when the bytes are valid in it. The rule, in order:
//! 1. A byte-order mark decides.
//! 2. Bytes that are valid UTF-8 and contain non-ASCII text are read as UTF-8, whatever is
//!    declared. The ministry's server has declared `iso-8859-1` for UTF-8 bodies, and single-byte
//!    decoders never report errors; a legacy-encoded page of real text that happens to be valid
//!    UTF-8 is vanishingly rare, so trusting valid UTF-8 first loses nothing in practice.
//! 3. Otherwise the first of these that decodes the bytes without an error: the HTTP charset, the
//!    `<meta>` charset (first 1024 bytes), UTF-8, GB18030 (a superset of GBK and GB2312, the
//!    encodings Chinese government sites used before UTF-8). A single-byte declaration (Latin-1,
//!    windows-1252…) accepts any bytes, so its decoding is only taken at once when it does not
//!    read as mojibake ([`garbled_chars_in`]): a GB18030 page labelled `iso-8859-1` is read as
//!    GB18030, a Latin-1 page with `Pérez` in it as Latin-1.
//! 4. When nothing decodes cleanly, the candidate with the fewest replacement characters (U+FFFD).
//!
//! [`decode`] reports how many replacement characters the text carries, so later stages can tell
//! a glitch from a page.

use encoding_rs::{Encoding, GB18030, UTF_8};

/// How many bytes the `<meta>` prescan looks at, as in the HTML standard.
const PRESCAN_BYTES: usize = 1024;

/// A page body as text, with how it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    /// U+FFFD written for bytes the encoding could not read (0 when the decoding was clean).
    pub replacements: usize,
}

/// Decode a page body to text following the rule in the module documentation. Never fails:
/// undecodable bytes become U+FFFD.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    decode(bytes, content_type).text
}

/// [`decode_html`], telling which encoding was used and how many bytes it could not read.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return counted(text.into_owned(), encoding);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.is_ascii() => return counted(text.to_owned(), UTF_8),
        Ok(_) => {}
        Err(_) => {
            // UTF-8 with a few damaged bytes (a cut-off tail, a flipped bit) stays UTF-8, with
            // its replacement characters counted: read as GB18030 it would be clean mojibake.
            let (text, _) = UTF_8.decode_without_bom_handling(bytes);
            let read = counted(text.into_owned(), UTF_8);
            let non_ascii = read
                .text
                .chars()
                .filter(|&c| !c.is_ascii() && c != '\u{FFFD}')
                .count();
            if non_ascii > read.replacements * 50 {
                return read;
            }
        }
    }
    let declared = content_type.and_then(charset_from_content_type);
    let meta = charset_from_meta(bytes);
    let mut candidates: Vec<&'static Encoding> = Vec::with_capacity(4);
    for encoding in [declared, meta, Some(UTF_8), Some(GB18030)]
        .into_iter()
        .flatten()
    {
        if !candidates.contains(&encoding) {
            candidates.push(encoding);
        }
    }
    // A single-byte decoding that reads as mojibake waits until the others have had their turn.
    let mut garbled_single_byte = None;
    for encoding in &candidates {
        if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            let decoded = Decoded {
                text: text.into_owned(),
                encoding,
                replacements: 0,
            };
            if encoding.is_single_byte() && garbled_chars_in(&decoded.text) > 0 {
                garbled_single_byte.get_or_insert(decoded);
                continue;
            }
            return decoded;
        }
    }
    if let Some(decoded) = garbled_single_byte {
        return decoded;
    }
    candidates
        .iter()
        .map(|encoding| {
            let (text, _) = encoding.decode_without_bom_handling(bytes);
            counted(text.into_owned(), encoding)
        })
        .min_by_key(|decoded| decoded.replacements)
        .expect("UTF-8 is always a candidate")
}

/// Characters that betray a wrong decoding: U+FFFD (bytes the encoding could not read), C1
/// control characters (never in text; left by a single-byte decoding of multi-byte text), and
/// the second of two Latin-1 characters in a row where the first is a letter (`Ã©`, `å¤`, `Íâ`):
/// UTF-8 or GB18030 read as Latin-1 or windows-1252. A foreign name in a Chinese text
/// (`Mesut Özil`) or an accent in an English one (`café`) has no such pair.
pub fn garbled_chars_in(text: &str) -> usize {
    let mut count = 0;
    let mut previous = ' ';
    for c in text.chars() {
        let bad = match c {
            '\u{FFFD}' | '\u{80}'..='\u{9F}' => true,
            _ => is_latin1_letter(previous) && is_high_single_byte(c),
        };
        if bad {
            count += 1;
        }
        previous = c;
    }
    count
}

fn is_latin1_letter(c: char) -> bool {
    matches!(c, '\u{C0}'..='\u{FF}') && c != '×' && c != '÷'
}

/// A character a byte from 0x80 to 0xFF becomes in Latin-1 or windows-1252.
fn is_high_single_byte(c: char) -> bool {
    matches!(c, '\u{A0}'..='\u{FF}')
        || matches!(
            c,
            '€' | '‚'
                | 'ƒ'
                | '„'
                | '…'
                | '†'
                | '‡'
                | 'ˆ'
                | '‰'
                | 'Š'
                | '‹'
                | 'Œ'
                | 'Ž'
                | '‘'
                | '’'
                | '“'
                | '”'
                | '•'
                | '–'
                | '—'
                | '˜'
                | '™'
                | 'š'
                | '›'
                | 'œ'
                | 'ž'
                | 'Ÿ'
        )
}

fn counted(text: String, encoding: &'static Encoding) -> Decoded {
    let replacements = text.chars().filter(|&c| c == '\u{FFFD}').count();
    Decoded {
        text,
        encoding,
        replacements,
    }
}

/// The encoding named by `charset=` in a `Content-Type` header value, if it names a known one.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        encoding_for_label(value.trim().trim_matches(|c| c == '"' || c == '\''))
    })
}

/// The encoding declared by a `<meta charset>` or `<meta http-equiv content="…charset=…">` within
/// the first 1024 bytes.
pub fn charset_from_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut position = 0;
    while let Some(offset) = find(&lower[position..], b"<meta") {
        let tag_start = position + offset + b"<meta".len();
        let tag_end = find(&lower[tag_start..], b">").map_or(lower.len(), |end| tag_start + end);
        let tag = &lower[tag_start..tag_end];
        if let Some(encoding) = charset_in_tag(tag) {
            return Some(encoding);
        }
        position = tag_end;
    }
    None
}

fn charset_in_tag(tag: &[u8]) -> Option<&'static Encoding> {
    let at = find(tag, b"charset")?;
    let rest = &tag[at + b"charset".len()..];
    let rest = trim_ascii_start(rest);
    let rest = trim_ascii_start(rest.strip_prefix(b"=")?);
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\'' || b == b';' || b == b'/' || b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    encoding_for_label(std::str::from_utf8(&rest[..end]).ok()?)
}

/// Like `Encoding::for_label`, with the HTML standard's rule that a page cannot really be UTF-16
/// once it was read as ASCII-compatible bytes to find the declaration.
fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label(label.as_bytes())?;
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return Some(UTF_8);
    }
    Some(encoding.output_encoding())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZH: &str = "<p>外交部发言人赵立坚主持例行记者会</p>";

    #[test]
    fn undeclared_utf8_is_utf8() {
        assert_eq!(decode_html(ZH.as_bytes(), Some("text/html")), ZH);
    }

    #[test]
    fn undeclared_gbk_falls_back_to_gb18030() {
        let (bytes, _, _) = GB18030.encode(ZH);
        assert_eq!(decode_html(&bytes, Some("text/html")), ZH);
    }

    #[test]
    fn http_charset_is_used_for_legacy_bytes() {
        let (bytes, _, _) = encoding_rs::BIG5.encode("外交部發言人");
        assert_eq!(
            decode_html(&bytes, Some("text/html; charset=big5")),
            "外交部發言人"
        );
    }

    #[test]
    fn meta_charset_is_found_in_prescan() {
        let page = "<html><head><META http-equiv=Content-Type content=\"text/html; charset=GBK\"></head>外交部";
        let (bytes, _, _) = GB18030.encode(page);
        assert!(decode_html(&bytes, None).ends_with("外交部"));
        let short = "<meta charset='gb2312'>外交部";
        let (bytes, _, _) = GB18030.encode(short);
        assert!(decode_html(&bytes, None).ends_with("外交部"));
    }

    #[test]
    fn wrongly_declared_charset_on_valid_utf8_reads_utf8() {
        assert_eq!(
            decode_html(ZH.as_bytes(), Some("text/html; charset=iso-8859-1")),
            ZH
        );
        assert_eq!(
            decode_html(ZH.as_bytes(), Some("text/html; charset=gbk")),
            ZH
        );
    }

    #[test]
    fn bom_wins_over_declaration() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(ZH.as_bytes());
        assert_eq!(decode_html(&bytes, Some("text/html; charset=gbk")), ZH);
    }

    #[test]
    fn gb18030_labelled_utf8_is_read_as_gb18030() {
        let page = "<html><head><title>外交部发言人赵立坚主持例行记者会</title></head><body>答：中方</body></html>";
        let (bytes, _, _) = GB18030.encode(page);
        let decoded = decode(&bytes, Some("text/html; charset=utf-8"));
        assert_eq!(decoded.text, page);
        assert_eq!(decoded.encoding, GB18030);
        assert_eq!(decoded.replacements, 0);
        // Labelled Latin-1: a single-byte label accepts any bytes, so it comes last.
        assert_eq!(
            decode_html(&bytes, Some("text/html; charset=iso-8859-1")),
            page
        );
    }

    #[test]
    fn meta_charset_is_believed_when_the_http_one_fails() {
        let page = "<meta charset=\"big5\"><p>外交部發言人</p>";
        let (bytes, _, _) = encoding_rs::BIG5.encode(page);
        let decoded = decode(&bytes, Some("text/html; charset=utf-8"));
        assert_eq!(decoded.encoding, encoding_rs::BIG5);
        assert!(decoded.text.ends_with("外交部發言人</p>"));
    }

    #[test]
    fn bytes_valid_in_no_candidate_are_counted() {
        // UTF-8 text with two bytes cut out of characters: valid in neither UTF-8 nor GB18030.
        let mut bytes = "外交部发言人".as_bytes().to_vec();
        bytes.remove(4);
        bytes.remove(9);
        bytes.push(0xFF);
        let decoded = decode(&bytes, Some("text/html; charset=utf-8"));
        assert!(decoded.replacements > 0, "{decoded:?}");
        assert_eq!(
            decoded.replacements,
            decoded.text.chars().filter(|&c| c == '\u{FFFD}').count()
        );
    }

    #[test]
    fn utf8_with_a_cut_off_tail_stays_utf8() {
        let text = "外交部发言人赵立坚主持例行记者会。".repeat(10);
        let bytes = &text.as_bytes()[..text.len() - 1];
        let decoded = decode(bytes, Some("text/html; charset=utf-8"));
        assert_eq!(decoded.encoding, UTF_8);
        assert_eq!(decoded.replacements, 1);
        assert!(decoded.text.starts_with("外交部发言人"));
    }

    #[test]
    fn latin1_text_labelled_latin1_stays_latin1() {
        // 0xE9 0x72 ("ér") is also a valid GB18030 character.
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("Pérez and Müller met in Genève");
        let decoded = decode(&bytes, Some("text/html; charset=iso-8859-1"));
        assert_eq!(decoded.text, "Pérez and Müller met in Genève");
    }

    #[test]
    fn ascii_page_with_latin1_declaration_decodes() {
        assert_eq!(
            decode_html(b"caf\xe9", Some("text/html; charset=latin1")),
            "café"
        );
    }
}
