//! Inline text diffs: canonical folding, tokenization (words for Latin script, characters for Han),
//! significance of one edited text, and its text/HTML rendering.

use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffTag, capture_diff_slices};
use unicode_normalization::UnicodeNormalization;

use super::Significance;
use crate::config::DiffConfig;
use crate::model::Lang;

/// One run of an inline diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub op: Op,
    pub text: String,
}

/// What a run of text did between the two revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Unchanged context; long runs are already elided with `…`.
    Equal,
    Delete,
    Insert,
}

/// The difference between two versions of one text (a question, an answer, the opening, the title).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextDiff {
    pub significance: Significance,
    /// Latin-script words removed or added, whichever is more, after canonical folding.
    pub changed_words: u32,
    /// Han (or kana/hangul) characters removed or added, whichever is more, after canonical folding.
    pub changed_chars: u32,
    /// The inline diff of the texts as published, with unchanged runs cut to context.
    pub segments: Vec<Segment>,
}

impl TextDiff {
    /// The segments cut at paragraph breaks, for renderers that lay out one paragraph at a time.
    pub fn paragraphs(&self) -> Vec<Vec<Segment>> {
        let mut paragraphs = vec![Vec::new()];
        for segment in &self.segments {
            for (index, piece) in segment.text.split('\n').enumerate() {
                if index > 0 {
                    paragraphs.push(Vec::new());
                }
                if !piece.is_empty() {
                    let current = paragraphs.last_mut().expect("never empty");
                    current.push(Segment {
                        op: segment.op,
                        text: piece.to_string(),
                    });
                }
            }
        }
        paragraphs.retain(|paragraph| !paragraph.is_empty());
        paragraphs
    }

    /// `[-removed-]{+added+}` inline, paragraphs on their own lines.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment.op {
                Op::Equal => out.push_str(&segment.text),
                Op::Delete => {
                    out.push_str("[-");
                    out.push_str(&segment.text);
                    out.push_str("-]");
                }
                Op::Insert => {
                    out.push_str("{+");
                    out.push_str(&segment.text);
                    out.push_str("+}");
                }
            }
        }
        out
    }

    /// `<del>`/`<ins>` inline, text escaped, paragraph breaks as `<br>`.
    pub fn render_html(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            let text = escape_html(&segment.text).replace('\n', "<br>\n");
            match segment.op {
                Op::Equal => out.push_str(&text),
                Op::Delete => {
                    out.push_str("<del>");
                    out.push_str(&text);
                    out.push_str("</del>");
                }
                Op::Insert => {
                    out.push_str("<ins>");
                    out.push_str(&text);
                    out.push_str("</ins>");
                }
            }
        }
        out
    }
}

/// Escapes the five characters that matter in HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Han ideographs, kana and hangul: scripts written without spaces, diffed character by character.
pub(crate) use crate::text::is_unspaced as is_cjk;

fn is_latin_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Folds what the ministry changes without changing meaning: Unicode width (NFKC), Chinese versus
/// ASCII punctuation, quote styles, dashes, invisible characters and all spacing that does not
/// separate two Latin words. Two texts with equal canonical forms differ only cosmetically.
pub fn canonical(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in compatibility_folded(text) {
        let folded = match c {
            '、' => ',',
            '。' | '｡' => '.',
            '“' | '”' | '„' | '‟' | '«' | '»' | '「' | '」' | '『' | '』' | '《' | '》' | '〈'
            | '〉' | '″' | '〝' | '〞' => '"',
            '‘' | '’' | '‚' | '‛' | '′' | '`' | '´' => '\'',
            '—' | '–' | '‒' | '―' | '‐' | '‑' | '−' | '﹣' => '-',
            '・' | '•' | '‧' | '∙' => '·',
            '【' => '[',
            '】' => ']',
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => continue,
            c if c.is_whitespace() => {
                pending_space = true;
                continue;
            }
            c => c,
        };
        if pending_space {
            pending_space = false;
            let previous_is_word = out.chars().next_back().is_some_and(is_latin_word_char);
            if previous_is_word && is_latin_word_char(folded) {
                out.push(' ');
            }
        }
        out.push(folded);
    }
    out
}

