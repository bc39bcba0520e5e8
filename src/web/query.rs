//! The search query language (words, "phrases", prefix*, AND/OR/NOT, parentheses) and its
//! translation into an FTS5 expression over the exchange index.
//!
//! User text never reaches FTS5 as syntax: every term becomes a quoted FTS5 string, so a stray
//! quote or keyword in a query is either a clear error from this parser or plain text.
//!
//! A term written in capitals (`WHO`, `U.S.`) is an acronym, as in alert rules: it matches only
//! where the text has it in capitals. The tokenizer folds case, so the index keeps a second column
//! with the words written in capitals ([`capitals_text`]) and an acronym must match there too.

use std::fmt::Write;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most terms (words and phrases) in one query.
pub const MAX_TERMS: usize = 32;

/// Why a query cannot be searched; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is empty")]
    Empty,
    #[error("the query is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the query has more than {MAX_TERMS} terms")]
    TooManyTerms,
    #[error("the quote opened at character {0} is never closed")]
    UnclosedQuote(usize),
    #[error("the parenthesis opened at character {0} is never closed")]
    UnclosedParen(usize),
    #[error("the closing parenthesis at character {0} has no opening one")]
    UnexpectedParen(usize),
    #[error("{0} at character {1} needs a term after it")]
    MissingOperand(&'static str, usize),
    #[error("{0} at character {1} needs a term before it")]
    LeadingOperator(&'static str, usize),
    #[error(
        "a query cannot only exclude: add a term that must match, e.g. \"Taiwan NOT Japan\" rather than \"NOT Japan\""
    )]
    OnlyNegative,
    #[error("the query has no searchable words or characters")]
    NoTerms,
}

/// The columns an FTS5 expression names: where the text is matched (any column when `None`), and
/// the column of words written in capitals that acronyms must match too (none: any case).
#[derive(Debug, Clone, Copy, Default)]
struct Columns<'a> {
    text: Option<&'a str>,
    capitals: Option<&'a str>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// One word (possibly several index tokens, e.g. a Chinese word) or a quoted phrase.
    Term(Term),
    And(Vec<Query>),
    Or(Vec<Query>),
    /// Only valid inside `And` next to at least one positive operand.
    Not(Box<Query>),
}

/// One searchable unit of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The text as typed, without quotes or the prefix star.
    pub text: String,
    pub phrase: bool,
    pub prefix: bool,
}

impl Term {
    /// Written in capitals: at least two capital letters and no lower-case one (`WHO`, `U.S.`,
    /// `COVID-19`), the rule alert terms follow, so that `WHO` does not find "who".
    pub fn is_acronym(&self) -> bool {
        is_acronym(&self.text)
    }
}

/// True for text written in capitals, as alert rules decide it: two capital letters or more, no
/// lower-case letter and no white space.
pub fn is_acronym(text: &str) -> bool {
    text.chars().filter(|c| c.is_uppercase()).count() >= 2
        && !text.chars().any(|c| c.is_lowercase() || c.is_whitespace())
}

/// The words of `text` written in capitals (a capital letter and no lower-case one: `WHO`, the
/// `U` and `S` of `U.S.`, `COVID` of `COVID-19`), space-separated, in order: the index's second
/// column, where an acronym of a query must match too.
pub fn capitals_text<'a>(paragraphs: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for paragraph in paragraphs {
        // Most text is in lower case or Chinese: words are sliced, never copied char by char.
        let mut start = None;
        let (mut upper, mut lower) = (false, false);
        let mut end_word = |from: Option<usize>, to: usize, upper: bool, lower: bool| {
            if let (Some(from), true, false) = (from, upper, lower) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&paragraph[from..to]);
            }
        };
        for (at, c) in paragraph.char_indices() {
            if c.is_alphanumeric() && !is_han(c) {
                start.get_or_insert(at);
                upper |= c.is_uppercase();
                lower |= c.is_lowercase();
            } else if start.is_some() {
                end_word(start.take(), at, upper, lower);
                (upper, lower) = (false, false);
            }
        }
        end_word(start, paragraph.len(), upper, lower);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word { text: String, at: usize },
    Phrase { text: String },
    Open(usize),
    Close(usize),
    And(usize),
    Or(usize),
    Not(usize),
}

