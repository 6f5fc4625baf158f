//! The packet the evaluator follows: addresses, transport header, the
//! metadata netfilter attaches (interfaces, mark, conntrack), and the
//! header bytes synthesised from it.
//!
//! Every field that a real packet carries but the description leaves out
//! is *unknown*, never guessed: a rule that reads it makes the evaluator
//! explore both outcomes (see [`super::eval`]).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::bits::Bits;
use crate::nft::Hook;

/// The network-layer family of the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpFamily {
    /// IPv4 (`ip` and `inet` tables see it).
    V4,
    /// IPv6 (`ip6` and `inet` tables see it).
    V6,
}

impl IpFamily {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => IpFamily::V4,
            IpAddr::V6(_) => IpFamily::V6,
        }
    }

    /// `NFPROTO_IPV4` (2) or `NFPROTO_IPV6` (10).
    pub fn nfproto(self) -> u8 {
        match self {
            IpFamily::V4 => 2,
            IpFamily::V6 => 10,
        }
    }

    /// The ethertype (`meta protocol`).
    pub fn ethertype(self) -> u16 {
        match self {
            IpFamily::V4 => 0x0800,
            IpFamily::V6 => 0x86dd,
        }
    }

    /// The length of an address in bytes.
    pub fn addr_len(self) -> usize {
        match self {
            IpFamily::V4 => 4,
            IpFamily::V6 => 16,
        }
    }
}

/// A network interface as the packet meets it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interface {
    /// Name (`meta iifname`).
    pub name: String,
    /// Index (`meta iif`).
    pub index: u32,
    /// `ARPHRD_*` type (`meta iiftype`; 1 = Ethernet, 772 = loopback), if known.
    pub arphrd: Option<u16>,
    /// Link kind (`meta iifkind`: `veth`, `bridge`, …), if known.
    pub kind: Option<String>,
    /// Interface group (`meta iifgroup`), if known.
    pub group: Option<u32>,
}

impl Interface {
    /// An interface with a name and index; type, kind and group unknown.
    pub fn new(name: impl Into<String>, index: u32) -> Self {
        Interface {
            name: name.into(),
            index,
            arphrd: None,
            kind: None,
            group: None,
        }
    }
}

/// The transport layer of the packet. The packet is never a fragment and
/// carries no IPv6 extension headers and no IPv4 options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L4 {
    /// TCP. `flags` is the flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH
    /// 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80).
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Flags byte, if known.
        flags: Option<u8>,
    },
    /// UDP.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
    },
    /// ICMP (IPv4) or ICMPv6 (IPv6), by the packet's family.
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// Echo identifier (echo request/reply), if known.
        id: Option<u16>,
        /// Echo sequence number, if known.
        seq: Option<u16>,
    },
    /// Another protocol; its header is unknown.
    Other {
        /// IP protocol number.
        proto: u8,
    },
}

impl L4 {
    /// The IP protocol number in `family`.
    pub fn proto(&self, family: IpFamily) -> u8 {
        match self {
            L4::Tcp { .. } => 6,
            L4::Udp { .. } => 17,
            L4::Icmp { .. } => match family {
                IpFamily::V4 => 1,
                IpFamily::V6 => 58,
            },
            L4::Other { proto } => *proto,
        }
    }
}

/// TCP flag bits.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// The conntrack state of the packet (`enum ip_conntrack_info`, folded as
/// `ct state` folds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CtState {
    /// First packet(s) of a connection.
    New,
    /// Part of a connection that has seen traffic both ways.
    Established,
    /// Related to an existing connection (ICMP errors, FTP data, …).
    Related,
    /// Conntrack could not classify it (bad checksum, out of window, …).
    Invalid,
    /// Exempted from tracking (`notrack`).
    Untracked,
}

