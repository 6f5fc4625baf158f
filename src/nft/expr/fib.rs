//! `fib`: route lookup (`fib saddr . iif oif`, `fib daddr type local`, …).

u32_enum! {
    /// What a fib lookup returns (`enum nft_fib_result`).
    pub enum FibResult {
        /// Unspecified.
        Unspec = 0 => "unspec",
        /// Output interface index.
        Oif = 1 => "oif",
        /// Output interface name.
        Oifname = 2 => "oifname",
        /// Address type.
        Addrtype = 3 => "type",
    }
}

/// `NFTA_FIB_F_*` flags: which packet fields key the lookup.
pub mod flags {
    /// Look up the source address.
    pub const SADDR: u32 = 1;
    /// Look up the destination address.
    pub const DADDR: u32 = 1 << 1;
    /// Use the packet mark.
    pub const MARK: u32 = 1 << 2;
    /// Restrict to the input interface.
    pub const IIF: u32 = 1 << 3;
    /// Restrict to the output interface.
    pub const OIF: u32 = 1 << 4;
    /// Check existence only.
    pub const PRESENT: u32 = 1 << 5;
}

nft_expr! {
    /// `fib`.
    pub struct Fib = "fib" {
        /// Destination register.
        dreg: req u32 = 1,
        /// What to return.
        result: req FibResult = 2,
        /// `NFTA_FIB_F_*`.
        flags: req u32 = 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Fib {
                dreg: 1,
                result: FibResult::Oif,
                flags: flags::SADDR | flags::IIF,
            }
            .into(),
        );
    }
}