/// True for Han ideographs, which the index stores one character per token.
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Separator the index puts around each Han character. A control character, so that the
/// `unicode61` tokenizer splits on it and highlighted text can be turned back into the original.
pub const HAN_SEPARATOR: char = '\u{1f}';
/// Markers the highlighter wraps matches in; stripped from stored text before indexing.
pub const MARK_OPEN: char = '\u{2}';
pub const MARK_CLOSE: char = '\u{3}';

/// English function words left out of the index: about a third of English tokens, so dropping
/// them takes about a third off the English part of the index. A query drops them the same way, so
/// "Belt and Road" still finds the phrase (it also finds "Belt of Road"; highlighting, which runs
/// on the full text, marks only exact phrases).
const STOPWORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "that", "on", "for", "we", "with", "as", "be",
    "this", "by", "are", "it", "has", "its", "have", "will", "not", "at", "from", "or", "an",
    "was", "which", "our", "been", "their", "they", "i", "you", "he", "all", "also", "more",
    "other", "such",
];

fn is_stopword(word: &str) -> bool {
    // Most words are longer than any function word: skip the scan for them.
    word.len() <= 5 && STOPWORDS.iter().any(|stop| stop.eq_ignore_ascii_case(word))
}

/// Text as the index stores it: [`token_text`] without English function words.
pub fn index_text(text: &str) -> String {
    let mut writer = IndexText::dropping_function_words();
    writer.push(text);
    writer.finish()
}

/// Several paragraphs as [`index_text`] stores them joined by newlines, in one pass.
pub fn index_text_of<'a>(paragraphs: impl IntoIterator<Item = &'a str>) -> String {
    let mut writer = IndexText::dropping_function_words();
    for (index, paragraph) in paragraphs.into_iter().enumerate() {
        if index > 0 {
            writer.push("\n");
        }
        writer.push(paragraph);
    }
    writer.finish()
}

/// [`token_text`], and for the index the removal of function words, in one pass over the text:
/// indexing every exchange of every revision is on the ingest path.
#[derive(Default)]
struct IndexText {
    out: String,
    /// The ASCII word being read, held back until it is known not to be a function word.
    word: String,
    drop_function_words: bool,
}

impl IndexText {
    fn dropping_function_words() -> IndexText {
        IndexText {
            drop_function_words: true,
            ..IndexText::default()
        }
    }

    fn push(&mut self, text: &str) {
        self.out.reserve(text.len() + text.len() / 2);
        for c in text.chars() {
            if c.is_ascii_alphabetic() {
                self.word.push(c);
            } else if is_han(c) {
                self.end_word();
                self.out.push(HAN_SEPARATOR);
                self.out.push(c);
                self.out.push(HAN_SEPARATOR);
            } else if c.is_alphanumeric() {
                // Part of a longer token (`G20`, `COVID-19`'s digits): never a function word.
                self.out.push_str(&self.word);
                self.word.clear();
                self.out.push(c);
            } else {
                self.end_word();
                self.out
                    .push(if c == '\n' || !c.is_control() { c } else { ' ' });
            }
        }
    }

    fn end_word(&mut self) {
        if !self.word.is_empty() {
            if self.drop_function_words && is_stopword(&self.word) {
                self.out.push(' ');
            } else {
                self.out.push_str(&self.word);
            }
            self.word.clear();
        }
    }

    fn finish(mut self) -> String {
        self.end_word();
        self.out
    }
}

/// Text as the tokenizer should see it: Han characters become single tokens, so that any run of
/// them, two-character words such as 台湾 included, is found as a phrase of characters; control
/// characters other than newlines are dropped so that they cannot collide with the markers.
pub fn token_text(text: &str) -> String {
    let mut writer = IndexText::default();
    writer.push(text);
    writer.finish()
}

/// Inverse of [`token_text`] for text that went through it (and may carry highlight markers).
pub fn strip_index_separators(text: &str) -> String {
    text.chars().filter(|&c| c != HAN_SEPARATOR).collect()
}

fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '“' || c == '”' || c == '「' {
            let close: &[char] = if c == '「' {
                &['」']
            } else {
                &['"', '”', '“']
            };
            let start = i + 1;
            let Some(len) = chars[start..].iter().position(|ch| close.contains(ch)) else {
                return Err(QueryError::UnclosedQuote(at));
            };
            let text: String = chars[start..start + len].iter().collect();
            tokens.push(Token::Phrase { text });
            i = start + len + 1;
        } else if c == '(' || c == '（' {
            tokens.push(Token::Open(at));
            i += 1;
        } else if c == ')' || c == '）' {
            tokens.push(Token::Close(at));
            i += 1;
        } else if c == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace() {
            // A leading `-` negates; inside a word (`COVID-19`) it is part of the word.
            tokens.push(Token::Not(at));
            i += 1;
        } else {
            let start = i;
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], '"' | '“' | '”' | '「' | '(' | ')' | '（' | '）')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            tokens.push(match text.as_str() {
                "AND" => Token::And(at),
                "OR" => Token::Or(at),
                "NOT" => Token::Not(at),
                _ => Token::Word { text, at },
            });
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn parse_or(&mut self) -> Result<Query, QueryError> {
        let mut operands = vec![self.parse_and()?];
        while let Some(Token::Or(at)) = self.peek().cloned() {
            self.pos += 1;
            if self.at_operand_end() {
                return Err(QueryError::MissingOperand("OR", at));
            }
            operands.push(self.parse_and()?);
        }
        Ok(if operands.len() == 1 {
            operands.pop().unwrap_or(Query::And(vec![]))
        } else {
            Query::Or(operands)
        })
    }

    fn at_operand_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(Token::Close(_)) | Some(Token::Or(_)) | Some(Token::And(_))
        )
    }

    fn parse_and(&mut self) -> Result<Query, QueryError> {
        let mut operands = Vec::new();
        loop {
            match self.peek().cloned() {
                None | Some(Token::Close(_)) | Some(Token::Or(_)) => break,
                Some(Token::And(at)) => {
                    if operands.is_empty() {
                        return Err(QueryError::LeadingOperator("AND", at));
                    }
                    self.pos += 1;
                    if self.at_operand_end() {
                        return Err(QueryError::MissingOperand("AND", at));
                    }
                }
                Some(_) => operands.push(self.parse_unary()?),
            }
        }
        if operands.is_empty() {
            return match self.peek() {
                Some(Token::Or(at)) => Err(QueryError::LeadingOperator("OR", *at)),
                Some(Token::Close(at)) => Err(QueryError::UnexpectedParen(*at)),
                _ => Err(QueryError::Empty),
            };
        }
        Ok(if operands.len() == 1 {
            operands.pop().unwrap_or(Query::And(vec![]))
        } else {
            Query::And(operands)
        })
    }

    fn parse_unary(&mut self) -> Result<Query, QueryError> {
        if let Some(Token::Not(at)) = self.peek().cloned() {
            self.pos += 1;
            if self.at_operand_end() || matches!(self.peek(), Some(Token::Not(_))) {
                return Err(QueryError::MissingOperand("NOT", at));
            }
            return Ok(Query::Not(Box::new(self.parse_primary()?)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Query, QueryError> {
        let token = self.peek().cloned();
        self.pos += 1;
        match token {
            Some(Token::Open(at)) => {
                let inner = self.parse_or()?;
                match self.peek() {
                    Some(Token::Close(_)) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(QueryError::UnclosedParen(at)),
                }
            }
            Some(Token::Word { text, .. }) => {
                self.count_term()?;
                let (text, prefix) = match text.strip_suffix('*') {
                    Some(stem) if !stem.is_empty() => (stem.to_string(), true),
                    _ => (text, false),
                };
                Ok(Query::Term(Term {
                    text,
                    phrase: false,
                    prefix,
                }))
            }
            Some(Token::Phrase { text }) => {
                self.count_term()?;
                Ok(Query::Term(Term {
                    text,
                    phrase: true,
                    prefix: false,
                }))
            }
            Some(Token::Close(at)) => Err(QueryError::UnexpectedParen(at)),
            Some(Token::Not(at)) => Err(QueryError::MissingOperand("NOT", at)),
            Some(Token::And(at)) => Err(QueryError::LeadingOperator("AND", at)),
            Some(Token::Or(at)) => Err(QueryError::LeadingOperator("OR", at)),
            None => Err(QueryError::Empty),
        }
    }

    fn count_term(&mut self) -> Result<(), QueryError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(QueryError::TooManyTerms);
        }
        Ok(())
    }
}

/// True when a term has something the tokenizer indexes (a letter, digit or Han character).
fn searchable(text: &str) -> bool {
    index_text(text).chars().any(|c| c.is_alphanumeric())
}

/// Drops terms without searchable characters ("—", "，") and the groups they leave empty.
fn prune(query: Query) -> Option<Query> {
    match query {
        Query::Term(term) => searchable(&term.text).then_some(Query::Term(term)),
        Query::Not(inner) => prune(*inner).map(|inner| Query::Not(Box::new(inner))),
        Query::And(operands) | Query::Or(operands) if operands.is_empty() => None,
        Query::And(operands) => {
            let mut kept: Vec<Query> = operands.into_iter().filter_map(prune).collect();
            match kept.len() {
                0 => None,
                1 => kept.pop(),
                _ => Some(Query::And(kept)),
            }
        }
        Query::Or(operands) => {
            let mut kept: Vec<Query> = operands.into_iter().filter_map(prune).collect();
            match kept.len() {
                0 => None,
                1 => kept.pop(),
                _ => Some(Query::Or(kept)),
            }
        }
    }
}

/// Every place where a NOT must stand next to a positive operand.
fn check_negation(query: &Query) -> Result<(), QueryError> {
    match query {
        Query::Term(_) => Ok(()),
        Query::Not(_) => Err(QueryError::OnlyNegative),
        Query::Or(operands) => operands.iter().try_for_each(check_negation),
        Query::And(operands) => {
            if operands.iter().all(|q| matches!(q, Query::Not(_))) {
                return Err(QueryError::OnlyNegative);
            }
            for operand in operands {
                match operand {
                    Query::Not(inner) => check_negation(inner)?,
                    other => check_negation(other)?,
                }
            }
            Ok(())
        }
    }
}

impl Query {
    /// Parses what a user typed.
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        if input.trim().is_empty() {
            return Err(QueryError::Empty);
        }
        let mut parser = Parser {
            tokens: tokenize(input)?,
            pos: 0,
            terms: 0,
        };
        let query = parser.parse_or()?;
        if let Some(Token::Close(at)) = parser.peek() {
            return Err(QueryError::UnexpectedParen(*at));
        }
        let query = prune(query).ok_or(QueryError::NoTerms)?;
        check_negation(&query)?;
        Ok(query)
    }

    /// The FTS5 expression for this query against the index; an acronym must also match in the
    /// index's column of words written in capitals.
    pub fn to_fts(&self) -> String {
        let mut out = String::new();
        let columns = Columns {
            text: None,
            capitals: Some("capitals"),
        };
        self.write_fts(&mut out, index_text, columns);
        out
    }

    /// The FTS5 expression against full text (no function words dropped), for highlighting:
    /// acronyms match in any case there, so the highlighter keeps only their marks in capitals.
    pub fn to_full_text_fts(&self) -> String {
        let mut out = String::new();
        self.write_fts(&mut out, token_text, Columns::default());
        out
    }

    /// The FTS5 expression against the full text of one column, `text`, whose words written in
    /// capitals are in `capitals` (a table of questions and answers apart).
    pub fn to_column_fts(&self, text: &str, capitals: &str) -> String {
        let mut out = String::new();
        let columns = Columns {
            text: Some(text),
            capitals: Some(capitals),
        };
        self.write_fts(&mut out, token_text, columns);
        out
    }

    fn write_fts(&self, out: &mut String, text: fn(&str) -> String, columns: Columns<'_>) {
        match self {
            Query::Term(term) => {
                let capitals = columns.capitals.filter(|_| term.is_acronym());
                if capitals.is_some() {
                    out.push('(');
                }
                if let Some(column) = columns.text {
                    out.push_str(column);
                    out.push_str(" : ");
                }
                out.push('"');
                out.push_str(&text(&term.text).replace('"', "\"\""));
                out.push('"');
                if term.prefix {
                    out.push_str(" *");
                }
                if let Some(column) = capitals {
                    out.push_str(" AND ");
                    out.push_str(column);
                    out.push_str(" : \"");
                    out.push_str(&capitals_text([term.text.as_str()]).replace('"', "\"\""));
                    out.push('"');
                    if term.prefix {
                        out.push_str(" *");
                    }
                    out.push(')');
                }
            }
            Query::Or(operands) => {
                for (i, operand) in operands.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" OR ");
                    }
                    out.push('(');
                    operand.write_fts(out, text, columns);
                    out.push(')');
                }
            }
            Query::And(operands) => {
                let positive: Vec<&Query> = operands
                    .iter()
                    .filter(|q| !matches!(q, Query::Not(_)))
                    .collect();
                out.push('(');
                for (i, operand) in positive.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" AND ");
                    }
                    out.push('(');
                    operand.write_fts(out, text, columns);
                    out.push(')');
                }
                out.push(')');
                for operand in operands {
                    if let Query::Not(inner) = operand {
                        out.push_str(" NOT (");
                        inner.write_fts(out, text, columns);
                        out.push(')');
                    }
                }
            }
            // Unreachable after `check_negation`; written as a no-match to stay total.
            Query::Not(inner) => {
                let _ = write!(out, "(\"\u{1f}\") NOT (");
                inner.write_fts(out, text, columns);
                out.push(')');
            }
        }
    }

    /// The positive terms, for showing what was searched.
    pub fn positive_terms(&self) -> Vec<&Term> {
        let mut terms = Vec::new();
        self.collect_positive(&mut terms);
        terms
    }

    fn collect_positive<'a>(&'a self, terms: &mut Vec<&'a Term>) {
        match self {
            Query::Term(term) => terms.push(term),
            Query::And(operands) | Query::Or(operands) => {
                for operand in operands {
                    operand.collect_positive(terms);
                }
            }
            Query::Not(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_text_maps_han_characters_and_drops_function_words() {
        let cases = [
            (
                "The 台湾 question of the G20, the2 COVID-19 and\u{1}the\u{1f}Belt and Road.\nAnd é the 香港",
                "  \u{1f}台\u{1f}\u{1f}湾\u{1f} question     G20, the2 COVID-19     Belt   Road.\n  é   \u{1f}香\u{1f}\u{1f}港\u{1f}",
            ),
            ("the", " "),
            (
                "中国的the立场",
                "\u{1f}中\u{1f}\u{1f}国\u{1f}\u{1f}的\u{1f} \u{1f}立\u{1f}\u{1f}场\u{1f}",
            ),
            ("Their theirs thé", "  theirs thé"),
        ];
        for (text, indexed) in cases {
            assert_eq!(index_text(text), indexed, "{text:?}");
        }
        assert_eq!(
            index_text_of(["Is it the", "台湾 of"]),
            index_text("Is it the\n台湾 of")
        );
        assert_eq!(
            token_text("The 台湾 of G20\u{1}the\n"),
            "The \u{1f}台\u{1f}\u{1f}湾\u{1f} of G20 the\n",
            "the full text keeps its function words"
        );
    }

    #[test]
    fn function_words_are_short_enough_for_the_length_check() {
        assert!(STOPWORDS.iter().all(|word| word.len() <= 5));
        assert!(is_stopword("Their") && !is_stopword("theirs") && !is_stopword("China"));
    }

    fn fts(input: &str) -> String {
        Query::parse(input).unwrap().to_fts()
    }

    #[test]
    fn words_phrases_and_operators_become_quoted_fts_terms() {
        assert_eq!(fts("Taiwan"), "\"Taiwan\"");
        assert_eq!(fts("South China"), "((\"South\") AND (\"China\"))");
        assert_eq!(fts("\"South China Sea\""), "\"South China Sea\"");
        assert_eq!(fts("Hong OR Kong"), "(\"Hong\") OR (\"Kong\")");
        assert_eq!(fts("trade NOT war"), "((\"trade\")) NOT (\"war\")");
        assert_eq!(fts("trade -war"), "((\"trade\")) NOT (\"war\")");
        assert_eq!(fts("sanction*"), "\"sanction\" *");
        assert_eq!(
            fts("(Hong OR Kong) AND police"),
            "(((\"Hong\") OR (\"Kong\")) AND (\"police\"))"
        );
        assert_eq!(fts("Covid-19"), "\"Covid-19\"");
    }

    #[test]
    fn acronyms_must_match_in_the_column_of_capitals_too() {
        assert_eq!(fts("WHO"), "(\"WHO\" AND capitals : \"WHO\")");
        assert_eq!(fts("who"), "\"who\"");
        assert_eq!(fts("Who"), "\"Who\"");
        assert_eq!(
            fts("COVID-19"),
            "(\"COVID-19\" AND capitals : \"COVID\")",
            "digits are no capitals: the column has the word in capitals only"
        );
        assert_eq!(fts("U.S."), "(\"U.S.\" AND capitals : \"U S\")");
        assert_eq!(fts("NAT*"), "(\"NAT\" * AND capitals : \"NAT\" *)");
        assert_eq!(
            Query::parse("WHO").unwrap().to_full_text_fts(),
            "\"WHO\"",
            "the highlighter's scratch table has no column of capitals"
        );
        assert_eq!(
            Query::parse("WHO OR trade -war")
                .unwrap()
                .to_column_fts("answer", "answer_capitals"),
            "((answer : \"WHO\" AND answer_capitals : \"WHO\")) OR (((answer : \"trade\")) NOT (answer : \"war\"))",
            "every phrase of a column's expression names the column"
        );
        assert!(is_acronym("WHO") && is_acronym("U.S.") && !is_acronym("G20"));
        assert!(!is_acronym("Who") && !is_acronym("WHO DG"));
        assert_eq!(
            capitals_text(["The WHO and U.S. on COVID-19,", "NATO台湾 G20 Mr"]),
            "WHO U S COVID NATO G20"
        );
    }

    #[test]
    fn han_characters_are_single_tokens_so_two_character_words_work() {
        assert_eq!(fts("台湾"), "\"\u{1f}台\u{1f}\u{1f}湾\u{1f}\"");
        assert_eq!(
            fts("台湾 OR 香港"),
            "(\"\u{1f}台\u{1f}\u{1f}湾\u{1f}\") OR (\"\u{1f}香\u{1f}\u{1f}港\u{1f}\")"
        );
        assert_eq!(index_text("G20峰会"), "G20\u{1f}峰\u{1f}\u{1f}会\u{1f}");
        assert_eq!(
            index_text("The Belt and Road, G20 of theirs"),
            "  Belt   Road, G20   theirs"
        );
        assert_eq!(fts("\"Belt and Road\""), "\"Belt   Road\"");
        assert_eq!(Query::parse("the").unwrap_err(), QueryError::NoTerms);
        assert_eq!(
            strip_index_separators(&token_text("中美关系 and\nUS")),
            "中美关系 and\nUS"
        );
    }

    #[test]
    fn quotes_inside_terms_cannot_break_out_of_the_fts_string() {
        assert_eq!(fts("x\"y\""), "((\"x\") AND (\"y\"))");
        assert_eq!(
            fts("NEAR x"),
            "(((\"NEAR\" AND capitals : \"NEAR\")) AND (\"x\"))"
        );
        assert_eq!(fts("col:umn"), "\"col:umn\"");
        assert_eq!(fts("x^y"), "\"x^y\"");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let error = |input: &str| Query::parse(input).unwrap_err();
        assert_eq!(error(""), QueryError::Empty);
        assert_eq!(error("   "), QueryError::Empty);
        assert_eq!(error("\"South China"), QueryError::UnclosedQuote(1));
        assert_eq!(error("(Hong OR Kong"), QueryError::UnclosedParen(1));
        assert_eq!(error("Hong)"), QueryError::UnexpectedParen(5));
        assert_eq!(error("Hong OR"), QueryError::MissingOperand("OR", 6));
        assert_eq!(error("OR Hong"), QueryError::LeadingOperator("OR", 1));
        assert_eq!(error("AND Hong"), QueryError::LeadingOperator("AND", 1));
        assert_eq!(error("NOT Japan"), QueryError::OnlyNegative);
        assert_eq!(error("Hong NOT"), QueryError::MissingOperand("NOT", 6));
        assert_eq!(error("a OR NOT b"), QueryError::OnlyNegative);
        assert_eq!(error("，。"), QueryError::NoTerms);
        assert_eq!(error(&"x ".repeat(40)), QueryError::TooManyTerms);
        assert_eq!(error(&"x".repeat(600)), QueryError::TooLong);
        assert!(error("\"a").to_string().contains("never closed"));
    }

    #[test]
    fn lowercase_keywords_are_words() {
        assert_eq!(
            fts("law near order"),
            "((\"law\") AND (\"near\") AND (\"order\"))"
        );
        // A lowercase `and` is a word, and a function word the index leaves out.
        assert_eq!(fts("law and order"), "((\"law\") AND (\"order\"))");
    }
}
