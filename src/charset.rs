//! Bytes of a fetched page to text: BOM, HTTP charset, `<meta>` prescan, UTF-8, GB18030.
//!
//! The rule, in order:
//! 1. A byte-order mark decides.
//! 2. Otherwise the declared charset (HTTP `Content-Type`, else a `<meta>` in the first 1024 bytes)
//!    is used — unless the bytes are valid UTF-8 and contain non-ASCII text, in which case they are
//!    read as UTF-8. The ministry's server has declared `iso-8859-1` for UTF-8 bodies, and
//!    single-byte decoders never report errors, so "declared decoding produced replacement
//!    characters" alone would not catch it; a legacy-encoded page of real text that happens to be
//!    valid UTF-8 is vanishingly rare, so trusting valid UTF-8 first loses nothing in practice.
//! 3. With no usable declaration: UTF-8 when the bytes are valid UTF-8, else GB18030 (a superset of
//!    GBK and GB2312, the encodings Chinese government sites used before UTF-8).

use encoding_rs::{Encoding, GB18030, UTF_8};

/// How many bytes the `<meta>` prescan looks at, as in the HTML standard.
const PRESCAN_BYTES: usize = 1024;

/// Decode a page body to text following the rule in the module documentation. Never fails:
/// undecodable bytes become U+FFFD.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return text.into_owned();
    }
    let valid_utf8 = std::str::from_utf8(bytes).ok();
    let declared = content_type
        .and_then(charset_from_content_type)
        .or_else(|| charset_from_meta(bytes));
    match (declared, valid_utf8) {
        (_, Some(text)) if !text.is_ascii() => text.to_owned(),
        (Some(encoding), _) => {
            let (text, _, _) = encoding.decode(bytes);
            text.into_owned()
        }
        (None, Some(text)) => text.to_owned(),
        (None, None) => {
            let (text, _, _) = GB18030.decode(bytes);
            text.into_owned()
        }
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
    fn ascii_page_with_latin1_declaration_decodes() {
        assert_eq!(
            decode_html(b"caf\xe9", Some("text/html; charset=latin1")),
            "café"
        );
    }
}
