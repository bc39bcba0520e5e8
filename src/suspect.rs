//! Whether a new version of a transcript looks like a glitch rather than an edit.
//!
//! A page sent in the wrong encoding, cut short, or served from a half-deployed template still
//! extracts into something. Stored as a revision it would announce exchanges removed and mail
//! alerts about a transcript nobody changed. A version that loses what every transcript has
//! (its date, most of its exchanges) or carries garbled text is *suspect*: the archive holds it
//! and only stores it when a second fetch a little later agrees (see `ingest::Settings::suspect_recheck`).

use crate::model::Briefing;

/// A previous version with at least this many exchanges can be said to have lost most of them.
const MIN_EXCHANGES_TO_LOSE: usize = 3;

/// Why `new` looks like a glitch next to `previous` (the latest stored version, if any), or
/// `None` when it reads as a page.
pub fn suspect_reason(previous: Option<&Briefing>, new: &Briefing) -> Option<String> {
    let garbled = garbled_chars(new);
    let garbled_before = previous.map_or(0, garbled_chars);
    if garbled > garbled_before {
        return Some(format!(
            "{garbled} undecodable or garbled characters (mojibake), {garbled_before} before"
        ));
    }
    let previous = previous?;
    if previous.date.is_some() && new.date.is_none() {
        return Some(format!(
            "the title no longer gives a date: {:?}",
            shorten(&new.title)
        ));
    }
    let (before, now) = (previous.exchanges.len(), new.exchanges.len());
    if before >= MIN_EXCHANGES_TO_LOSE && now * 2 < before {
        return Some(format!("only {now} of {before} exchanges left"));
    }
    None
}

/// Characters that betray a wrong decoding in a briefing's text (see
/// [`crate::charset::garbled_chars_in`]).
pub fn garbled_chars(briefing: &Briefing) -> usize {
    let texts = std::iter::once(&briefing.title)
        .chain(&briefing.opening)
        .chain(
            briefing
                .exchanges
                .iter()
                .flat_map(|exchange| exchange.question.iter().chain(&exchange.answer)),
        );
    texts
        .map(String::as_str)
        .map(crate::charset::garbled_chars_in)
        .sum()
}

fn shorten(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exchange, Kind, Lang};

    fn briefing(lang: Lang, title: &str, date: bool, exchanges: usize) -> Briefing {
        Briefing {
            url: "http://127.0.0.1/t1.shtml".into(),
            lang,
            kind: Kind::PressConference,
            title: title.into(),
            date: date.then(|| chrono::NaiveDate::from_ymd_opt(2020, 7, 3).unwrap()),
            published_at: None,
            spokesperson: None,
            opening: vec![],
            exchanges: (1..=exchanges as u32)
                .map(|ordinal| Exchange {
                    ordinal,
                    asker: "Q".into(),
                    question: vec![format!("question {ordinal}")],
                    answer: vec![format!("answer {ordinal}")],
                    after_conference: false,
                })
                .collect(),
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    #[test]
    fn ordinary_edits_are_not_suspect() {
        let before = briefing(Lang::En, "Press Conference on July 3, 2020", true, 10);
        let mut after = before.clone();
        after.exchanges.pop();
        after.exchanges[0].answer[0] = "a reworded answer, café included".into();
        assert_eq!(suspect_reason(Some(&before), &after), None);
        assert_eq!(suspect_reason(None, &before), None);
        let zh = briefing(
            Lang::Zh,
            "2020年7月3日外交部发言人赵立坚主持例行记者会",
            true,
            4,
        );
        assert_eq!(suspect_reason(Some(&zh), &zh), None);
    }

    #[test]
    fn lost_structure_is_suspect() {
        let before = briefing(Lang::En, "Press Conference on July 3, 2020", true, 10);
        let fewer = briefing(Lang::En, "Press Conference on July 3, 2020", true, 4);
        assert!(
            suspect_reason(Some(&before), &fewer)
                .unwrap()
                .contains("only 4 of 10 exchanges")
        );
        let undated = briefing(Lang::En, "Press Conference", false, 10);
        assert!(
            suspect_reason(Some(&before), &undated)
                .unwrap()
                .contains("date")
        );
        // Half of them kept is an edit, not a loss.
        let half = briefing(Lang::En, "Press Conference on July 3, 2020", true, 5);
        assert_eq!(suspect_reason(Some(&before), &half), None);
    }

    #[test]
    fn mojibake_is_suspect_even_on_a_first_version() {
        let title = "2020年7月3日外交部发言人赵立坚主持例行记者会";
        let (bytes, _, _) = encoding_rs::UTF_8.encode(title);
        let latin1 = encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned();
        let garbled = briefing(Lang::Zh, &latin1, true, 4);
        assert!(suspect_reason(None, &garbled).unwrap().contains("mojibake"));
        let en = briefing(
            Lang::En,
            "Wang Wenbin\u{2019}s remarks \u{FFFD}\u{FFFD}",
            true,
            4,
        );
        assert_eq!(garbled_chars(&en), 2);
        let en_latin1 = briefing(Lang::En, "Wang Wenbinâ€™s remarks", true, 4);
        assert_eq!(garbled_chars(&en_latin1), 1);
        // GB18030 bytes read as windows-1252.
        let (gb, _, _) = encoding_rs::GB18030.encode(title);
        let gb_latin1 = encoding_rs::WINDOWS_1252.decode(&gb).0.into_owned();
        assert!(garbled_chars(&briefing(Lang::Zh, &gb_latin1, true, 4)) > 10);
    }

    #[test]
    fn foreign_names_and_accents_are_not_mojibake() {
        let name = "关于德国足球运动员梅苏特·厄齐尔（Mesut Özil）的问题。";
        assert_eq!(garbled_chars(&briefing(Lang::Zh, name, true, 1)), 0);
        let accents = "Café, Müller, São Tomé and Príncipe, Noël, 2 × 3";
        assert_eq!(garbled_chars(&briefing(Lang::En, accents, true, 1)), 0);
    }
}
