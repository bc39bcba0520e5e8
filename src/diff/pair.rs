//! Pairs the exchanges of one day's English and Chinese transcripts by order, asking outlet, length
//! and shared numbers (a Needleman–Wunsch alignment), and reports exchanges found in one only.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::text::is_cjk;
use crate::model::{Briefing, Exchange};

/// Outlets as the English and Chinese transcripts name them, gathered from the 2018–2020 corpus.
/// The first English name is the canonical one reported.
const OUTLETS: &[(&[&str], &[&str])] = &[
    (
        &["CCTV", "China Central Television"],
        &["中央广播电视总台央视", "总台央视", "中央电视台", "央视"],
    ),
    (
        &["CNR", "China National Radio"],
        &[
            "中央广播电视总台央广",
            "总台央广",
            "中央人民广播电台",
            "央广",
        ],
    ),
    (
        &["CRI", "China Radio International"],
        &[
            "中央广播电视总台国广",
            "总台国广",
            "中国国际广播电台",
            "国广",
        ],
    ),
    (&["CGTN"], &["CGTN", "中国国际电视台"]),
    (&["AFP", "Agence France-Presse"], &["法新社"]),
    (&["Reuters", "Reuters TV"], &["路透社"]),
    (&["Bloomberg", "Bloomberg News"], &["彭博社"]),
    (&["Global Times"], &["环球时报"]),
    (&["The Paper"], &["澎湃新闻"]),
    (&["Shenzhen TV"], &["深圳卫视"]),
    (&["China Daily"], &["中国日报"]),
    (&["Xinhua News Agency", "Xinhua"], &["新华社"]),
    (&["Beijing Youth Daily"], &["北京青年报"]),
    (&["Beijing Daily"], &["北京日报"]),
    (&["Beijing Media Network"], &["北京广播电视台"]),
    (&["RIA Novosti"], &["俄新社"]),
    (&["China News Service", "CNS"], &["中新社", "中国新闻社"]),
    (&["PTI", "Press Trust of India"], &["印度报业托拉斯"]),
    (&["BBC"], &["英国广播公司"]),
    (&["ITN&BBC"], &["英国独立电视台和英国广播公司"]),
    (&["TASS", "TASS News Agency"], &["塔斯社"]),
    (&["RT", "Russia Today"], &["今日俄罗斯"]),
    (&["Sputnik", "Sputnik News Agency"], &["俄罗斯卫星通讯社"]),
    (&["The Australian"], &["澳大利亚人报"]),
    (
        &[
            "ABC",
            "Australian Broadcasting Corporation",
            "ABC Australia",
        ],
        &["澳大利亚广播公司"],
    ),
    (&["South China Morning Post", "SCMP"], &["南华早报"]),
    (&["CNN"], &["美国有线电视新闻网", "CNN"]),
    (&["Phoenix TV"], &["凤凰卫视"]),
    (
        &[
            "China Review News",
            "China Review News Agency",
            "Hong Kong Review News",
        ],
        &["中评社"],
    ),
    (&["The Globe and Mail"], &["环球邮报"]),
    (&["NHK"], &["日本广播协会", "NHK"]),
    (
        &["Associated Press of Pakistan", "APP"],
        &["巴通社", "巴基斯坦通讯社"],
    ),
    (&["Macau Monthly"], &["澳门月刊"]),
    (&["Kyodo News", "Kyodo"], &["共同社"]),
    (
        &["Yonhap News", "Yonhap News Agency", "Yonhap"],
        &["韩联社"],
    ),
    (&["Feature Story News", "FSN"], &["美国专题新闻社"]),
    (&["Prensa Latina"], &["拉通社"]),
    (&["Nikkei", "Nihon Keizai Shimbun"], &["日本经济新闻"]),
    (&["Financial Times"], &["金融时报"]),
    (&["National Public Radio", "NPR"], &["美国全国公共广播电台"]),
    (&["Islamic Republic News Agency", "IRNA"], &["伊朗通讯社"]),
    (&["Fuji TV"], &["富士电视台"]),
    (&["Voice of Vietnam"], &["越南之声"]),
    (&["Swedish TV"], &["瑞典电视台"]),
    (&["EFE News Agency", "EFE"], &["埃菲社"]),
    (&["TBS"], &["东京广播公司"]),
    (&["KBS"], &["韩国广播电视台"]),
    (&["MBC"], &["韩国文化电视台"]),
    (&["JoongAng Ilbo"], &["中央日报"]),
    (&["Chinese Arabic Television"], &["中阿卫视"]),
    (&["Associated Press", "AP"], &["美联社"]),
    (&["Sky News"], &["天空新闻"]),
    (&["Wall Street Journal"], &["华尔街日报"]),
    (&["NBC News", "NBC"], &["美国全国广播公司"]),
    (&["De Telegraaf"], &["荷兰电讯报"]),
];

