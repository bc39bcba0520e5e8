//! Aligns the exchanges of two revisions by content: exact matches first, then the most similar
//! pairs, then splits and merges by containment; the longest in-order run tells moved from in place.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::text::{canonical, is_cjk, tokenize};
use crate::model::Exchange;

/// Content fingerprint of one exchange.
pub(crate) struct Fingerprint {
    pub asker: String,
    /// Hash of the canonical asker, question and answer: equal means cosmetically equal.
    pub key: u64,
    /// Sorted, deduplicated hashes of consecutive word pairs (Latin words, Han characters).
    pub shingles: Vec<u64>,
}

fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The canonical text an exchange is compared by.
pub(crate) fn exchange_text(exchange: &Exchange) -> String {
    let mut text = String::new();
    for paragraph in exchange.question.iter().chain(&exchange.answer) {
        text.push_str(paragraph);
        text.push('\n');
    }
    text
}

/// FNV-1a over the lowercased characters of a token: shingles are hashed by the thousand, and
/// this needs neither an allocation nor SipHash's setup per token.
fn unit_hash(token: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for c in token.chars().flat_map(char::to_lowercase) {
        hash ^= c as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Hashes of the word units (Latin words, Han characters) of canonical text.
fn unit_hashes(canonical_text: &str) -> Vec<u64> {
    tokenize(canonical_text)
        .into_iter()
        .filter(|token| {
            token
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || is_cjk(c))
        })
        .map(unit_hash)
        .collect()
}

pub(crate) fn shingles_of_canonical(canonical_text: &str) -> Vec<u64> {
    let units = unit_hashes(canonical_text);
    let mut shingles: Vec<u64> = if units.len() < 2 {
        units
    } else {
        units
            .windows(2)
            .map(|pair| pair[0].rotate_left(29) ^ pair[1].wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect()
    };
    shingles.sort_unstable();
    shingles.dedup();
    shingles
}

pub(crate) fn fingerprint(exchange: &Exchange) -> Fingerprint {
    let canonical_text = canonical(&exchange_text(exchange));
    let asker = canonical(&exchange.asker);
    let key = hash_of(&(&asker, &canonical_text));
    Fingerprint {
        asker,
        key,
        shingles: shingles_of_canonical(&canonical_text),
    }
}

fn intersection_size(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                count += 1;
                i += 1;
                j += 1;
            }
        }
    }
    count
}

pub(crate) fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = intersection_size(a, b);
    common as f64 / (a.len() + b.len() - common) as f64
}

/// Share of `part` found in `whole`.
fn containment(part: &[u64], whole: &[u64]) -> f64 {
    if part.is_empty() {
        return 0.0;
    }
    intersection_size(part, whole) as f64 / part.len() as f64
}

