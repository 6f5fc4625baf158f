//! `MARK` target, revision 2 (`struct xt_mark_tginfo2 { u32 mark, mask; }`).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

const SIZE: usize = 8;

/// `-j MARK --set-xmark VALUE/MASK` (`--set-mark`, `--and-mark`, … are
/// written as this and saved as `--set-xmark`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MarkTarget {
    /// Value XORed in.
    pub mark: u32,
    /// Bits cleared first.
    pub mask: u32,
}

impl MarkTarget {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(MarkTarget {
            mark: r.u32(0)?,
            mask: r.u32(4)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u32(0, self.mark)
            .u32(4, self.mask)
            .finish()
    }

    /// libxt_MARK `mark_tg_save`.
    pub fn save(&self) -> String {
        format!(" --set-xmark 0x{:x}/0x{:x}", self.mark, self.mask)
    }
}
