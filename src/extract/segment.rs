//! Cutting a transcript's paragraphs into opening remarks and question/answer exchanges.
//!
//! The transcript is read as a conversation: a paragraph that starts with a speaker label
//! (`CCTV: `, `中央电视台记者：`, `Q: `, `Zhao Lijian: `, `答：`) changes the speaker; a paragraph
//! without one continues whoever spoke last. What makes this hard is that answers quote people
//! ("He said: …", "Note: …"): a label only counts as an outlet when it is short, has no sentence
//! punctuation, looks like a name (English: capitalized words; Chinese: ends in 记者 or is a known
//! anonymous label), and a spokesperson label follows somewhere later in the transcript.

use std::ops::Range;

use crate::model::{Exchange, Lang, SPOKESPERSONS};

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
    segment_owned(paragraphs.to_vec(), lang, spokesperson)
}

/// [`segment_with_spokesperson`] taking the paragraphs by value, so that they move into the
/// record instead of being copied.
pub fn segment_owned(
    paragraphs: Vec<String>,
    lang: Lang,
    spokesperson: Option<&str>,
) -> (Vec<String>, Vec<Exchange>) {
    let turns: Vec<Turn> = paragraphs
        .iter()
        .map(|paragraph| classify(paragraph, lang, spokesperson))
        .collect();
    // Some transcripts label only the journalists ("新华社记者提问：") and never the spokesperson:
    // there, the paragraphs after a question are its answer.
    let implicit_answers = !turns
        .iter()
        .any(|turn| matches!(turn, Turn::Spokesperson { .. }));
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
    for ((paragraph, turn), answer_follows) in paragraphs.into_iter().zip(turns).zip(answer_follows)
    {
        if is_decoration(&paragraph) {
            continue;
        }
        let turn = match turn {
            Turn::Question { certain: false, .. } if !answer_follows => Turn::Continuation,
            turn => turn,
        };
        let question_open = exchanges.last().is_some_and(|exchange| {
            exchange.answer.is_empty() && (!implicit_answers || exchange.question.is_empty())
        });
        match turn {
            Turn::AfterConferenceNotice => after_conference = true,
            Turn::Question {
                asker,
                text,
                raised_after,
                ..
            } => {
                after_conference |= raised_after;
                if let Some(previous) = exchanges.last_mut() {
                    recover_unlabelled_answer(previous);
                }
                exchanges.push(Exchange {
                    ordinal: exchanges.len() as u32 + 1,
                    asker,
                    question: non_empty(take(paragraph, text)),
                    answer: Vec::new(),
                    after_conference,
                });
            }
            Turn::Spokesperson { text } => match exchanges.last_mut() {
                // A bare "A:" paragraph keeps its label so the turn is not lost.
                Some(exchange) if exchange.answer.is_empty() && text.is_empty() => {
                    exchange.answer.push(paragraph)
                }
                Some(exchange) if exchange.answer.is_empty() => {
                    exchange.answer.push(take(paragraph, text))
                }
                Some(exchange) => exchange.answer.push(paragraph),
                None => opening.extend(non_empty(take(paragraph, text))),
            },
            Turn::FollowUp | Turn::Interjection => match exchanges.last_mut() {
                Some(exchange) if exchange.answer.is_empty() => exchange.question.push(paragraph),
                Some(exchange) => exchange.answer.push(paragraph),
                None => opening.push(paragraph),
            },
            Turn::Continuation => match exchanges.last_mut() {
                Some(exchange) if question_open => exchange.question.push(paragraph),
                Some(exchange) => exchange.answer.push(paragraph),
                None => opening.push(paragraph),
            },
        }
    }
    if let Some(last) = exchanges.last_mut() {
        recover_unlabelled_answer(last);
    }
    (opening, exchanges)
}

/// Transcripts sometimes drop the spokesperson label of one answer ("中俄印外长会谈是否仍将举行？"
/// followed directly by "我昨天已经发布了消息…"). When an exchange closes with no answer, the
/// answer starts at the first unlabelled paragraph after one that ends with a question mark.
fn recover_unlabelled_answer(exchange: &mut Exchange) {
    if !exchange.answer.is_empty() {
        return;
    }
    let start = (1..exchange.question.len()).find(|&index| {
        ends_with_question_mark(&exchange.question[index - 1])
            && split_label(&exchange.question[index]).is_none_or(|(label, _)| {
                !is_follow_up(label) && !matches!(label, "Journalist" | "记者" | "Q" | "问")
            })
    });
    if let Some(start) = start {
        exchange.answer = exchange.question.split_off(start);
    }
}

