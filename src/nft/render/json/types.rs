//! nft datatypes as the JSON schema spells their values: the names of
//! the types nft 1.0.6 prints, their byte order, and the conversion of
//! register bytes to JSON values and back (the loader uses the same
//! tables, so what one side prints the other side reads).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{json, Value};

use crate::nft::render::value::{self, Ty};

/// A datatype, as far as the JSON form of a value depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// `ipv4_addr`.
    Ipv4,
    /// `ipv6_addr`.
    Ipv6,
    /// `ether_addr`.
    Ether,
    /// `inet_proto` (protocol names such as `tcp`).
    InetProto,
    /// `inet_service` (ports, big endian).
    InetService,
    /// `mark` (host byte order).
    Mark,
    /// `ifname` (NUL-padded string).
    Ifname,
    /// `iface_index` (host byte order).
    IfIndex,
    /// `ct_state` bitmask.
    CtState,
    /// `ct_status` bitmask.
    CtStatus,
    /// `ct_dir`.
    CtDir,
    /// `nf_proto`.
    NfProto,
    /// `pkt_type`.
    PktType,
    /// `icmp_type`.
    IcmpType,
    /// `icmpv6_type`.
    Icmpv6Type,
    /// `tcp_flag` bitmask.
    TcpFlag,
    /// `ether_type` (big endian).
    EtherType,
    /// `uid` (host byte order).
    Uid,
    /// `gid` (host byte order).
    Gid,
    /// `integer` in network byte order.
    IntBe,
    /// `integer` in host byte order.
    IntHost,
    /// `string`.
    Str,
    /// `verdict`.
    Verdict,
    /// `iface_type` (ARP hardware type, host byte order).
    ArpHrd,
    /// `arp_op` (big endian).
    ArpOp,
}

/// `(id, name, dtype)` of the set key/data types nftguard can name.
const TYPES: &[(u32, &str, Dtype)] = &[
    (2, "nf_proto", Dtype::NfProto),
    (4, "integer", Dtype::IntBe),
    (5, "string", Dtype::Str),
    (7, "ipv4_addr", Dtype::Ipv4),
    (8, "ipv6_addr", Dtype::Ipv6),
    (9, "ether_addr", Dtype::Ether),
    (10, "ether_type", Dtype::EtherType),
    (12, "inet_proto", Dtype::InetProto),
    (13, "inet_service", Dtype::InetService),
    (14, "icmp_type", Dtype::IcmpType),
    (15, "tcp_flag", Dtype::TcpFlag),
    (19, "mark", Dtype::Mark),
    (20, "iface_index", Dtype::IfIndex),
    (24, "uid", Dtype::Uid),
    (25, "gid", Dtype::Gid),
    (26, "ct_state", Dtype::CtState),
    (27, "ct_dir", Dtype::CtDir),
    (28, "ct_status", Dtype::CtStatus),
    (29, "icmpv6_type", Dtype::Icmpv6Type),
    (31, "pkt_type", Dtype::PktType),
    (41, "ifname", Dtype::Ifname),
];

/// The set data type number of verdicts (`NFT_DATA_VERDICT`).
pub const VERDICT_TYPE: u32 = crate::nft::set::NFT_DATA_VERDICT;

impl Dtype {
    /// The type for a set key/data type number.
    pub fn from_id(id: u32) -> Option<Dtype> {
        if id == VERDICT_TYPE {
            return Some(Dtype::Verdict);
        }
        TYPES.iter().find(|t| t.0 == id).map(|t| t.2)
    }

    /// The type nft calls `name`, with its number.
    pub fn from_name(name: &str) -> Option<(u32, Dtype)> {
        if name == "verdict" {
            return Some((VERDICT_TYPE, Dtype::Verdict));
        }
        TYPES.iter().find(|t| t.1 == name).map(|t| (t.0, t.2))
    }

