//! Netlink transport: socket, message framing, attribute writer and reader.
//!
//! This layer knows nothing about nf_tables beyond the netfilter socket
//! protocol number; the object codecs live in [`crate::nft`].

pub mod attr;
pub mod dump;
pub mod message;
pub mod route;
pub mod sock_diag;
pub mod socket;

pub use attr::{Attr, AttrIter, AttrWriter, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK};
pub use message::{Message, MessageIter, MessageWriter, NlMsgHeader};
pub use socket::{
    enter_netns, enter_new_netns, interface_index, interface_name, KernelError, Socket,
};
