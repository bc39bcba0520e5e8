//! Cutting a transcript's paragraphs into opening remarks and question/answer exchanges.
//!
//! The transcript is read as a conversation: a paragraph that starts with a speaker label
//! (`CCTV: `, `中央电视台记者：`, `Q: `, `Zhao Lijian: `, `答：`) changes the speaker; a paragraph
//! without one continues whoever spoke last. What makes this hard is that answers quote people
//! ("He said: …", "Note: …"): a label only counts as an outlet when it is short, has no sentence
//! punctuation, looks like a name (English: capitalized words; Chinese: ends in 记者 or is a known
//! anonymous label), and a spokesperson label follows somewhere later in the transcript.

use crate::model::{Exchange, Lang};
use crate::site::SPOKESPERSONS;

/// Split normalized paragraphs into opening remarks and exchanges.
pub fn segment(paragraphs: &[String], lang: Lang) -> (Vec<String>, Vec<Exchange>) {
    segment_with_spokesperson(paragraphs, lang, None)
}

/// Like [`segment`], also recognizing the spokesperson of the day (from the title) as an answer
/// label, for spokespersons not yet in the built-in list.
pub fn segment_with_spokesperson(
    paragraphs: &[String],
    lang: Lang,
    spokesperson: Option<&str>,
) -> (Vec<String>, Vec<Exchange>) {
    let turns: Vec<Turn> = paragraphs
        .iter()
        .map(|paragraph| classify(paragraph, lang, spokesperson))
        .collect();
    // An outlet label is only believed when somebody answers after it: on a statement page or
    // inside a long answer a capitalized "Beijing: …" is not a journalist taking the floor.
    let mut answer_follows = vec![false; turns.len()];
    let mut seen_answer = false;
    for (index, turn) in turns.iter().enumerate().rev() {
        answer_follows[index] = seen_answer;
        if matches!(turn, Turn::Spokesperson { .. }) {
            seen_answer = true;
        }
    }

    let mut opening = Vec::new();
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut after_conference = false;
    for ((paragraph, turn), answer_follows) in paragraphs.iter().zip(turns).zip(answer_follows) {
        if paragraph.is_empty() {
            continue;
        }
        let turn = match turn {
            Turn::Question { .. } if !answer_follows => Turn::Continuation,
            turn => turn,
        };
        match turn {
            Turn::AfterConferenceNotice => after_conference = true,
            Turn::Question {
                asker,
                text,
                raised_after,
            } => {
                after_conference |= raised_after;
                exchanges.push(Exchange {
                    ordinal: exchanges.len() as u32 + 1,
                    asker,
                    question: non_empty(text),
                    answer: Vec::new(),
                    after_conference,
                });
            }
            Turn::Spokesperson { text } => match exchanges.last_mut() {
                Some(exchange) if exchange.answer.is_empty() => {
                    exchange.answer.extend(non_empty(text));
                    if exchange.answer.is_empty() {
                        // A bare "A:" paragraph: keep the label so the turn is not lost.
                        exchange.answer.push(paragraph.clone());
                    }
                }
                Some(exchange) => exchange.answer.push(paragraph.clone()),
                None => opening.extend(non_empty(text)),
            },
            Turn::Interjection | Turn::FollowUp | Turn::Continuation => {
                match exchanges.last_mut() {
                    Some(exchange) if exchange.answer.is_empty() => {
                        exchange.question.push(paragraph.clone())
                    }
                    Some(exchange) => exchange.answer.push(paragraph.clone()),
                    None => opening.push(paragraph.clone()),
                }
            }
        }
    }
    (opening, exchanges)
}

fn non_empty(text: String) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![text]
    }
}

/// What one paragraph does in the conversation.
#[derive(Debug)]
enum Turn {
    /// A journalist (named outlet or anonymous) takes the floor.
    Question {
        asker: String,
        text: String,
        raised_after: bool,
    },
    /// The spokesperson answers (`Zhao Lijian:`, `A:`, `答：`).
    Spokesperson { text: String },
    /// `Follow-up:` / `追问：` — same journalist, same exchange.
    FollowUp,
    /// `Journalist: Three.` — a remark inside an answer, same exchange.
    Interjection,
    /// "The following question was raised after the press conference."
    AfterConferenceNotice,
    /// No label: the last speaker goes on.
    Continuation,
}