fn ends_with_question_mark(paragraph: &str) -> bool {
    paragraph
        .trim_end_matches(['"', '”', '’', '\'', ')', '）', ' '])
        .ends_with(['?', '？'])
}

/// An empty paragraph or a rule drawn with characters ("********", "——————").
fn is_decoration(paragraph: &str) -> bool {
    !paragraph.chars().any(char::is_alphanumeric)
}

/// The byte range of `part`, a slice of `paragraph`, within it.
fn span(paragraph: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - paragraph.as_ptr() as usize;
    start..start + part.len()
}

/// The part of an owned paragraph in `range`, reusing its allocation.
fn take(mut paragraph: String, range: Range<usize>) -> String {
    paragraph.truncate(range.end);
    paragraph.drain(..range.start);
    paragraph
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
        /// Where the question text (label stripped) lies in the paragraph.
        text: Range<usize>,
        raised_after: bool,
        /// An unmistakable journalist label (`Q`, `问`, `…记者`), believed even when no
        /// spokesperson label follows.
        certain: bool,
    },
    /// The spokesperson answers (`Zhao Lijian:`, `A:`, `答：`).
    Spokesperson { text: Range<usize> },
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
        // "The following question was raised after the press conference: can you …" carries
        // the question itself after the colon.
        return match paragraph.split_once(':') {
            Some((_, question)) if question.trim().chars().any(char::is_alphanumeric) => {
                Turn::Question {
                    asker: "Q".to_string(),
                    text: span(paragraph, question.trim()),
                    raised_after: true,
                    certain: true,
                }
            }
            // "After the press conference, a journalist asked if China …": the notice is the
            // (reported) question.
            _ if is_reported_question(paragraph) => Turn::Question {
                asker: "Q".to_string(),
                text: 0..paragraph.len(),
                raised_after: true,
                certain: true,
            },
            _ => Turn::AfterConferenceNotice,
        };
    }
    if is_parenthetical(paragraph) {
        return Turn::Interjection;
    }
    let Some((label, text)) = split_label(paragraph) else {
        return Turn::Continuation;
    };
    let question = |asker: &str, raised_after: bool, certain: bool| Turn::Question {
        asker: asker.to_string(),
        text: span(paragraph, text),
        raised_after,
        certain,
    };
    match label {
        "Q" | "Question" | "问" => return question(label, false, true),
        "A" | "Answer" | "答" | "Spokesperson" | "发言人" => {
            return Turn::Spokesperson {
                text: span(paragraph, text),
            };
        }
        "会后有记者问及"
        | "会后有记者问"
        | "会后记者问及"
        | "会后，有记者问及"
        | "会后,有记者问及" => {
            return question("问", true, true);
        }
        _ => {}
    }
    if is_spokesperson_name(label, spokesperson) {
        return Turn::Spokesperson {
            text: span(paragraph, text),
        };
    }
    if is_follow_up(label) {
        return Turn::FollowUp;
    }
    if is_interjection(label) {
        return Turn::Interjection;
    }
    if lang == Lang::Zh {
        let outlet = label.strip_suffix("提问").unwrap_or(label);
        if looks_like_chinese_outlet(outlet) {
            return question(outlet, false, true);
        }
    }
    if looks_like_english_outlet(label) {
        question(label, false, false)
    } else {
        Turn::Continuation
    }
}

/// A stage direction or aside in brackets: "(The journalist nodded.)", "（记者：我可以等到明天。）".
fn is_parenthetical(paragraph: &str) -> bool {
    (paragraph.starts_with('(') && paragraph.ends_with(')'))
        || (paragraph.starts_with('（') && paragraph.ends_with('）'))
}

