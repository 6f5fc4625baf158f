//! Partially known bytes: a value and a mask of the bits that are known.
//! Registers, header bytes and loaded metadata all carry one, so that an
//! unknown field stays unknown through masks and shifts, and a comparison
//! is decided exactly when the known bits suffice.

/// Bytes whose bits are each known or unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bits {
    value: Vec<u8>,
    /// 1 bits are known.
    known: Vec<u8>,
}

/// The answer to a question about partially known bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// Certainly true.
    True,
    /// Certainly false.
    False,
    /// Depends on unknown bits.
    Unknown,
}

impl Tri {
    /// `b` as a certain answer.
    pub fn from_bool(b: bool) -> Self {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }

    /// Logical not.
    pub fn negate(self) -> Self {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }

    /// Logical and.
    pub fn and(self, other: Tri) -> Self {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }
}

impl Bits {
    /// Fully known bytes.
    pub fn known(bytes: &[u8]) -> Self {
        Bits {
            value: bytes.to_vec(),
            known: vec![0xff; bytes.len()],
        }
    }

    /// `len` unknown bytes.
    pub fn unknown(len: usize) -> Self {
        Bits {
            value: vec![0; len],
            known: vec![0; len],
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Whether every bit is known.
    pub fn is_known(&self) -> bool {
        self.known.iter().all(|&k| k == 0xff)
    }

    /// The bytes, if every bit is known.
    pub fn value(&self) -> Option<&[u8]> {
        self.is_known().then_some(self.value.as_slice())
    }

    /// Sets byte `at` to a known value.
    pub fn set_byte(&mut self, at: usize, v: u8) {
        self.set_bits(at, 0xff, v);
    }

    /// Sets the bits of `mask` in byte `at` to those of `v`, known.
    pub fn set_bits(&mut self, at: usize, mask: u8, v: u8) {
        if let (Some(val), Some(k)) = (self.value.get_mut(at), self.known.get_mut(at)) {
            *val = (*val & !mask) | (v & mask);
            *k |= mask;
        }
    }

    /// Sets known bytes from `at`.
    pub fn set_bytes(&mut self, at: usize, v: &[u8]) {
        for (i, b) in v.iter().enumerate() {
            self.set_byte(at + i, *b);
        }
    }

    /// Copies `src` (known and unknown bits) to `at`.
    pub fn put(&mut self, at: usize, src: &Bits) {
        for i in 0..src.len() {
            if let (Some(v), Some(k)) = (self.value.get_mut(at + i), self.known.get_mut(at + i)) {
                *v = src.value[i];
                *k = src.known[i];
            }
        }
    }

    /// Appends `other`.
    pub fn extend(&mut self, other: &Bits) {
        self.value.extend_from_slice(&other.value);
        self.known.extend_from_slice(&other.known);
    }

    /// `len` bytes from `offset`; bytes past the end are unknown.
    pub fn slice_or_unknown(&self, offset: usize, len: usize) -> Bits {
        let mut out = Bits::unknown(len);
        for i in 0..len {
            if let (Some(v), Some(k)) = (self.value.get(offset + i), self.known.get(offset + i)) {
                out.value[i] = *v;
                out.known[i] = *k;
            }
        }
        out
    }

    /// `(self & mask) ^ xor`, bit by bit: a bit masked to zero becomes
    /// known whatever it was.
    pub fn mask_xor(&self, mask: &[u8], xor: &[u8]) -> Bits {
        let mut out = self.clone();
        for i in 0..out.len() {
            let m = mask.get(i).copied().unwrap_or(0);
            let x = xor.get(i).copied().unwrap_or(0);
            out.value[i] = (self.value[i] & m) ^ x;
            out.known[i] = (self.known[i] & m) | !m;
        }
        out
    }

    /// Bitwise and/or/xor of two partially known operands of equal length.
    pub fn combine(&self, other: &Bits, op: BinOp) -> Bits {
        let mut out = Bits::unknown(self.len());
        for i in 0..self.len() {
            let (a, ka) = (self.value[i], self.known[i]);
            let (b, kb) = (
                other.value.get(i).copied().unwrap_or(0),
                other.known.get(i).copied().unwrap_or(0),
            );
            let (v, k) = match op {
                // A known zero on either side decides an and.
                BinOp::And => (a & b, (ka & kb) | (ka & !a) | (kb & !b)),
                // A known one on either side decides an or.
                BinOp::Or => (a | b, (ka & kb) | (ka & a) | (kb & b)),
                BinOp::Xor => (a ^ b, ka & kb),
            };
            out.value[i] = v & k;
            out.known[i] = k;
        }
        out
    }

    /// Swaps the byte order of every `size`-byte group (the kernel's
    /// `byteorder` expression on a little-endian host).
    pub fn swap_groups(&self, size: usize) -> Bits {
        let mut out = self.clone();
        if size <= 1 {
            return out;
        }
        for start in (0..self.len()).step_by(size) {
            let end = (start + size).min(self.len());
            out.value[start..end].reverse();
            out.known[start..end].reverse();
        }
        out
    }

    /// Shifts each native-endian 32-bit word of the operand left (or
    /// right) by `n` bits, carrying between words as `nft_bitwise` does
    /// (the most significant word first, as the register is laid out).
    pub fn shift_words(&self, n: u32, left: bool) -> Bits {
        let words = self.len().div_ceil(4);
        let word = |b: &[u8], i: usize| -> u32 {
            let mut w = [0u8; 4];
            for (j, x) in w.iter_mut().enumerate() {
                *x = b.get(i * 4 + j).copied().unwrap_or(0);
            }
            u32::from_ne_bytes(w)
        };
        let vals: Vec<u32> = (0..words).map(|i| word(&self.value, i)).collect();
        // Unknown bits travel like values; shifted-in bits are known zeros.
        let unk: Vec<u32> = (0..words).map(|i| !word(&self.known, i)).collect();
        let shift = |src: &[u32]| -> Vec<u32> {
            let mut out = vec![0u32; words];
            if n == 0 || n >= 32 {
                return if n == 0 { src.to_vec() } else { out };
            }
            if left {
                let mut carry = 0u32;
                for i in (0..words).rev() {
                    out[i] = (src[i] << n) | carry;
                    carry = src[i] >> (32 - n);
                }
            } else {
                let mut carry = 0u32;
                for i in 0..words {
                    out[i] = carry | (src[i] >> n);
                    carry = src[i] << (32 - n);
                }
            }
            out
        };
        let (v, u) = (shift(&vals), shift(&unk));
        let mut out = Bits::unknown(self.len());
        for i in 0..self.len() {
            let (w, j) = (i / 4, i % 4);
            out.value[i] = v[w].to_ne_bytes()[j];
            out.known[i] = !u[w].to_ne_bytes()[j];
            out.value[i] &= out.known[i];
        }
        out
    }

    /// Whether the bytes equal `data` (compared over `data`'s length, as
    /// the kernel's `cmp` does).
    pub fn equals(&self, data: &[u8]) -> Tri {
        let mut all_known = true;
        for (i, d) in data.iter().enumerate() {
            let (v, k) = (
                self.value.get(i).copied().unwrap_or(0),
                self.known.get(i).copied().unwrap_or(0),
            );
            if (v ^ d) & k != 0 {
                return Tri::False;
            }
            if k != 0xff {
                all_known = false;
            }
        }
        if all_known {
            Tri::True
        } else {
            Tri::Unknown
        }
    }

    /// Whether `self OP data` holds in `memcmp` order over `data`'s
    /// length (the kernel's `cmp` and `range`), whatever the unknown bits
    /// are when the answer is certain.
    pub fn order(&self, op: Order, data: &[u8]) -> Tri {
        let min = self.extreme(data.len(), false);
        let max = self.extreme(data.len(), true);
        let (min, max) = (min.as_slice(), max.as_slice());
        let (sure, never) = match op {
            Order::Lt => (max < data, min >= data),
            Order::Lte => (max <= data, min > data),
            Order::Gt => (min > data, max <= data),
            Order::Gte => (min >= data, max < data),
        };
        if sure {
            Tri::True
        } else if never {
            Tri::False
        } else {
            Tri::Unknown
        }
    }

    /// Whether `from <= self <= to` (memcmp order over the bounds' length).
    pub fn within(&self, from: &[u8], to: &[u8]) -> Tri {
        self.order(Order::Gte, from).and(self.order(Order::Lte, to))
    }

    /// The smallest (`high == false`) or largest value the first `len`
    /// bytes can take.
    fn extreme(&self, len: usize, high: bool) -> Vec<u8> {
        (0..len)
            .map(|i| {
                let v = self.value.get(i).copied().unwrap_or(0);
                let k = self.known.get(i).copied().unwrap_or(0);
                if high {
                    (v & k) | !k
                } else {
                    v & k
                }
            })
            .collect()
    }
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
}

/// A register-register bitwise operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `&`.
    And,
    /// `|`.
    Or,
    /// `^`.
    Xor,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_unknown_bits_become_known() {
        let mut b = Bits::unknown(1);
        b.set_bits(0, 0x06, 0x02);
        assert_eq!(b.equals(&[0x02]), Tri::Unknown);
        let m = b.mask_xor(&[0x06], &[0]);
        assert_eq!(m.equals(&[0x02]), Tri::True);
        assert_eq!(m.equals(&[0x04]), Tri::False);
    }

    #[test]
    fn compare_decides_when_unknown_bits_cannot_matter() {
        let mut b = Bits::unknown(2);
        b.set_byte(0, 0x10);
        assert_eq!(b.order(Order::Gt, &[0x0f, 0xff]), Tri::True);
        assert_eq!(b.order(Order::Gt, &[0x10, 0x05]), Tri::Unknown);
        assert_eq!(b.order(Order::Lte, &[0x10, 0xff]), Tri::True);
        assert_eq!(b.order(Order::Lt, &[0x10, 0x00]), Tri::False);
        assert_eq!(b.within(&[0x20, 0], &[0x30, 0]), Tri::False);
        assert_eq!(b.within(&[0x10, 0], &[0x10, 0xff]), Tri::True);
    }

    #[test]
    fn shifts_carry_between_words() {
        let b = Bits::known(&1u32.to_ne_bytes());
        let s = b.shift_words(4, true);
        assert_eq!(s.value(), Some(&16u32.to_ne_bytes()[..]));
        let mut half = Bits::unknown(4);
        half.set_bytes(0, &[0, 0]);
        let r = half.shift_words(32, false);
        assert!(r.is_known());
    }

    #[test]
    fn and_with_known_zero_is_known() {
        let a = Bits::unknown(1);
        let z = Bits::known(&[0]);
        assert_eq!(a.combine(&z, BinOp::And).equals(&[0]), Tri::True);
        assert_eq!(a.combine(&z, BinOp::Or).equals(&[0]), Tri::Unknown);
    }
}