/// Longest label, in characters, that can name a speaker.
const MAX_LABEL_CHARS: usize = 48;
const MAX_LABEL_WORDS: usize = 7;

fn classify(paragraph: &str, lang: Lang, spokesperson: Option<&str>) -> Turn {
    if is_after_conference_notice(paragraph) {
        return Turn::AfterConferenceNotice;
    }
    let Some((label, text)) = split_label(paragraph) else {
        return Turn::Continuation;
    };
    let question = |asker: &str, raised_after: bool| Turn::Question {
        asker: asker.to_string(),
        text: text.to_string(),
        raised_after,
    };
    match label {
        "Q" | "Question" | "问" => return question(label, false),
        "A" | "Answer" | "答" | "Spokesperson" | "发言人" => {
            return Turn::Spokesperson {
                text: text.to_string(),
            };
        }
        "会后有记者问及" | "会后有记者问" | "会后记者问及" => {
            return question("问", true);
        }
        _ => {}
    }
    if is_spokesperson_name(label, spokesperson) {
        return Turn::Spokesperson {
            text: text.to_string(),
        };
    }
    if is_follow_up(label) {
        return Turn::FollowUp;
    }
    if matches!(label, "Journalist" | "Journalists" | "Reporter" | "记者") {
        return Turn::Interjection;
    }
    let outlet = match lang {
        Lang::En => looks_like_english_outlet(label),
        Lang::Zh => looks_like_chinese_outlet(label) || looks_like_english_outlet(label),
    };
    if outlet {
        question(label, false)
    } else {
        Turn::Continuation
    }
}

/// `label: text` or `label：text`, the label trimmed and short; `None` when the paragraph has no
/// plausible label.
fn split_label(paragraph: &str) -> Option<(&str, &str)> {
    let (index, colon) = paragraph
        .char_indices()
        .take(MAX_LABEL_CHARS + 1)
        .find(|(_, c)| *c == ':' || *c == '：')?;
    let label = paragraph[..index].trim();
    if label.is_empty() {
        return None;
    }
    let text = paragraph[index + colon.len_utf8()..].trim();
    Some((label, text))
}

fn is_spokesperson_name(label: &str, spokesperson: Option<&str>) -> bool {
    let label = label
        .strip_prefix("Spokesperson ")
        .or_else(|| label.strip_prefix("发言人"))
        .unwrap_or(label);
    if spokesperson.is_some_and(|name| name.eq_ignore_ascii_case(label)) {
        return true;
    }
    SPOKESPERSONS
        .iter()
        .any(|(english, chinese)| english.eq_ignore_ascii_case(label) || *chinese == label)
}

fn is_follow_up(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "follow-up" | "follow up" | "followup" | "follow-up question" | "follow-on" | "追问"
    )
}

/// The English separator before questions raised after the briefing; the wording varies
/// ("The following question was raised after the press conference.", "… is raised …",
/// "The following questions were asked after …").
fn is_after_conference_notice(paragraph: &str) -> bool {
    if paragraph.len() > 160 {
        return false;
    }
    let lower = paragraph.to_ascii_lowercase();
    lower.contains("following question")
        && (lower.contains("after the press conference")
            || lower.contains("after the regular press conference")
            || lower.contains("after the briefing"))
}

/// Labels that look like a name but open a note or a quote inside an answer.
const ENGLISH_NON_OUTLETS: &[&str] = &[
    "Note",
    "Notes",
    "NB",
    "PS",
    "P.S",
    "Example",
    "Editor's Note",
    "Source",
    "Sources",
    "Attachment",
    "Appendix",
    "Background",
    "Translation",
    "Text",
    "Update",
    "Correction",
    "Link",
];

/// Small words an outlet name may have in lower case ("Voice of America", "Al Jazeera").
const NAME_PARTICLES: &[&str] = &[
    "of", "the", "and", "for", "de", "del", "la", "le", "du", "da", "do", "di", "das", "al", "el",
    "am", "an", "in", "on", "und", "y", "e", "&",
];

