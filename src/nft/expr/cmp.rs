//! `cmp`: compare a register with a constant.

use crate::nft::Data;

u32_enum! {
    /// Comparison operators (`enum nft_cmp_ops`), named as nft prints them.
    pub enum CmpOp {
        /// Equal (nft prints nothing for it).
        Eq = 0 => "==",
        /// Not equal.
        Neq = 1 => "!=",
        /// Less than.
        Lt = 2 => "<",
        /// Less than or equal.
        Lte = 3 => "<=",
        /// Greater than.
        Gt = 4 => ">",
        /// Greater than or equal.
        Gte = 5 => ">=",
    }
}

nft_expr! {
    /// `cmp`: the rule stops (does not match) unless `sreg op data` holds.
    pub struct Cmp = "cmp" {
        /// Register compared.
        sreg: req u32 = 1,
        /// Operator.
        op: req CmpOp = 2,
        /// Constant compared with.
        data: req Data = 3,
    }
}

impl Cmp {
    /// `sreg op value`.
    pub fn new(sreg: u32, op: CmpOp, value: impl Into<Vec<u8>>) -> Self {
        Cmp {
            sreg,
            op,
            data: Data::Value(value.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn cmp_eq_bytes() {
        // [ cmp eq reg 1 0x00001600 ]
        let e = Cmp::new(1, CmpOp::Eq, vec![0x00, 0x16]).into();
        roundtrip(&e);
        assert_eq!(
            data_bytes(&e),
            [
                8, 0, 1, 0, 0, 0, 0, 1, 8, 0, 2, 0, 0, 0, 0, 0, 12, 0, 3, 0, 6, 0, 1, 0, 0, 0x16,
                0, 0
            ]
        );
    }
}
