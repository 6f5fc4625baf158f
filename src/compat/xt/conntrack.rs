//! `conntrack` match, revisions 1, 2 and 3 (`struct xt_conntrack_mtinfo1`
//! 152 bytes, `…mtinfo2` 160, `…mtinfo3` 168). iptables 1.8.9 writes
//! revision 3, also for `-m state` (flagged `XT_CONNTRACK_STATE_ALIAS`).
//!
//! Layout: eight `union nf_inet_addr` (orig src/mask, orig dst/mask, repl
//! src/mask, repl dst/mask) at 0..128, `u32 expires_min, expires_max`,
//! `u16 l4proto`, four `__be16` ports, `u16 match_flags, invert_flags`,
//! then the state and status masks (`u8` in revision 1, `u16` later) and,
//! in revision 3, four `u16` upper port bounds (host order).

use serde::{Deserialize, Serialize};

use super::layout::{ipv4_mask_suffix, ipv4_text, ipv6_mask_suffix, ipv6_text, Reader, Writer};

/// `XT_CONNTRACK_STATE`.
pub const F_STATE: u16 = 1 << 0;
/// `XT_CONNTRACK_PROTO`.
pub const F_PROTO: u16 = 1 << 1;
/// `XT_CONNTRACK_ORIGSRC`.
pub const F_ORIGSRC: u16 = 1 << 2;
/// `XT_CONNTRACK_ORIGDST`.
pub const F_ORIGDST: u16 = 1 << 3;
/// `XT_CONNTRACK_REPLSRC`.
pub const F_REPLSRC: u16 = 1 << 4;
/// `XT_CONNTRACK_REPLDST`.
pub const F_REPLDST: u16 = 1 << 5;
/// `XT_CONNTRACK_STATUS`.
pub const F_STATUS: u16 = 1 << 6;
/// `XT_CONNTRACK_EXPIRES`.
pub const F_EXPIRES: u16 = 1 << 7;
/// `XT_CONNTRACK_ORIGSRC_PORT`.
pub const F_ORIGSRC_PORT: u16 = 1 << 8;
/// `XT_CONNTRACK_ORIGDST_PORT`.
pub const F_ORIGDST_PORT: u16 = 1 << 9;
/// `XT_CONNTRACK_REPLSRC_PORT`.
pub const F_REPLSRC_PORT: u16 = 1 << 10;
/// `XT_CONNTRACK_REPLDST_PORT`.
pub const F_REPLDST_PORT: u16 = 1 << 11;
/// `XT_CONNTRACK_DIRECTION` (inverted = REPLY).
pub const F_DIRECTION: u16 = 1 << 12;
/// `XT_CONNTRACK_STATE_ALIAS`: written for `-m state`.
pub const F_STATE_ALIAS: u16 = 1 << 13;

/// `XT_CONNTRACK_STATE_INVALID`.
pub const STATE_INVALID: u32 = 1 << 0;
/// `XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED)`.
pub const STATE_ESTABLISHED: u32 = 1 << 1;
/// `XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)`.
pub const STATE_RELATED: u32 = 1 << 2;
/// `XT_CONNTRACK_STATE_BIT(IP_CT_NEW)`.
pub const STATE_NEW: u32 = 1 << 3;
/// `XT_CONNTRACK_STATE_SNAT`.
pub const STATE_SNAT: u32 = 1 << 6;
/// `XT_CONNTRACK_STATE_DNAT`.
pub const STATE_DNAT: u32 = 1 << 7;
/// `XT_CONNTRACK_STATE_UNTRACKED`.
pub const STATE_UNTRACKED: u32 = 1 << 8;

/// `-m conntrack …` (all revisions, widened to revision 3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conntrack {
    /// Revision (1, 2 or 3).
    pub rev: u32,
    /// Original source address and mask.
    pub origsrc: ([u8; 16], [u8; 16]),
    /// Original destination address and mask.
    pub origdst: ([u8; 16], [u8; 16]),
    /// Reply source address and mask.
    pub replsrc: ([u8; 16], [u8; 16]),
    /// Reply destination address and mask.
    pub repldst: ([u8; 16], [u8; 16]),
    /// `--ctexpire` lower bound.
    pub expires_min: u32,
    /// `--ctexpire` upper bound.
    pub expires_max: u32,
    /// `--ctproto`.
    pub l4proto: u16,
    /// Original source port (`__be16` on the wire in revisions 1–2, host
    /// order in revision 3; always the plain port number here).
    pub origsrc_port: u16,
    /// Original destination port.
    pub origdst_port: u16,
    /// Reply source port.
    pub replsrc_port: u16,
    /// Reply destination port.
    pub repldst_port: u16,
    /// `XT_CONNTRACK_*` present.
    pub match_flags: u16,
    /// `XT_CONNTRACK_*` inverted.
    pub invert_flags: u16,
    /// State bits.
    pub state_mask: u16,
    /// `IPS_*` status bits.
    pub status_mask: u16,
    /// Revision 3: upper bounds of the port ranges (host order).
    pub port_high: [u16; 4],
}