/// NFKC, one character at a time, skipping the characters NFKC leaves alone (ASCII, Han). Text
/// from extraction is already NFC, so composing across characters changes nothing; doing it per
/// character keeps the common case free of the normalizer's buffering, which dominated the cost.
fn compatibility_folded(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().flat_map(|c| {
        let mut folded: [char; 4] = ['\0'; 4];
        let mut count = 0;
        if c.is_ascii() || crate::text::is_unified_ideograph(c) {
            folded[0] = c;
            count = 1;
        } else if let 0xFF01..=0xFF5E = c as u32 {
            // Full-width ASCII: the common case in Chinese text, mapped without the tables.
            folded[0] = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
            count = 1;
        } else {
            for normalized in std::iter::once(c).nfkc() {
                if count < folded.len() {
                    folded[count] = normalized;
                    count += 1;
                }
            }
        }
        folded.into_iter().take(count)
    })
}

/// Splits text into diff tokens: a run of Latin letters/digits (with inner apostrophes) is one token,
/// a run of white space is one token, every other character (Han, punctuation) is its own token.
pub(crate) fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        if is_latin_word_char(c) {
            while let Some(&(index, next)) = chars.peek() {
                if is_latin_word_char(next) {
                    end = index + next.len_utf8();
                    chars.next();
                } else if next == '\'' || next == '’' {
                    let mut lookahead = chars.clone();
                    lookahead.next();
                    match lookahead.peek() {
                        Some(&(_, after)) if is_latin_word_char(after) => {
                            end = index + next.len_utf8();
                            chars.next();
                        }
                        _ => break,
                    }
                } else {
                    break;
                }
            }
        } else if c.is_whitespace() {
            while let Some(&(index, next)) = chars.peek() {
                if next.is_whitespace() {
                    end = index + next.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
        }
        tokens.push(&text[start..end]);
    }
    tokens
}

/// Word units of a token: 1 Latin word, or the CJK character count.
#[derive(Default, Clone, Copy)]
struct Units {
    words: u32,
    chars: u32,
}

impl Units {
    fn of(token: &str) -> Units {
        let mut units = Units::default();
        let Some(first) = token.chars().next() else {
            return units;
        };
        if is_cjk(first) {
            units.chars = 1;
        } else if is_latin_word_char(first) {
            units.words = 1;
        }
        units
    }

    fn add(&mut self, other: Units) {
        self.words += other.words;
        self.chars += other.chars;
    }

    fn is_empty(self) -> bool {
        self.words == 0 && self.chars == 0
    }
}

/// Counts sentences by their terminators; a sentence added or dropped is a substantive change even
/// when it is short.
fn sentence_count(canonical_text: &str) -> usize {
    let chars: Vec<char> = canonical_text.chars().collect();
    let mut count = 0;
    for (index, &c) in chars.iter().enumerate() {
        let terminal = matches!(c, '.' | '!' | '?' | '！' | '？');
        if !terminal {
            continue;
        }
        let next = chars.get(index + 1).copied();
        let previous = index.checked_sub(1).and_then(|i| chars.get(i)).copied();
        // "U.S." and "4.5" are not sentence ends; a terminator followed by a capital (canonical
        // text drops the space after punctuation), a quote, a Han character or the end is.
        let ends = match next {
            None => true,
            Some(n) => {
                n == ' ' || n == '"' || n == '\'' || n == ')' || n.is_uppercase() || is_cjk(n)
            }
        };
        let abbreviation = previous.is_some_and(|p| p.is_uppercase())
            && index >= 2
            && chars
                .get(index - 2)
                .is_some_and(|&pp| pp == '.' || pp == ' ');
        if ends && !abbreviation && previous.is_some_and(|p| p != '.') {
            count += 1;
        }
    }
    count
}

