//! `[[alert]]` rules: config shape, validation, compilation into one automaton, matching with spans.
//!
//! Term syntax (one string per entry of `terms` / `exclude`):
//! - a plain word matches case-insensitively on word boundaries for Latin script (`Taiwan` matches
//!   "Taiwan's" but not "Taiwanese"); a trailing `*` makes it a prefix (`Taiwan*` matches "Taiwanese");
//! - a word in Chinese (or any CJK script) matches as a substring (`台湾` matches 台湾地区);
//! - a word written in capitals only (`WHO`, `US`, `U.S.`) is an acronym and matches only in
//!   capitals, so that `WHO` does not fire on "who"; write it in lower case to match any case;
//! - `"quoted words"` match as a phrase, whitespace-insensitively;
//! - several tokens in one term must all occur in the scope of the exchange (`"arms sales" Taiwan`).
//!
//! `regex` entries are regular expressions (case-insensitive unless they say `(?-i)`), matched on the
//! paragraph text as stored. All literals of all rules go into one Aho-Corasick automaton, so the
//! text is scanned once whatever the number of term rules; each regex scans on its own, with its
//! own literal prefilter.

use std::collections::HashSet;
use std::time::Duration;

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::AlertError;
use crate::model::{Exchange, Lang};

/// One `[[alert]]` table of the config file, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub name: String,
    /// Terms, any of which makes the rule match (see the module docs for the syntax).
    #[serde(default)]
    pub terms: Vec<String>,
    /// Regular expressions, any of which makes the rule match.
    #[serde(default)]
    pub regex: Vec<String>,
    /// Terms that veto the rule when they occur in the same scope of the exchange.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default = "both_languages")]
    pub languages: Vec<Lang>,
    #[serde(default)]
    pub scope: Scope,
    /// E-mail addresses, mailed through `[smtp]`.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Names of `[[webhook]]` sections the alerts are posted to.
    #[serde(default)]
    pub webhooks: Vec<String>,
    #[serde(default)]
    pub mode: Mode,
    /// Digest window (`mode = "digest"` only), aligned on UTC multiples of its length: `1d` sends at midnight UTC.
    #[serde(default, with = "humantime_serde")]
    pub window: Option<Duration>,
    /// Which events trigger the rule.
    #[serde(default = "default_triggers")]
    pub on: Vec<Trigger>,
}

fn both_languages() -> Vec<Lang> {
    vec![Lang::En, Lang::Zh]
}

fn default_triggers() -> Vec<Trigger> {
    vec![Trigger::New, Trigger::Revised, Trigger::Removed]
}

/// Which part of an exchange a rule looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Question,
    Answer,
    #[default]
    Both,
}

impl Scope {
    fn covers(self, part: Part) -> bool {
        matches!(
            (self, part),
            (Scope::Both, _) | (Scope::Question, Part::Question) | (Scope::Answer, Part::Answer)
        )
    }
}

/// When a rule's matches are mailed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Immediate,
    Digest,
}

/// The events a rule can fire on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// A briefing seen for the first time.
    New,
    /// A substantive revision that adds or removes a match.
    Revised,
    /// A matching exchange removed from a transcript, or a matching transcript taken down.
    Removed,
    /// A cosmetic revision touching a matching exchange.
    Cosmetic,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::New => "new",
            Trigger::Revised => "revised",
            Trigger::Removed => "removed",
            Trigger::Cosmetic => "cosmetic",
        }
    }
}

/// Question or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Question,
    Answer,
}

/// A matched stretch of one paragraph: byte offsets into `exchange.question[paragraph]` or `.answer[paragraph]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub part: Part,
    pub paragraph: usize,
    pub start: usize,
    pub end: usize,
}

/// What one rule found in one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub rule: String,
    /// The terms (or regexes) that matched, as written in the config.
    pub terms: Vec<String>,
    /// Every occurrence of those terms in the rule's scope, sorted.
    pub spans: Vec<Span>,
}

impl Match {
    /// The matched text of every span, case-folded and sorted: two versions of an exchange "add or
    /// remove a match" exactly when these differ.
    pub fn occurrences(&self, exchange: &Exchange) -> Vec<String> {
        let mut found: Vec<String> = self
            .spans
            .iter()
            .filter_map(|span| span_text(exchange, span))
            .map(fold)
            .collect();
        found.sort();
        found
    }
}

