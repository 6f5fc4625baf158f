//! Netlink attributes (`struct nlattr`): a checked writer and a zero-copy,
//! bounds-checked reader that cannot panic on any input.
//!
//! Layout: `u16 nla_len` (header + payload, unpadded), `u16 nla_type`, then the
//! payload, padded with zeros to a multiple of four bytes. `nla_len` is 16 bits,
//! so one attribute or nest holds at most 65,535 bytes: the writer refuses to
//! go beyond that instead of silently wrapping the length.

use crate::error::{Error, Result};

/// Flag bit of `nla_type` marking a nested attribute.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// Flag bit of `nla_type` marking a payload in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// Mask selecting the attribute type without the flag bits.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
/// Size of the attribute header.
pub const NLA_HDRLEN: usize = 4;
/// Largest value `nla_len` can hold.
pub const NLA_MAX_LEN: usize = u16::MAX as usize;

/// Rounds `len` up to the netlink alignment of four bytes.
#[inline]
pub const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// Appends netlink attributes to a byte buffer.
///
/// Nests are opened with [`AttrWriter::begin_nested`] and closed with
/// [`AttrWriter::end_nested`]; closing checks that the nest fits the 16-bit
/// length field and reports [`Error::AttributeTooLong`] otherwise.
#[derive(Debug)]
pub struct AttrWriter<'a> {
    buf: &'a mut Vec<u8>,
}

/// Marker of an open nest, returned by [`AttrWriter::begin_nested`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a nest must be closed with end_nested"]
pub struct Nest {
    start: usize,
    kind: u16,
}

impl<'a> AttrWriter<'a> {
    /// Writes attributes at the end of `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    /// The buffer written so far.
    pub fn buf(&self) -> &[u8] {
        self.buf
    }

    /// Writes one attribute with a raw payload. `kind` may carry flag bits.
    pub fn put(&mut self, kind: u16, payload: &[u8]) -> Result<()> {
        let len = NLA_HDRLEN + payload.len();
        if len > NLA_MAX_LEN {
            return Err(Error::AttributeTooLong {
                kind: kind & NLA_TYPE_MASK,
                len,
            });
        }
        self.buf.reserve(align4(len));
        self.header(len, kind);
        self.buf.extend_from_slice(payload);
        self.pad();
        Ok(())
    }

    /// The 4-byte attribute header, in one append.
    #[inline]
    fn header(&mut self, len: usize, kind: u16) {
        let [l0, l1] = (len as u16).to_ne_bytes();
        let [k0, k1] = kind.to_ne_bytes();
        self.buf.extend_from_slice(&[l0, l1, k0, k1]);
    }

    /// An attribute with a payload of `N` bytes, `N` a multiple of four:
    /// header and payload in one append, no padding needed.
    #[inline]
    fn put_word<const N: usize>(&mut self, kind: u16, payload: [u8; N]) {
        self.header(NLA_HDRLEN + N, kind);
        self.buf.extend_from_slice(&payload);
    }

    /// Writes a big-endian `u8` attribute.
    pub fn put_u8(&mut self, kind: u16, v: u8) -> Result<()> {
        // One byte of payload, three of padding.
        self.header(NLA_HDRLEN + 1, kind);
        self.buf.extend_from_slice(&[v, 0, 0, 0]);
        Ok(())
    }

    /// Writes a big-endian `u16` attribute.
    pub fn put_be16(&mut self, kind: u16, v: u16) -> Result<()> {
        let [a, b] = v.to_be_bytes();
        self.header(NLA_HDRLEN + 2, kind);
        self.buf.extend_from_slice(&[a, b, 0, 0]);
        Ok(())
    }

    /// Writes a big-endian `u32` attribute (nf_tables integers are big-endian).
    pub fn put_be32(&mut self, kind: u16, v: u32) -> Result<()> {
        self.put_word(kind, v.to_be_bytes());
        Ok(())
    }

    /// Writes a big-endian `u64` attribute.
    pub fn put_be64(&mut self, kind: u16, v: u64) -> Result<()> {
        self.put_word(kind, v.to_be_bytes());
        Ok(())
    }

    /// Writes a NUL-terminated string attribute.
    pub fn put_strz(&mut self, kind: u16, s: &str) -> Result<()> {
        let len = NLA_HDRLEN + s.len() + 1;
        if len > NLA_MAX_LEN {
            return Err(Error::AttributeTooLong {
                kind: kind & NLA_TYPE_MASK,
                len,
            });
        }
        self.buf.reserve(align4(len));
        self.header(len, kind);
        self.buf.extend_from_slice(s.as_bytes());
        // The NUL and the padding (one to four zero bytes): four written,
        // the excess cut.
        let end = self.buf.len() + 1 + align4(len) - len;
        self.buf.extend_from_slice(&[0u8; 4]);
        self.buf.truncate(end);
        Ok(())
    }