/// Significance of the edit from `old` to `new`, with the number of changed words and characters.
pub(crate) fn significance_of(
    old: &str,
    new: &str,
    cfg: &DiffConfig,
) -> (Significance, ChangedUnits) {
    if old == new {
        return (Significance::None, ChangedUnits::default());
    }
    let old_canonical = canonical(old);
    let new_canonical = canonical(new);
    if old_canonical == new_canonical {
        return (Significance::Cosmetic, ChangedUnits::default());
    }
    let old_tokens = tokenize(&old_canonical);
    let new_tokens = tokenize(&new_canonical);
    let ops = capture_diff_slices(Algorithm::Myers, &old_tokens, &new_tokens);
    let mut deleted = Units::default();
    let mut inserted = Units::default();
    for op in &ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if matches!(tag, DiffTag::Delete | DiffTag::Replace) {
            for token in &old_tokens[old_range] {
                deleted.add(Units::of(token));
            }
        }
        if matches!(tag, DiffTag::Insert | DiffTag::Replace) {
            for token in &new_tokens[new_range] {
                inserted.add(Units::of(token));
            }
        }
    }
    let changed = ChangedUnits {
        words: deleted.words.max(inserted.words),
        chars: deleted.chars.max(inserted.chars),
    };
    let sentences_differ = sentence_count(&old_canonical) != sentence_count(&new_canonical);
    let significance = if deleted.is_empty() && inserted.is_empty() {
        // Only punctuation moved (e.g. a comma added): still not a change of wording.
        if sentences_differ {
            Significance::Minor
        } else {
            Significance::Cosmetic
        }
    } else if sentences_differ
        || changed.words > cfg.minor_max_changed_words
        || changed.chars > cfg.minor_max_changed_chars
    {
        Significance::Substantive
    } else {
        Significance::Minor
    };
    (significance, changed)
}

/// Changed words and characters of one edit.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct ChangedUnits {
    pub words: u32,
    pub chars: u32,
}

/// A stretch of the diff before elision: equal text, or a removed/added pair.
enum Chunk<'a> {
    Equal(Vec<&'a str>),
    Change {
        deleted: Vec<&'a str>,
        inserted: Vec<&'a str>,
    },
}

/// Diffs two texts for display; `None` when they are identical.
pub fn diff_text(old: &str, new: &str, lang: Lang, cfg: &DiffConfig) -> Option<TextDiff> {
    if old == new {
        return None;
    }
    let (significance, changed) = significance_of(old, new, cfg);
    let old_tokens = tokenize(old);
    let new_tokens = tokenize(new);
    let ops = capture_diff_slices(Algorithm::Myers, &old_tokens, &new_tokens);

    let mut chunks: Vec<Chunk> = Vec::new();
    for op in &ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => chunks.push(Chunk::Equal(old_tokens[old_range].to_vec())),
            _ => {
                let deleted = old_tokens[old_range].to_vec();
                let inserted = new_tokens[new_range].to_vec();
                match chunks.last_mut() {
                    Some(Chunk::Change {
                        deleted: d,
                        inserted: i,
                    }) => {
                        d.extend(deleted);
                        i.extend(inserted);
                    }
                    _ => chunks.push(Chunk::Change { deleted, inserted }),
                }
            }
        }
    }
    let chunks = absorb_short_equal_runs(chunks);

    let context = match lang {
        Lang::En => cfg.context_words,
        Lang::Zh => cfg.context_chars,
    };
    let count = chunks.len();
    let mut segments = Vec::new();
    for (index, chunk) in chunks.into_iter().enumerate() {
        match chunk {
            Chunk::Equal(tokens) => {
                let text = elide(&tokens, context, index == 0, index + 1 == count, lang);
                push_segment(&mut segments, Op::Equal, text);
            }
            Chunk::Change { deleted, inserted } => {
                push_segment(&mut segments, Op::Delete, deleted.concat());
                push_segment(&mut segments, Op::Insert, inserted.concat());
            }
        }
    }
    Some(TextDiff {
        significance,
        changed_words: changed.words,
        changed_chars: changed.chars,
        segments,
    })
}

