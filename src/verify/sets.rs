//! Set and map membership as the kernel's set backends decide it: exact
//! keys (hash), intervals given as start/end elements (rbtree), intervals
//! given as `key`..`key_end` per concatenated field (pipapo), and the
//! catch-all element.

use std::cmp::Ordering;

use crate::nft::{Set, SetElement};

/// The element a fully known key selects, if any.
pub fn find<'a>(set: &Set, elements: &'a [SetElement], key: &[u8]) -> Option<&'a SetElement> {
    let key = &key[..key.len().min(set.key_len as usize)];
    let hit = if set.is_interval() {
        find_interval(set, elements, key)
    } else {
        elements
            .iter()
            .find(|e| !e.is_catchall() && e.key.as_deref() == Some(key))
    };
    hit.or_else(|| elements.iter().find(|e| e.is_catchall()))
}

fn find_interval<'a>(set: &Set, elements: &'a [SetElement], key: &[u8]) -> Option<&'a SetElement> {
    // Elements carrying their own end (pipapo, and rbtree on kernels that
    // send NFTA_SET_ELEM_KEY_END) are closed ranges.
    if let Some(e) = elements.iter().find(|e| {
        !e.is_catchall()
            && !e.is_interval_end()
            && e.key_end.is_some()
            && in_closed_range(set, key, e)
    }) {
        return Some(e);
    }
    // Start/end pairs (nft's classic encoding): the greatest start at or
    // below the key matches unless an end (exclusive) lies after it and at
    // or below the key. At equal keys a start wins: adjacent intervals
    // (1-9, 10-20) share the point 10 as end of one and start of the next.
    let mut start: Option<&SetElement> = None;
    let mut end: Option<&[u8]> = None;
    for e in elements {
        if e.is_catchall() || e.key_end.is_some() {
            continue;
        }
        let Some(k) = e.key.as_deref() else { continue };
        if k > key {
            continue;
        }
        if e.is_interval_end() {
            if end.is_none_or(|x| k > x) {
                end = Some(k);
            }
        } else if start.is_none_or(|s| s.key.as_deref().is_none_or(|sk| k > sk)) {
            start = Some(e);
        }
    }
    let s = start?;
    let sk = s.key.as_deref()?;
    match end {
        Some(ek) if ek > sk => None,
        _ => Some(s),
    }
}

/// `key` within `[e.key, e.key_end]`, field by field for concatenations
/// (each field is padded to 4 bytes in the register).
fn in_closed_range(set: &Set, key: &[u8], e: &SetElement) -> bool {
    let (Some(lo), Some(hi)) = (e.key.as_deref(), e.key_end.as_deref()) else {
        return false;
    };
    let fields: Vec<usize> = match set.concat_field_lens() {
        Some(f) if !f.is_empty() => f.iter().map(|l| *l as usize).collect(),
        _ => vec![key.len()],
    };
    let mut at = 0;
    for len in fields {
        let end = (at + len).min(key.len());
        let (k, l, h) = (
            key.get(at..end),
            lo.get(at..end.min(lo.len())),
            hi.get(at..end.min(hi.len())),
        );
        let (Some(k), Some(l), Some(h)) = (k, l, h) else {
            return false;
        };
        if k.cmp(l) == Ordering::Less || k.cmp(h) == Ordering::Greater {
            return false;
        }
        at += len.div_ceil(4) * 4;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::{Family, SetFlags};

    fn port(p: u16) -> Vec<u8> {
        p.to_be_bytes().to_vec()
    }

    #[test]
    fn start_end_intervals() {
        let set = Set::new(Family::Inet, "t", "s", 13, 2).with_flags(SetFlags::INTERVAL);
        // { 10-19, 20-29, 40-65535 } in rbtree form, in descending order
        // as the kernel dumps it.
        let els = vec![
            SetElement::new(port(40)),
            SetElement::new(port(30)).interval_end(),
            SetElement::new(port(20)),
            SetElement::new(port(20)).interval_end(),
            SetElement::new(port(10)),
            SetElement::new(port(0)).interval_end(),
        ];
        let hit = |p: u16| find(&set, &els, &port(p)).is_some();
        assert!(!hit(9));
        assert!(hit(10) && hit(19) && hit(20) && hit(29));
        assert!(!hit(30) && !hit(39));
        assert!(hit(40) && hit(65535));
    }

    #[test]
    fn concatenated_ranges() {
        let mut set = Set::new(Family::Inet, "t", "s", 0, 8).with_flags(SetFlags::INTERVAL);
        set.desc = Some(crate::nft::SetDesc {
            size: None,
            concat: Some(vec![4, 2]),
            unknown: vec![],
        });
        let key = |a: [u8; 4], p: u16| {
            let mut k = a.to_vec();
            k.extend(p.to_be_bytes());
            k.extend([0, 0]);
            k
        };
        let els =
            vec![SetElement::new(key([10, 0, 0, 0], 20)).with_key_end(key([10, 0, 0, 255], 30))];
        assert!(find(&set, &els, &key([10, 0, 0, 7], 25)).is_some());
        assert!(find(&set, &els, &key([10, 0, 0, 7], 31)).is_none());
        assert!(find(&set, &els, &key([10, 0, 1, 0], 25)).is_none());
    }

    #[test]
    fn catchall_is_the_fallback() {
        let set = Set::new(Family::Inet, "t", "m", 13, 2);
        let els = vec![SetElement::new(port(22)), SetElement::catchall()];
        assert!(find(&set, &els, &port(22)).is_some_and(|e| !e.is_catchall()));
        assert!(find(&set, &els, &port(23)).is_some_and(|e| e.is_catchall()));
    }
}
