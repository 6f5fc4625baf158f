//! Declarative helpers that generate the typed expression structs and their
//! attribute codecs from one table per expression: field, presence
//! (`req`uired or `opt`ional), Rust type, attribute number. Fields are
//! emitted in declaration order, which each file sets to the kernel's dump
//! order.

/// Field type for a presence marker.
macro_rules! field_ty {
    (req, $ty:ty) => { $ty };
    (opt, $ty:ty) => { Option<$ty> };
}

/// Turns the parsed `Option` into the field value.
macro_rules! field_take {
    (req, $v:expr, $what:expr, $field:expr) => {
        $v.ok_or_else(|| $crate::nft::data::missing($what, $field))?
    };
    (opt, $v:expr, $what:expr, $field:expr) => {
        $v
    };
}

/// Emits one field.
macro_rules! field_emit {
    (req, $v:expr, $attr:expr, $w:expr) => {
        $crate::nft::expr::AttrValue::to_attr($v, $attr, $w)?
    };
    (opt, $v:expr, $attr:expr, $w:expr) => {
        if let Some(v) = $v {
            $crate::nft::expr::AttrValue::to_attr(v, $attr, $w)?
        }
    };
}

/// Declares an expression struct with `NAME`, `parse` and `emit`.
macro_rules! nft_expr {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $kname:literal {
            $( $(#[$fmeta:meta])* $field:ident : $presence:ident $ty:ty = $attr:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: field_ty!($presence, $ty), )*
        }

        impl $name {
            /// The kernel's name of this expression kind.
            pub const NAME: &'static str = $kname;

            /// Decodes the attributes inside `NFTA_EXPR_DATA`.
            pub fn parse(data: &[u8]) -> $crate::error::Result<Self> {
                Self::parse_exact(data).map(|(e, _)| e)
            }

            /// [`Self::parse`], also saying whether [`Self::emit`] writes
            /// exactly `data` back: every attribute arrived in the emit
            /// order (the declaration order), with the type number emit
            /// uses, and encoded as emit encodes its value
            /// ([`AttrValue::from_attr_exact`](crate::nft::expr::AttrValue::from_attr_exact)).
            /// Absent optional fields are fine: emit skips them too.
            #[allow(unused_mut, unused_assignments, unused_variables)]
            pub fn parse_exact(data: &[u8]) -> $crate::error::Result<(Self, bool)> {
                $( let mut $field: Option<$ty> = None; )*
                let mut exact = true;
                let mut last = 0usize;
                for a in $crate::netlink::AttrIter::new(data) {
                    let a = a?;
                    let k = a.kind();
                    let mut pos = 0usize;
                    $(
                        pos += 1;
                        if k == $attr {
                            if $field.is_some() {
                                return Err($crate::error::Error::Malformed {
                                    what: $kname,
                                    detail: format!("attribute {} repeated", stringify!($field)),
                                });
                            }
                            let (v, x) = <$ty as $crate::nft::expr::AttrValue>::from_attr_exact(&a)?;
                            exact &= x && pos > last && a.raw_kind == $attr;
                            last = pos;
                            $field = Some(v);
                            continue;
                        }
                    )*
                    return Err($crate::nft::data::unknown($kname, k));
                }
                Ok((
                    Self { $( $field: field_take!($presence, $field, $kname, stringify!($field)), )* },
                    exact,
                ))
            }

            /// Writes the attributes inside `NFTA_EXPR_DATA`, in the kernel's order.
            #[allow(unused_variables)]
            pub fn emit(&self, w: &mut $crate::netlink::AttrWriter<'_>) -> $crate::error::Result<()> {
                $( field_emit!($presence, &self.$field, $attr, w); )*
                Ok(())
            }
        }
    };
}

/// Declares a `u32`-coded enumeration with an `Other` variant for values
/// nftguard does not name, and its attribute codec.
macro_rules! u32_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $var:ident = $val:literal => $text:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $var, )*
            /// A value nftguard does not name, kept as it is.
            Other(u32),
        }

        impl $name {
            /// The number the kernel uses.
            pub fn number(self) -> u32 {
                match self {
                    $( $name::$var => $val, )*
                    $name::Other(n) => n,
                }
            }

            /// The variant for a number.
            pub fn from_number(n: u32) -> Self {
                match n {
                    $( $val => $name::$var, )*
                    n => $name::Other(n),
                }
            }

            /// The name nft uses for this value, if it has one.
            pub fn nft_name(self) -> Option<&'static str> {
                match self {
                    $( $name::$var => Some($text), )*
                    $name::Other(_) => None,
                }
            }

            /// The value nft calls `name`.
            pub fn from_nft_name(name: &str) -> Option<Self> {
                match name {
                    $( $text => Some($name::$var), )*
                    _ => None,
                }
            }
        }

        impl $crate::nft::expr::AttrValue for $name {
            fn from_attr(attr: &$crate::netlink::Attr<'_>) -> $crate::error::Result<Self> {
                attr.be32().map($name::from_number)
            }
            // `from_number(n).number() == n` for every `n`.
            fn from_attr_exact(attr: &$crate::netlink::Attr<'_>) -> $crate::error::Result<(Self, bool)> {
                Ok((Self::from_attr(attr)?, attr.is_canonical_frame()))
            }
            fn to_attr(&self, kind: u16, w: &mut $crate::netlink::AttrWriter<'_>) -> $crate::error::Result<()> {
                w.put_be32(kind, self.number())
            }
        }
    };
}