    /// Opens a nest of type `kind`.
    ///
    /// `NLA_F_NESTED` is not added: nf_tables dumps its nests without the
    /// flag (and libnftnl sends them without it), so writing them the same
    /// way makes a re-encoded dump byte-identical. Pass the flag in `kind`
    /// explicitly where a protocol requires it.
    pub fn begin_nested(&mut self, kind: u16) -> Nest {
        let start = self.buf.len();
        // Length 0 for now; `end_nested` fills it in.
        self.header(0, kind);
        Nest { start, kind }
    }

    /// Closes a nest opened by [`AttrWriter::begin_nested`], filling in its length.
    ///
    /// On error the partly written nest is removed from the buffer.
    pub fn end_nested(&mut self, nest: Nest) -> Result<()> {
        let len = self.buf.len() - nest.start;
        if len > NLA_MAX_LEN {
            self.buf.truncate(nest.start);
            return Err(Error::AttributeTooLong {
                kind: nest.kind & NLA_TYPE_MASK,
                len,
            });
        }
        self.buf[nest.start..nest.start + 2].copy_from_slice(&(len as u16).to_ne_bytes());
        Ok(())
    }

    /// Writes a nest whose content is produced by `f`.
    pub fn nested<F>(&mut self, kind: u16, f: F) -> Result<()>
    where
        F: FnOnce(&mut AttrWriter<'_>) -> Result<()>,
    {
        let nest = self.begin_nested(kind);
        let r = f(self);
        match r {
            Ok(()) => self.end_nested(nest),
            Err(e) => {
                self.buf.truncate(nest.start);
                Err(e)
            }
        }
    }

    /// Appends already encoded attribute bytes verbatim (used to re-emit
    /// opaque attributes byte for byte).
    pub fn put_raw_attrs(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.pad();
    }

    fn pad(&mut self) {
        let end = align4(self.buf.len());
        if end > self.buf.len() {
            self.buf.extend_from_slice(&[0u8; 3]);
            self.buf.truncate(end);
        }
    }
}

/// One attribute seen by the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// `nla_type` with flag bits as received.
    pub raw_kind: u16,
    /// The payload (without header and padding).
    pub payload: &'a [u8],
    /// The whole attribute as it stands in the buffer, header and padding
    /// included (used to keep unknown attributes byte for byte).
    pub bytes: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The attribute type without flag bits.
    pub fn kind(&self) -> u16 {
        self.raw_kind & NLA_TYPE_MASK
    }

    /// Whether the sender marked the attribute as nested.
    pub fn is_nested(&self) -> bool {
        self.raw_kind & NLA_F_NESTED != 0
    }

    /// Whether the attribute stands in the buffer exactly as
    /// [`AttrWriter`] writes a payload of this length: header length
    /// `4 + payload`, padding present and zero. (The type and payload are
    /// the caller's to compare.)
    pub fn is_canonical_frame(&self) -> bool {
        let end = NLA_HDRLEN + self.payload.len();
        self.bytes.len() == align4(end) && self.bytes[end..].iter().all(|&b| b == 0)
    }

    /// [`Attr::is_canonical_frame`] for a nest: also no padding inside
    /// the length, as a nest written by [`AttrWriter::nested`] has none
    /// (its content is whole padded attributes).
    pub fn is_canonical_nest(&self) -> bool {
        self.payload.len().is_multiple_of(4) && self.bytes.len() == NLA_HDRLEN + self.payload.len()
    }