impl CtState {
    /// The `ct state` bit.
    pub fn bit(self) -> u32 {
        use crate::nft::expr::ct::state;
        match self {
            CtState::New => state::NEW,
            CtState::Established => state::ESTABLISHED,
            CtState::Related => state::RELATED,
            CtState::Invalid => state::INVALID,
            CtState::Untracked => state::UNTRACKED,
        }
    }
}

/// The direction of the packet within its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CtDirection {
    /// From the initiator.
    Original,
    /// From the responder.
    Reply,
}

/// What conntrack knows about the packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CtInfo {
    /// `ct state` (None: unknown).
    pub state: Option<CtState>,
    /// `ct direction` (None: unknown; derived as original for `new`).
    pub direction: Option<CtDirection>,
    /// `ct status` bits (`IPS_*`), if known.
    pub status: Option<u32>,
    /// `ct mark`, if known.
    pub mark: Option<u32>,
}

impl CtInfo {
    /// A packet opening a new connection: state new, direction original,
    /// status and mark zero.
    pub fn new_connection() -> Self {
        CtInfo {
            state: Some(CtState::New),
            direction: Some(CtDirection::Original),
            status: Some(0),
            mark: Some(0),
        }
    }

    /// Nothing known.
    pub fn unknown() -> Self {
        CtInfo {
            state: None,
            direction: None,
            status: None,
            mark: None,
        }
    }
}

/// `meta pkttype` (`PACKET_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PktType {
    /// To this host (0).
    Host,
    /// Broadcast (1).
    Broadcast,
    /// Multicast (2).
    Multicast,
    /// To another host (3).
    OtherHost,
}

impl PktType {
    /// The `PACKET_*` number.
    pub fn number(self) -> u8 {
        match self {
            PktType::Host => 0,
            PktType::Broadcast => 1,
            PktType::Multicast => 2,
            PktType::OtherHost => 3,
        }
    }
}

/// The local socket attached to the packet (`meta skuid`/`skgid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketInfo {
    /// Not known whether a socket is attached (early demux may attach one
    /// to received packets of established connections).
    Unknown,
    /// No socket: `meta skuid` does not match anything.
    None,
    /// A full socket owned by this user and group.
    Owner {
        /// Owner uid.
        uid: u32,
        /// Owner gid.
        gid: u32,
    },
}

/// The packet the evaluator follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Packet {
    /// IPv4 or IPv6 (must match the addresses).
    pub family: IpFamily,
    /// The hook [`super::Evaluator::evaluate`] walks.
    pub hook: Hook,
    /// Input interface (None on output/postrouting of local packets).
    pub iif: Option<Interface>,
    /// Output interface (None before routing: prerouting, input).
    pub oif: Option<Interface>,
    /// Source address.
    pub saddr: IpAddr,
    /// Destination address.
    pub daddr: IpAddr,
    /// Transport layer.
    pub l4: L4,
    /// Conntrack.
    pub ct: CtInfo,
    /// `meta mark` (0 for a packet no one marked; None: unknown).
    pub mark: Option<u32>,
    /// `meta pkttype`, if known.
    pub pkttype: Option<PktType>,
    /// Attached socket.
    pub socket: SocketInfo,
    /// Packet length in bytes (`meta length`: the IP datagram), if known.
    pub length: Option<u32>,
    /// DSCP (6 bits), if known.
    pub dscp: Option<u8>,
    /// ECN (2 bits), if known.
    pub ecn: Option<u8>,
    /// TTL / hop limit, if known.
    pub ttl: Option<u8>,
    /// IPv4 identification, if known.
    pub ip_id: Option<u16>,
    /// IPv4 "don't fragment" bit, if known.
    pub dont_fragment: Option<bool>,
    /// IPv6 flow label (20 bits), if known.
    pub flowlabel: Option<u32>,
    /// `meta priority` (skb priority), if known.
    pub priority: Option<u32>,
}

