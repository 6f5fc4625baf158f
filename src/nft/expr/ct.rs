//! `ct`: load conntrack data into a register, or set it from one.

u32_enum! {
    /// Conntrack keys (`enum nft_ct_keys`), with the names nft prints.
    pub enum CtKey {
        /// Connection state (new, established, …).
        State = 0 => "state",
        /// Direction (original, reply).
        Direction = 1 => "direction",
        /// Status bits (expected, seen-reply, assured, confirmed, snat, dnat, dying).
        Status = 2 => "status",
        /// Conntrack mark.
        Mark = 3 => "mark",
        /// Security mark.
        Secmark = 4 => "secmark",
        /// Time to expiry.
        Expiration = 5 => "expiration",
        /// Helper name.
        Helper = 6 => "helper",
        /// Layer-3 protocol.
        L3protocol = 7 => "l3proto",
        /// Source address (deprecated, family-dependent length).
        Src = 8 => "saddr",
        /// Destination address (deprecated).
        Dst = 9 => "daddr",
        /// Layer-4 protocol.
        Protocol = 10 => "protocol",
        /// Layer-4 source port.
        ProtoSrc = 11 => "proto-src",
        /// Layer-4 destination port.
        ProtoDst = 12 => "proto-dst",
        /// Labels.
        Labels = 13 => "label",
        /// Packets seen.
        Pkts = 14 => "packets",
        /// Bytes seen.
        Bytes = 15 => "bytes",
        /// Average bytes per packet.
        Avgpkt = 16 => "avgpkt",
        /// Zone.
        Zone = 17 => "zone",
        /// Event mask.
        Eventmask = 18 => "event",
        /// IPv4 source address.
        SrcIp = 19 => "ip saddr",
        /// IPv4 destination address.
        DstIp = 20 => "ip daddr",
        /// IPv6 source address.
        SrcIp6 = 21 => "ip6 saddr",
        /// IPv6 destination address.
        DstIp6 = 22 => "ip6 daddr",
        /// Conntrack id.
        Id = 23 => "id",
    }
}

nft_expr! {
    /// `ct`: `dreg` for a load, `sreg` for a set; `direction` 0 = original,
    /// 1 = reply, for the directional keys.
    pub struct Ct = "ct" {
        /// Destination register of a load.
        dreg: opt u32 = 1,
        /// Source register of a set.
        sreg: opt u32 = 4,
        /// What to load or set.
        key: req CtKey = 2,
        /// Direction for directional keys.
        direction: opt u8 = 3,
    }
}

/// Bits of `ct state` (`NF_CT_STATE_*_BIT` of `enum ip_conntrack_info`).
pub mod state {
    /// invalid
    pub const INVALID: u32 = 1;
    /// established
    pub const ESTABLISHED: u32 = 1 << 1;
    /// related
    pub const RELATED: u32 = 1 << 2;
    /// new
    pub const NEW: u32 = 1 << 3;
    /// untracked
    pub const UNTRACKED: u32 = 1 << 6;
}

impl Ct {
    /// Loads `key` into register `dreg`.
    pub fn load(key: CtKey, dreg: u32) -> Self {
        Ct {
            dreg: Some(dreg),
            sreg: None,
            key,
            direction: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(&Ct::load(CtKey::State, 1).into());
        roundtrip(
            &Ct {
                dreg: Some(1),
                sreg: None,
                key: CtKey::ProtoDst,
                direction: Some(0),
            }
            .into(),
        );
    }
}