fn size(rev: u32) -> Option<usize> {
    match rev {
        1 => Some(152),
        2 => Some(160),
        3 => Some(168),
        _ => None,
    }
}

impl Conntrack {
    /// An empty revision 3 match (nothing selected).
    pub fn new() -> Self {
        Conntrack {
            rev: 3,
            origsrc: ([0; 16], [0; 16]),
            origdst: ([0; 16], [0; 16]),
            replsrc: ([0; 16], [0; 16]),
            repldst: ([0; 16], [0; 16]),
            expires_min: 0,
            expires_max: 0,
            l4proto: 0,
            origsrc_port: 0,
            origdst_port: 0,
            replsrc_port: 0,
            repldst_port: 0,
            match_flags: 0,
            invert_flags: 0,
            state_mask: 0,
            status_mask: 0,
            port_high: [0; 4],
        }
    }

    /// Decodes a revision 1–3 blob.
    pub fn parse(r: Reader<'_>, rev: u32) -> Option<Self> {
        (r.len() == size(rev)?).then_some(())?;
        let addr = |i: usize| -> Option<([u8; 16], [u8; 16])> {
            Some((r.array(32 * i)?, r.array(32 * i + 16)?))
        };
        // The kernel compares revision 3 ports with `ntohs(port) >= min`:
        // there the low port sits in host order despite the `__be16` type.
        let port = |off: usize| if rev == 3 { r.u16(off) } else { r.be16(off) };
        let (state_mask, status_mask) = if rev == 1 {
            (u16::from(r.u8(150)?), u16::from(r.u8(151)?))
        } else {
            (r.u16(150)?, r.u16(152)?)
        };
        let port_high = if rev == 3 {
            [r.u16(154)?, r.u16(156)?, r.u16(158)?, r.u16(160)?]
        } else {
            [0; 4]
        };
        Some(Conntrack {
            rev,
            origsrc: addr(0)?,
            origdst: addr(1)?,
            replsrc: addr(2)?,
            repldst: addr(3)?,
            expires_min: r.u32(128)?,
            expires_max: r.u32(132)?,
            l4proto: r.u16(136)?,
            origsrc_port: port(138)?,
            origdst_port: port(140)?,
            replsrc_port: port(142)?,
            repldst_port: port(144)?,
            match_flags: r.u16(146)?,
            invert_flags: r.u16(148)?,
            state_mask,
            status_mask,
            port_high,
        })
    }

    /// Encodes the blob of `self.rev` (revision 3 for unknown values).
    pub fn emit(&self) -> Vec<u8> {
        let mut w = Writer::new(size(self.rev).unwrap_or(168));
        for (i, (a, m)) in [self.origsrc, self.origdst, self.replsrc, self.repldst]
            .iter()
            .enumerate()
        {
            w.put(32 * i, a).put(32 * i + 16, m);
        }
        w.u32(128, self.expires_min)
            .u32(132, self.expires_max)
            .u16(136, self.l4proto);
        for (i, p) in [
            self.origsrc_port,
            self.origdst_port,
            self.replsrc_port,
            self.repldst_port,
        ]
        .into_iter()
        .enumerate()
        {
            if self.rev == 3 {
                w.u16(138 + 2 * i, p);
            } else {
                w.be16(138 + 2 * i, p);
            }
        }
        w.u16(146, self.match_flags).u16(148, self.invert_flags);
        if self.rev == 1 {
            w.u8(150, self.state_mask as u8)
                .u8(151, self.status_mask as u8);
        } else {
            w.u16(150, self.state_mask).u16(152, self.status_mask);
        }
        if self.rev != 1 && self.rev != 2 {
            for (i, p) in self.port_high.iter().enumerate() {
                w.u16(154 + 2 * i, *p);
            }
        }
        w.finish()
    }