/// The text a span covers, or `None` if the span does not fit the exchange.
pub fn span_text<'a>(exchange: &'a Exchange, span: &Span) -> Option<&'a str> {
    let paragraphs = match span.part {
        Part::Question => &exchange.question,
        Part::Answer => &exchange.answer,
    };
    paragraphs.get(span.paragraph)?.get(span.start..span.end)
}

/// A single compiled rule.
pub struct Rule {
    set: RuleSet,
}

impl Rule {
    pub fn compile(rule: &AlertRule) -> Result<Rule, AlertError> {
        Ok(Rule {
            set: RuleSet::compile(std::slice::from_ref(rule))?,
        })
    }

    pub fn config(&self) -> &AlertRule {
        &self.set.rules[0].config
    }

    /// The rule's terms found in the exchange, or `None` if the rule does not apply.
    pub fn matches(&self, exchange: &Exchange, lang: Lang) -> Option<Match> {
        self.set
            .matches_all(exchange, lang)
            .into_iter()
            .next()
            .map(|(_, found)| found)
    }
}

/// Every rule of a config, compiled together.
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    atoms: Vec<Atom>,
    literals: Option<AhoCorasick>,
    /// Automaton pattern id to the atoms sharing that folded text.
    pattern_atoms: Vec<Vec<u32>>,
    regexes: Vec<Regex>,
    /// Regex index to its atom.
    regex_atoms: Vec<u32>,
    /// Acronyms as written, compared with the original text of a candidate match.
    exact: Vec<String>,
    /// Some term has a space (so white space runs must be folded) or a quote (so curly quotes must be).
    folds_spaces: bool,
    folds_quotes: bool,
}

struct CompiledRule {
    config: AlertRule,
    terms: Vec<CompiledTerm>,
    excludes: Vec<CompiledTerm>,
}

struct CompiledTerm {
    written: String,
    atoms: Vec<u32>,
}

#[derive(Clone, Copy)]
enum Atom {
    Literal {
        start_boundary: bool,
        end_boundary: bool,
        /// Index into `RuleSet::exact` when the literal is an acronym that must match in capitals.
        exact: Option<u32>,
        /// A `word*` prefix: the span runs on to the end of the word it starts.
        prefix: bool,
    },
    Regex,
}

/// One token of a term, folded.
struct Literal {
    folded: String,
    start_boundary: bool,
    end_boundary: bool,
    /// The token as written, when it is an acronym.
    exact: Option<String>,
    prefix: bool,
}

