//! Metadata matches: interfaces, `meta l4proto|nfproto|mark|pkttype|skuid`.

use serde::{Deserialize, Serialize};

use super::context::{context_of, l4_name, meta_byte_eq, Net};
use super::{BuildError, Rel};
use crate::netlink::socket::interface_index;
use crate::nft::consts::NFT_REG_1;
use crate::nft::expr::{Cmp, Meta, MetaKey};
use crate::nft::{Family, Rule};

/// `IFNAMSIZ`: interface names are at most 15 bytes plus a NUL.
const IFNAMSIZ: usize = 16;

/// Values of `meta nfproto` (`NFPROTO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NfProto {
    /// `ipv4` (2).
    Ipv4,
    /// `ipv6` (10).
    Ipv6,
}

impl NfProto {
    /// The `NFPROTO_*` number.
    pub fn number(self) -> u8 {
        match self {
            NfProto::Ipv4 => 2,
            NfProto::Ipv6 => 10,
        }
    }
}

/// Values of `meta pkttype` (`PACKET_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PktType {
    /// `host` (0): addressed to this host.
    Host,
    /// `broadcast` (1).
    Broadcast,
    /// `multicast` (2).
    Multicast,
    /// `other` (3): addressed to another host.
    Other,
}

impl PktType {
    /// The `PACKET_*` number.
    pub fn number(self) -> u8 {
        match self {
            PktType::Host => 0,
            PktType::Broadcast => 1,
            PktType::Multicast => 2,
            PktType::Other => 3,
        }
    }
}

/// The bytes nft compares an interface name with: the name NUL-padded to
/// 16 bytes, or, for a wildcard `eth*`, only the prefix `eth` (nft's
/// shorter compare). A trailing `\*` is a literal star, as in nft.
fn ifname_bytes(what: &str, name: &str) -> Result<Vec<u8>, BuildError> {
    let invalid = |d: &str| BuildError::invalid(what, format!("{name:?}: {d}"));
    let (text, wildcard) = if let Some(lit) = name.strip_suffix("\\*") {
        (format!("{lit}*"), false)
    } else if let Some(prefix) = name.strip_suffix('*') {
        (prefix.to_string(), true)
    } else {
        (name.to_string(), false)
    };
    if name.is_empty() {
        return Err(invalid("an interface name cannot be empty"));
    }
    if wildcard && text.is_empty() {
        return Err(invalid(
            "an all-wildcard name matches every interface; leave the match out",
        ));
    }
    if text.contains('\0') {
        return Err(invalid("an interface name cannot contain a NUL byte"));
    }
    let shown_len = text.len() + usize::from(wildcard);
    if shown_len >= IFNAMSIZ {
        return Err(invalid("interface names are at most 15 bytes"));
    }
    let mut bytes = text.into_bytes();
    if !wildcard {
        bytes.resize(IFNAMSIZ, 0);
    }
    Ok(bytes)
}

impl Rule {
    fn meta_cmp(self, key: MetaKey, rel: Rel, value: Vec<u8>) -> Rule {
        self.append([
            Meta::load(key, NFT_REG_1).into(),
            Cmp::new(NFT_REG_1, rel.cmp_op(), value).into(),
        ])
    }

