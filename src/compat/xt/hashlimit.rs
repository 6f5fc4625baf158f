//! `hashlimit` match, revisions 1, 2 and 3 (`struct xt_hashlimit_mtinfo1`,
//! `…mtinfo2`, `…mtinfo3`). iptables 1.8.9 writes revision 3. The
//! trailing `hinfo` kernel pointer is dumped zeroed (`usersize`).

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};
use super::limit::{rate_quantum_ms, rate_text};

/// `XT_HASHLIMIT_HASH_DIP`.
pub const HASH_DIP: u32 = 1 << 0;
/// `XT_HASHLIMIT_HASH_DPT`.
pub const HASH_DPT: u32 = 1 << 1;
/// `XT_HASHLIMIT_HASH_SIP`.
pub const HASH_SIP: u32 = 1 << 2;
/// `XT_HASHLIMIT_HASH_SPT`.
pub const HASH_SPT: u32 = 1 << 3;
/// `XT_HASHLIMIT_INVERT` (`--hashlimit-above`).
pub const INVERT: u32 = 1 << 4;
/// `XT_HASHLIMIT_BYTES`.
pub const BYTES: u32 = 1 << 5;
/// `XT_HASHLIMIT_RATE_MATCH`.
pub const RATE_MATCH: u32 = 1 << 6;

const SCALE_V1: u64 = 10_000;
const SCALE_V2: u64 = 1_000_000;
const DEFAULT_GCINTERVAL: u32 = 1000;
const BYTE_EXPIRE: u64 = 15;
const BYTE_EXPIRE_BURST: u64 = 60;
const BYTE_SHIFT: u32 = 4;

/// `-m hashlimit …`: the configuration common to all revisions
/// (`struct hashlimit_cfg3`, widened).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hashlimit {
    /// Revision (1, 2 or 3); decides the layout and the rate scale.
    pub rev: u32,
    /// Table name (15 bytes in revision 1, 254 later).
    pub name: String,
    /// Average period (`XT_HASHLIMIT_SCALE` units in revision 1,
    /// `XT_HASHLIMIT_SCALE_v2` later) or byte cost.
    pub avg: u64,
    /// Burst.
    pub burst: u64,
    /// `XT_HASHLIMIT_*` bits.
    pub mode: u32,
    /// Hash table size.
    pub size: u32,
    /// Maximum entries.
    pub max: u32,
    /// Garbage collection interval (ms).
    pub gc_interval: u32,
    /// Entry expiry (ms).
    pub expire: u32,
    /// Revision 3: rate-match interval (s).
    pub interval: u32,
    /// Source prefix length.
    pub srcmask: u8,
    /// Destination prefix length.
    pub dstmask: u8,
}

struct Layout {
    size: usize,
    name_len: usize,
    cfg: usize,
}

fn layout(rev: u32) -> Option<Layout> {
    Some(match rev {
        1 => Layout {
            size: 56,
            name_len: 16,
            cfg: 16,
        },
        2 => Layout {
            size: 304,
            name_len: 255,
            cfg: 256,
        },
        3 => Layout {
            size: 312,
            name_len: 255,
            cfg: 256,
        },
        _ => return None,
    })
}

impl Hashlimit {
    /// Decodes a revision 1–3 blob.
    pub fn parse(r: Reader<'_>, rev: u32) -> Option<Self> {
        let l = layout(rev)?;
        (r.len() == l.size).then_some(())?;
        let name = r.cstr(0, l.name_len)?;
        let c = l.cfg;
        Some(if rev == 1 {
            // struct hashlimit_cfg1: u32 mode, avg, burst, size, max,
            // gc_interval, expire; u8 srcmask, dstmask.
            Hashlimit {
                rev,
                name,
                mode: r.u32(c)?,
                avg: u64::from(r.u32(c + 4)?),
                burst: u64::from(r.u32(c + 8)?),
                size: r.u32(c + 12)?,
                max: r.u32(c + 16)?,
                gc_interval: r.u32(c + 20)?,
                expire: r.u32(c + 24)?,
                interval: 0,
                srcmask: r.u8(c + 28)?,
                dstmask: r.u8(c + 29)?,
            }
        } else {
            // struct hashlimit_cfg2/3: u64 avg, burst; u32 mode, size, max,
            // gc_interval, expire; (cfg3: u32 interval;) u8 srcmask, dstmask.
            let masks = if rev == 3 { c + 40 } else { c + 36 };
            Hashlimit {
                rev,
                name,
                avg: r.u64(c)?,
                burst: r.u64(c + 8)?,
                mode: r.u32(c + 16)?,
                size: r.u32(c + 20)?,
                max: r.u32(c + 24)?,
                gc_interval: r.u32(c + 28)?,
                expire: r.u32(c + 32)?,
                interval: if rev == 3 { r.u32(c + 36)? } else { 0 },
                srcmask: r.u8(masks)?,
                dstmask: r.u8(masks + 1)?,
            }
        })
    }

