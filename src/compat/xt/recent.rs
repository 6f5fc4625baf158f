//! `recent` match: revision 0 (`struct xt_recent_mtinfo`, 216 bytes) and
//! revision 1 (`struct xt_recent_mtinfo_v1`, with a mask, 232 bytes).

use serde::{Deserialize, Serialize};

use super::layout::{ipv4_text, ipv6_text, Reader, Writer};

/// `XT_RECENT_CHECK` (`--rcheck`).
pub const CHECK: u8 = 1 << 0;
/// `XT_RECENT_SET` (`--set`).
pub const SET: u8 = 1 << 1;
/// `XT_RECENT_UPDATE` (`--update`).
pub const UPDATE: u8 = 1 << 2;
/// `XT_RECENT_REMOVE` (`--remove`).
pub const REMOVE: u8 = 1 << 3;
/// `XT_RECENT_TTL` (`--rttl`).
pub const TTL: u8 = 1 << 4;
/// `XT_RECENT_REAP` (`--reap`).
pub const REAP: u8 = 1 << 5;
/// `XT_RECENT_SOURCE`.
pub const SIDE_SOURCE: u8 = 0;
/// `XT_RECENT_DEST`.
pub const SIDE_DEST: u8 = 1;
/// `XT_RECENT_NAME_LEN`.
pub const NAME_LEN: usize = 200;

/// `-m recent --set|--rcheck|… --name N [--mask M] --rsource|--rdest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recent {
    /// Revision (0 or 1).
    pub rev: u32,
    /// `--seconds`.
    pub seconds: u32,
    /// `--hitcount`.
    pub hit_count: u32,
    /// `XT_RECENT_*` command and modifier bits.
    pub check_set: u8,
    /// Inverted match.
    pub invert: u8,
    /// The 200-byte list-name field exactly as stored. iptables fills it
    /// over its default `DEFAULT` without clearing, so bytes after the
    /// terminating NUL can be non-zero (`SSH\0ULT…`); keeping the field
    /// verbatim keeps re-encoding byte-identical. See [`Recent::name`].
    pub name_field: Vec<u8>,
    /// `XT_RECENT_SOURCE` or `XT_RECENT_DEST`.
    pub side: u8,
    /// Revision 1: address mask (`union nf_inet_addr`).
    pub mask: [u8; 16],
}

impl Recent {
    /// The list name (up to the first NUL).
    pub fn name(&self) -> String {
        let end = self
            .name_field
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name_field.len());
        String::from_utf8_lossy(&self.name_field[..end]).into_owned()
    }

    /// Sets the list name (clearing the whole field).
    pub fn set_name(&mut self, name: &str) {
        let mut f = vec![0u8; NAME_LEN];
        let n = name.len().min(NAME_LEN - 1);
        f[..n].copy_from_slice(&name.as_bytes()[..n]);
        self.name_field = f;
    }

    /// Decodes a revision 0 or 1 blob.
    pub fn parse(r: Reader<'_>, rev: u32) -> Option<Self> {
        let size = match rev {
            0 => 216,
            1 => 232,
            _ => return None,
        };
        (r.len() == size).then_some(())?;
        Some(Recent {
            rev,
            seconds: r.u32(0)?,
            hit_count: r.u32(4)?,
            check_set: r.u8(8)?,
            invert: r.u8(9)?,
            name_field: {
                r.cstr(10, NAME_LEN)?; // must be UTF-8 up to the NUL
                r.bytes(10, NAME_LEN)?.to_vec()
            },
            side: r.u8(210)?,
            mask: if rev == 1 { r.array(212)? } else { [0; 16] },
        })
    }

    /// Encodes the blob of `self.rev`.
    pub fn emit(&self) -> Vec<u8> {
        let mut w = Writer::new(if self.rev == 1 { 232 } else { 216 });
        w.u32(0, self.seconds)
            .u32(4, self.hit_count)
            .u8(8, self.check_set)
            .u8(9, self.invert)
            .put(10, &self.name_field[..self.name_field.len().min(NAME_LEN)])
            .u8(210, self.side);
        if self.rev == 1 {
            w.put(212, &self.mask);
        }
        w.finish()
    }

    /// libxt_recent `recent_save` (revision 0 prints no mask).
    pub fn save(&self, v6: bool) -> String {
        let mut s = String::new();
        if self.invert != 0 {
            s += " !";
        }
        for (bit, opt) in [
            (SET, " --set"),
            (CHECK, " --rcheck"),
            (UPDATE, " --update"),
            (REMOVE, " --remove"),
        ] {
            if self.check_set & bit != 0 {
                s += opt;
            }
        }
        if self.seconds != 0 {
            s += &format!(" --seconds {}", self.seconds as i32);
        }
        if self.check_set & REAP != 0 {
            s += " --reap";
        }
        if self.hit_count != 0 {
            s += &format!(" --hitcount {}", self.hit_count as i32);
        }
        if self.check_set & TTL != 0 {
            s += " --rttl";
        }
        s += &format!(" --name {}", self.name());
        if self.rev == 1 {
            let m = if v6 {
                ipv6_text(&self.mask)
            } else {
                ipv4_text(&self.mask)
            };
            s += &format!(" --mask {m}");
        }
        match self.side {
            SIDE_SOURCE => s += " --rsource",
            SIDE_DEST => s += " --rdest",
            _ => {}
        }
        s
    }
}