fn looks_like_english_outlet(label: &str) -> bool {
    if ENGLISH_NON_OUTLETS
        .iter()
        .any(|word| word.eq_ignore_ascii_case(label))
    {
        return false;
    }
    let words: Vec<&str> = label.split(' ').filter(|word| !word.is_empty()).collect();
    if words.is_empty() || words.len() > MAX_LABEL_WORDS {
        return false;
    }
    if label.contains(['?', '!', ',', ';', '"', '“', '”', '…', '(', ')'])
        || label.ends_with('.')
        || label.contains(". ")
    {
        return false;
    }
    words.iter().enumerate().all(|(position, word)| {
        let first = word.chars().next().unwrap_or(' ');
        first.is_uppercase()
            || first.is_ascii_digit()
            || (position > 0 && NAME_PARTICLES.contains(word))
            || !first.is_alphanumeric() && !first.is_ascii_punctuation()
    })
}

fn looks_like_chinese_outlet(label: &str) -> bool {
    let chars = label.chars().count();
    if chars > 30 || label.contains(['，', '。', '？', '！', '；', '“', '”', ',', '?']) {
        return false;
    }
    label.ends_with("记者") && chars > 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraphs(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| line.to_string()).collect()
    }

    #[test]
    fn english_outlets_and_named_spokesperson() {
        let (opening, exchanges) = segment(
            &paragraphs(&[
                "The Foreign Minister will visit Laos.",
                "CCTV: What is your comment?",
                "Zhao Lijian: He said: we are friends.",
                "Note: this is from the statement.",
                "Beijing Youth Daily: Second question?",
                "It is long.",
                "Zhao Lijian: Yes.",
            ]),
            Lang::En,
        );
        assert_eq!(opening, ["The Foreign Minister will visit Laos."]);
        assert_eq!(exchanges.len(), 2);
        assert_eq!(exchanges[0].asker, "CCTV");
        assert_eq!(exchanges[0].question, ["What is your comment?"]);
        assert_eq!(
            exchanges[0].answer,
            [
                "He said: we are friends.",
                "Note: this is from the statement."
            ]
        );
        assert_eq!(exchanges[1].asker, "Beijing Youth Daily");
        assert_eq!(exchanges[1].question, ["Second question?", "It is long."]);
        assert_eq!(exchanges[1].answer, ["Yes."]);
    }

    #[test]
    fn anonymous_follow_up_interjection_and_after_conference() {
        let (_, exchanges) = segment(
            &paragraphs(&[
                "Q: How many?",
                "Follow-up: And when?",
                "A: Let me see.",
                "Journalist: Three.",
                "A: Three, then.",
                "The following question was raised after the press conference.",
                "Q: Any comment?",
                "A: No.",
            ]),
            Lang::En,
        );
        assert_eq!(exchanges.len(), 2);
        assert_eq!(exchanges[0].question, ["How many?", "Follow-up: And when?"]);
        assert_eq!(
            exchanges[0].answer,
            ["Let me see.", "Journalist: Three.", "A: Three, then."]
        );
        assert!(!exchanges[0].after_conference);
        assert_eq!(exchanges[1].asker, "Q");
        assert!(exchanges[1].after_conference);
    }

    #[test]
    fn chinese_labels() {
        let (opening, exchanges) = segment_with_spokesperson(
            &paragraphs(&[
                "《北京青年报》记者：近日有何评论？",
                "新发言人：他说：我们是朋友。",
                "会后有记者问及：据报道，有何回应？",
                "答：钓鱼岛是中国固有领土。",
                "追问：还有吗？",
            ]),
            Lang::Zh,
            Some("新发言人"),
        );
        assert!(opening.is_empty());
        assert_eq!(exchanges.len(), 2);
        assert_eq!(exchanges[0].asker, "《北京青年报》记者");
        assert_eq!(exchanges[0].answer, ["他说：我们是朋友。"]);
        assert_eq!(exchanges[1].asker, "问");
        assert!(exchanges[1].after_conference);
        assert_eq!(
            exchanges[1].answer,
            ["钓鱼岛是中国固有领土。", "追问：还有吗？"]
        );
    }

    #[test]
    fn statement_without_answers_has_no_exchanges() {
        let (opening, exchanges) = segment(
            &paragraphs(&["Beijing: the city hosted talks.", "China News: more."]),
            Lang::En,
        );
        assert_eq!(opening.len(), 2);
        assert!(exchanges.is_empty());
    }
}