impl RuleSet {
    /// Validates and compiles the rules; the first invalid rule or term is the error.
    pub fn compile(rules: &[AlertRule]) -> Result<RuleSet, AlertError> {
        let mut builder = Builder::default();
        let mut names = HashSet::new();
        let mut compiled = Vec::with_capacity(rules.len());
        for rule in rules {
            validate_shape(rule)?;
            if !names.insert(rule.name.as_str()) {
                return Err(invalid(rule, "another rule has the same name"));
            }
            let mut terms = Vec::new();
            for term in &rule.terms {
                let atoms = parse_term(rule, term)?
                    .into_iter()
                    .map(|literal| builder.literal(literal))
                    .collect();
                terms.push(CompiledTerm {
                    written: term.clone(),
                    atoms,
                });
            }
            for pattern in &rule.regex {
                let regex = compile_regex(rule, pattern)?;
                let atom = builder.regex(regex);
                terms.push(CompiledTerm {
                    written: pattern.clone(),
                    atoms: vec![atom],
                });
            }
            let mut excludes = Vec::new();
            for term in &rule.exclude {
                let atoms = parse_term(rule, term)?
                    .into_iter()
                    .map(|literal| builder.literal(literal))
                    .collect();
                excludes.push(CompiledTerm {
                    written: term.clone(),
                    atoms,
                });
            }
            compiled.push(CompiledRule {
                config: rule.clone(),
                terms,
                excludes,
            });
        }
        builder.finish(compiled)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rule(&self, index: usize) -> &AlertRule {
        &self.rules[index].config
    }

    pub fn rules(&self) -> impl Iterator<Item = &AlertRule> {
        self.rules.iter().map(|rule| &rule.config)
    }

    /// Every rule that matches the exchange, as (rule index, match), in config order.
    pub fn matches_all(&self, exchange: &Exchange, lang: Lang) -> Vec<(usize, Match)> {
        let mut question = false;
        let mut answer = false;
        for rule in self
            .rules
            .iter()
            .filter(|r| r.config.languages.contains(&lang))
        {
            question |= rule.config.scope.covers(Part::Question);
            answer |= rule.config.scope.covers(Part::Answer);
        }
        let mut scratch = Scratch::default();
        for (wanted, part, paragraphs) in [
            (question, Part::Question, &exchange.question),
            (answer, Part::Answer, &exchange.answer),
        ] {
            if wanted {
                for (paragraph, text) in paragraphs.iter().enumerate() {
                    self.scan(part, paragraph, text, &mut scratch);
                }
            }
        }
        if scratch.hits.is_empty() {
            return Vec::new();
        }
        // Which parts each atom occurs in (bit 0 question, bit 1 answer), and the hits sorted by
        // atom so that a term's spans are one binary search away.
        let mut parts_hit = vec![0u8; self.atoms.len()];
        for (atom, span) in &scratch.hits {
            parts_hit[*atom as usize] |= part_bit(span.part);
        }
        let mut hits = scratch.hits;
        hits.sort_unstable();
        let mut found = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if !rule.config.languages.contains(&lang) {
                continue;
            }
            let mask = match rule.config.scope {
                Scope::Question => part_bit(Part::Question),
                Scope::Answer => part_bit(Part::Answer),
                Scope::Both => part_bit(Part::Question) | part_bit(Part::Answer),
            };
            let term_matches = |term: &CompiledTerm| {
                term.atoms
                    .iter()
                    .all(|&atom| parts_hit[atom as usize] & mask != 0)
            };
            if !rule.terms.iter().any(term_matches) || rule.excludes.iter().any(term_matches) {
                continue;
            }
            let mut terms = Vec::new();
            let mut spans = Vec::new();
            for term in rule.terms.iter().filter(|term| term_matches(term)) {
                terms.push(term.written.clone());
                for &atom in &term.atoms {
                    let from = hits.partition_point(|(hit, _)| *hit < atom);
                    let to = hits.partition_point(|(hit, _)| *hit <= atom);
                    spans.extend(
                        hits[from..to]
                            .iter()
                            .filter(|(_, span)| part_bit(span.part) & mask != 0)
                            .map(|(_, span)| *span),
                    );
                }
            }
            spans.sort_unstable();
            spans.dedup();
            found.push((
                index,
                Match {
                    rule: rule.config.name.clone(),
                    terms,
                    spans,
                },
            ));
        }
        found
    }

    fn scan(&self, part: Part, paragraph: usize, text: &str, scratch: &mut Scratch) {
        if let Some(literals) = &self.literals {
            // Most paragraphs need no folding beyond ASCII case, which the automaton ignores;
            // the others are folded, and mapped back to original offsets only if a candidate
            // turns up where folding changed lengths.
            let (haystack, identity) = if needs_folding(text, self.folds_spaces, self.folds_quotes)
            {
                let identity = fold_into(text, &mut scratch.folded, None);
                (scratch.folded.as_str(), identity)
            } else {
                (text, true)
            };
            let mut origin_ready = false;
            for found in literals.find_overlapping_iter(haystack) {
                for &atom in &self.pattern_atoms[found.pattern().as_usize()] {
                    let Atom::Literal {
                        start_boundary,
                        end_boundary,
                        exact,
                        prefix,
                    } = self.atoms[atom as usize]
                    else {
                        continue;
                    };
                    let before = haystack[..found.start()].chars().next_back();
                    let after = haystack[found.end()..].chars().next();
                    if (start_boundary && before.is_some_and(is_word_char))
                        || (end_boundary && after.is_some_and(is_word_char))
                    {
                        continue;
                    }
                    let (start, mut end) = if identity {
                        (found.start(), found.end())
                    } else {
                        if !origin_ready {
                            fold_into(text, &mut scratch.refolded, Some(&mut scratch.origin));
                            origin_ready = true;
                        }
                        original_range(&scratch.origin, text, found.start(), found.end())
                    };
                    if let Some(exact) = exact {
                        if text[start..end] != self.exact[exact as usize] {
                            continue;
                        }
                    }
                    if prefix {
                        end += text[end..]
                            .chars()
                            .take_while(|c| is_word_char(*c))
                            .map(char::len_utf8)
                            .sum::<usize>();
                    }
                    scratch.hits.push((
                        atom,
                        Span {
                            part,
                            paragraph,
                            start,
                            end,
                        },
                    ));
                }
            }
        }
        // Each regex on its own: a set cannot use the literal prefilters that make most regexes
        // fast, and one regex with a Unicode word boundary sends a whole set to the slow engine.
        for (index, regex) in self.regexes.iter().enumerate() {
            for found in regex.find_iter(text) {
                if found.is_empty() {
                    continue;
                }
                scratch.hits.push((
                    self.regex_atoms[index],
                    Span {
                        part,
                        paragraph,
                        start: found.start(),
                        end: found.end(),
                    },
                ));
            }
        }
    }
}

