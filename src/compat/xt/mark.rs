//! `mark` match, revision 1 (`struct xt_mark_mtinfo1 { u32 mark, mask; u8
//! invert; }`, 16 bytes). iptables-nft writes `-m mark` natively (meta
//! mark, bitwise, cmp); the renderer rebuilds this struct from that.

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

const SIZE: usize = 16;

/// `-m mark [!] --mark VALUE[/MASK]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MarkMatch {
    /// Value compared.
    pub mark: u32,
    /// Mask applied first.
    pub mask: u32,
    /// Inverted.
    pub invert: u8,
}

impl MarkMatch {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(MarkMatch {
            mark: r.u32(0)?,
            mask: r.u32(4)?,
            invert: r.u8(8)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u32(0, self.mark)
            .u32(4, self.mask)
            .u8(8, self.invert)
            .finish()
    }

    /// libxt_mark `mark_mt_save`.
    pub fn save(&self) -> String {
        let inv = if self.invert != 0 { " !" } else { "" };
        format!("{inv} --mark{}", mark_mask(self.mark, self.mask))
    }
}

/// `xtables_print_mark_mask`: ` 0xMARK[/0xMASK]`, the mask left out when
/// it is all ones.
pub fn mark_mask(mark: u32, mask: u32) -> String {
    if mask == u32::MAX {
        format!(" 0x{mark:x}")
    } else {
        format!(" 0x{mark:x}/0x{mask:x}")
    }
}
