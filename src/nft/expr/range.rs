//! `range`: compare a register with an inclusive range.

use crate::nft::Data;

u32_enum! {
    /// Range operators (`enum nft_range_ops`).
    pub enum RangeOp {
        /// Inside the range.
        Eq = 0 => "==",
        /// Outside the range.
        Neq = 1 => "!=",
    }
}

nft_expr! {
    /// `range`: `from <= sreg <= to` (or its negation).
    pub struct Range = "range" {
        /// Register compared.
        sreg: req u32 = 1,
        /// Operator.
        op: req RangeOp = 2,
        /// Lower bound.
        from: req Data = 3,
        /// Upper bound.
        to: req Data = 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn roundtrips() {
        roundtrip(
            &Range {
                sreg: 1,
                op: RangeOp::Eq,
                from: Data::Value(vec![0, 80]),
                to: Data::Value(vec![0, 90]),
            }
            .into(),
        );
    }
}
