//! The NAT targets `SNAT`, `DNAT`, `MASQUERADE` and `REDIRECT`: they share
//! their range structs, so they share this file.
//!
//! Layouts (chosen by blob size, which the revision and family fix):
//! - 24 bytes: `struct nf_nat_ipv4_multi_range_compat` (IPv4 SNAT/DNAT
//!   revision 0, IPv4 MASQUERADE/REDIRECT): `u32 rangesize`, then one
//!   `nf_nat_ipv4_range { u32 flags; __be32 min_ip, max_ip; __be16 min, max; }`.
//! - 40 bytes: `struct nf_nat_range` (revision 1, IPv6 MASQUERADE/REDIRECT):
//!   `u32 flags; nf_inet_addr min_addr, max_addr; __be16 min_proto, max_proto`.
//! - 48 bytes: `struct nf_nat_range2` (revision 2): `nf_nat_range` plus
//!   `__be16 base_proto`, padded.

use serde::{Deserialize, Serialize};

use super::layout::{Reader, Writer};

/// `NF_NAT_RANGE_MAP_IPS`.
pub const MAP_IPS: u32 = 1 << 0;
/// `NF_NAT_RANGE_PROTO_SPECIFIED`.
pub const PROTO_SPECIFIED: u32 = 1 << 1;
/// `NF_NAT_RANGE_PROTO_RANDOM`.
pub const PROTO_RANDOM: u32 = 1 << 2;
/// `NF_NAT_RANGE_PERSISTENT`.
pub const PERSISTENT: u32 = 1 << 3;
/// `NF_NAT_RANGE_PROTO_RANDOM_FULLY`.
pub const PROTO_RANDOM_FULLY: u32 = 1 << 4;
/// `NF_NAT_RANGE_PROTO_OFFSET`.
pub const PROTO_OFFSET: u32 = 1 << 5;

/// Which C struct carries the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NatLayout {
    /// `nf_nat_ipv4_multi_range_compat` (24 bytes).
    Ipv4MultiRange,
    /// `nf_nat_range` (40 bytes).
    Range,
    /// `nf_nat_range2` (48 bytes).
    Range2,
}

/// A NAT range, widened to `nf_nat_range2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NatRange {
    /// The struct it came in.
    pub layout: NatLayout,
    /// `rangesize` of the IPv4 compat struct (1 in practice).
    pub rangesize: u32,
    /// `NF_NAT_RANGE_*`.
    pub flags: u32,
    /// Lowest address (IPv4 in the first 4 bytes, network order).
    pub min_addr: [u8; 16],
    /// Highest address.
    pub max_addr: [u8; 16],
    /// Lowest port (host value).
    pub min_proto: u16,
    /// Highest port.
    pub max_proto: u16,
    /// `nf_nat_range2` only: base port of `PROTO_OFFSET`.
    pub base_proto: u16,
}

impl NatRange {
    /// Decodes a 24-, 40- or 48-byte range blob.
    pub fn parse(r: Reader<'_>) -> Option<Self> {
        Some(match r.len() {
            24 => {
                let mut min_addr = [0; 16];
                let mut max_addr = [0; 16];
                min_addr[..4].copy_from_slice(r.bytes(8, 4)?);
                max_addr[..4].copy_from_slice(r.bytes(12, 4)?);
                NatRange {
                    layout: NatLayout::Ipv4MultiRange,
                    rangesize: r.u32(0)?,
                    flags: r.u32(4)?,
                    min_addr,
                    max_addr,
                    min_proto: r.be16(16)?,
                    max_proto: r.be16(18)?,
                    base_proto: 0,
                }
            }
            40 | 48 => NatRange {
                layout: if r.len() == 40 {
                    NatLayout::Range
                } else {
                    NatLayout::Range2
                },
                rangesize: 0,
                flags: r.u32(0)?,
                min_addr: r.array(4)?,
                max_addr: r.array(20)?,
                min_proto: r.be16(36)?,
                max_proto: r.be16(38)?,
                base_proto: if r.len() == 48 { r.be16(40)? } else { 0 },
            },
            _ => return None,
        })
    }

    /// Encodes the blob in `self.layout`.
    pub fn emit(&self) -> Vec<u8> {
        match self.layout {
            NatLayout::Ipv4MultiRange => Writer::new(24)
                .u32(0, self.rangesize)
                .u32(4, self.flags)
                .put(8, &self.min_addr[..4])
                .put(12, &self.max_addr[..4])
                .be16(16, self.min_proto)
                .be16(18, self.max_proto)
                .finish(),
            NatLayout::Range | NatLayout::Range2 => {
                let two = self.layout == NatLayout::Range2;
                let mut w = Writer::new(if two { 48 } else { 40 });
                w.u32(0, self.flags)
                    .put(4, &self.min_addr)
                    .put(20, &self.max_addr)
                    .be16(36, self.min_proto)
                    .be16(38, self.max_proto);
                if two {
                    w.be16(40, self.base_proto);
                }
                w.finish()
            }
        }
    }

    /// libxt_NAT `sprint_range`.
    fn range_text(&self, v6: bool) -> String {
        let brackets = v6 && self.flags & PROTO_SPECIFIED != 0;
        let addr = |a: &[u8; 16]| {
            if v6 {
                std::net::Ipv6Addr::from(*a).to_string()
            } else {
                std::net::Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
            }
        };
        let mut s = String::new();
        if self.flags & MAP_IPS != 0 {
            if brackets {
                s.push('[');
            }
            s += &addr(&self.min_addr);
            if self.min_addr != self.max_addr {
                s.push('-');
                s += &addr(&self.max_addr);
            }
            if brackets {
                s.push(']');
            }
        }
        if self.flags & PROTO_SPECIFIED != 0 {
            s += &format!(":{}", self.min_proto);
            if self.max_proto != self.min_proto {
                s += &format!("-{}", self.max_proto);
            }
            if self.flags & PROTO_OFFSET != 0 {
                s += &format!("/{}", self.base_proto);
            }
        }
        s
    }

    /// libxt_NAT `__NAT_print` in save form: `opt` is `--to-source`,
    /// `--to-destination` or `--to-ports` (the last skips the leading `:`).
    fn save(&self, v6: bool, opt: &str, skip_colon: bool) -> String {
        let mut s = String::new();
        let range = self.range_text(v6);
        if !range.is_empty() {
            let range = if skip_colon {
                range.strip_prefix(':').unwrap_or(&range)
            } else {
                &range
            };
            s += &format!(" {opt} {range}");
        }
        if self.flags & PROTO_RANDOM != 0 {
            s += " --random";
        }
        if self.flags & PROTO_RANDOM_FULLY != 0 {
            s += " --random-fully";
        }
        if self.flags & PERSISTENT != 0 {
            s += " --persistent";
        }
        s
    }

    /// `-j SNAT --to-source …`.
    pub fn save_snat(&self, v6: bool) -> String {
        self.save(v6, "--to-source", false)
    }

    /// `-j DNAT --to-destination …`.
    pub fn save_dnat(&self, v6: bool) -> String {
        self.save(v6, "--to-destination", false)
    }

    /// `-j MASQUERADE [--to-ports …]`.
    pub fn save_masquerade(&self, v6: bool) -> String {
        self.save(v6, "--to-ports", true)
    }

    /// `-j REDIRECT [--to-ports …]`.
    pub fn save_redirect(&self, v6: bool) -> String {
        self.save(v6, "--to-ports", true)
    }
}