/// The canonical (English) name of the outlet an asker label names, in either language; `None`
/// for anonymous labels (`Q`, `问`, `Follow-up`) and outlets not in the table.
pub fn outlet_of(asker: &str) -> Option<&'static str> {
    let cleaned: String = asker
        .nfkc()
        .filter(|c| !matches!(c, '《' | '》' | '“' | '”' | '"'))
        .collect();
    let cleaned = cleaned.trim().trim_end_matches("记者").trim();
    if cleaned.chars().any(is_cjk) {
        let mut best: Option<(usize, &'static str)> = None;
        for (english, chinese) in OUTLETS {
            for name in *chinese {
                if cleaned.contains(name) && best.is_none_or(|(length, _)| name.len() > length) {
                    best = Some((name.len(), english[0]));
                }
            }
        }
        return best.map(|(_, name)| name);
    }
    let lower = cleaned.to_lowercase();
    let lower = lower.strip_prefix("the ").unwrap_or(&lower);
    // English names are ASCII, so comparing them ASCII-case-insensitively equals lowercasing them.
    let without_article = |name: &'static str| match name.get(..4) {
        Some(article) if article.eq_ignore_ascii_case("the ") => &name[4..],
        _ => name,
    };
    OUTLETS.iter().find_map(|(english, _)| {
        english
            .iter()
            .any(|name| without_article(name).eq_ignore_ascii_case(lower))
            .then_some(english[0])
    })
}

/// One row of a day's side-by-side view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PairRow {
    Paired {
        en: u32,
        zh: u32,
        en_asker: String,
        zh_asker: String,
        /// The outlet both labels name, when the table knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outlet: Option<String>,
        score: f64,
        /// The two sit at different places in the order (one language moved the exchange).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        out_of_order: bool,
    },
    /// Two consecutive exchanges of one language are one exchange of the other (a follow-up
    /// folded into its question, two after-conference questions numbered 一、二、 in one).
    Joined {
        en: Vec<u32>,
        zh: Vec<u32>,
        score: f64,
    },
    EnOnly {
        en: u32,
        asker: String,
    },
    ZhOnly {
        zh: u32,
        asker: String,
    },
}

/// The pairing of one day's English and Chinese transcripts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pairing {
    pub date: Option<NaiveDate>,
    pub en_url: String,
    pub zh_url: String,
    pub rows: Vec<PairRow>,
    pub paired: u32,
    /// Rows where two exchanges of one language correspond to one of the other.
    pub joined: u32,
    pub en_only: u32,
    pub zh_only: u32,
}

impl Pairing {
    /// Every exchange of each language found its counterpart (joined rows included).
    pub fn is_complete(&self) -> bool {
        self.en_only == 0 && self.zh_only == 0
    }
}

/// What an exchange offers for cross-language matching.
struct Traits {
    outlet: Option<&'static str>,
    length: f64,
    /// Numbers of two or more digits and Latin acronyms: they survive translation.
    anchors: BTreeSet<String>,
}

