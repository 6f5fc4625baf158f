//! `bitwise`: `dreg = (sreg & mask) ^ xor`, or a shift.

use crate::nft::Data;

u32_enum! {
    /// Bitwise operations (`enum nft_bitwise_ops`).
    pub enum BitwiseOp {
        /// Mask-and-xor (implements AND, OR, XOR, NOT).
        MaskXor = 0 => "mask-xor",
        /// Left shift.
        Lshift = 1 => "<<",
        /// Right shift.
        Rshift = 2 => ">>",
        /// AND of two registers.
        And = 3 => "&",
        /// OR of two registers.
        Or = 4 => "|",
        /// XOR of two registers.
        Xor = 5 => "^",
    }
}

nft_expr! {
    /// `bitwise`. Kernels before 5.6 do not send `op` (mask-xor implied).
    pub struct Bitwise = "bitwise" {
        /// Source register.
        sreg: req u32 = 1,
        /// Destination register.
        dreg: req u32 = 2,
        /// Length of the operands in bytes.
        len: req u32 = 3,
        /// Operation.
        op: opt BitwiseOp = 6,
        /// Mask (mask-xor).
        mask: opt Data = 4,
        /// Xor value (mask-xor).
        xor: opt Data = 5,
        /// Shift amount.
        data: opt Data = 7,
        /// Second source register (register-register operations).
        sreg2: opt u32 = 8,
    }
}

impl Bitwise {
    /// `reg = (reg & mask) ^ 0`, the form nft uses for prefixes and flags.
    pub fn mask(reg: u32, mask: Vec<u8>) -> Self {
        let zero = vec![0; mask.len()];
        Bitwise {
            sreg: reg,
            dreg: reg,
            len: mask.len() as u32,
            op: Some(BitwiseOp::MaskXor),
            mask: Some(Data::Value(mask)),
            xor: Some(Data::Value(zero)),
            data: None,
            sreg2: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn mask_roundtrip() {
        let e = Bitwise::mask(1, vec![0xff, 0xff, 0xff, 0]).into();
        roundtrip(&e);
    }
}