fn part_bit(part: Part) -> u8 {
    match part {
        Part::Question => 1,
        Part::Answer => 2,
    }
}

/// Buffers reused across the paragraphs of one exchange.
#[derive(Default)]
struct Scratch {
    folded: String,
    refolded: String,
    origin: Vec<u32>,
    hits: Vec<(u32, Span)>,
}

#[derive(Default)]
struct Builder {
    atoms: Vec<Atom>,
    patterns: Vec<String>,
    pattern_atoms: Vec<Vec<u32>>,
    regexes: Vec<Regex>,
    regex_atoms: Vec<u32>,
    exact: Vec<String>,
}

impl Builder {
    fn literal(&mut self, literal: Literal) -> u32 {
        let atom = self.atoms.len() as u32;
        let exact = literal.exact.map(|written| {
            self.exact.push(written);
            (self.exact.len() - 1) as u32
        });
        self.atoms.push(Atom::Literal {
            start_boundary: literal.start_boundary,
            end_boundary: literal.end_boundary,
            exact,
            prefix: literal.prefix,
        });
        match self.patterns.iter().position(|p| *p == literal.folded) {
            Some(pattern) => self.pattern_atoms[pattern].push(atom),
            None => {
                self.patterns.push(literal.folded);
                self.pattern_atoms.push(vec![atom]);
            }
        }
        atom
    }

    fn regex(&mut self, regex: Regex) -> u32 {
        let atom = self.atoms.len() as u32;
        self.atoms.push(Atom::Regex);
        self.regexes.push(regex);
        self.regex_atoms.push(atom);
        atom
    }

    fn finish(self, rules: Vec<CompiledRule>) -> Result<RuleSet, AlertError> {
        let literals = if self.patterns.is_empty() {
            None
        } else {
            Some(
                // A DFA is the fastest overlapping searcher; a few hundred terms keep it small.
                AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .ascii_case_insensitive(true)
                    .build(&self.patterns)
                    .map_err(|error| AlertError::InvalidRule {
                        rule: "(all rules)".to_string(),
                        reason: format!("term automaton: {error}"),
                    })?,
            )
        };
        let folds_spaces = self.patterns.iter().any(|p| p.contains(' '));
        let folds_quotes = self.patterns.iter().any(|p| p.contains(['\'', '"']));
        Ok(RuleSet {
            folds_spaces,
            folds_quotes,
            rules,
            atoms: self.atoms,
            literals,
            pattern_atoms: self.pattern_atoms,
            regexes: self.regexes,
            regex_atoms: self.regex_atoms,
            exact: self.exact,
        })
    }
}

fn invalid(rule: &AlertRule, reason: impl Into<String>) -> AlertError {
    AlertError::InvalidRule {
        rule: rule.name.clone(),
        reason: reason.into(),
    }
}

fn invalid_term(rule: &AlertRule, term: &str, reason: impl Into<String>) -> AlertError {
    AlertError::InvalidTerm {
        rule: rule.name.clone(),
        term: term.to_string(),
        reason: reason.into(),
    }
}

