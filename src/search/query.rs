//! The search query language (words, "phrases", prefix*, AND/OR/NOT, parentheses) and its
//! translation into an FTS5 expression over the index.
//!
//! User text never reaches FTS5 as syntax: every term becomes a quoted FTS5 string, so a stray
//! quote or keyword in a query is either a clear error from this parser or plain text. The index's
//! tokenizer reads the terms as it reads the text (each Han character a token, function words
//! left out, stems), so a term is passed as typed.
//!
//! A term written in capitals (`WHO`, `U.S.`) is an acronym, as in alert rules: it matches only
//! where the text has it in capitals. The tokenizer folds case, so it gives each word written in
//! capitals a second token, and an acronym is the phrase of those tokens (a phrase that starts with
//! [`CAPITALS_MARK`]).

use std::fmt::Write;

use crate::store::tokenizer::{CAPITALS_MARK, is_function_word, is_written_in_capitals};
use crate::text::is_han;

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
/// `U` and `S` of `U.S.`, `COVID` of `COVID-19`), space-separated, in order: what an acronym must
/// match in capitals.
pub fn capitals_words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric() || is_han(c))
        .filter(|word| !word.is_empty() && is_written_in_capitals(word))
        .collect::<Vec<_>>()
        .join(" ")
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

/// True when a term has something the tokenizer indexes: a Han character, or a word (letters and
/// digits) that is not a function word.
fn searchable(text: &str) -> bool {
    text.chars().any(is_han)
        || text
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| !word.is_empty() && !is_function_word(word))
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

    /// The FTS5 expression for this query against the index: a passage matches as a whole
    /// (question and answer, or title and opening), so AND and NOT apply to the whole passage.
    pub fn to_fts(&self) -> String {
        let mut out = String::new();
        self.write_fts(&mut out, None);
        out
    }

    /// The FTS5 expression for this query against one column of the index (a trend's questions
    /// or answers).
    pub fn to_column_fts(&self, column: &str) -> String {
        let mut out = String::new();
        self.write_fts(&mut out, Some(column));
        out
    }

    fn write_fts(&self, out: &mut String, column: Option<&str>) {
        match self {
            Query::Term(term) => {
                if let Some(column) = column {
                    out.push_str(column);
                    out.push_str(" : ");
                }
                out.push('"');
                if term.is_acronym() {
                    out.push(CAPITALS_MARK);
                    out.push_str(&capitals_words(&term.text));
                } else {
                    // Control characters are no text; the capitals mark is one of them.
                    let text: String = term
                        .text
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect();
                    out.push_str(&text.replace('"', "\"\""));
                }
                out.push('"');
                if term.prefix {
                    out.push_str(" *");
                }
            }
            Query::Or(operands) => {
                for (i, operand) in operands.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" OR ");
                    }
                    out.push('(');
                    operand.write_fts(out, column);
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
                    operand.write_fts(out, column);
                    out.push(')');
                }
                out.push(')');
                for operand in operands {
                    if let Query::Not(inner) = operand {
                        out.push_str(" NOT (");
                        inner.write_fts(out, column);
                        out.push(')');
                    }
                }
            }
            // Unreachable after `check_negation`; written as a no-match to stay total.
            Query::Not(inner) => {
                let _ = write!(out, "(\"{CAPITALS_MARK}\") NOT (");
                inner.write_fts(out, column);
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
    fn acronyms_are_phrases_of_words_in_capitals() {
        assert_eq!(fts("WHO"), "\"\u{1}WHO\"");
        assert_eq!(fts("who"), "\"who\"");
        assert_eq!(fts("Who"), "\"Who\"");
        assert_eq!(
            fts("COVID-19"),
            "\"\u{1}COVID\"",
            "digits are no capitals: the word in capitals only"
        );
        assert_eq!(fts("U.S."), "\"\u{1}U S\"");
        assert_eq!(fts("NAT*"), "\"\u{1}NAT\" *");
        assert_eq!(
            Query::parse("WHO OR trade -war")
                .unwrap()
                .to_column_fts("answer"),
            "(answer : \"\u{1}WHO\") OR (((answer : \"trade\")) NOT (answer : \"war\"))",
            "every phrase of a column's expression names the column"
        );
        assert!(is_acronym("WHO") && is_acronym("U.S.") && !is_acronym("G20"));
        assert!(!is_acronym("Who") && !is_acronym("WHO DG"));
        assert_eq!(
            capitals_words("The WHO and U.S. on COVID-19, NATO台湾 G20 Mr"),
            "WHO U S COVID NATO G20"
        );
    }

    #[test]
    fn chinese_and_function_words_are_left_to_the_tokenizer() {
        assert_eq!(fts("台湾"), "\"台湾\"");
        assert_eq!(fts("台湾 OR 香港"), "(\"台湾\") OR (\"香港\")");
        assert_eq!(fts("\"Belt and Road\""), "\"Belt and Road\"");
        assert_eq!(Query::parse("the").unwrap_err(), QueryError::NoTerms);
        assert_eq!(Query::parse("Their it").unwrap_err(), QueryError::NoTerms);
        assert_eq!(fts("theirs"), "\"theirs\"");
        assert_eq!(
            fts("x\u{1}WHO"),
            "\"x WHO\"",
            "a control character is no mark"
        );
    }

    #[test]
    fn quotes_inside_terms_cannot_break_out_of_the_fts_string() {
        assert_eq!(fts("x\"y\""), "((\"x\") AND (\"y\"))");
        assert_eq!(fts("NEAR x"), "((\"\u{1}NEAR\") AND (\"x\"))");
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
        // A lowercase `and` is a word, and a function word the tokenizer leaves out.
        assert_eq!(fts("law and order"), "((\"law\") AND (\"order\"))");
    }
}