    /// nft's name for a type number.
    pub fn name_of(id: u32) -> Option<&'static str> {
        if id == VERDICT_TYPE {
            return Some("verdict");
        }
        TYPES.iter().find(|t| t.0 == id).map(|t| t.1)
    }

    /// The number of this type (the first one for `integer`).
    pub fn id(self) -> u32 {
        if self == Dtype::Verdict {
            return VERDICT_TYPE;
        }
        if self == Dtype::IntHost {
            return 4;
        }
        TYPES.iter().find(|t| t.2 == self).map_or(4, |t| t.0)
    }

    /// The natural length in bytes of a value (0: variable).
    pub fn natural_len(self) -> usize {
        match self {
            Dtype::Ipv4 => 4,
            Dtype::Ipv6 => 16,
            Dtype::Ether => 6,
            Dtype::InetProto | Dtype::NfProto | Dtype::PktType | Dtype::IcmpType => 1,
            Dtype::Icmpv6Type | Dtype::TcpFlag | Dtype::CtDir => 1,
            Dtype::InetService | Dtype::EtherType | Dtype::ArpHrd | Dtype::ArpOp => 2,
            Dtype::Mark | Dtype::IfIndex | Dtype::CtState | Dtype::CtStatus => 4,
            Dtype::Uid | Dtype::Gid | Dtype::IntBe | Dtype::IntHost => 4,
            Dtype::Ifname => 16,
            Dtype::Str | Dtype::Verdict => 0,
        }
    }

    /// Whether values are stored in host byte order (little endian here).
    pub fn host_order(self) -> bool {
        matches!(
            self,
            Dtype::Mark
                | Dtype::ArpHrd
                | Dtype::IfIndex
                | Dtype::CtState
                | Dtype::CtStatus
                | Dtype::Uid
                | Dtype::Gid
                | Dtype::IntHost
        )
    }

    /// nft's byte order of the type, as stored in a set's user data
    /// (`NFTNL_UDATA_SET_KEYBYTEORDER`): 1 host, 2 big endian.
    pub fn nft_byteorder(self) -> u32 {
        if self.host_order() || matches!(self, Dtype::Ifname | Dtype::Str | Dtype::PktType) {
            1
        } else if self == Dtype::Verdict {
            0
        } else {
            2
        }
    }

    /// Whether nft treats the type as a bitmask (implicit `in` operator).
    pub fn is_bitmask(self) -> bool {
        matches!(self, Dtype::CtState | Dtype::CtStatus | Dtype::TcpFlag)
    }

    /// The text renderer's type of the same values, whose symbol table
    /// ([`value::symbols`]) names them here too.
    fn text_type(self) -> Option<Ty> {
        Some(match self {
            Dtype::InetProto => Ty::InetProto,
            Dtype::NfProto => Ty::Nfproto,
            Dtype::PktType => Ty::PktType,
            Dtype::CtDir => Ty::CtDir,
            Dtype::EtherType => Ty::Ethertype,
            Dtype::IcmpType => Ty::IcmpType,
            Dtype::Icmpv6Type => Ty::Icmpv6Type,
            Dtype::CtState => Ty::CtState,
            Dtype::CtStatus => Ty::CtStatus,
            Dtype::TcpFlag => Ty::TcpFlags,
            Dtype::ArpHrd => Ty::ArpHrd,
            Dtype::ArpOp => Ty::ArpOp,
            _ => return None,
        })
    }

    /// nft's names of values of this type.
    fn symbols(self) -> &'static [(u128, &'static str)] {
        self.text_type().map_or(&[], value::symbols)
    }

    /// The JSON form of `bytes`, a value of this type.
    pub fn to_json(self, bytes: &[u8]) -> Value {
        match self {
            Dtype::Ipv4 if bytes.len() == 4 => {
                json!(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string())
            }
            Dtype::Ipv6 if bytes.len() == 16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(bytes);
                json!(Ipv6Addr::from(a).to_string())
            }
            Dtype::Ether if bytes.len() == 6 => json!(bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")),
            // nft prints the interface's name in the namespace being
            // listed, or the index as a string when there is none.
            Dtype::IfIndex if bytes.len() == 4 => {
                let idx = self.number(bytes) as u32;
                json!(crate::netlink::interface_name(idx).unwrap_or_else(|| idx.to_string()))
            }
            Dtype::Ifname | Dtype::Str => {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                json!(String::from_utf8_lossy(&bytes[..end]))
            }
            _ => {
                let n = self.number(bytes);
                if self.is_bitmask() {
                    let syms = self.symbols();
                    let mut names: Vec<Value> = Vec::new();
                    let mut rest = n;
                    for (v, s) in syms {
                        if u128::from(n) & v != 0 {
                            names.push(json!(s));
                            rest &= !(*v as u64);
                        }
                    }
                    if rest != 0 || names.is_empty() {
                        return json!(n);
                    }
                    if names.len() == 1 {
                        return names.remove(0);
                    }
                    return Value::Array(names);
                }
                match self.symbols().iter().find(|(v, _)| *v == u128::from(n)) {
                    Some((_, s)) => json!(s),
                    None => json!(n),
                }
            }
        }
    }

    /// The integer a value's bytes hold (byte order of the type).
    pub fn number(self, bytes: &[u8]) -> u64 {
        let b = &bytes[..bytes.len().min(8)];
        if self.host_order() {
            b.iter().rev().fold(0, |acc, &x| (acc << 8) | x as u64)
        } else {
            b.iter().fold(0, |acc, &x| (acc << 8) | x as u64)
        }
    }

    /// Bytes of the integer `n`, `len` bytes long, in this type's order.
    pub fn int_bytes(self, n: u64, len: usize) -> Vec<u8> {
        let mut v: Vec<u8> = (0..len)
            .map(|i| if i < 8 { (n >> (8 * i)) as u8 } else { 0 })
            .collect();
        if !self.host_order() {
            v.reverse();
        }
        v
    }

    /// Parses the JSON form of a value of this type, `len` bytes long.
    pub fn from_json(self, v: &Value, len: usize) -> Result<Vec<u8>, String> {
        match (self, v) {
            (Dtype::Ipv4, Value::String(s)) => s
                .parse::<Ipv4Addr>()
                .map(|a| a.octets().to_vec())
                .map_err(|_| format!("an IPv4 address, not {s:?}")),
            (Dtype::Ipv6, Value::String(s)) => s
                .parse::<Ipv6Addr>()
                .map(|a| a.octets().to_vec())
                .map_err(|_| format!("an IPv6 address, not {s:?}")),
            (Dtype::Ether, Value::String(s)) => {
                let parts: Vec<_> = s.split(':').collect();
                let bytes: Option<Vec<u8>> = parts
                    .iter()
                    .map(|p| u8::from_str_radix(p, 16).ok())
                    .collect();
                match bytes {
                    Some(b) if b.len() == 6 => Ok(b),
                    _ => Err(format!("an Ethernet address, not {s:?}")),
                }
            }
            (Dtype::Ifname | Dtype::Str, Value::String(s)) => {
                let want = if len == 0 { s.len() + 1 } else { len };
                if s.len() >= want.max(1) && self == Dtype::Ifname {
                    return Err(format!("an interface name shorter than {want} bytes"));
                }
                let mut b = s.as_bytes().to_vec();
                b.resize(want.max(b.len()), 0);
                Ok(b)
            }
            (_, Value::Number(n)) => {
                let n = n
                    .as_u64()
                    .ok_or_else(|| format!("a non-negative integer, not {n}"))?;
                let len = if len == 0 {
                    self.natural_len().max(4)
                } else {
                    len
                };
                if len < 8 && n >> (8 * len) != 0 {
                    return Err(format!("an integer that fits in {len} bytes, not {n}"));
                }
                Ok(self.int_bytes(n, len))
            }
            (_, Value::String(s)) => {
                let len = if len == 0 {
                    self.natural_len().max(1)
                } else {
                    len
                };
                if let Some((n, _)) = self.symbols().iter().find(|(_, name)| name == s) {
                    return Ok(self.int_bytes(*n as u64, len));
                }
                if let Some(hex) = s.strip_prefix("0x") {
                    if let Ok(n) = u64::from_str_radix(hex, 16) {
                        return Ok(self.int_bytes(n, len));
                    }
                }
                if let Ok(n) = s.parse::<u64>() {
                    return Ok(self.int_bytes(n, len));
                }
                Err(format!("a value of type {}, not {s:?}", self.type_name()))
            }
            (_, Value::Array(items)) if self.is_bitmask() => {
                let mut acc = 0u64;
                for it in items {
                    let b = self.from_json(it, len)?;
                    acc |= self.number(&b);
                }
                let len = if len == 0 { self.natural_len() } else { len };
                Ok(self.int_bytes(acc, len))
            }
            _ => Err(format!("a value of type {}", self.type_name())),
        }
    }

    /// nft's name of the type.
    pub fn type_name(self) -> &'static str {
        match self {
            Dtype::IntHost => "integer",
            Dtype::Verdict => "verdict",
            _ => TYPES
                .iter()
                .find(|t| t.2 == self)
                .map_or("integer", |t| t.1),
        }
    }
}