fn validate_shape(rule: &AlertRule) -> Result<(), AlertError> {
    if rule.name.trim().is_empty() {
        return Err(invalid(rule, "the name is empty"));
    }
    if rule.terms.is_empty() && rule.regex.is_empty() {
        return Err(invalid(
            rule,
            "needs at least one entry in `terms` or `regex`",
        ));
    }
    if rule.recipients.is_empty() && rule.webhooks.is_empty() {
        return Err(invalid(
            rule,
            "needs at least one entry in `recipients` or `webhooks`",
        ));
    }
    for recipient in &rule.recipients {
        if let Err(error) = recipient.parse::<lettre::Address>() {
            return Err(invalid(
                rule,
                format!("recipient {recipient:?} is not an e-mail address: {error}"),
            ));
        }
    }
    if rule.languages.is_empty() {
        return Err(invalid(
            rule,
            "`languages` is empty, so the rule can never match",
        ));
    }
    if rule.on.is_empty() {
        return Err(invalid(rule, "`on` is empty, so the rule can never fire"));
    }
    match (rule.mode, rule.window) {
        (Mode::Digest, None) => Err(invalid(
            rule,
            "mode = \"digest\" needs a `window` such as \"1d\"",
        )),
        (Mode::Digest, Some(window)) if window < Duration::from_secs(60) => Err(invalid(
            rule,
            "a digest `window` must be at least one minute",
        )),
        (Mode::Immediate, Some(_)) => {
            Err(invalid(rule, "`window` applies only to mode = \"digest\""))
        }
        _ => Ok(()),
    }
}

fn compile_regex(rule: &AlertRule, pattern: &str) -> Result<Regex, AlertError> {
    let regex = RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .map_err(|error| invalid_term(rule, pattern, error.to_string()))?;
    if regex.is_match("") {
        return Err(invalid_term(rule, pattern, "matches the empty string"));
    }
    Ok(regex)
}

/// Splits a term into its tokens: quoted phrases and bare words (a bare word may end with `*`).
fn parse_term(rule: &AlertRule, term: &str) -> Result<Vec<Literal>, AlertError> {
    let mut literals = Vec::new();
    let mut rest = term.trim_start();
    while !rest.is_empty() {
        let (token, prefix, remainder) = if let Some(inside) = rest.strip_prefix('"') {
            let close = inside
                .find('"')
                .ok_or_else(|| invalid_term(rule, term, "a quote is not closed"))?;
            (&inside[..close], false, &inside[close + 1..])
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let (word, prefix) = match word.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (word, false),
            };
            if word.contains('*') {
                return Err(invalid_term(
                    rule,
                    term,
                    "`*` is only allowed at the end of a word",
                ));
            }
            (word, prefix, &rest[end..])
        };
        let folded = fold(token).trim().to_string();
        if !folded.chars().any(|c| c.is_alphanumeric()) {
            return Err(invalid_term(
                rule,
                term,
                "has no letters or digits to match",
            ));
        }
        let first = folded.chars().next().unwrap_or(' ');
        let last = folded.chars().next_back().unwrap_or(' ');
        let capitals = token.chars().filter(|c| c.is_uppercase()).count();
        let acronym =
            capitals >= 2 && !token.chars().any(|c| c.is_lowercase() || c.is_whitespace());
        literals.push(Literal {
            start_boundary: is_word_char(first),
            end_boundary: !prefix && is_word_char(last),
            exact: acronym.then(|| token.to_string()),
            prefix,
            folded,
        });
        rest = remainder.trim_start();
    }
    if literals.is_empty() {
        return Err(invalid_term(rule, term, "is empty"));
    }
    Ok(literals)
}

/// A character that continues a word for boundary purposes: letters and digits, except CJK ideographs
/// and syllabaries, which are written without spaces and so always match as substrings.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

use crate::text::is_unspaced as is_cjk;

