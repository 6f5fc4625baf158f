//! `objref`: use a named stateful object from a rule (`counter name "c"`,
//! `quota name "q"`, `limit name "l"`, `ct helper set "ftp"`), either one
//! object by name, or the object an object map selects for a key
//! (`counter name ip saddr map @m`).

nft_expr! {
    /// `objref`, in the kernel's dump order (`nft_objref_dump`: name, then
    /// type; `nft_objref_map_dump`: source register, then set name).
    pub struct Objref = "objref" {
        /// Object name (`NFTA_OBJREF_IMM_NAME`).
        name: opt String = 2,
        /// Object type, `NFT_OBJECT_*` (`NFTA_OBJREF_IMM_TYPE`).
        obj_type: opt u32 = 1,
        /// Register holding the map key (`NFTA_OBJREF_SET_SREG`).
        set_sreg: opt u32 = 3,
        /// Object map name (`NFTA_OBJREF_SET_NAME`).
        set_name: opt String = 4,
        /// Object map transaction id (`NFTA_OBJREF_SET_ID`).
        set_id: opt u32 = 5,
    }
}

impl Objref {
    /// A reference to the object `name` of type `obj_type` (`NFT_OBJECT_*`).
    pub fn named(obj_type: u32, name: impl Into<String>) -> Self {
        Objref {
            name: Some(name.into()),
            obj_type: Some(obj_type),
            set_sreg: None,
            set_name: None,
            set_id: None,
        }
    }

    /// The object selected by looking register `sreg` up in object map `set`.
    pub fn map(sreg: u32, set: impl Into<String>) -> Self {
        Objref {
            name: None,
            obj_type: None,
            set_sreg: Some(sreg),
            set_name: Some(set.into()),
            set_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn named_reference_is_name_then_type() {
        let e = Objref::named(1, "c1").into();
        roundtrip(&e);
        // NFTA_OBJREF_IMM_NAME "c1\0", then NFTA_OBJREF_IMM_TYPE = 1.
        assert_eq!(
            data_bytes(&e),
            [7, 0, 2, 0, b'c', b'1', 0, 0, 8, 0, 1, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn map_reference_roundtrips() {
        roundtrip(&Objref::map(1, "m").into());
    }
}