    fn ifname_match(self, what: &str, key: MetaKey, rel: Rel, name: &str) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        match ifname_bytes(what, name) {
            Ok(bytes) => self.meta_cmp(key, rel, bytes),
            Err(e) => self.fail(e),
        }
    }

    fn ifindex_match(self, what: &str, key: MetaKey, index: u32) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        if index == 0 {
            return self.fail(BuildError::invalid(
                what,
                "interface index 0 does not exist",
            ));
        }
        self.meta_cmp(key, Rel::Eq, index.to_ne_bytes().to_vec())
    }

    fn ifname_resolved(self, what: &str, key: MetaKey, name: &str) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        match interface_index(name) {
            Ok(Some(index)) => self.ifindex_match(what, key, index),
            Ok(None) => self.fail(BuildError::NoSuchInterface {
                name: name.to_string(),
            }),
            Err(e) => self.fail(BuildError::invalid(what, e.to_string())),
        }
    }

    /// `iifname "NAME"`: the input interface's name is `name`. A trailing
    /// `*` matches every name starting with the rest (`"eth*"`); `"\\*"` at
    /// the end is a literal star. Names are at most 15 bytes.
    pub fn iifname(self, name: &str) -> Rule {
        self.ifname_match("iifname", MetaKey::Iifname, Rel::Eq, name)
    }

    /// `iifname != "NAME"` (wildcards as in [`Rule::iifname`]).
    pub fn iifname_ne(self, name: &str) -> Rule {
        self.ifname_match("iifname", MetaKey::Iifname, Rel::Neq, name)
    }

    /// `oifname "NAME"` (wildcards as in [`Rule::iifname`]).
    pub fn oifname(self, name: &str) -> Rule {
        self.ifname_match("oifname", MetaKey::Oifname, Rel::Eq, name)
    }

    /// `oifname != "NAME"` (wildcards as in [`Rule::iifname`]).
    pub fn oifname_ne(self, name: &str) -> Rule {
        self.ifname_match("oifname", MetaKey::Oifname, Rel::Neq, name)
    }

    /// `iif INDEX`: the input interface has index `index` (an interface
    /// that is deleted and recreated gets a new index; use
    /// [`Rule::iifname`] for interfaces that come and go).
    pub fn iif_index(self, index: u32) -> Rule {
        self.ifindex_match("iif", MetaKey::Iif, index)
    }

    /// `oif INDEX`.
    pub fn oif_index(self, index: u32) -> Rule {
        self.ifindex_match("oif", MetaKey::Oif, index)
    }

    /// `iif "NAME"`: resolves `name` to its index now, in the calling
    /// thread's network namespace, as nft does when it parses the rule.
    /// Records [`BuildError::NoSuchInterface`] if there is no such
    /// interface.
    pub fn iif(self, name: &str) -> Rule {
        self.ifname_resolved("iif", MetaKey::Iif, name)
    }

    /// `oif "NAME"`, resolved like [`Rule::iif`].
    pub fn oif(self, name: &str) -> Rule {
        self.ifname_resolved("oif", MetaKey::Oif, name)
    }

    /// `meta l4proto PROTO`: the transport protocol (after IPv6 extension
    /// headers) is `proto`. Later `tcp`/`udp`/`icmp` matches then need no
    /// dependency of their own.
    pub fn meta_l4proto(self, proto: u8) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        if let Some(have) = context_of(&self).transport {
            if have != proto {
                return self.fail(BuildError::ConflictingProtocols {
                    what: "meta l4proto".into(),
                    present: l4_name(have),
                    needed: l4_name(proto),
                });
            }
        }
        self.append(meta_byte_eq(MetaKey::L4proto, proto))
    }

    /// `meta l4proto != PROTO`.
    pub fn meta_l4proto_ne(self, proto: u8) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        self.meta_cmp(MetaKey::L4proto, Rel::Neq, vec![proto])
    }

    /// `meta nfproto ipv4|ipv6`: only in `inet` tables (nft refuses it
    /// elsewhere: the family already fixes it).
    pub fn meta_nfproto(self, proto: NfProto) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        if self.family != Family::Inet {
            let family = self.family;
            return self.fail(BuildError::WrongFamily {
                what: "meta nfproto".into(),
                family,
            });
        }
        let want = match proto {
            NfProto::Ipv4 => Net::V4,
            NfProto::Ipv6 => Net::V6,
        };
        if let Some(have) = context_of(&self).network {
            if have != want {
                return self.fail(BuildError::ConflictingProtocols {
                    what: "meta nfproto".into(),
                    present: format!("{:?}", have.nfproto()).to_lowercase(),
                    needed: format!("{proto:?}").to_lowercase(),
                });
            }
        }
        self.append(meta_byte_eq(MetaKey::Nfproto, proto.number()))
    }

    /// `meta mark MARK`.
    pub fn meta_mark(self, mark: u32) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        self.meta_cmp(MetaKey::Mark, Rel::Eq, mark.to_ne_bytes().to_vec())
    }

    /// `meta mark != MARK`.
    pub fn meta_mark_ne(self, mark: u32) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        self.meta_cmp(MetaKey::Mark, Rel::Neq, mark.to_ne_bytes().to_vec())
    }

    /// `meta pkttype host|broadcast|multicast|other`.
    pub fn meta_pkttype(self, t: PktType) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        self.meta_cmp(MetaKey::Pkttype, Rel::Eq, vec![t.number()])
    }

    /// `meta skuid UID`: the originating socket belongs to user `uid`
    /// (locally generated packets only: output and postrouting).
    pub fn meta_skuid(self, uid: u32) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        self.meta_cmp(MetaKey::Skuid, Rel::Eq, uid.to_ne_bytes().to_vec())
    }

    /// `meta skuid != UID`.
    pub fn meta_skuid_ne(self, uid: u32) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        self.meta_cmp(MetaKey::Skuid, Rel::Neq, uid.to_ne_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifname_bytes_like_nft() {
        let exact = ifname_bytes("iifname", "eth0").unwrap();
        assert_eq!(&exact[..5], b"eth0\0");
        assert_eq!(exact.len(), 16);
        assert_eq!(ifname_bytes("iifname", "eth*").unwrap(), b"eth");
        let star = ifname_bytes("iifname", "a\\*").unwrap();
        assert_eq!(&star[..3], b"a*\0");
        assert!(ifname_bytes("iifname", "*").is_err());
        assert!(ifname_bytes("iifname", "").is_err());
        assert!(ifname_bytes("iifname", "abcdefghijklmno").is_ok());
        assert!(ifname_bytes("iifname", "abcdefghijklmnop").is_err());
        assert!(ifname_bytes("iifname", "abcdefghijklmno*").is_err());
        assert!(ifname_bytes("iifname", "a\0b").is_err());
    }
}
