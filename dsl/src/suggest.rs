//! "Did you mean" suggestions by edit distance.

/// The edit distance between two strings (in characters): insertions, deletions,
/// substitutions and swaps of two neighbouring characters each count 1 (optimal string
/// alignment), so `cots` is one edit from `cost`.
#[cfg(test)]
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance_within(&a, &b, a.len().max(b.len())).unwrap_or(usize::MAX)
}

/// The edit distance of [`levenshtein`] if it is at most `bound`, else `None`. Stops as
/// soon as two rows in a row exceed the bound: no later row can come back under it.
fn distance_within(a: &[char], b: &[char], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let w = b.len() + 1;
    // Rows i-2, i-1 and i of the table.
    let mut before: Vec<usize> = vec![0; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut row: Vec<usize> = vec![0; w];
    let mut prev_min = 0;
    for (i, &ca) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut best = (prev[j + 1] + 1).min(row[j] + 1).min(prev[j] + cost);
            if i > 0 && j > 0 && Some(&ca) == b.get(j - 1) && a.get(i - 1) == Some(&cb) {
                best = best.min(before[j - 1] + 1);
            }
            row[j + 1] = best;
        }
        let row_min = row.iter().copied().min().unwrap_or(0);
        if row_min > bound && prev_min > bound {
            return None;
        }
        prev_min = row_min;
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    prev.last().copied().filter(|&d| d <= bound)
}

/// The candidate closest to `name`, if it is close enough to be a likely typo: at most a
/// third of the name's length (at least 1, at most 3 edits), or equal ignoring case and
/// `_`/`-`. Ties go to the earlier candidate, so suggestions are deterministic.
pub(crate) fn closest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    fn squash(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
    }
    let chars: Vec<char> = name.chars().collect();
    let limit = (chars.len() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    let mut other: Vec<char> = Vec::new();
    for cand in candidates {
        if cand == name {
            continue;
        }
        // Only a closer candidate than the best so far can replace it.
        let Some(bound) = best.map_or(Some(limit), |(d, _)| d.checked_sub(1)) else {
            break;
        };
        let d = if squash(cand).eq(squash(name)) {
            Some(0)
        } else {
            other.clear();
            other.extend(cand.chars());
            distance_within(&chars, &other, bound)
        };
        if let Some(d) = d {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("chanel", "channel"), 1);
        assert_eq!(levenshtein("cots", "cost"), 1);
        assert_eq!(levenshtein("abcdef", "badcfe"), 3);
        assert_eq!(levenshtein("ca", "abc"), 3);
    }

    /// The bounded distance agrees with the full one wherever it answers.
    #[test]
    fn bounded_distance() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "cost", "cots", "channel", "chanel",
        ];
        for a in words {
            for b in words {
                let full = levenshtein(a, b);
                let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                for bound in 0..8 {
                    let want = (full <= bound).then_some(full);
                    assert_eq!(distance_within(&x, &y, bound), want, "{a:?} {b:?} {bound}");
                }
            }
        }
    }

    #[test]
    fn suggestions() {
        let names = ["channel", "customer_tier", "value"];
        assert_eq!(closest("chanel", names), Some("channel"));
        assert_eq!(closest("CustomerTier", names), Some("customer_tier"));
        assert_eq!(closest("xyz", names), None);
        // Ties go to the first; a closer later candidate wins.
        assert_eq!(closest("cst", ["cast", "cost", "cst_"]), Some("cst_"));
        assert_eq!(closest("cst", ["cast", "cost"]), Some("cast"));
    }
}
