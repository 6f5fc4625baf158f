//! Remembering the order in which a decoded object's attributes arrived.
//!
//! The kernel's dump order for tables and chains has changed between
//! versions (6.18 dumps a table's FLAGS after USE and HANDLE and a chain's
//! NAME before its HANDLE; older kernels do not). To re-encode a decoded
//! object byte for byte on every kernel, decoding records the order it saw
//! and encoding replays it; objects built in code use the current kernel's
//! order.

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
        let order: &[u16] = if self.0.is_empty() { default } else { &self.0 };
        for &k in order.iter().chain(default) {
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
}