fn union(sets: &[&[u64]]) -> Vec<u64> {
    let mut all: Vec<u64> = sets.iter().flat_map(|set| set.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// How old and new exchanges (by index) correspond.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Alignment {
    /// One-to-one pairs `(old, new, moved)`.
    pub pairs: Vec<(usize, usize, bool)>,
    /// One old exchange became several consecutive new ones.
    pub splits: Vec<(usize, Vec<usize>)>,
    /// Several consecutive old exchanges became one new one.
    pub merges: Vec<(Vec<usize>, usize)>,
    pub removed: Vec<usize>,
    pub added: Vec<usize>,
}

/// Below this many shingles a part is too short to be recognized inside another exchange.
const MIN_PART_SHINGLES: usize = 3;

pub(crate) fn align(
    old: &[Exchange],
    new: &[Exchange],
    match_threshold: f64,
    containment_threshold: f64,
) -> Alignment {
    // Fingerprints (canonical folding, shingles) cost most of a diff; most exchanges of a revision
    // are untouched and matched by their raw text, so fingerprints are made only when asked for.
    let old_cells: Vec<OnceCell<Fingerprint>> = old.iter().map(|_| OnceCell::new()).collect();
    let new_cells: Vec<OnceCell<Fingerprint>> = new.iter().map(|_| OnceCell::new()).collect();
    let old_print = |i: usize| old_cells[i].get_or_init(|| fingerprint(&old[i]));
    let new_print = |i: usize| new_cells[i].get_or_init(|| fingerprint(&new[i]));
    let mut old_to_new: Vec<Option<usize>> = vec![None; old.len()];
    let mut new_to_old: Vec<Option<usize>> = vec![None; new.len()];

    // Exact matches, raw then canonical, in order, so duplicates pair up first with first.
    let raw_key =
        |exchange: &Exchange| hash_of(&(&exchange.asker, &exchange.question, &exchange.answer));
    let mut by_raw: HashMap<u64, Vec<usize>> = HashMap::new();
    for (index, exchange) in new.iter().enumerate().rev() {
        by_raw.entry(raw_key(exchange)).or_default().push(index);
    }
    for (old_index, exchange) in old.iter().enumerate() {
        let Some(new_index) = by_raw.get_mut(&raw_key(exchange)).and_then(Vec::pop) else {
            continue;
        };
        old_to_new[old_index] = Some(new_index);
        new_to_old[new_index] = Some(old_index);
    }
    let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
    for index in (0..new.len()).rev() {
        if new_to_old[index].is_none() {
            by_key.entry(new_print(index).key).or_default().push(index);
        }
    }
    for old_index in (0..old.len())
        .filter(|&i| old_to_new[i].is_none())
        .collect::<Vec<_>>()
    {
        let Some(new_index) = by_key.get_mut(&old_print(old_index).key).and_then(Vec::pop) else {
            continue;
        };
        old_to_new[old_index] = Some(new_index);
        new_to_old[new_index] = Some(old_index);
    }

    // The most similar remaining pairs, best first, nearest position breaking ties.
    let mut candidates: Vec<(f64, usize, usize, usize)> = Vec::new();
    let unmatched_new = (0..new.len())
        .filter(|&i| new_to_old[i].is_none())
        .collect::<Vec<_>>();
    for old_index in (0..old.len())
        .filter(|&i| old_to_new[i].is_none())
        .collect::<Vec<_>>()
    {
        let old_print = old_print(old_index);
        for &new_index in &unmatched_new {
            let new_print = new_print(new_index);
            let mut score = jaccard(&old_print.shingles, &new_print.shingles);
            if old_print.asker == new_print.asker {
                score += 0.05;
            }
            if score >= match_threshold {
                candidates.push((score, old_index.abs_diff(new_index), old_index, new_index));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, old_index, new_index) in candidates {
        if old_to_new[old_index].is_none() && new_to_old[new_index].is_none() {
            old_to_new[old_index] = Some(new_index);
            new_to_old[new_index] = Some(old_index);
        }
    }

    let mut alignment = Alignment::default();
    let mut in_group_old = vec![false; old.len()];
    let mut in_group_new = vec![false; new.len()];

    // Splits: unmatched new exchanges that are mostly made of one old exchange.
    let mut parts_of_old: HashMap<usize, Vec<usize>> = HashMap::new();
    for new_index in (0..new.len())
        .filter(|&i| new_to_old[i].is_none())
        .collect::<Vec<_>>()
    {
        let print = new_print(new_index);
        if print.shingles.len() < MIN_PART_SHINGLES {
            continue;
        }
        // A part sits next to the rest of its exchange: the old exchange matched by a neighbour,
        // or one left unmatched.
        let neighbours = [new_index.checked_sub(1), Some(new_index + 1)]
            .into_iter()
            .flatten()
            .filter_map(|n| new_to_old.get(n).copied().flatten());
        let candidates = neighbours.chain((0..old.len()).filter(|&o| old_to_new[o].is_none()));
        if let Some(old_index) = best_container(
            &print.shingles,
            candidates,
            old_print,
            containment_threshold,
        ) {
            parts_of_old.entry(old_index).or_default().push(new_index);
        }
    }
    alignment.splits = confirm_groups(
        &parts_of_old,
        GroupSide {
            to_other: &mut old_to_new,
            in_group: &mut in_group_old,
            print: &old_print,
        },
        GroupSide {
            to_other: &mut new_to_old,
            in_group: &mut in_group_new,
            print: &new_print,
        },
        match_threshold,
    );

    // Merges: unmatched old exchanges that are mostly found in one new exchange.
    let mut parts_of_new: HashMap<usize, Vec<usize>> = HashMap::new();
    for old_index in 0..old.len() {
        if old_to_new[old_index].is_some() || in_group_old[old_index] {
            continue;
        }
        let print = old_print(old_index);
        if print.shingles.len() < MIN_PART_SHINGLES {
            continue;
        }
        let neighbours = [old_index.checked_sub(1), Some(old_index + 1)]
            .into_iter()
            .flatten()
            .filter_map(|o| old_to_new.get(o).copied().flatten());
        let candidates = neighbours.chain((0..new.len()).filter(|&n| new_to_old[n].is_none()));
        let container = best_container(
            &print.shingles,
            candidates,
            new_print,
            containment_threshold,
        );
        if let Some(new_index) = container.filter(|&n| !in_group_new[n]) {
            parts_of_new.entry(new_index).or_default().push(old_index);
        }
    }
    alignment.merges = confirm_groups(
        &parts_of_new,
        GroupSide {
            to_other: &mut new_to_old,
            in_group: &mut in_group_new,
            print: &new_print,
        },
        GroupSide {
            to_other: &mut old_to_new,
            in_group: &mut in_group_old,
            print: &old_print,
        },
        match_threshold,
    )
    .into_iter()
    .map(|(new_index, parts)| (parts, new_index))
    .collect();

    // Moved: pairs outside the longest run that keeps its relative order.
    let pairs: Vec<(usize, usize)> = old_to_new
        .iter()
        .enumerate()
        .filter_map(|(o, n)| n.map(|n| (o, n)))
        .collect();
    let in_order = longest_increasing(&pairs.iter().map(|&(_, n)| n).collect::<Vec<_>>());
    alignment.pairs = pairs
        .iter()
        .enumerate()
        .map(|(index, &(o, n))| (o, n, !in_order[index]))
        .collect();
    alignment.removed = (0..old.len())
        .filter(|&o| old_to_new[o].is_none() && !in_group_old[o])
        .collect();
    alignment.added = (0..new.len())
        .filter(|&n| new_to_old[n].is_none() && !in_group_new[n])
        .collect();
    alignment
}

/// One side of the alignment while groups are confirmed: its matches to the other side, which
/// of its exchanges are in a group already, and its fingerprints.
struct GroupSide<'s, 'p> {
    to_other: &'s mut [Option<usize>],
    in_group: &'s mut [bool],
    print: &'s dyn Fn(usize) -> &'p Fingerprint,
}

/// Confirms candidate groups: `parts_of[whole]` are exchanges of the other side that each look
/// like a piece of `whole`. A group stands when its parts, with whatever `whole` was matched to,
/// are consecutive and joined match `whole` at least at `match_threshold` and better than that
/// match alone; the group then replaces the match. Returns the groups as (whole, parts).
fn confirm_groups(
    parts_of: &HashMap<usize, Vec<usize>>,
    whole_side: GroupSide<'_, '_>,
    part_side: GroupSide<'_, '_>,
    match_threshold: f64,
) -> Vec<(usize, Vec<usize>)> {
    let mut wholes: Vec<usize> = parts_of.keys().copied().collect();
    wholes.sort_unstable();
    let mut confirmed = Vec::new();
    for whole in wholes {
        let mut parts = parts_of[&whole].clone();
        let previous = whole_side.to_other[whole];
        parts.extend(previous);
        parts.sort_unstable();
        if !is_consecutive(&parts) {
            continue;
        }
        let sets: Vec<&[u64]> = parts
            .iter()
            .map(|&i| (part_side.print)(i).shingles.as_slice())
            .collect();
        let whole_shingles = &(whole_side.print)(whole).shingles;
        let joined = jaccard(whole_shingles, &union(&sets));
        let alone = previous.map_or(0.0, |p| {
            jaccard(whole_shingles, &(part_side.print)(p).shingles)
        });
        if joined >= match_threshold && joined > alone {
            if let Some(p) = previous {
                part_side.to_other[p] = None;
            }
            whole_side.to_other[whole] = None;
            whole_side.in_group[whole] = true;
            for &part in &parts {
                part_side.in_group[part] = true;
            }
            confirmed.push((whole, parts));
        }
    }
    confirmed
}

fn best_container<'a>(
    part: &[u64],
    candidates: impl Iterator<Item = usize>,
    whole: impl Fn(usize) -> &'a Fingerprint,
    threshold: f64,
) -> Option<usize> {
    candidates
        .map(|index| (containment(part, &whole(index).shingles), index))
        .filter(|(score, _)| *score >= threshold)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, index)| index)
}

