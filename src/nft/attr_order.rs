//! Remembering the order in which a decoded object's attributes arrived.
//!
//! The kernel's dump order has changed between versions: 6.18 dumps a
//! table's FLAGS after USE and HANDLE and a chain's NAME before its HANDLE
//! (older kernels do not); a stateful object's HANDLE comes last on 5.10
//! and 6.1, right after NAME on 6.12 and after TYPE on 6.18; a flowtable's
//! USE precedes its HANDLE on 5.10 and 6.1 and follows it on 6.12 and 6.18.
//! To re-encode a decoded object byte for byte on every kernel, decoding
//! records the order it saw and encoding replays it; objects built in code
//! use the current kernel's order.
//!
//! `OrderRecorder` records without allocating and keeps nothing when the
//! order received is the default one (the common case, and the one that
//! matters for set elements, decoded by the million).

use std::hash::{Hash, Hasher};

use super::RawAttr;
use crate::error::Result;
use crate::netlink::AttrWriter;

/// Marks the place of an attribute nftguard does not know.
pub(crate) const UNKNOWN: u16 = u16::MAX;

/// The attribute types of a decoded object, in the order received.
///
/// Encoding metadata only: two objects with the same content are equal
/// (and hash the same) whatever order their attributes arrived in.
#[derive(Debug, Clone, Default)]
pub struct AttrOrder(pub(crate) Vec<u16>);

impl PartialEq for AttrOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AttrOrder {}

impl Hash for AttrOrder {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl AttrOrder {
    /// Records one attribute type (or [`UNKNOWN`]).
    pub(crate) fn push(&mut self, kind: u16) {
        self.0.push(kind);
    }

    /// Writes the attributes: first in the recorded order (or `default`
    /// when nothing was recorded), then whatever `emit_one` has that the
    /// order did not name, then any unknown attributes not yet placed.
    /// `emit_one(kind, w)` writes attribute `kind` if the object has it.
    pub(crate) fn emit<F>(
        &self,
        default: &[u16],
        unknown: &[RawAttr],
        w: &mut AttrWriter<'_>,
        mut emit_one: F,
    ) -> Result<()>
    where
        F: FnMut(u16, &mut AttrWriter<'_>) -> Result<()>,
    {
        let mut done: u64 = 0;
        let mut unknown = unknown.iter();
        // A recorded order is completed by the default one; the default
        // alone needs one pass.
        let rest: &[u16] = if self.0.is_empty() { &[] } else { default };
        let order: &[u16] = if self.0.is_empty() { default } else { &self.0 };
        for &k in order.iter().chain(rest) {
            if k == UNKNOWN {
                if let Some(raw) = unknown.next() {
                    w.put_raw_attrs(&raw.0);
                }
                continue;
            }
            let bit = 1u64 << (k % 64);
            if done & bit == 0 {
                done |= bit;
                emit_one(k, w)?;
            }
        }
        for raw in unknown {
            w.put_raw_attrs(&raw.0);
        }
        Ok(())
    }

    /// Whether no order was recorded (the default order applies).
    pub fn is_default(&self) -> bool {
        self.0.is_empty()
    }
}

/// How many attribute types [`OrderRecorder`] holds before it allocates.
const INLINE: usize = 24;

/// Records the attribute types of one message while it is decoded.
///
/// [`OrderRecorder::finish`] turns them into an [`AttrOrder`] that stays
/// empty (no allocation) when [`AttrOrder::emit`] with the default order
/// reproduces the order received anyway: every known attribute in the
/// default order, unknown ones only at the end.
#[derive(Debug)]
pub(crate) struct OrderRecorder {
    inline: [u16; INLINE],
    len: usize,
    /// Everything, once more than [`INLINE`] attributes arrived.
    spill: Vec<u16>,
}

impl OrderRecorder {
    /// An empty recorder.
    pub(crate) fn new() -> Self {
        OrderRecorder {
            inline: [0; INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Records one attribute type (or [`UNKNOWN`]).
    pub(crate) fn push(&mut self, kind: u16) {
        if self.len < INLINE {
            self.inline[self.len] = kind;
        } else {
            if self.len == INLINE {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(kind);
        }
        self.len += 1;
    }

    fn kinds(&self) -> &[u16] {
        if self.len <= INLINE {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    /// The order to replay: empty when `default` reproduces it.
    pub(crate) fn finish(self, default: &[u16]) -> AttrOrder {
        let kinds = self.kinds();
        if follows_default(kinds, default) {
            AttrOrder::default()
        } else {
            AttrOrder(kinds.to_vec())
        }
    }
}

/// Whether `kinds` lists known attributes at strictly increasing places
/// of `default` (each at most once), followed only by unknown ones.
fn follows_default(kinds: &[u16], default: &[u16]) -> bool {
    let mut next = 0;
    let mut unknown_seen = false;
    for &k in kinds {
        if k == UNKNOWN {
            unknown_seen = true;
            continue;
        }
        if unknown_seen {
            return false;
        }
        match default[next..].iter().position(|&d| d == k) {
            Some(at) => next += at + 1,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &[u16] = &[1, 2, 3, 5, 4];

    fn recorded(kinds: &[u16]) -> AttrOrder {
        let mut r = OrderRecorder::new();
        for &k in kinds {
            r.push(k);
        }
        r.finish(DEFAULT)
    }

    #[test]
    fn the_default_order_is_not_stored() {
        assert!(recorded(&[]).is_default());
        assert!(recorded(&[1, 2, 3, 5, 4]).is_default());
        assert!(recorded(&[1, 3, 4]).is_default(), "a subsequence");
        assert!(recorded(&[1, 2, UNKNOWN, UNKNOWN]).is_default());
    }

    #[test]
    fn any_other_order_is_stored() {
        assert_eq!(recorded(&[1, 2, 4, 3]).0, [1, 2, 4, 3]);
        assert_eq!(recorded(&[1, UNKNOWN, 2]).0, [1, UNKNOWN, 2]);
        assert_eq!(recorded(&[1, 1]).0, [1, 1], "a repeated attribute");
        assert_eq!(recorded(&[9]).0, [9], "a kind the default does not name");
        let many: Vec<u16> = (0..40).map(|i| if i % 2 == 0 { 2 } else { 1 }).collect();
        assert_eq!(recorded(&many).0, many, "more than fit inline");
    }
}