impl Packet {
    /// A packet from `saddr` to `daddr` at `hook`, with the metadata of a
    /// packet opening a new connection from the network: conntrack new,
    /// mark 0, pkttype host, no socket. Interfaces, length and the IP
    /// header fields that are not addresses stay unknown.
    pub fn new(hook: Hook, saddr: IpAddr, daddr: IpAddr, l4: L4) -> Self {
        Packet {
            family: IpFamily::of(&saddr),
            hook,
            iif: None,
            oif: None,
            saddr,
            daddr,
            l4,
            ct: CtInfo::new_connection(),
            mark: Some(0),
            pkttype: Some(PktType::Host),
            socket: SocketInfo::None,
            length: None,
            dscp: None,
            ecn: None,
            ttl: None,
            ip_id: None,
            dont_fragment: None,
            flowlabel: None,
            priority: None,
        }
    }

    /// A TCP SYN (flags exactly SYN) opening a new connection.
    pub fn tcp_syn(hook: Hook, saddr: IpAddr, sport: u16, daddr: IpAddr, dport: u16) -> Self {
        Self::new(
            hook,
            saddr,
            daddr,
            L4::Tcp {
                sport,
                dport,
                flags: Some(tcp_flags::SYN),
            },
        )
    }

    /// A UDP datagram opening a new connection.
    pub fn udp(hook: Hook, saddr: IpAddr, sport: u16, daddr: IpAddr, dport: u16) -> Self {
        Self::new(hook, saddr, daddr, L4::Udp { sport, dport })
    }

    /// An ICMP (IPv4) or ICMPv6 (IPv6) echo request.
    pub fn echo_request(hook: Hook, saddr: IpAddr, daddr: IpAddr, id: u16, seq: u16) -> Self {
        let icmp_type = match saddr {
            IpAddr::V4(_) => 8,
            IpAddr::V6(_) => 128,
        };
        Self::new(
            hook,
            saddr,
            daddr,
            L4::Icmp {
                icmp_type,
                code: 0,
                id: Some(id),
                seq: Some(seq),
            },
        )
    }

    /// Sets the input interface.
    pub fn with_iif(mut self, iif: Interface) -> Self {
        self.iif = Some(iif);
        self
    }

    /// Sets the output interface.
    pub fn with_oif(mut self, oif: Interface) -> Self {
        self.oif = Some(oif);
        self
    }

    /// Sets the conntrack information.
    pub fn with_ct(mut self, ct: CtInfo) -> Self {
        self.ct = ct;
        self
    }

    /// Checks that the description is consistent (addresses of the
    /// declared family).
    pub fn validate(&self) -> Result<(), String> {
        if IpFamily::of(&self.saddr) != self.family || IpFamily::of(&self.daddr) != self.family {
            return Err(format!(
                "packet family {:?} but addresses {} -> {}",
                self.family, self.saddr, self.daddr
            ));
        }
        if let Some(d) = self.dscp {
            if d > 63 {
                return Err(format!("dscp {d} does not fit 6 bits"));
            }
        }
        if let Some(e) = self.ecn {
            if e > 3 {
                return Err(format!("ecn {e} does not fit 2 bits"));
            }
        }
        if let Some(f) = self.flowlabel {
            if f > 0xf_ffff {
                return Err(format!("flow label {f:#x} does not fit 20 bits"));
            }
        }
        Ok(())
    }

