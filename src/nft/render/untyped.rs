//! Expressions the core keeps as [`crate::nft::expr::Opaque`] bytes but
//! whose nft text is simple enough to print from their attributes:
//! `numgen`, `hash`, `socket`, `rt` (register sources), `objref`, `dup`,
//! `synproxy`, `tproxy` (statements). Attribute numbers are the kernel's
//! `NFTA_NG_*`, `NFTA_HASH_*`, … from `nf_tables.h`. Anything that does
//! not decode cleanly returns `None` and the caller falls back.

use crate::netlink::AttrIter;

use super::value::{Order, Ty};

/// The attributes of an expression's data, by type. `None` if not
/// well-framed.
fn attrs(data: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut out = Vec::new();
    for a in AttrIter::new(data) {
        let a = a.ok()?;
        out.push((a.kind(), a.payload));
    }
    Some(out)
}

fn get<'a>(attrs: &[(u16, &'a [u8])], kind: u16) -> Option<&'a [u8]> {
    attrs.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

fn be32(attrs: &[(u16, &[u8])], kind: u16) -> Option<u32> {
    let v = get(attrs, kind)?;
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

fn strz(attrs: &[(u16, &[u8])], kind: u16) -> Option<String> {
    let v = get(attrs, kind)?;
    let v = v.split(|b| *b == 0).next()?;
    String::from_utf8(v.to_vec()).ok()
}

/// A register loaded by an untyped expression.
pub enum Source {
    /// A fully named value (`numgen inc mod 2`, `socket mark`).
    Named {
        /// Destination register.
        dreg: u32,
        /// Text of the expression.
        name: String,
        /// Type of its values.
        ty: Ty,
    },
    /// `jhash EXPR mod N …`: the hashed register is named in context.
    Jhash {
        /// Destination register.
        dreg: u32,
        /// First register hashed.
        sreg: u32,
        /// Bytes hashed (several registers for a concatenation).
        len: u32,
        /// What follows the hashed expression (`mod 2 seed 0x1`).
        tail: String,
    },
}

/// Decodes a register-loading expression.
pub fn source(name: &str, data: &[u8]) -> Option<Source> {
    let a = attrs(data)?;
    match name {
        "numgen" => {
            // NFTA_NG_DREG 1, MODULUS 2, TYPE 3 (0 inc, 1 random), OFFSET 4.
            let kind = match be32(&a, 3)? {
                0 => "inc",
                1 => "random",
                _ => return None,
            };
            let mut name = format!("numgen {kind} mod {}", be32(&a, 2)?);
            if let Some(off) = be32(&a, 4).filter(|o| *o != 0) {
                name.push_str(&format!(" offset {off}"));
            }
            Some(Source::Named {
                dreg: be32(&a, 1)?,
                name,
                ty: Ty::Int(Order::Host),
            })
        }
        "hash" => {
            // NFTA_HASH_SREG 1, DREG 2, LEN 3, MODULUS 4, SEED 5, OFFSET 6,
            // TYPE 7 (0 jenkins, 1 symmetric).
            let mut tail = format!("mod {}", be32(&a, 4)?);
            if let Some(seed) = be32(&a, 5).filter(|s| *s != 0) {
                tail.push_str(&format!(" seed 0x{seed:x}"));
            }
            if let Some(off) = be32(&a, 6).filter(|o| *o != 0) {
                tail.push_str(&format!(" offset {off}"));
            }
            let dreg = be32(&a, 2)?;
            match be32(&a, 7).unwrap_or(0) {
                0 => Some(Source::Jhash {
                    dreg,
                    sreg: be32(&a, 1)?,
                    len: be32(&a, 3)?,
                    tail,
                }),
                1 => Some(Source::Named {
                    dreg,
                    name: format!("symhash {tail}"),
                    ty: Ty::Int(Order::Host),
                }),
                _ => None,
            }
        }
        "socket" => {
            // NFTA_SOCKET_KEY 1, DREG 2, LEVEL 3.
            let (key, ty) = match be32(&a, 1)? {
                0 => ("transparent", Ty::Int(Order::Host)),
                1 => ("mark", Ty::Hex(Order::Host)),
                2 => ("wildcard", Ty::Int(Order::Host)),
                _ => return None,
            };
            Some(Source::Named {
                dreg: be32(&a, 2)?,
                name: format!("socket {key}"),
                ty,
            })
        }
        "rt" => {
            // NFTA_RT_DREG 1, KEY 2: classid 0, nexthop4 1, nexthop6 2,
            // tcpmss 3, xfrm 4.
            let (name, ty) = match be32(&a, 2)? {
                0 => ("rt classid", Ty::Int(Order::Host)),
                1 => ("rt ip nexthop", Ty::Ipv4),
                2 => ("rt ip6 nexthop", Ty::Ipv6),
                3 => ("rt mtu", Ty::Int(Order::Host)),
                _ => return None,
            };
            Some(Source::Named {
                dreg: be32(&a, 1)?,
                name: name.into(),
                ty,
            })
        }
        _ => None,
    }
}

/// Register operands a statement reads.
pub enum Operand {
    /// An address register (`dup to ADDR`, `tproxy to ADDR`).
    Addr(u32, Ty),
    /// A port register.
    Port(u32),
    /// An interface-index register (`dup … device "lo"`).
    Ifindex(u32),
}

/// An untyped statement: its text with `{0}`, `{1}`… standing for the
/// operands the caller fills in from registers.
pub struct Statement {
    /// Parts of the text around the operands.
    pub parts: Vec<String>,
    /// Operands, one between each pair of parts.
    pub operands: Vec<Operand>,
}

/// Decodes a statement. `table_family` is the table's `NFPROTO_*` number:
/// in inet tables nft names the family of `tproxy` explicitly.
pub fn statement(name: &str, data: &[u8], table_family: u8) -> Option<Statement> {
    let a = attrs(data)?;
    let text = |s: String| {
        Some(Statement {
            parts: vec![s],
            operands: Vec::new(),
        })
    };
    match name {
        "objref" => {
            // NFTA_OBJREF_IMM_TYPE 1, IMM_NAME 2 (map forms not handled).
            if get(&a, 3).is_some() {
                return None;
            }
            let n = strz(&a, 2)?;
            let s = match be32(&a, 1)? {
                1 => format!("counter name \"{n}\""),
                2 => format!("quota name \"{n}\""),
                3 => format!("ct helper set \"{n}\""),
                4 => format!("limit name \"{n}\""),
                7 => format!("ct timeout set \"{n}\""),
                8 => format!("meta secmark set \"{n}\""),
                9 => format!("ct expectation set \"{n}\""),
                10 => format!("synproxy name \"{n}\""),
                _ => return None,
            };
            text(s)
        }
        "synproxy" => {
            // NFTA_SYNPROXY_MSS 1 (be16), WSCALE 2 (u8), FLAGS 3:
            // NF_SYNPROXY_OPT_MSS 1, WSCALE 2, SACK_PERM 4, TIMESTAMP 8.
            // nft 1.0.6 prints mss and wscale together when either is set
            // (`synproxy wscale 5` lists as `synproxy mss 0 wscale 5`).
            let flags = be32(&a, 3).unwrap_or(0);
            let mut s = String::from("synproxy");
            if flags & 3 != 0 {
                let mss = get(&a, 1).and_then(|m| m.get(..2)).unwrap_or(&[0, 0]);
                let wscale = get(&a, 2).and_then(|w| w.first()).copied().unwrap_or(0);
                s.push_str(&format!(
                    " mss {} wscale {wscale}",
                    u16::from_be_bytes([mss[0], mss[1]])
                ));
            }
            if flags & 8 != 0 {
                s.push_str(" timestamp");
            }
            if flags & 4 != 0 {
                s.push_str(" sack-perm");
            }
            text(s)
        }
        "dup" => {
            // NFTA_DUP_SREG_ADDR 1, SREG_DEV 2.
            let ty = if table_family == 10 {
                Ty::Ipv6
            } else {
                Ty::Ipv4
            };
            let mut st = Statement {
                parts: vec!["dup to ".into()],
                operands: vec![Operand::Addr(be32(&a, 1)?, ty)],
            };
            match be32(&a, 2) {
                Some(dev) => {
                    st.parts.push(" device ".into());
                    st.operands.push(Operand::Ifindex(dev));
                    st.parts.push(String::new());
                }
                None => st.parts.push(String::new()),
            }
            Some(st)
        }
        "tproxy" => {
            // NFTA_TPROXY_FAMILY 1, REG_ADDR 2, REG_PORT 3.
            let fam = be32(&a, 1)?;
            let ty = if fam == 10 { Ty::Ipv6 } else { Ty::Ipv4 };
            let head = match (table_family, fam) {
                (1, 2) => "tproxy ip to ",
                (1, 10) => "tproxy ip6 to ",
                _ => "tproxy to ",
            };
            let mut st = Statement {
                parts: vec![head.into()],
                operands: Vec::new(),
            };
            if let Some(r) = be32(&a, 2) {
                let v6 = fam == 10;
                // nft brackets IPv6 addresses here even without a port.
                if v6 {
                    st.parts[0].push('[');
                }
                st.operands.push(Operand::Addr(r, ty));
                st.parts.push(if v6 { "]".into() } else { String::new() });
            }
            if let Some(r) = be32(&a, 3) {
                if let Some(last) = st.parts.last_mut() {
                    last.push(':');
                }
                st.operands.push(Operand::Port(r));
                st.parts.push(String::new());
            }
            if st.operands.is_empty() {
                return None;
            }
            Some(st)
        }
        _ => None,
    }
}

/// The registers of a `byteorder` hton (`NFTA_BYTEORDER_SREG` 1, `DREG` 2,
/// `OP` 3 with `NFT_BYTEORDER_HTON` = 1).
pub(crate) fn byteorder_regs(data: &[u8]) -> Option<(u32, u32)> {
    let (mut sreg, mut dreg, mut op) = (None, None, None);
    for a in AttrIter::new(data) {
        let a = a.ok()?;
        match a.kind() {
            1 => sreg = a.be32().ok(),
            2 => dreg = a.be32().ok(),
            3 => op = a.be32().ok(),
            _ => {}
        }
    }
    (op? == 1).then_some((sreg?, dreg?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::AttrWriter;

    fn data(f: impl FnOnce(&mut AttrWriter<'_>)) -> Vec<u8> {
        let mut buf = Vec::new();
        f(&mut AttrWriter::new(&mut buf));
        buf
    }

    #[test]
    fn objref_counter() {
        let d = data(|w| {
            w.put_be32(1, 1).unwrap();
            w.put_strz(2, "cnt").unwrap();
        });
        let st = statement("objref", &d, 2).unwrap();
        assert_eq!(st.parts, vec!["counter name \"cnt\"".to_string()]);
        let d = data(|w| {
            w.put_be32(1, 2).unwrap();
            w.put_strz(2, "q").unwrap();
        });
        assert_eq!(
            statement("objref", &d, 2).unwrap().parts[0],
            "quota name \"q\""
        );
    }

    #[test]
    fn numgen_and_bad_input() {
        let d = data(|w| {
            w.put_be32(1, 1).unwrap();
            w.put_be32(2, 10).unwrap();
            w.put_be32(3, 1).unwrap();
            w.put_be32(4, 5).unwrap();
        });
        match source("numgen", &d) {
            Some(Source::Named { name, dreg, .. }) => {
                assert_eq!(name, "numgen random mod 10 offset 5");
                assert_eq!(dreg, 1);
            }
            _ => panic!("numgen not decoded"),
        }
        assert!(source("numgen", &[1, 2, 3]).is_none());
        assert!(statement("objref", &[], 2).is_none());
    }
}
