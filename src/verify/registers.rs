//! The nf_tables register file of one base-chain run: four 16-byte
//! registers (`NFT_REG_1..4`) overlapping sixteen 32-bit ones
//! (`NFT_REG32_00..15`), after the verdict register. Each base chain
//! starts with unknown contents (the kernel does not clear them).

use super::bits::Bits;

/// Bytes of data registers (`NFT_REG_MAX` words of 4 bytes after the
/// 16-byte verdict register).
const DATA_BYTES: usize = 16 * 4;
const VERDICT_BYTES: usize = 16;

/// The register file.
#[derive(Debug, Clone)]
pub struct Registers {
    data: Bits,
}

impl Default for Registers {
    fn default() -> Self {
        Registers {
            data: Bits::unknown(VERDICT_BYTES + DATA_BYTES),
        }
    }
}

/// The byte offset of register `reg` (as `nft_parse_register` maps it).
fn offset(reg: u32) -> Option<usize> {
    let word = match reg {
        1..=4 => reg as usize * 4,
        8..=23 => reg as usize - 8 + 4,
        _ => return None,
    };
    Some(word * 4)
}

impl Registers {
    /// `len` bytes of register `reg`.
    pub fn load(&self, reg: u32, len: usize) -> Result<Bits, String> {
        let at = offset(reg).ok_or_else(|| format!("register {reg} is not a data register"))?;
        if at + len > self.data.len() {
            return Err(format!(
                "{len} bytes from register {reg} overrun the registers"
            ));
        }
        Ok(self.data.slice_or_unknown(at, len))
    }

    /// Stores `v` in register `reg`, zeroing the rest of its last 32-bit
    /// word as the kernel's loads do (`nft_data_copy`, payload loads,
    /// `nft_reg_store8/16`), so that concatenation padding is known zero.
    pub fn store(&mut self, reg: u32, v: &Bits) -> Result<(), String> {
        let at = offset(reg).ok_or_else(|| format!("register {reg} is not a data register"))?;
        let padded = v.len().div_ceil(4) * 4;
        if at + padded > self.data.len() {
            return Err(format!(
                "{} bytes into register {reg} overrun the registers",
                v.len()
            ));
        }
        let mut w = Bits::known(&vec![0; padded]);
        w.put(0, v);
        self.data.put(at, &w);
        Ok(())
    }

    /// Stores `len` unknown bytes (a load whose value is unknown).
    pub fn store_unknown(&mut self, reg: u32, len: usize) -> Result<(), String> {
        let at = offset(reg).ok_or_else(|| format!("register {reg} is not a data register"))?;
        let padded = len.div_ceil(4) * 4;
        if at + padded > self.data.len() {
            return Err(format!(
                "{len} bytes into register {reg} overrun the registers"
            ));
        }
        self.data.put(at, &Bits::unknown(padded));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_and_four_byte_registers_overlap() {
        let mut r = Registers::default();
        r.store(1, &Bits::known(&[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(r.load(8, 4).unwrap().value(), Some(&[1, 2, 3, 4][..]));
        assert_eq!(r.load(9, 4).unwrap().value(), Some(&[5, 6, 0, 0][..]));
        assert!(r.load(10, 4).unwrap().value().is_none());
        assert!(r.load(0, 4).is_err());
        assert!(r.store(23, &Bits::known(&[0; 8])).is_err());
    }
}