    /// The network header followed by the transport header, as bytes
    /// with a known-bits mask.
    pub(crate) fn headers(&self) -> Headers {
        let proto = self.l4.proto(self.family);
        let nh = match (self.family, self.saddr, self.daddr) {
            (IpFamily::V4, IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut h = Bits::unknown(20);
                h.set_byte(0, 0x45); // version 4, no options
                set_tos(&mut h, 1, self.dscp, self.ecn);
                if let Some(len) = self.length {
                    h.set_bytes(2, &(len as u16).to_be_bytes());
                }
                if let Some(id) = self.ip_id {
                    h.set_bytes(4, &id.to_be_bytes());
                }
                // Never a fragment: MF and the offset are zero; DF as given.
                h.set_bits(6, 0x3f, 0);
                h.set_byte(7, 0);
                if let Some(df) = self.dont_fragment {
                    h.set_bits(6, 0x40, if df { 0x40 } else { 0 });
                }
                h.set_bits(6, 0x80, 0); // reserved bit
                if let Some(ttl) = self.ttl {
                    h.set_byte(8, ttl);
                }
                h.set_byte(9, proto);
                h.set_bytes(12, &s.octets());
                h.set_bytes(16, &d.octets());
                h
            }
            (_, s, d) => {
                let mut h = Bits::unknown(40);
                h.set_bits(0, 0xf0, 0x60);
                // Traffic class spans the low nibble of byte 0 and the high
                // nibble of byte 1.
                if let Some(dscp) = self.dscp {
                    h.set_bits(0, 0x0f, dscp >> 2);
                    h.set_bits(1, 0xc0, (dscp & 3) << 6);
                }
                if let Some(ecn) = self.ecn {
                    h.set_bits(1, 0x30, ecn << 4);
                }
                if let Some(fl) = self.flowlabel {
                    h.set_bits(1, 0x0f, (fl >> 16) as u8);
                    h.set_bytes(2, &(fl as u16).to_be_bytes());
                }
                if let Some(len) = self.length {
                    h.set_bytes(4, &(len.saturating_sub(40) as u16).to_be_bytes());
                }
                h.set_byte(6, proto);
                if let Some(ttl) = self.ttl {
                    h.set_byte(7, ttl);
                }
                h.set_bytes(8, &ip_octets(&s));
                h.set_bytes(24, &ip_octets(&d));
                h
            }
        };
        let nh_len = nh.len() as u32;
        let th = match &self.l4 {
            L4::Tcp {
                sport,
                dport,
                flags,
            } => {
                let mut t = Bits::unknown(20);
                t.set_bytes(0, &sport.to_be_bytes());
                t.set_bytes(2, &dport.to_be_bytes());
                if let Some(f) = flags {
                    t.set_byte(13, *f);
                }
                t
            }
            L4::Udp { sport, dport } => {
                let mut t = Bits::unknown(8);
                t.set_bytes(0, &sport.to_be_bytes());
                t.set_bytes(2, &dport.to_be_bytes());
                if let Some(len) = self.length {
                    t.set_bytes(4, &(len.saturating_sub(nh_len) as u16).to_be_bytes());
                }
                t
            }
            L4::Icmp {
                icmp_type,
                code,
                id,
                seq,
            } => {
                let mut t = Bits::unknown(8);
                t.set_byte(0, *icmp_type);
                t.set_byte(1, *code);
                if let Some(id) = id {
                    t.set_bytes(4, &id.to_be_bytes());
                }
                if let Some(seq) = seq {
                    t.set_bytes(6, &seq.to_be_bytes());
                }
                t
            }
            L4::Other { .. } => Bits::unknown(0),
        };
        Headers { nh, th }
    }
}

fn set_tos(h: &mut Bits, at: usize, dscp: Option<u8>, ecn: Option<u8>) {
    if let Some(d) = dscp {
        h.set_bits(at, 0xfc, d << 2);
    }
    if let Some(e) = ecn {
        h.set_bits(at, 0x03, e);
    }
}

pub(crate) fn ip_octets(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The packet's headers as partially-known bytes. The network header is
/// immediately followed by the transport header (no options, no
/// extension headers); bytes past the transport header are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Headers {
    /// Network header.
    pub nh: Bits,
    /// Transport header (empty for an unknown protocol).
    pub th: Bits,
}

impl Headers {
    /// `len` bytes at `offset` from the network header.
    pub fn network(&self, offset: usize, len: usize) -> Bits {
        let mut all = self.nh.clone();
        all.extend(&self.th);
        all.slice_or_unknown(offset, len)
    }

    /// `len` bytes at `offset` from the transport header.
    pub fn transport(&self, offset: usize, len: usize) -> Bits {
        self.th.slice_or_unknown(offset, len)
    }
}