    /// Iterates the attributes nested inside this one.
    pub fn nested(&self) -> AttrIter<'a> {
        AttrIter::new(self.payload)
    }

    /// The payload as `u8`.
    pub fn u8(&self) -> Result<u8> {
        match self.payload {
            [v] => Ok(*v),
            _ => Err(self.bad_len(1)),
        }
    }

    /// The payload as a big-endian `u16`.
    pub fn be16(&self) -> Result<u16> {
        let b: [u8; 2] = self.payload.try_into().map_err(|_| self.bad_len(2))?;
        Ok(u16::from_be_bytes(b))
    }

    /// The payload as a big-endian `u32`.
    pub fn be32(&self) -> Result<u32> {
        let b: [u8; 4] = self.payload.try_into().map_err(|_| self.bad_len(4))?;
        Ok(u32::from_be_bytes(b))
    }

    /// The payload as a big-endian `u64`.
    pub fn be64(&self) -> Result<u64> {
        let b: [u8; 8] = self.payload.try_into().map_err(|_| self.bad_len(8))?;
        Ok(u64::from_be_bytes(b))
    }

    /// The payload as a NUL-terminated UTF-8 string (the terminator is
    /// required, as the kernel always sends it).
    pub fn strz(&self) -> Result<&'a str> {
        match self.payload.split_last() {
            Some((0, s)) if !s.contains(&0) => {
                std::str::from_utf8(s).map_err(|_| Error::Malformed {
                    what: "attribute string",
                    detail: format!("type {} is not UTF-8", self.kind()),
                })
            }
            _ => Err(Error::Malformed {
                what: "attribute string",
                detail: format!("type {} is not a NUL-terminated string", self.kind()),
            }),
        }
    }

    fn bad_len(&self, want: usize) -> Error {
        Error::Malformed {
            what: "attribute",
            detail: format!(
                "type {} has {} payload bytes, expected {want}",
                self.kind(),
                self.payload.len()
            ),
        }
    }
}

/// Iterator over the attributes in a byte slice. Yields `Err` once (and then
/// stops) when the bytes do not form well-framed attributes.
#[derive(Debug, Clone)]
pub struct AttrIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> AttrIter<'a> {
    /// Reads attributes from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = Result<Attr<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let fail = |this: &mut Self, detail: String| {
            this.failed = true;
            Some(Err(Error::Malformed {
                what: "attribute framing",
                detail,
            }))
        };
        if self.rest.len() < NLA_HDRLEN {
            let n = self.rest.len();
            return fail(
                self,
                format!("{n} trailing bytes, shorter than an attribute header"),
            );
        }
        let len = u16::from_ne_bytes([self.rest[0], self.rest[1]]) as usize;
        let raw_kind = u16::from_ne_bytes([self.rest[2], self.rest[3]]);
        if len < NLA_HDRLEN || len > self.rest.len() {
            let have = self.rest.len();
            return fail(
                self,
                format!("attribute length {len} with {have} bytes left"),
            );
        }
        let padded = align4(len).min(self.rest.len());
        let attr = Attr {
            raw_kind,
            payload: &self.rest[NLA_HDRLEN..len],
            bytes: &self.rest[..padded],
        };
        self.rest = &self.rest[padded..];
        Some(Ok(attr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(1, "filter").unwrap();
        w.put_be32(2, 0x0102_0304).unwrap();
        w.nested(3, |w| w.put_u8(1, 7)).unwrap();
        // "filter\0" = 7 bytes + 4 header = 11, padded to 12.
        assert_eq!(
            &buf[..12],
            &[11, 0, 1, 0, b'f', b'i', b'l', b't', b'e', b'r', 0, 0]
        );
        let attrs: Vec<_> = AttrIter::new(&buf).collect::<Result<_>>().unwrap();
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[0].strz().unwrap(), "filter");
        assert_eq!(attrs[1].be32().unwrap(), 0x0102_0304);
        assert_eq!(attrs[2].kind(), 3);
        let inner: Vec<_> = attrs[2].nested().collect::<Result<_>>().unwrap();
        assert_eq!(inner[0].u8().unwrap(), 7);
    }

    #[test]
    fn over_long_attribute_is_an_error() {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        let big = vec![0u8; 70_000];
        assert!(matches!(
            w.put(1, &big),
            Err(Error::AttributeTooLong { .. })
        ));
        assert!(buf.is_empty());
    }

    #[test]
    fn over_long_nest_is_an_error_not_a_truncation() {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        let r = w.nested(1, |w| {
            for _ in 0..7 {
                w.put(2, &[0u8; 10_000])?;
            }
            Ok(())
        });
        assert!(matches!(r, Err(Error::AttributeTooLong { kind: 1, len }) if len > 65_535));
        assert!(
            buf.is_empty(),
            "the failed nest must not stay in the buffer"
        );
    }

    #[test]
    fn reader_rejects_bad_framing_without_panicking() {
        for bytes in [
            &[1u8][..],
            &[3, 0, 1, 0],
            &[200, 0, 1, 0, 0, 0],
            &[8, 0, 1, 0, 1, 2],
        ] {
            let r: Result<Vec<_>> = AttrIter::new(bytes).collect();
            assert!(r.is_err(), "{bytes:?}");
        }
    }
}