fn push_segment(segments: &mut Vec<Segment>, op: Op, text: String) {
    if !text.is_empty() {
        segments.push(Segment { op, text });
    }
}

/// A single common word or character between two changes ("的", "the") makes a diff unreadable
/// confetti; it reads better as part of one larger replacement.
fn absorb_short_equal_runs(chunks: Vec<Chunk>) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::with_capacity(chunks.len());
    let mut iter = chunks.into_iter().peekable();
    while let Some(chunk) = iter.next() {
        match chunk {
            Chunk::Equal(tokens)
                if matches!(out.last(), Some(Chunk::Change { .. }))
                    && matches!(iter.peek(), Some(Chunk::Change { .. }))
                    && is_short_run(&tokens) =>
            {
                let Some(Chunk::Change { deleted, inserted }) = out.last_mut() else {
                    unreachable!("checked above")
                };
                deleted.extend(tokens.iter().copied());
                inserted.extend(tokens.iter().copied());
                if let Some(Chunk::Change {
                    deleted: next_deleted,
                    inserted: next_inserted,
                }) = iter.next()
                {
                    deleted.extend(next_deleted);
                    inserted.extend(next_inserted);
                }
            }
            Chunk::Change { deleted, inserted } => match out.last_mut() {
                Some(Chunk::Change {
                    deleted: d,
                    inserted: i,
                }) => {
                    d.extend(deleted);
                    i.extend(inserted);
                }
                _ => out.push(Chunk::Change { deleted, inserted }),
            },
            equal => out.push(equal),
        }
    }
    out
}

fn is_short_run(tokens: &[&str]) -> bool {
    let mut units = Units::default();
    for token in tokens {
        if token.contains('\n') {
            return false;
        }
        units.add(Units::of(token));
    }
    units.words + units.chars <= 1
}

