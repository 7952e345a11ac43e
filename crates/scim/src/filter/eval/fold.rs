//! Case-insensitive string matching for attributes that are not `caseExact`: Unicode
//! lowercase on both sides (not full case folding, so `ß` does not match `SS`), with an
//! ASCII fast path.

use std::cmp::Ordering;

/// The Unicode lowercase chars of `text`.
fn fold(text: &str) -> impl DoubleEndedIterator<Item = char> + Clone + '_ {
    text.chars().flat_map(char::to_lowercase)
}

pub(super) fn eq_fold(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold(a).eq(fold(b))
    }
}

pub(super) fn cmp_fold(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        fold(a).cmp(fold(b))
    }
}

/// Whether `haystack` starts with all of `needle`'s chars, both iterators.
fn iter_starts_with(
    mut haystack: impl Iterator<Item = char>,
    needle: impl Iterator<Item = char>,
) -> bool {
    needle.into_iter().all(|c| haystack.next() == Some(c))
}

pub(super) fn starts_with_fold(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        haystack
            .as_bytes()
            .get(..needle.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(needle.as_bytes()))
    } else {
        iter_starts_with(fold(haystack), fold(needle))
    }
}

pub(super) fn ends_with_fold(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        haystack
            .len()
            .checked_sub(needle.len())
            .is_some_and(|start| {
                haystack.as_bytes()[start..].eq_ignore_ascii_case(needle.as_bytes())
            })
    } else {
        iter_starts_with(fold(haystack).rev(), fold(needle).rev())
    }
}

pub(super) fn contains_fold(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()));
    }
    let mut rest = fold(haystack);
    loop {
        if iter_starts_with(rest.clone(), fold(needle)) {
            return true;
        }
        if rest.next().is_none() {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_helpers() {
        assert!(contains_fold("aÄbc", "äB"));
        assert!(!contains_fold("aÄbc", "äc"));
        assert!(contains_fold("x", ""));
        assert!(starts_with_fold("Ébc", "é"));
        assert!(!starts_with_fold("É", "éa"));
        assert!(ends_with_fold("abÉ", "BÉ"));
        assert!(!ends_with_fold("É", "aé"));
        assert!(!ends_with_fold("a", "ab"));
        assert_eq!(cmp_fold("ä", "Ä"), Ordering::Equal);
        assert_eq!(cmp_fold("B", "a"), Ordering::Greater);
    }
}
