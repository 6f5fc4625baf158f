//! "Did you mean …?" for misspelt keys and values.

/// The candidate closest to `word`, if it is close enough to be a likely typo:
/// a case-only difference, or an edit distance (insert, delete, substitute,
/// swap two neighbours) of at most 1 for short words, 2 from 5 characters, 3
/// from 9.
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    // Long inputs are not typos of our short names; also bounds the O(n·m) cost.
    if word.chars().count() > 40 {
        return None;
    }
    if let Some(same) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &'c str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&lower, candidate);
        let allowed = match candidate.chars().count() {
            0..=4 => 1,
            5..=8 => 2,
            _ => 3,
        };
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance (Damerau–Levenshtein without repeated
/// edits of one substring): typos are mostly one swap or one missing letter.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    for (i, row) in table.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1)
                .min(table[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE_KEYS: &[&str] = &["proto", "port", "action", "source", "rate_limit", "comment"];

    #[test]
    fn suggests_likely_typos_only() {
        assert_eq!(closest("sorce", RULE_KEYS), Some("source"));
        assert_eq!(closest("Source", RULE_KEYS), Some("source"));
        assert_eq!(closest("protocol", RULE_KEYS), None);
        assert_eq!(closest("prot", RULE_KEYS), Some("proto"));
        assert_eq!(closest("acton", RULE_KEYS), Some("action"));
        assert_eq!(closest("ratelimit", RULE_KEYS), Some("rate_limit"));
        assert_eq!(closest("tpc", &["tcp", "udp"]), Some("tcp"));
        assert_eq!(closest("xyz", RULE_KEYS), None);
        assert_eq!(closest(&"s".repeat(100), RULE_KEYS), None);
    }

    #[test]
    fn distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("tpc", "tcp"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
