//! `owner` match, revision 1 (`struct xt_owner_match_info { u32 uid_min,
//! uid_max, gid_min, gid_max; u8 match, invert; }`, 24 bytes).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

const SIZE: usize = 24;
/// `XT_OWNER_UID`.
pub const UID: u8 = 1 << 0;
/// `XT_OWNER_GID`.
pub const GID: u8 = 1 << 1;
/// `XT_OWNER_SOCKET`.
pub const SOCKET: u8 = 1 << 2;
/// `XT_OWNER_SUPPL_GROUPS`.
pub const SUPPL_GROUPS: u8 = 1 << 3;

/// `-m owner [--socket-exists] [--uid-owner U[-U]] [--gid-owner G[-G]] [--suppl-groups]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Owner {
    /// UID range.
    pub uid: [u32; 2],
    /// GID range.
    pub gid: [u32; 2],
    /// `XT_OWNER_*` tested.
    pub matches: u8,
    /// `XT_OWNER_*` inverted.
    pub invert: u8,
}

impl Owner {
    /// Decodes the blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Owner {
            uid: [r.u32(0)?, r.u32(4)?],
            gid: [r.u32(8)?, r.u32(12)?],
            matches: r.u8(16)?,
            invert: r.u8(17)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE)
            .u32(0, self.uid[0])
            .u32(4, self.uid[1])
            .u32(8, self.gid[0])
            .u32(12, self.gid[1])
            .u8(16, self.matches)
            .u8(17, self.invert)
            .finish()
    }

    /// libxt_owner `owner_mt_save` (numeric ids).
    pub fn save(&self) -> String {
        let mut s = String::new();
        for (flag, label) in [
            (SOCKET, "--socket-exists"),
            (UID, "--uid-owner"),
            (GID, "--gid-owner"),
            (SUPPL_GROUPS, "--suppl-groups"),
        ] {
            if self.matches & flag == 0 {
                continue;
            }
            if self.invert & flag != 0 {
                s += " !";
            }
            s += " ";
            s += label;
            let range = match flag {
                UID => Some(self.uid),
                GID => Some(self.gid),
                _ => None,
            };
            if let Some([lo, hi]) = range {
                if lo == hi {
                    s += &format!(" {lo}");
                } else {
                    s += &format!(" {lo}-{hi}");
                }
            }
        }
        s
    }
}
