//! `nat`, `masq` and `redir`: address and port translation.

u32_enum! {
    /// NAT types (`enum nft_nat_types`).
    pub enum NatType {
        /// Source NAT.
        Snat = 0 => "snat",
        /// Destination NAT.
        Dnat = 1 => "dnat",
    }
}

nft_expr! {
    /// `snat`/`dnat to ADDR[-ADDR][:PORT[-PORT]]`; the addresses and ports
    /// come from registers loaded by earlier `immediate`s.
    pub struct Nat = "nat" {
        /// Source or destination NAT.
        kind: req NatType = 1,
        /// `NFPROTO_IPV4` or `NFPROTO_IPV6`.
        family: req u32 = 2,
        /// Register of the lowest address.
        reg_addr_min: opt u32 = 3,
        /// Register of the highest address.
        reg_addr_max: opt u32 = 4,
        /// Register of the lowest port.
        reg_proto_min: opt u32 = 5,
        /// Register of the highest port.
        reg_proto_max: opt u32 = 6,
        /// `NF_NAT_RANGE_*` flags.
        flags: opt u32 = 7,
    }
}

nft_expr! {
    /// `masquerade [to :PORT[-PORT]] [random|fully-random|persistent]`.
    pub struct Masq = "masq" {
        /// `NF_NAT_RANGE_*` flags.
        flags: opt u32 = 1,
        /// Register of the lowest port.
        reg_proto_min: opt u32 = 2,
        /// Register of the highest port.
        reg_proto_max: opt u32 = 3,
    }
}

nft_expr! {
    /// `redirect [to :PORT[-PORT]]`.
    pub struct Redir = "redir" {
        /// Register of the lowest port.
        reg_proto_min: opt u32 = 1,
        /// Register of the highest port.
        reg_proto_max: opt u32 = 2,
        /// `NF_NAT_RANGE_*` flags.
        flags: opt u32 = 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Nat {
                kind: NatType::Dnat,
                family: 2,
                reg_addr_min: Some(1),
                reg_addr_max: None,
                reg_proto_min: Some(2),
                reg_proto_max: None,
                flags: Some(2),
            }
            .into(),
        );
        roundtrip(
            &Masq {
                flags: None,
                reg_proto_min: None,
                reg_proto_max: None,
            }
            .into(),
        );
        roundtrip(
            &Redir {
                reg_proto_min: Some(1),
                reg_proto_max: None,
                flags: Some(2),
            }
            .into(),
        );
    }
}
