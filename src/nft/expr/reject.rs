//! `reject`: answer with an ICMP error or a TCP reset.

u32_enum! {
    /// Reject kinds (`enum nft_reject_types`).
    pub enum RejectType {
        /// ICMP (or ICMPv6) unreachable with a family-specific code.
        IcmpUnreach = 0 => "icmp",
        /// TCP reset.
        TcpRst = 1 => "tcp reset",
        /// Family-independent ICMP unreachable (inet and bridge).
        IcmpxUnreach = 2 => "icmpx",
    }
}

nft_expr! {
    /// `reject [with …]`.
    pub struct Reject = "reject" {
        /// Kind.
        kind: req RejectType = 1,
        /// ICMP code.
        icmp_code: opt u8 = 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Reject {
                kind: RejectType::IcmpxUnreach,
                icmp_code: Some(1),
            }
            .into(),
        );
        roundtrip(
            &Reject {
                kind: RejectType::TcpRst,
                icmp_code: None,
            }
            .into(),
        );
    }
}
