//! What a rule says, parsed and checked: its shape (recipients, mode and window), its terms
//! split into folded literals, and its regular expressions.

use std::time::Duration;

use regex::{Regex, RegexBuilder};

use super::fold::{fold, is_word_char};
use crate::alert::AlertError;
use crate::config::{AlertRule, Mode};

/// One token of a term, folded.
pub(super) struct Literal {
    pub(super) folded: String,
    pub(super) start_boundary: bool,
    pub(super) end_boundary: bool,
    /// The token as written, when it is an acronym.
    pub(super) exact: Option<String>,
    pub(super) prefix: bool,
}

pub(super) fn invalid(rule: &AlertRule, reason: impl Into<String>) -> AlertError {
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

pub(super) fn validate_shape(rule: &AlertRule) -> Result<(), AlertError> {
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

pub(super) fn compile_regex(rule: &AlertRule, pattern: &str) -> Result<Regex, AlertError> {
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
pub(super) fn parse_term(rule: &AlertRule, term: &str) -> Result<Vec<Literal>, AlertError> {
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
