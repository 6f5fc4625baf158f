//! `connmark` match, revision 1 (`struct xt_connmark_mtinfo1`, same
//! layout as `xt_mark_mtinfo1`).

use serde::{Deserialize, Serialize};

use super::layout::Reader;
use super::mark::{mark_mask, MarkMatch};

/// `-m connmark [!] --mark VALUE[/MASK]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnmarkMatch {
    /// Value compared.
    pub mark: u32,
    /// Mask applied first.
    pub mask: u32,
    /// Inverted.
    pub invert: u8,
}

impl ConnmarkMatch {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        let m = MarkMatch::parse(r)?;
        Some(ConnmarkMatch {
            mark: m.mark,
            mask: m.mask,
            invert: m.invert,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        MarkMatch {
            mark: self.mark,
            mask: self.mask,
            invert: self.invert,
        }
        .emit()
    }

    /// libxt_connmark `connmark_mt_save`.
    pub fn save(&self) -> String {
        let inv = if self.invert != 0 { " !" } else { "" };
        format!("{inv} --mark{}", mark_mask(self.mark, self.mask))
    }
}