    /// Encodes the blob of `self.rev` (revision 3 for unknown values).
    pub fn emit(&self) -> Vec<u8> {
        let l = layout(self.rev).unwrap_or(Layout {
            size: 312,
            name_len: 255,
            cfg: 256,
        });
        let mut w = Writer::new(l.size);
        w.cstr(0, l.name_len, &self.name);
        let c = l.cfg;
        if self.rev == 1 {
            w.u32(c, self.mode)
                .u32(c + 4, self.avg as u32)
                .u32(c + 8, self.burst as u32)
                .u32(c + 12, self.size)
                .u32(c + 16, self.max)
                .u32(c + 20, self.gc_interval)
                .u32(c + 24, self.expire)
                .u8(c + 28, self.srcmask)
                .u8(c + 29, self.dstmask);
        } else {
            let masks = if self.rev == 2 { c + 36 } else { c + 40 };
            w.u64(c, self.avg)
                .u64(c + 8, self.burst)
                .u32(c + 16, self.mode)
                .u32(c + 20, self.size)
                .u32(c + 24, self.max)
                .u32(c + 28, self.gc_interval)
                .u32(c + 32, self.expire)
                .u8(masks, self.srcmask)
                .u8(masks + 1, self.dstmask);
            if self.rev != 2 {
                w.u32(c + 36, self.interval);
            }
        }
        w.finish()
    }

    /// libxt_hashlimit `hashlimit_mt_save` (`v6` selects the default
    /// prefix length, 32 or 128).
    pub fn save(&self, v6: bool) -> String {
        let dmask = if v6 { 128 } else { 32 };
        let mut s = String::from(if self.mode & INVERT != 0 {
            " --hashlimit-above"
        } else {
            " --hashlimit-upto"
        });
        let quantum = if self.mode & BYTES != 0 {
            let (text, q) = bytes_text(self.avg, self.burst);
            s += &text;
            q
        } else {
            let scale = if self.rev == 1 { SCALE_V1 } else { SCALE_V2 };
            s += &rate_text(self.avg, scale);
            s += &format!(" --hashlimit-burst {}", self.burst);
            rate_quantum_ms(self.avg, scale)
        };
        if self.mode & (HASH_SIP | HASH_SPT | HASH_DIP | HASH_DPT) != 0 {
            let mut modes = Vec::new();
            for (bit, name) in [
                (HASH_SIP, "srcip"),
                (HASH_SPT, "srcport"),
                (HASH_DIP, "dstip"),
                (HASH_DPT, "dstport"),
            ] {
                if self.mode & bit != 0 {
                    modes.push(name);
                }
            }
            s += &format!(" --hashlimit-mode {}", modes.join(","));
        }
        s += &format!(" --hashlimit-name {}", self.name);
        if self.size != 0 {
            s += &format!(" --hashlimit-htable-size {}", self.size);
        }
        if self.max != 0 {
            s += &format!(" --hashlimit-htable-max {}", self.max);
        }
        if self.gc_interval != DEFAULT_GCINTERVAL {
            s += &format!(" --hashlimit-htable-gcinterval {}", self.gc_interval);
        }
        // iptables compares the u32 expire with a u32 quantum.
        if u64::from(self.expire) != quantum & 0xffff_ffff {
            s += &format!(" --hashlimit-htable-expire {}", self.expire);
        }
        if self.srcmask != dmask {
            s += &format!(" --hashlimit-srcmask {}", self.srcmask);
        }
        if self.dstmask != dmask {
            s += &format!(" --hashlimit-dstmask {}", self.dstmask);
        }
        if self.rev == 3 && self.mode & RATE_MATCH != 0 {
            s += " --hashlimit-rate-match";
            if self.interval != 1 {
                s += &format!(" --hashlimit-rate-interval {}", self.interval);
            }
        }
        s
    }
}

/// `print_bytes`: ` NNN[m|k]b/s [--hashlimit-burst NNN[m|k]b]` and the
/// expire quantum in ms.
fn bytes_text(avg: u64, burst: u64) -> (String, u64) {
    const UNITS: [(&str, u64); 3] = [("m", 1024 * 1024), ("k", 1024), ("", 1)];
    let cost_to_bytes = |cost: u64| -> u64 {
        let r = u64::from(u32::MAX)
            .checked_div(cost)
            .unwrap_or(u64::from(u32::MAX));
        r.wrapping_sub(1) << BYTE_SHIFT
    };
    let bytes_to_cost = |bytes: u64| -> u64 {
        // iptables keeps the shifted value in a u32.
        let r = (bytes >> BYTE_SHIFT) as u32;
        u64::from(u32::MAX) / (u64::from(r) + 1)
    };
    let r = cost_to_bytes(avg);
    let mut i = 0;
    while i < UNITS.len() - 1 {
        let t = UNITS[i].1;
        if r >= t && bytes_to_cost(r & !(t - 1)) == avg {
            break;
        }
        i += 1;
    }
    let mut s = format!(" {}{}b/s", r / UNITS[i].1, UNITS[i].0);
    if burst == 0 {
        return (s, BYTE_EXPIRE * 1000);
    }
    let r = r.wrapping_mul(burst);
    let mut i = 0;
    while i < UNITS.len() - 1 {
        if r >= UNITS[i].1 {
            break;
        }
        i += 1;
    }
    s += &format!(" --hashlimit-burst {}{}b", r / UNITS[i].1, UNITS[i].0);
    (s, BYTE_EXPIRE_BURST * 1000)
}
