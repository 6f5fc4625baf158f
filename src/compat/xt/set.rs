//! `set` match (ipset), revisions 1–4: `struct xt_set_info_match_v1`
//! (revisions 1 and 2, 8 bytes), `…_v3` (48 bytes, counters as
//! `{u8 op; u64 value}`) and `…_v4` (48 bytes, `{aligned u64 value; u8 op}`).
//! The set is referred to by its kernel index; the name comes from ipset.

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

/// `IPSET_INV_MATCH` (in `xt_set_info.flags`).
pub const INV_MATCH: u8 = 1 << 0;
/// `IPSET_FLAG_RETURN_NOMATCH`.
pub const RETURN_NOMATCH: u32 = 1 << 7;
/// `IPSET_FLAG_SKIP_COUNTER_UPDATE`.
pub const SKIP_COUNTER_UPDATE: u32 = 1 << 3;
/// `IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE`.
pub const SKIP_SUBCOUNTER_UPDATE: u32 = 1 << 4;

/// A packet or byte counter condition (`struct ip_set_counter_match*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CounterMatch {
    /// `IPSET_COUNTER_*` (0 none, 1 eq, 2 ne, 3 lt, 4 gt).
    pub op: u8,
    /// Value compared.
    pub value: u64,
}

/// `-m set [!] --match-set NAME src|dst[,src|dst…] …`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SetMatch {
    /// Revision (1–4).
    pub rev: u32,
    /// Kernel index of the set (`ip_set_id_t`).
    pub index: u16,
    /// Dimension (number of src/dst flags).
    pub dim: u8,
    /// `IPSET_INV_MATCH` and the `IPSET_DIM_*_SRC` bits.
    pub flags: u8,
    /// Revisions 3–4: packet counter condition.
    pub packets: CounterMatch,
    /// Revisions 3–4: byte counter condition.
    pub bytes: CounterMatch,
    /// Revisions 3–4: `IPSET_FLAG_*`.
    pub match_flags: u32,
}

impl SetMatch {
    /// Decodes a revision 1–4 blob.
    pub fn parse(r: Reader<'_>, rev: u32) -> Option<Self> {
        let size = match rev {
            1 | 2 => 8,
            3 | 4 => 48,
            _ => return None,
        };
        (r.len() == size).then_some(())?;
        let none = CounterMatch { op: 0, value: 0 };
        let (packets, bytes, match_flags) = match rev {
            3 => (
                CounterMatch {
                    op: r.u8(8)?,
                    value: r.u64(16)?,
                },
                CounterMatch {
                    op: r.u8(24)?,
                    value: r.u64(32)?,
                },
                r.u32(40)?,
            ),
            4 => (
                CounterMatch {
                    value: r.u64(8)?,
                    op: r.u8(16)?,
                },
                CounterMatch {
                    value: r.u64(24)?,
                    op: r.u8(32)?,
                },
                r.u32(40)?,
            ),
            _ => (none, none, 0),
        };
        Some(SetMatch {
            rev,
            index: r.u16(0)?,
            dim: r.u8(2)?,
            flags: r.u8(3)?,
            packets,
            bytes,
            match_flags,
        })
    }

    /// Encodes the blob of `self.rev`.
    pub fn emit(&self) -> Vec<u8> {
        let big = matches!(self.rev, 3 | 4);
        let mut w = Writer::new(if big { 48 } else { 8 });
        w.u16(0, self.index).u8(2, self.dim).u8(3, self.flags);
        if self.rev == 3 {
            w.u8(8, self.packets.op)
                .u64(16, self.packets.value)
                .u8(24, self.bytes.op)
                .u64(32, self.bytes.value);
        } else if self.rev == 4 {
            w.u64(8, self.packets.value)
                .u8(16, self.packets.op)
                .u64(24, self.bytes.value)
                .u8(32, self.bytes.op);
        }
        if big {
            w.u32(40, self.match_flags);
        }
        w.finish()
    }

    /// libxt_set `set_save_v1`…`set_save_v4`, with the set's name.
    pub fn save(&self, set_name: &str) -> String {
        let mut s = String::new();
        if self.flags & INV_MATCH != 0 {
            s += " !";
        }
        s += &format!(" --match-set {set_name}");
        for i in 1..=self.dim {
            s += if i == 1 { " " } else { "," };
            s += if self.flags & (1u8.checked_shl(u32::from(i)).unwrap_or(0)) != 0 {
                "src"
            } else {
                "dst"
            };
        }
        if self.rev == 2 && self.flags & (1 << 7) != 0 {
            // Revision 2 keeps return-nomatch in the info flags
            // (`IPSET_RETURN_NOMATCH`).
            s += " --return-nomatch";
        }
        if matches!(self.rev, 3 | 4) {
            if self.match_flags & RETURN_NOMATCH != 0 {
                s += " --return-nomatch";
            }
            if self.match_flags & SKIP_COUNTER_UPDATE != 0 {
                s += " ! --update-counters";
            }
            if self.match_flags & SKIP_SUBCOUNTER_UPDATE != 0 {
                s += " ! --update-subcounters";
            }
            s += &counter_text(self.packets, "packets");
            s += &counter_text(self.bytes, "bytes");
        }
        s
    }
}

fn counter_text(c: CounterMatch, name: &str) -> String {
    match c.op {
        1 => format!(" --{name}-eq {}", c.value),
        2 => format!(" ! --{name}-eq {}", c.value),
        3 => format!(" --{name}-lt {}", c.value),
        4 => format!(" --{name}-gt {}", c.value),
        _ => String::new(),
    }
}