fn is_consecutive(sorted: &[usize]) -> bool {
    sorted.len() >= 2 && sorted.windows(2).all(|pair| pair[1] == pair[0] + 1)
}

/// Marks the members of one longest strictly increasing subsequence.
pub(crate) fn longest_increasing(values: &[usize]) -> Vec<bool> {
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; values.len()];
    for (index, &value) in values.iter().enumerate() {
        let position = tails.partition_point(|&tail| values[tail] < value);
        if position > 0 {
            previous[index] = Some(tails[position - 1]);
        }
        if position == tails.len() {
            tails.push(index);
        } else {
            tails[position] = index;
        }
    }
    let mut member = vec![false; values.len()];
    let mut cursor = tails.last().copied();
    while let Some(index) = cursor {
        member[index] = true;
        cursor = previous[index];
    }
    member
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(ordinal: u32, asker: &str, question: &str, answer: &str) -> Exchange {
        Exchange {
            ordinal,
            asker: asker.into(),
            question: vec![question.into()],
            answer: answer.split('|').map(String::from).collect(),
            after_conference: false,
        }
    }

    fn sample() -> Vec<Exchange> {
        vec![
            exchange(
                1,
                "CCTV",
                "What is your comment on the statement by Laos and Vietnam about the law?",
                "China highly applauds Laos and Vietnam for their staunch support.",
            ),
            exchange(
                2,
                "AFP",
                "Can you confirm the visit of the Belgian delegation next week?",
                "I have no information to offer at the moment.|Please follow the official announcements.",
            ),
            exchange(
                3,
                "Reuters",
                "The United States announced new sanctions on Chinese firms today.",
                "We firmly oppose the unilateral sanctions and will take necessary measures.",
            ),
            exchange(
                4,
                "Bloomberg",
                "India banned more than fifty Chinese apps this week. Any response?",
                "China is seriously concerned and firmly opposes the move.",
            ),
        ]
    }

    #[test]
    fn move_is_detected_by_order() {
        let old = sample();
        let new = vec![
            old[0].clone(),
            old[2].clone(),
            old[3].clone(),
            old[1].clone(),
        ];
        let alignment = align(&old, &new, 0.4, 0.8);
        assert_eq!(
            alignment.pairs,
            vec![(0, 0, false), (1, 3, true), (2, 1, false), (3, 2, false)]
        );
        assert!(alignment.added.is_empty() && alignment.removed.is_empty());
    }

    #[test]
    fn split_and_merge_are_recognized() {
        let old = sample();
        let mut first = old[1].clone();
        first.answer.truncate(1);
        let second = Exchange {
            asker: "Follow-up".into(),
            question: vec!["Will the Belgian delegation meet the foreign minister?".into()],
            answer: vec!["Please follow the official announcements.".into()],
            ..old[1].clone()
        };
        let mut combined = old[1].clone();
        combined.question.push(second.question[0].clone());
        let new = vec![
            old[0].clone(),
            first.clone(),
            second.clone(),
            old[2].clone(),
            old[3].clone(),
        ];
        let alignment = align(
            &[
                old[0].clone(),
                combined.clone(),
                old[2].clone(),
                old[3].clone(),
            ],
            &new,
            0.4,
            0.8,
        );
        assert_eq!(alignment.splits, vec![(1, vec![1, 2])]);
        assert!(
            alignment.added.is_empty() && alignment.removed.is_empty(),
            "{alignment:?}"
        );

        let back = align(
            &new,
            &[old[0].clone(), combined, old[2].clone(), old[3].clone()],
            0.4,
            0.8,
        );
        assert_eq!(back.merges, vec![(vec![1, 2], 1)]);
        assert!(back.added.is_empty() && back.removed.is_empty(), "{back:?}");
    }

    #[test]
    fn longest_increasing_marks_one_run() {
        assert_eq!(
            longest_increasing(&[0, 3, 1, 2]),
            vec![true, false, true, true]
        );
    }
}