fn traits(exchange: &Exchange, count_cjk: bool) -> Traits {
    let mut text = String::new();
    for paragraph in exchange.question.iter().chain(&exchange.answer) {
        push_compatibility_folded(paragraph, &mut text);
    }
    let mut length = 0;
    let mut anchors = BTreeSet::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        let is_number = current.chars().all(|c| c.is_ascii_digit());
        let is_acronym = current
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if current.len() >= 2 && (is_number || is_acronym) {
            anchors.insert(std::mem::take(current));
        }
        current.clear();
    };
    let counted: fn(char) -> bool = if count_cjk {
        is_cjk
    } else {
        char::is_alphanumeric
    };
    for (index, c) in text.char_indices() {
        if counted(c) {
            length += 1;
        }
        if c.is_ascii_alphanumeric() {
            current.push(c);
        } else if c == ','
            && !current.is_empty()
            && current.chars().all(|d| d.is_ascii_digit())
            && text
                .as_bytes()
                .get(index + 1)
                .is_some_and(u8::is_ascii_digit)
        {
            // "2,500": a thousands separator, not a boundary.
        } else {
            flush(&mut current);
        }
    }
    flush(&mut current);
    Traits {
        outlet: outlet_of(&exchange.asker),
        length: length.max(1) as f64,
        anchors,
    }
}

/// Appends `text` with compatibility forms folded as NFKC folds them, character by character.
/// Full-width digits and Latin letters (the forms that matter for counting and anchors) and the
/// text around them take a fast path: normalizing whole answers cost more than pairing them.
fn push_compatibility_folded(text: &str, out: &mut String) {
    if text.is_ascii() {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c as u32 {
            0xFF01..=0xFF5E => out.push(char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)),
            _ if c.is_ascii() || is_cjk(c) => out.push(c),
            _ => out.extend(std::iter::once(c).nfkc()),
        }
    }
}

const GAP: f64 = -1.0;
/// Cost of reading two exchanges of one language as one of the other: only worth it when the
/// joined pair fits clearly better than a pair plus a gap.
const JOIN: f64 = 1.5;

/// Outlets the two languages' transcripts label interchangeably: the English edition names the
/// Rossiya Segodnya journalist "RIA Novosti" where the Chinese says 今日俄罗斯 or 俄罗斯卫星通讯社, and
/// mixes up the channels of 中央广播电视总台 (seen in the 2020 corpus).
fn family(outlet: &str) -> &str {
    match outlet {
        "RIA Novosti" | "RT" | "Sputnik" => "Rossiya Segodnya",
        "CCTV" | "CNR" | "CRI" | "CGTN" => "China Media Group",
        other => other,
    }
}

fn pair_score(en: &Traits, zh: &Traits, ratio: f64) -> f64 {
    let mut score = 0.0;
    match (en.outlet, zh.outlet) {
        (Some(a), Some(b)) if a == b => score += 3.0,
        (Some(a), Some(b)) if family(a) == family(b) => score += 1.0,
        (Some(_), Some(_)) => score -= 2.0,
        _ => {}
    }
    let deviation = ((zh.length / en.length) / ratio).ln().abs();
    score += (1.5 - 1.5 * deviation / std::f64::consts::LN_2).max(-3.0);
    if !en.anchors.is_empty() && !zh.anchors.is_empty() {
        let common = en.anchors.intersection(&zh.anchors).count() as f64;
        let all = en.anchors.union(&zh.anchors).count() as f64;
        score += 2.0 * common / all;
    }
    score
}

