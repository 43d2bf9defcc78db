//! Text helpers shared by every message: lists of names, and "did you mean" suggestions.

/// "`a`, `b` and `c`".
pub fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{s}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// "did you mean `x`?" for the closest candidate, if any is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower: Vec<char> = word.to_lowercase().chars().collect();
    let length = word.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let limit = (length.max(c.chars().count()) / 3).max(1);
        let other: Vec<char> = c.to_lowercase().chars().collect();
        // A spec checked against every bundle of its project asks about each of its inputs:
        // the distance is computed only as far as it matters.
        let Some(d) = edit_distance(&lower, &other, limit) else {
            continue;
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions) when it is
/// at most `limit`: only the cells within `limit` of the diagonal are computed (any other is
/// further than `limit`, as far as the lengths differ).
fn edit_distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    // Inputs are names; cap the work for hostile lengths.
    if a.len() > 256 || b.len() > 256 || a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let far = limit + 1;
    let width = b.len() + 1;
    let mut d = vec![far; (a.len() + 1) * width];
    for (j, cell) in d[..width].iter_mut().enumerate().take(far) {
        *cell = j;
    }
    for i in 1..=a.len() {
        if i <= limit {
            d[i * width] = i;
        }
        for j in i.saturating_sub(limit).max(1)..=(i + limit).min(b.len()) {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best.min(far);
        }
    }
    Some(d[a.len() * width + b.len()]).filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance by its definition, one recursion per edit, for short words.
    fn by_definition(a: &[char], b: &[char]) -> usize {
        match (a, b) {
            ([], _) => b.len(),
            (_, []) => a.len(),
            ([.., x], [.., y]) => {
                let (ra, rb) = (&a[..a.len() - 1], &b[..b.len() - 1]);
                let mut d = (by_definition(ra, b) + 1)
                    .min(by_definition(a, rb) + 1)
                    .min(by_definition(ra, rb) + usize::from(x != y));
                if a.len() > 1 && b.len() > 1 && a[a.len() - 2] == *y && b[b.len() - 2] == *x {
                    d = d.min(by_definition(&a[..a.len() - 2], &b[..b.len() - 2]) + 1);
                }
                d
            }
        }
    }

    #[test]
    fn the_distance_within_a_limit_is_the_definitions() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "cab", "port", "prot", "ports", "vpc", "vcp",
            "size", "sizes", "zise", "name", "naem", "İd", "abcdef", "badcfe", "fedcba",
        ];
        for a in words {
            for b in words {
                let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                let d = by_definition(&a, &b);
                for limit in 0..5 {
                    let within = (d <= limit).then_some(d);
                    assert_eq!(edit_distance(&a, &b, limit), within, "{a:?} {b:?} {limit}");
                }
            }
        }
    }

    #[test]
    fn suggestions_are_the_closest_likely_typo() {
        let inputs = ["instance_type", "desired_count", "port", "vpc_cidr"];
        assert_eq!(did_you_mean("instance_tpye", inputs), Some("instance_type"));
        assert_eq!(did_you_mean("Port", inputs), Some("port"));
        assert_eq!(did_you_mean("prot", inputs), Some("port"));
        assert_eq!(did_you_mean("desired", inputs), None);
        assert_eq!(did_you_mean("cpu", inputs), None);
        assert_eq!(did_you_mean("vpc_cidrs", inputs), Some("vpc_cidr"));
    }
}
