//! Netlink message framing (`struct nlmsghdr`) and the netfilter
//! `struct nfgenmsg` header that follows it.
//!
//! Header fields are in host byte order; the 16-byte header is followed by the
//! payload, padded to four bytes.

use super::attr::align4;
use crate::error::{Error, Result};

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// Size of `struct nfgenmsg`.
pub const NFGENMSG_LEN: usize = 4;

/// `NLMSG_NOOP`.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: an error or an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// `NLMSG_OVERRUN`.
pub const NLMSG_OVERRUN: u16 = 4;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`: part of a multipart reply.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`: ask for an acknowledgement.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_ECHO`: echo the created object back to the sender.
pub const NLM_F_ECHO: u16 = 0x8;
/// `NLM_F_DUMP_INTR`: the dump was interrupted by a change.
pub const NLM_F_DUMP_INTR: u16 = 0x10;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_REPLACE` (for NEW requests).
pub const NLM_F_REPLACE: u16 = 0x100;
/// `NLM_F_EXCL` (for NEW requests).
pub const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE` (for NEW requests).
pub const NLM_F_CREATE: u16 = 0x400;
/// `NLM_F_APPEND` (for NEW requests).
pub const NLM_F_APPEND: u16 = 0x800;
/// `NLM_F_NONREC` (for DEL requests: do not delete recursively).
pub const NLM_F_NONREC: u16 = 0x100;
/// `NLM_F_CAPPED` on an error message: the request payload is not echoed.
pub const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS` on an error message: extended-ack TLVs follow.
pub const NLM_F_ACK_TLVS: u16 = 0x200;

/// A decoded `struct nlmsghdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NlMsgHeader {
    /// Length of the message including the header.
    pub len: u32,
    /// Message type.
    pub kind: u16,
    /// Flags (`NLM_F_*`).
    pub flags: u16,
    /// Sequence number.
    pub seq: u32,
    /// Port id of the sender.
    pub pid: u32,
}

impl NlMsgHeader {
    /// Parses a header from the first 16 bytes of `b`.
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < NLMSG_HDRLEN {
            return Err(Error::Malformed {
                what: "netlink message",
                detail: format!("{} bytes, shorter than a header", b.len()),
            });
        }
        let u32_at = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Ok(Self {
            len: u32_at(0),
            kind: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32_at(8),
            pid: u32_at(12),
        })
    }

    /// Writes the header into `out` (16 bytes).
    pub fn emit(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&self.len.to_ne_bytes());
        out[4..6].copy_from_slice(&self.kind.to_ne_bytes());
        out[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        out[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        out[12..16].copy_from_slice(&self.pid.to_ne_bytes());
    }
}

/// One message seen by [`MessageIter`].
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The header.
    pub header: NlMsgHeader,
    /// The payload after the header (for nfnetlink: `nfgenmsg` + attributes).
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Splits a netfilter payload into `(family, version, res_id, attributes)`.
    pub fn nfgen(&self) -> Result<(u8, u8, u16, &'a [u8])> {
        if self.payload.len() < NFGENMSG_LEN {
            return Err(Error::Malformed {
                what: "nfnetlink message",
                detail: format!("payload of {} bytes has no nfgenmsg", self.payload.len()),
            });
        }
        let p = self.payload;
        Ok((
            p[0],
            p[1],
            u16::from_be_bytes([p[2], p[3]]),
            &p[NFGENMSG_LEN..],
        ))
    }
}

/// Iterates the netlink messages in a receive buffer.
#[derive(Debug, Clone)]
pub struct MessageIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> MessageIter<'a> {
    /// Reads messages from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for MessageIter<'a> {
    type Item = Result<Message<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let header = match NlMsgHeader::parse(self.rest) {
            Ok(h) => h,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        let len = header.len as usize;
        if len < NLMSG_HDRLEN || len > self.rest.len() {
            self.failed = true;
            return Some(Err(Error::Malformed {
                what: "netlink message",
                detail: format!("length {len} with {} bytes received", self.rest.len()),
            }));
        }
        let msg = Message {
            header,
            payload: &self.rest[NLMSG_HDRLEN..len],
        };
        let next = align4(len).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(Ok(msg))
    }
}

/// Builds a buffer of consecutive netlink messages (one batch, one `sendmsg`).
#[derive(Debug, Default, Clone)]
pub struct MessageWriter {
    buf: Vec<u8>,
    open: Option<usize>,
}

impl MessageWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            buf: Vec::with_capacity(cap),
            open: None,
        }
    }

    /// Starts a netfilter message: header plus `nfgenmsg`. Attributes are then
    /// written through [`MessageWriter::attrs`]; [`MessageWriter::finish_message`]
    /// fills in the length.
    pub fn begin_nfgen(&mut self, kind: u16, flags: u16, seq: u32, family: u8, res_id: u16) {
        debug_assert!(self.open.is_none(), "previous message not finished");
        let start = self.buf.len();
        self.buf.resize(start + NLMSG_HDRLEN, 0);
        NlMsgHeader {
            len: 0,
            kind,
            flags,
            seq,
            pid: 0,
        }
        .emit(&mut self.buf[start..]);
        self.buf.push(family);
        self.buf.push(0); // NFNETLINK_V0
        self.buf.extend_from_slice(&res_id.to_be_bytes());
        self.open = Some(start);
    }

    /// Writer for the attributes of the open message.
    pub fn attrs(&mut self) -> super::AttrWriter<'_> {
        super::AttrWriter::new(&mut self.buf)
    }

    /// Closes the open message, filling in `nlmsg_len`.
    pub fn finish_message(&mut self) {
        if let Some(start) = self.open.take() {
            let len = (self.buf.len() - start) as u32;
            self.buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
        }
    }

    /// Drops an open message (after an encoding error).
    pub fn abandon_message(&mut self) {
        if let Some(start) = self.open.take() {
            self.buf.truncate(start);
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes written so far, to patch header fields in place (a
    /// batch built once and sent with fresh sequence numbers).
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Drops everything from byte `len` on (closed messages only: an open
    /// message is abandoned first).
    pub fn truncate(&mut self, len: usize) {
        self.abandon_message();
        self.buf.truncate(len);
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes the buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_messages() {
        let mut w = MessageWriter::new();
        w.begin_nfgen(0x0a00, NLM_F_REQUEST, 7, 1, 0);
        w.attrs().put_strz(1, "t").unwrap();
        w.finish_message();
        w.begin_nfgen(16, NLM_F_REQUEST, 8, 0, 10);
        w.finish_message();
        let msgs: Vec<_> = MessageIter::new(w.as_bytes())
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].header.len, 16 + 4 + 8);
        assert_eq!(msgs[0].header.seq, 7);
        let (fam, ver, res, attrs) = msgs[0].nfgen().unwrap();
        assert_eq!((fam, ver, res), (1, 0, 0));
        assert_eq!(attrs.len(), 8);
        assert_eq!(msgs[1].nfgen().unwrap().2, 10);
    }

    #[test]
    fn rejects_truncated_messages() {
        let mut w = MessageWriter::new();
        w.begin_nfgen(1, 0, 1, 1, 0);
        w.finish_message();
        let b = w.into_bytes();
        for cut in 1..b.len() {
            let r: Result<Vec<_>> = MessageIter::new(&b[..cut]).collect();
            assert!(r.is_err());
        }
    }
}