/// `label: text` or `label：text`, the label trimmed and short; `None` when the paragraph has no
/// plausible label.
fn split_label(paragraph: &str) -> Option<(&str, &str)> {
    let mut previous = ' ';
    let (index, colon) =
        paragraph
            .char_indices()
            .take(MAX_LABEL_CHARS + 1)
            .find(|&(index, c)| {
                // "24:00" is a time, not a label.
                let is_time = c == ':'
                    && previous.is_ascii_digit()
                    && paragraph[index + 1..].starts_with(|next: char| next.is_ascii_digit());
                previous = c;
                (c == ':' || c == '：') && !is_time
            })?;
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
    // "耿爽表示：", "Geng Shuang said:" introduce the answer the same way the bare name does.
    let label = ["表示", "说", "称", "回答", " said", " says", " answered"]
        .iter()
        .find_map(|verb| label.strip_suffix(verb))
        .unwrap_or(label);
    if spokesperson.is_some_and(|name| name.eq_ignore_ascii_case(label)) {
        return true;
    }
    SPOKESPERSONS
        .iter()
        .any(|(english, chinese)| english.eq_ignore_ascii_case(label) || *chinese == label)
}

/// `Follow-up:`, `追问：`, `追问一：`, `彭博社记者追问：`.
fn is_follow_up(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "follow-up" | "follow up" | "followup" | "follow-up question" | "follow-on"
    ) || (label.contains("追问") && label.chars().count() <= 20)
}

/// A journalist's remark inside an answer: `Journalist: Three.`, `Journalist clarifies:`,
/// `The journalist clarified:`, `记者：`, `记者澄清：`, `记者笑：`.
fn is_interjection(label: &str) -> bool {
    let english = label
        .strip_prefix("The ")
        .unwrap_or(label)
        .to_ascii_lowercase();
    let english_verb = english
        .strip_prefix("journalists")
        .or_else(|| english.strip_prefix("journalist"))
        .or_else(|| english.strip_prefix("reporter"));
    if let Some(verb) = english_verb {
        return verb.is_empty() || (verb.starts_with(' ') && verb.split(' ').count() <= 3);
    }
    label.starts_with("记者") && label.chars().count() <= 6
}

/// The English separator before questions raised after the briefing; the wording varies
/// ("The following question was raised after the press conference.", "A journalist posed the
/// following question after the press conference:", "After the press conference, the following
/// question was raised:", "Question raised after the press conference: …"). Only the part
/// before a colon is looked at.
fn is_after_conference_notice(paragraph: &str) -> bool {
    let notice = paragraph
        .split_once(':')
        .map_or(paragraph, |(notice, _)| notice);
    if notice.len() > 200 {
        return false;
    }
    let lower = notice.to_ascii_lowercase();
    const OPENERS: &[&str] = &[
        "the following question",
        "following question",
        "a journalist asked",
        "a journalist posed",
        "journalists asked",
        "after the press conference",
        "after the regular press conference",
        "after the briefing",
        "this question was",
        "question raised after",
        "questions raised after",
        "question asked after",
        "questions asked after",
    ];
    OPENERS.iter().any(|opener| lower.starts_with(opener))
        && lower.contains("after")
        && (lower.contains("press conference") || lower.contains("briefing"))
}

fn is_reported_question(paragraph: &str) -> bool {
    let lower = paragraph.to_ascii_lowercase();
    [
        "asked if",
        "asked whether",
        "asked about",
        "asked how",
        "asked what",
        "asked why",
    ]
    .iter()
    .any(|phrase| lower.contains(phrase))
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
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Firstly",
    "Secondly",
    "Thirdly",
    "Finally",
    "Lastly",
    "However",
    "Moreover",
    "Besides",
    "Meanwhile",
    "Therefore",
    "Today",
    "Yesterday",
];

/// Words of people's titles: "Premier Li Keqiang: …" inside an answer quotes a person; no
/// outlet is called that.
const PERSON_TITLES: &[&str] = &[
    "President",
    "Premier",
    "Minister",
    "Secretary",
    "Ambassador",
    "Chairman",
    "Chairwoman",
    "Chancellor",
    "Councilor",
    "Councillor",
    "Director",
    "Director-General",
    "Spokesperson",
    "Spokesman",
    "Spokeswoman",
    "Mr.",
    "Ms.",
    "Mrs.",
    "Dr.",
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
    if words.iter().any(|word| PERSON_TITLES.contains(word)) {
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
    label.ends_with("记者") && chars > 2 && !label.contains(['（', '(', '）', ')'])
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
                "Premier Li Keqiang: we will meet.",
                "First: the talks went well.",
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
                "Note: this is from the statement.",
                "Premier Li Keqiang: we will meet.",
                "First: the talks went well."
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