/// Two consecutive exchanges read as one: a follow-up the other language folds into its question.
fn joined(first: &Traits, second: &Traits) -> Traits {
    Traits {
        outlet: match (first.outlet, second.outlet) {
            (a, None) => a,
            (a, b) if a == b => a,
            // Two different outlets cannot be one exchange of the other language.
            _ => Some("(two outlets)"),
        },
        length: first.length + second.length,
        anchors: first.anchors.union(&second.anchors).cloned().collect(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Start,
    Pair,
    EnOnly,
    ZhOnly,
    /// Two English exchanges for one Chinese.
    JoinEn,
    /// One English exchange for two Chinese.
    JoinZh,
}

/// An exchange left over in each language, asked by the same known outlet and of fitting length,
/// is one exchange the two transcripts put in different places: pair it where the English has it.
fn pair_out_of_order(
    rows: &mut Vec<PairRow>,
    en: &Briefing,
    zh: &Briefing,
    en_traits: &[Traits],
    zh_traits: &[Traits],
    ratio: f64,
) {
    let index_of = |list: &[Exchange], ordinal: u32| list.iter().position(|e| e.ordinal == ordinal);
    let mut index = 0;
    while index < rows.len() {
        let PairRow::EnOnly { en: en_ordinal, .. } = rows[index] else {
            index += 1;
            continue;
        };
        let Some(e) = index_of(&en.exchanges, en_ordinal) else {
            index += 1;
            continue;
        };
        let candidate = rows.iter().enumerate().find_map(|(position, row)| {
            let PairRow::ZhOnly { zh: zh_ordinal, .. } = row else {
                return None;
            };
            let z = index_of(&zh.exchanges, *zh_ordinal)?;
            let same_outlet =
                en_traits[e].outlet.is_some() && en_traits[e].outlet == zh_traits[z].outlet;
            let score = pair_score(&en_traits[e], &zh_traits[z], ratio);
            (same_outlet && score >= 3.0).then_some((position, z, score))
        });
        let Some((position, z, score)) = candidate else {
            index += 1;
            continue;
        };
        rows[index] = PairRow::Paired {
            en: en_ordinal,
            zh: zh.exchanges[z].ordinal,
            en_asker: en.exchanges[e].asker.clone(),
            zh_asker: zh.exchanges[z].asker.clone(),
            outlet: en_traits[e].outlet.map(str::to_string),
            score: (score * 100.0).round() / 100.0,
            out_of_order: true,
        };
        rows.remove(position);
        if position < index {
            index -= 1;
        }
        index += 1;
    }
}

/// Aligns the exchanges of one day's English and Chinese transcripts.
pub fn pair(en: &Briefing, zh: &Briefing) -> Pairing {
    let en_traits: Vec<Traits> = en.exchanges.iter().map(|e| traits(e, false)).collect();
    let zh_traits: Vec<Traits> = zh.exchanges.iter().map(|e| traits(e, true)).collect();
    // The day's own translation density, so that a terse interpreter does not skew every pair.
    let en_total: f64 = en_traits.iter().map(|t| t.length).sum();
    let zh_total: f64 = zh_traits.iter().map(|t| t.length).sum();
    let ratio = if en_total > 0.0 && zh_total > 0.0 {
        zh_total / en_total
    } else {
        0.35
    };

    // Each two consecutive exchanges read as one, made once rather than for every cell.
    let en_joined: Vec<Traits> = en_traits.windows(2).map(|w| joined(&w[0], &w[1])).collect();
    let zh_joined: Vec<Traits> = zh_traits.windows(2).map(|w| joined(&w[0], &w[1])).collect();

    let (n, m) = (en_traits.len(), zh_traits.len());
    let mut score = vec![vec![(0.0f64, Step::Start, 0.0f64); m + 1]; n + 1];
    for i in 0..=n {
        for j in 0..=m {
            if i == 0 && j == 0 {
                continue;
            }
            let mut best = (f64::NEG_INFINITY, Step::Start, 0.0);
            let mut consider = |total: f64, step: Step, local: f64| {
                if total > best.0 {
                    best = (total, step, local);
                }
            };
            if i > 0 && j > 0 {
                let local = pair_score(&en_traits[i - 1], &zh_traits[j - 1], ratio);
                consider(score[i - 1][j - 1].0 + local, Step::Pair, local);
            }
            if i > 0 {
                consider(score[i - 1][j].0 + GAP, Step::EnOnly, GAP);
            }
            if j > 0 {
                consider(score[i][j - 1].0 + GAP, Step::ZhOnly, GAP);
            }
            if i > 1 && j > 0 {
                let local = pair_score(&en_joined[i - 2], &zh_traits[j - 1], ratio) - JOIN;
                consider(score[i - 2][j - 1].0 + local, Step::JoinEn, local);
            }
            if i > 0 && j > 1 {
                let local = pair_score(&en_traits[i - 1], &zh_joined[j - 2], ratio) - JOIN;
                consider(score[i - 1][j - 2].0 + local, Step::JoinZh, local);
            }
            score[i][j] = best;
        }
    }

    let mut rows = Vec::new();
    let (mut i, mut j) = (n, m);
    let rounded = |value: f64| (value * 100.0).round() / 100.0;
    while i > 0 || j > 0 {
        let (_, step, local) = score[i][j];
        match step {
            Step::Pair => {
                let (a, b) = (&en.exchanges[i - 1], &zh.exchanges[j - 1]);
                let outlet = match (en_traits[i - 1].outlet, zh_traits[j - 1].outlet) {
                    (Some(x), Some(y)) if x == y => Some(x.to_string()),
                    _ => None,
                };
                rows.push(PairRow::Paired {
                    en: a.ordinal,
                    zh: b.ordinal,
                    en_asker: a.asker.clone(),
                    zh_asker: b.asker.clone(),
                    outlet,
                    score: rounded(local),
                    out_of_order: false,
                });
                i -= 1;
                j -= 1;
            }
            Step::EnOnly => {
                let exchange = &en.exchanges[i - 1];
                rows.push(PairRow::EnOnly {
                    en: exchange.ordinal,
                    asker: exchange.asker.clone(),
                });
                i -= 1;
            }
            Step::ZhOnly => {
                let exchange = &zh.exchanges[j - 1];
                rows.push(PairRow::ZhOnly {
                    zh: exchange.ordinal,
                    asker: exchange.asker.clone(),
                });
                j -= 1;
            }
            Step::JoinEn => {
                rows.push(PairRow::Joined {
                    en: vec![en.exchanges[i - 2].ordinal, en.exchanges[i - 1].ordinal],
                    zh: vec![zh.exchanges[j - 1].ordinal],
                    score: rounded(local),
                });
                i -= 2;
                j -= 1;
            }
            Step::JoinZh => {
                rows.push(PairRow::Joined {
                    en: vec![en.exchanges[i - 1].ordinal],
                    zh: vec![zh.exchanges[j - 2].ordinal, zh.exchanges[j - 1].ordinal],
                    score: rounded(local),
                });
                i -= 1;
                j -= 2;
            }
            Step::Start => break,
        }
    }
    rows.reverse();
    pair_out_of_order(&mut rows, en, zh, &en_traits, &zh_traits, ratio);

    let mut pairing = Pairing {
        date: en.date.or(zh.date),
        en_url: en.url.clone(),
        zh_url: zh.url.clone(),
        rows,
        paired: 0,
        joined: 0,
        en_only: 0,
        zh_only: 0,
    };
    for row in &pairing.rows {
        match row {
            PairRow::Paired { .. } => pairing.paired += 1,
            PairRow::Joined { .. } => pairing.joined += 1,
            PairRow::EnOnly { .. } => pairing.en_only += 1,
            PairRow::ZhOnly { .. } => pairing.zh_only += 1,
        }
    }
    pairing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_folding_agrees_with_nfkc() {
        for text in [
            "Plain ASCII, 2,500 tons.",
            "美方在ＷＨＯ问题上：第２０２０号决议，“一带一路”。",
            "①\u{3000}ﬁnal ＡＰ report",
            "台湾ＮＨＫ记者",
        ] {
            let mut folded = String::new();
            push_compatibility_folded(text, &mut folded);
            assert_eq!(folded, text.nfkc().collect::<String>(), "{text}");
        }
    }

    #[test]
    fn outlets_map_across_languages() {
        assert_eq!(outlet_of("CCTV"), Some("CCTV"));
        assert_eq!(outlet_of("中央广播电视总台央视记者"), Some("CCTV"));
        assert_eq!(outlet_of("中央电视台"), Some("CCTV"));
        assert_eq!(outlet_of("《环球时报》记者"), Some("Global Times"));
        assert_eq!(outlet_of("The Global Times"), Some("Global Times"));
        assert_eq!(outlet_of("加拿大《环球邮报》"), Some("The Globe and Mail"));
        assert_eq!(outlet_of("英国独立电视台和英国广播公司"), Some("ITN&BBC"));
        assert_eq!(outlet_of("Q"), None);
        assert_eq!(outlet_of("问"), None);
        assert_eq!(outlet_of("the paper"), Some("The Paper"));
        assert_eq!(outlet_of("Paper"), Some("The Paper"));
        assert_eq!(outlet_of("REUTERS TV"), Some("Reuters"));
        assert!(
            OUTLETS
                .iter()
                .all(|(english, _)| english.iter().all(|name| name.is_ascii())),
            "English names are compared ASCII-case-insensitively"
        );
    }
}