/// Keeps `context` words (or characters) of unchanged text next to each change and replaces the
/// rest with `…`.
fn elide(tokens: &[&str], context: usize, is_first: bool, is_last: bool, lang: Lang) -> String {
    let unit_positions: Vec<usize> = tokens
        .iter()
        .enumerate()
        .filter(|(_, token)| !Units::of(token).is_empty())
        .map(|(index, _)| index)
        .collect();
    let keep_head = if is_first { 0 } else { context };
    let keep_tail = if is_last { 0 } else { context };
    // Cutting out less than a context's worth saves the reader nothing.
    if unit_positions.len() <= keep_head + keep_tail + context.max(2) {
        return tokens.concat();
    }
    let gap = match lang {
        Lang::En => " … ",
        Lang::Zh => "……",
    };
    let mut text = String::new();
    if keep_head > 0 {
        // Stop the head just after its last kept unit (and any punctuation glued to it).
        let mut end = unit_positions[keep_head - 1] + 1;
        while end < tokens.len()
            && Units::of(tokens[end]).is_empty()
            && !tokens[end].chars().all(char::is_whitespace)
        {
            end += 1;
        }
        text.push_str(tokens[..end].concat().trim_end());
    }
    text.push_str(if keep_head == 0 {
        gap.trim_start()
    } else {
        gap
    });
    if keep_tail > 0 {
        let start = unit_positions[unit_positions.len() - keep_tail];
        text.push_str(tokens[start..].concat().trim_start());
    } else {
        text = text.trim_end().to_string();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DiffConfig {
        DiffConfig::default()
    }

    #[test]
    fn canonical_folds_width_quotes_and_spacing() {
        assert_eq!(
            canonical("中方对此有何评论？　“一国两制”、《基本法》：好。"),
            canonical("中方对此有何评论?\"一国两制\",\"基本法\":好.")
        );
        assert_eq!(canonical("Hello ,  world"), canonical("Hello, world"));
        assert_ne!(canonical("Hello world"), canonical("Helloworld"));
        assert_ne!(canonical("China"), canonical("china"));
    }

    #[test]
    fn per_character_folding_matches_nfkc_on_extracted_text() {
        for text in [
            "中方对此有何评论？　“一国两制”（ＨＫ）①½ﬁ　Ａｂｃ１２３",
            "Café naïve — “quoted” … ㍻ ｶﾀｶﾅ",
        ] {
            let expected: String = text.nfkc().collect();
            assert_eq!(compatibility_folded(text).collect::<String>(), expected);
        }
    }

    #[test]
    fn tokenize_keeps_english_words_and_splits_han_characters() {
        assert_eq!(
            tokenize("China's WHO  中方2020年"),
            vec!["China's", " ", "WHO", "  ", "中", "方", "2020", "年"]
        );
    }

    #[test]
    fn english_reword_is_word_level_with_elided_context() {
        let old = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen. The rest is the same here.";
        let new = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen sixteen. The rest is the same here.";
        let diff = diff_text(old, new, Lang::En, &cfg()).unwrap();
        assert_eq!(diff.significance, Significance::Minor);
        assert_eq!(diff.changed_words, 1);
        let text = diff.render_text();
        assert_eq!(
            text,
            "… nine ten eleven twelve thirteen fourteen [-fifteen-]{+sixteen+}. The rest is the same here."
        );
    }

    #[test]
    fn chinese_reword_shows_characters_not_the_paragraph() {
        let old =
            "这说明公道自在人心，少数西方国家借此抹黑中国的企图不会得逞。我们敦促美方停止干涉。";
        let new =
            "这说明公道自在人心，个别西方国家借此抹黑中国的企图不会得逞。我们敦促美方停止干涉。";
        let diff = diff_text(old, new, Lang::Zh, &cfg()).unwrap();
        assert_eq!(diff.significance, Significance::Minor);
        assert_eq!(
            diff.render_text(),
            "这说明公道自在人心，[-少数-]{+个别+}西方国家借此抹黑中国的企图不会得逞。我们敦促美方停止干涉。"
        );
        let long_tail = "一段时间以来，反中乱港势力频频在香港进行大规模违法暴力活动，大肆打砸抢烧，严重破坏香港社会秩序。";
        let diff = diff_text(
            &format!("{old}{long_tail}"),
            &format!("{new}{long_tail}"),
            Lang::Zh,
            &cfg(),
        )
        .unwrap();
        assert_eq!(
            diff.render_text(),
            "这说明公道自在人心，[-少数-]{+个别+}西方国家借此抹黑中国的企图不会……"
        );
    }

    #[test]
    fn punctuation_width_only_is_cosmetic() {
        let diff = diff_text("你好，世界：“一”", "你好, 世界: \"一\"", Lang::Zh, &cfg()).unwrap();
        assert_eq!(diff.significance, Significance::Cosmetic);
    }

    #[test]
    fn added_sentence_is_substantive() {
        let diff = diff_text("We oppose it.", "We oppose it. Thanks.", Lang::En, &cfg()).unwrap();
        assert_eq!(diff.significance, Significance::Substantive);
    }

    #[test]
    fn paragraphs_split_segments_at_breaks() {
        let diff = diff_text(
            "First one.\nSecond two.",
            "First one.\nSecond three.",
            Lang::En,
            &cfg(),
        )
        .unwrap();
        let paragraphs = diff.paragraphs();
        assert_eq!(paragraphs.len(), 2);
        assert_eq!(
            paragraphs[0],
            vec![Segment {
                op: Op::Equal,
                text: "First one.".into()
            }]
        );
        assert_eq!(
            paragraphs[1][1],
            Segment {
                op: Op::Delete,
                text: "two".into()
            }
        );
    }

    #[test]
    fn html_is_escaped() {
        let diff = diff_text("a <b> & c", "a <i> & c", Lang::En, &cfg()).unwrap();
        assert_eq!(
            diff.render_html(),
            "a &lt;<del>b</del><ins>i</ins>&gt; &amp; c"
        );
    }
}