    /// The name iptables prints (`conntrack_print_name_alias`).
    pub fn save_name(&self) -> &'static str {
        if self.match_flags & F_STATE_ALIAS != 0 {
            "state"
        } else {
            "conntrack"
        }
    }

    /// libxt_conntrack `conntrack_dump` with prefix `--`, numeric.
    pub fn save(&self, v6: bool) -> String {
        let mut s = String::new();
        let has = |f: u16| self.match_flags & f != 0;
        let inv = |f: u16| if self.invert_flags & f != 0 { " !" } else { "" };
        if has(F_STATE) {
            let opt = if has(F_STATE_ALIAS) {
                "state"
            } else {
                "ctstate"
            };
            let names = state_names(u32::from(self.state_mask), true);
            let sep = if names.is_empty() { "" } else { " " };
            s += &format!("{} --{opt}{sep}{names}", inv(F_STATE));
        }
        if has(F_PROTO) {
            s += &format!("{} --ctproto {}", inv(F_PROTO), self.l4proto);
        }
        for (f, opt, (a, m)) in [
            (F_ORIGSRC, "ctorigsrc", self.origsrc),
            (F_ORIGDST, "ctorigdst", self.origdst),
            (F_REPLSRC, "ctreplsrc", self.replsrc),
            (F_REPLDST, "ctrepldst", self.repldst),
        ] {
            if has(f) {
                let text = if v6 {
                    ipv6_text(&a) + &ipv6_mask_suffix(m)
                } else {
                    let mut m4 = [0u8; 4];
                    m4.copy_from_slice(&m[..4]);
                    ipv4_text(&a) + &ipv4_mask_suffix(m4)
                };
                s += &format!("{} --{opt} {text}", inv(f));
            }
        }
        let v3 = self.rev == 3;
        for (f, opt, low, i) in [
            (F_ORIGSRC_PORT, "ctorigsrcport", self.origsrc_port, 0),
            (F_ORIGDST_PORT, "ctorigdstport", self.origdst_port, 1),
            (F_REPLSRC_PORT, "ctreplsrcport", self.replsrc_port, 2),
            (F_REPLDST_PORT, "ctrepldstport", self.repldst_port, 3),
        ] {
            if has(f) {
                let high = if v3 { self.port_high[i] } else { 0 };
                s += inv(f);
                if high == 0 || low == high {
                    s += &format!(" --{opt} {low}");
                } else {
                    s += &format!(" --{opt} {low}:{high}");
                }
            }
        }
        if has(F_STATUS) {
            s += &format!("{} --ctstatus", inv(F_STATUS));
            s += &status_names(self.status_mask);
        }
        if has(F_EXPIRES) {
            s += &format!("{} --ctexpire ", inv(F_EXPIRES));
            if self.expires_min == self.expires_max {
                s += &self.expires_min.to_string();
            } else {
                s += &format!("{}:{}", self.expires_min, self.expires_max);
            }
        }
        if has(F_DIRECTION) {
            if self.invert_flags & F_DIRECTION != 0 {
                s += " --ctdir REPLY";
            } else {
                s += " --ctdir ORIGINAL";
            }
        }
        s
    }
}

impl Default for Conntrack {
    fn default() -> Self {
        Self::new()
    }
}

/// The state names of a mask, comma-separated. `with_nat` adds SNAT/DNAT
/// (conntrack's `print_state`; `state`'s `state_print_state` has none).
pub fn state_names(mask: u32, with_nat: bool) -> String {
    let mut names = Vec::new();
    for (bit, name, nat) in [
        (STATE_INVALID, "INVALID", false),
        (STATE_NEW, "NEW", false),
        (STATE_RELATED, "RELATED", false),
        (STATE_ESTABLISHED, "ESTABLISHED", false),
        (STATE_UNTRACKED, "UNTRACKED", false),
        (STATE_SNAT, "SNAT", true),
        (STATE_DNAT, "DNAT", true),
    ] {
        if mask & bit != 0 && (with_nat || !nat) {
            names.push(name);
        }
    }
    names.join(",")
}

fn status_names(mask: u16) -> String {
    let mut names = Vec::new();
    for (bit, name) in [
        (1u16, "EXPECTED"),
        (2, "SEEN_REPLY"),
        (4, "ASSURED"),
        (8, "CONFIRMED"),
    ] {
        if mask & bit != 0 {
            names.push(name);
        }
    }
    if mask == 0 {
        names.push("NONE");
    }
    format!(" {}", names.join(","))
}
