//! `exthdr`: IPv6 extension headers, TCP, IPv4, SCTP and DCCP options.

u32_enum! {
    /// Which header family (`enum nft_exthdr_op`).
    pub enum ExthdrOp {
        /// IPv6 extension header.
        Ipv6 = 0 => "exthdr",
        /// TCP option.
        TcpOpt = 1 => "tcp option",
        /// IPv4 option.
        Ipv4 = 2 => "ip option",
        /// SCTP chunk.
        Sctp = 3 => "sctp chunk",
        /// DCCP option.
        Dccp = 4 => "dccp option",
    }
}

nft_expr! {
    /// `exthdr`: `dreg` for a load, `sreg` for a write.
    pub struct Exthdr = "exthdr" {
        /// Destination register of a load.
        dreg: opt u32 = 1,
        /// Source register of a write.
        sreg: opt u32 = 7,
        /// Header or option type.
        kind: req u8 = 2,
        /// Offset within it.
        offset: req u32 = 3,
        /// Length.
        len: req u32 = 4,
        /// `NFT_EXTHDR_F_PRESENT` (1): only test for presence.
        flags: opt u32 = 5,
        /// Header family.
        op: opt ExthdrOp = 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Exthdr {
                dreg: Some(1),
                sreg: None,
                kind: 2,
                offset: 2,
                len: 2,
                flags: Some(0),
                op: Some(ExthdrOp::TcpOpt),
            }
            .into(),
        );
    }
}