/// Whether folding would change anything but ASCII case in `text`: white space other than single
/// spaces (when some term has a space), curly quotes (when some term has a quote), or a non-ASCII
/// character with a lower case. A byte scan with a fast path for CJK ideographs.
fn needs_folding(text: &str, spaces: bool, quotes: bool) -> bool {
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
fn original_range(origin: &[u32], original: &str, start: usize, end: usize) -> (usize, usize) {
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
fn fold_into(source: &str, text: &mut String, mut origin: Option<&mut Vec<u32>>) -> bool {
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

    fn rule(terms: &[&str]) -> AlertRule {
        AlertRule {
            name: "test".into(),
            terms: terms.iter().map(|t| t.to_string()).collect(),
            regex: vec![],
            exclude: vec![],
            languages: both_languages(),
            scope: Scope::Both,
            recipients: vec!["a@example.org".into()],
            webhooks: vec![],
            mode: Mode::Immediate,
            window: None,
            on: default_triggers(),
        }
    }

    fn exchange(question: &str, answer: &str) -> Exchange {
        Exchange {
            ordinal: 1,
            asker: "AFP".into(),
            question: vec![question.into()],
            answer: vec![answer.into()],
            after_conference: false,
        }
    }

    fn matched(terms: &[&str], text: &str) -> Vec<String> {
        let compiled = Rule::compile(&rule(terms)).unwrap();
        let ex = exchange(text, "");
        compiled
            .matches(&ex, Lang::En)
            .map(|m| {
                m.spans
                    .iter()
                    .map(|s| span_text(&ex, s).unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

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
    fn word_boundaries_and_prefixes() {
        assert_eq!(
            matched(&["Taiwan"], "TAIWAN and Taiwan's and Taiwanese"),
            ["TAIWAN", "Taiwan"]
        );
        assert_eq!(
            matched(&["Taiwan*"], "Taiwanese, Taiwan"),
            ["Taiwanese", "Taiwan"]
        );
        assert_eq!(matched(&["U.S."], "the U.S. side"), ["U.S."]);
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

    #[test]
    fn short_words_do_not_match_inside_longer_ones() {
        assert!(matched(&["US"], "a virus").is_empty());
    }

    #[test]
    fn acronyms_match_only_in_capitals() {
        assert_eq!(matched(&["WHO"], "who said the WHO"), ["WHO"]);
        // Offsets stay right where folding changed lengths before the match.
        assert_eq!(matched(&["WHO"], "who’s  said\u{3000}the WHO’s"), ["WHO"]);
        assert_eq!(matched(&["Taiwan*"], "a  “Taiwanese” view"), ["Taiwanese"]);
        assert_eq!(matched(&["US"], "told us the US side"), ["US"]);
        assert_eq!(matched(&["who"], "Who and WHO"), ["Who", "WHO"]);
        assert_eq!(
            matched(&["COVID-19"], "Covid-19 and COVID-19"),
            ["COVID-19"]
        );
        assert_eq!(
            matched(&["covid-19"], "Covid-19 and COVID-19"),
            ["Covid-19", "COVID-19"]
        );
    }

    fn matched_in(config: AlertRule, ex: &Exchange, lang: Lang) -> Option<Vec<String>> {
        let compiled = Rule::compile(&config).unwrap();
        compiled.matches(ex, lang).map(|m| {
            m.spans
                .iter()
                .map(|s| span_text(ex, s).unwrap().to_string())
                .collect()
        })
    }

    #[test]
    fn chinese_terms_match_as_substrings() {
        let ex = exchange("中方坚决反对美国与中国台湾地区开展任何官方往来", "");
        assert_eq!(
            matched_in(rule(&["台湾"]), &ex, Lang::Zh).unwrap(),
            ["台湾"]
        );
        assert_eq!(
            matched_in(rule(&["台湾地区"]), &ex, Lang::Zh).unwrap(),
            ["台湾地区"]
        );
        // Latin words inside Chinese text keep their boundaries against CJK neighbours.
        let mixed = exchange("美国CNN记者问", "");
        assert_eq!(
            matched_in(rule(&["CNN"]), &mixed, Lang::Zh).unwrap(),
            ["CNN"]
        );
    }

    #[test]
    fn phrases_are_whitespace_insensitive_and_unquoted_words_must_all_occur() {
        let ex = exchange("the South  China\u{a0}Sea issue", "the arbitration award");
        let phrase = rule(&["\"South China Sea\""]);
        assert_eq!(
            matched_in(phrase, &ex, Lang::En).unwrap(),
            ["South  China\u{a0}Sea"]
        );
        assert!(matched_in(rule(&["\"China South\""]), &ex, Lang::En).is_none());
        assert_eq!(
            matched_in(rule(&["sea arbitration"]), &ex, Lang::En).unwrap(),
            ["Sea", "arbitration"]
        );
        assert!(matched_in(rule(&["sea tribunal"]), &ex, Lang::En).is_none());
    }

    #[test]
    fn excludes_veto_and_scopes_restrict() {
        let ex = exchange("A question on Hong Kong", "An answer on Taiwan");
        let mut config = rule(&["Taiwan"]);
        assert!(matched_in(config.clone(), &ex, Lang::En).is_some());
        config.scope = Scope::Question;
        assert!(matched_in(config.clone(), &ex, Lang::En).is_none());
        config.scope = Scope::Answer;
        assert!(matched_in(config.clone(), &ex, Lang::En).is_some());
        config.exclude = vec!["\"hong kong\"".into()];
        config.scope = Scope::Both;
        assert!(matched_in(config.clone(), &ex, Lang::En).is_none());
        // An exclude only counts within the rule's scope.
        config.scope = Scope::Answer;
        assert!(matched_in(config, &ex, Lang::En).is_some());
    }

    #[test]
    fn languages_restrict_and_regexes_match_case_insensitively() {
        let ex = exchange("COVID-19 and Covid-19", "");
        let mut config = rule(&[]);
        config.regex = vec![r"covid-?19".into()];
        assert_eq!(
            matched_in(config.clone(), &ex, Lang::En).unwrap(),
            ["COVID-19", "Covid-19"]
        );
        config.languages = vec![Lang::Zh];
        assert!(matched_in(config, &ex, Lang::En).is_none());
    }

    #[test]
    fn invalid_rules_name_the_rule_and_the_term() {
        let mut config = rule(&["Taiwan", "\"Taiwan Strait"]);
        config.name = "strait".into();
        let error = Rule::compile(&config).err().unwrap().to_string();
        assert_eq!(
            error,
            "alert rule \"strait\": invalid term \"\\\"Taiwan Strait\": a quote is not closed"
        );
        let mut config = rule(&["Taiwan"]);
        config.regex = vec!["(unclosed".into()];
        let error = Rule::compile(&config).err().unwrap().to_string();
        assert!(
            error.starts_with("alert rule \"test\": invalid term \"(unclosed\""),
            "{error}"
        );
        let mut config = rule(&["Tai*wan"]);
        config.name = "star".into();
        let error = Rule::compile(&config).err().unwrap().to_string();
        assert!(
            error.contains("\"star\"") && error.contains("Tai*wan"),
            "{error}"
        );
        let mut config = rule(&["Taiwan"]);
        config.regex = vec!["x*".into()];
        assert!(
            Rule::compile(&config)
                .err()
                .unwrap()
                .to_string()
                .contains("empty string")
        );
        let mut config = rule(&["Taiwan"]);
        config.mode = Mode::Digest;
        assert!(
            Rule::compile(&config)
                .err()
                .unwrap()
                .to_string()
                .contains("window")
        );
        let mut config = rule(&["Taiwan"]);
        config.recipients = vec!["not an address".into()];
        assert!(
            Rule::compile(&config)
                .err()
                .unwrap()
                .to_string()
                .contains("not an address")
        );
        let twice = [rule(&["a"]), rule(&["b"])];
        assert!(
            RuleSet::compile(&twice)
                .err()
                .unwrap()
                .to_string()
                .contains("same name")
        );
    }

    #[test]
    fn rules_parse_from_toml_with_defaults_and_reject_unknown_keys() {
        let config: AlertRule =
            toml::from_str("name = \"t\"\nterms = [\"Taiwan\"]\nrecipients = [\"a@example.org\"]")
                .unwrap();
        assert_eq!(config.scope, Scope::Both);
        assert_eq!(config.mode, Mode::Immediate);
        assert_eq!(config.languages, [Lang::En, Lang::Zh]);
        assert_eq!(
            config.on,
            [Trigger::New, Trigger::Revised, Trigger::Removed]
        );
        let error = toml::from_str::<AlertRule>(
            "name = \"t\"\nterm = [\"Taiwan\"]\nrecipients = [\"a@example.org\"]",
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("unknown field `term`"),
            "{error}"
        );
    }
}
