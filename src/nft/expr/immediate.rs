//! `immediate`: load a constant into a register, or set the verdict.

use crate::nft::{Data, Verdict};

nft_expr! {
    /// `immediate`: register 0 (`NFT_REG_VERDICT`) with a verdict ends the rule.
    pub struct Immediate = "immediate" {
        /// Destination register.
        dreg: req u32 = 1,
        /// The value or verdict.
        data: req Data = 2,
    }
}

impl Immediate {
    /// Sets the verdict.
    pub fn verdict(v: Verdict) -> Self {
        Immediate {
            dreg: crate::nft::consts::NFT_REG_VERDICT,
            data: Data::Verdict(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn accept_bytes() {
        // [ immediate reg 0 accept ]
        let e = Immediate::verdict(Verdict::Accept).into();
        roundtrip(&e);
        assert_eq!(
            data_bytes(&e),
            [8, 0, 1, 0, 0, 0, 0, 0, 16, 0, 2, 0, 12, 0, 2, 0, 8, 0, 1, 0, 0, 0, 0, 1]
        );
        roundtrip(&Immediate::verdict(Verdict::Jump("sub".into())).into());
    }
}
