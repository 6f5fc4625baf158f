//! Host-layout (x86_64, little-endian) readers and writers for xt `info`
//! blobs.
//!
//! The kernel's `struct xt_*_info` are C structs copied verbatim between
//! iptables and the kernel: native byte order except for the fields the
//! headers mark `__be16`/`__be32`, natural alignment, and the whole blob
//! padded to `XT_ALIGN` (8 bytes). Every decoder here works on explicit
//! offsets taken from the uapi headers (checked with `offsetof` on this
//! machine) and never panics: an out-of-range read is `None`.

/// `XT_ALIGN`: blobs are padded to the alignment of `struct _xt_align`,
/// which is 8 on x86_64.
pub const fn xt_align(len: usize) -> usize {
    (len + 7) & !7
}

/// Bounds-checked reads at fixed offsets.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    /// Length of the blob.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the blob is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `n` bytes at `off`.
    pub fn bytes(&self, off: usize, n: usize) -> Option<&'a [u8]> {
        self.bytes.get(off..off.checked_add(n)?)
    }

    /// A fixed-size array at `off`.
    pub fn array<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.bytes(off, N)?.try_into().ok()
    }

    /// `u8` at `off`.
    pub fn u8(&self, off: usize) -> Option<u8> {
        self.bytes.get(off).copied()
    }

    /// Host-order `u16` at `off`.
    pub fn u16(&self, off: usize) -> Option<u16> {
        self.array(off).map(u16::from_ne_bytes)
    }

    /// Host-order `u32` at `off`.
    pub fn u32(&self, off: usize) -> Option<u32> {
        self.array(off).map(u32::from_ne_bytes)
    }

    /// Host-order `i32` at `off`.
    pub fn i32(&self, off: usize) -> Option<i32> {
        self.array(off).map(i32::from_ne_bytes)
    }

    /// Host-order `u64` at `off`.
    pub fn u64(&self, off: usize) -> Option<u64> {
        self.array(off).map(u64::from_ne_bytes)
    }

    /// Big-endian `u16` at `off` (`__be16`).
    pub fn be16(&self, off: usize) -> Option<u16> {
        self.array(off).map(u16::from_be_bytes)
    }

    /// A NUL-padded C string in a `len`-byte field at `off`. Returns `None`
    /// when the field is not UTF-8; bytes after the first NUL are ignored
    /// here (the caller's round-trip check catches non-zero garbage).
    pub fn cstr(&self, off: usize, len: usize) -> Option<String> {
        let field = self.bytes(off, len)?;
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        String::from_utf8(field[..end].to_vec()).ok()
    }
}

/// Writes fields into a zero-filled blob of a fixed size.
#[derive(Debug, Clone)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// A zeroed blob of `len` bytes.
    pub fn new(len: usize) -> Self {
        Writer {
            bytes: vec![0; len],
        }
    }

    /// Copies `v` to `off`; bytes beyond the blob are dropped (callers use
    /// offsets from the layout, so this only guards against misuse).
    pub fn put(&mut self, off: usize, v: &[u8]) -> &mut Self {
        if let Some(dst) = off
            .checked_add(v.len())
            .and_then(|end| self.bytes.get_mut(off..end))
        {
            dst.copy_from_slice(v);
        }
        self
    }

    /// `u8` at `off`.
    pub fn u8(&mut self, off: usize, v: u8) -> &mut Self {
        self.put(off, &[v])
    }

    /// Host-order `u16` at `off`.
    pub fn u16(&mut self, off: usize, v: u16) -> &mut Self {
        self.put(off, &v.to_ne_bytes())
    }

    /// Host-order `u32` at `off`.
    pub fn u32(&mut self, off: usize, v: u32) -> &mut Self {
        self.put(off, &v.to_ne_bytes())
    }

    /// Host-order `i32` at `off`.
    pub fn i32(&mut self, off: usize, v: i32) -> &mut Self {
        self.put(off, &v.to_ne_bytes())
    }

    /// Host-order `u64` at `off`.
    pub fn u64(&mut self, off: usize, v: u64) -> &mut Self {
        self.put(off, &v.to_ne_bytes())
    }

    /// Big-endian `u16` at `off`.
    pub fn be16(&mut self, off: usize, v: u16) -> &mut Self {
        self.put(off, &v.to_be_bytes())
    }

    /// A C string in a `len`-byte field at `off` (truncated to leave the
    /// terminating NUL).
    pub fn cstr(&mut self, off: usize, len: usize, s: &str) -> &mut Self {
        let b = s.as_bytes();
        let n = b.len().min(len.saturating_sub(1));
        self.put(off, &b[..n])
    }

    /// The finished blob.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

/// `xtables_save_string`: plain when the value is made only of
/// `[A-Za-z0-9_-]` (and not empty), otherwise double-quoted with `"`, `\`
/// and `'` escaped by a backslash. Returns the text with its leading space.
pub fn save_string(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if plain {
        return format!(" {value}");
    }
    let mut out = String::from(" \"");
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// An IPv4 address stored in network order in the first 4 bytes.
pub fn ipv4_text(b: &[u8; 16]) -> String {
    std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()
}

/// An IPv6 address as `inet_ntop` prints it.
pub fn ipv6_text(b: &[u8; 16]) -> String {
    std::net::Ipv6Addr::from(*b).to_string()
}

/// `xtables_ipmask_to_numeric`: `/N` for a contiguous mask, `/a.b.c.d`
/// otherwise, and nothing for a full mask.
pub fn ipv4_mask_suffix(mask: [u8; 4]) -> String {
    let m = u32::from_be_bytes(mask);
    if m == u32::MAX {
        return String::new();
    }
    match contiguous_prefix_u32(m) {
        Some(n) => format!("/{n}"),
        None => format!("/{}", std::net::Ipv4Addr::from(mask)),
    }
}

/// `xtables_ip6mask_to_numeric`: as [`ipv4_mask_suffix`] for IPv6.
pub fn ipv6_mask_suffix(mask: [u8; 16]) -> String {
    let m = u128::from_be_bytes(mask);
    if m == u128::MAX {
        return String::new();
    }
    match contiguous_prefix_u128(m) {
        Some(n) => format!("/{n}"),
        None => format!("/{}", std::net::Ipv6Addr::from(mask)),
    }
}

/// The prefix length of a contiguous mask, `None` for a non-contiguous one.
pub fn contiguous_prefix_u32(m: u32) -> Option<u32> {
    let n = m.leading_ones();
    (m.checked_shl(n).unwrap_or(0) == 0).then_some(n)
}

/// The prefix length of a contiguous 128-bit mask.
pub fn contiguous_prefix_u128(m: u128) -> Option<u32> {
    let n = m.leading_ones();
    (m.checked_shl(n).unwrap_or(0) == 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_string_quotes_like_xtables() {
        assert_eq!(save_string("SSH"), " SSH");
        assert_eq!(save_string("hello world"), " \"hello world\"");
        assert_eq!(save_string("[UFW BLOCK] "), " \"[UFW BLOCK] \"");
        assert_eq!(save_string("a\"b'c\\"), " \"a\\\"b\\'c\\\\\"");
        assert_eq!(save_string(""), " \"\"");
    }

    #[test]
    fn masks() {
        assert_eq!(ipv4_mask_suffix([255, 255, 255, 255]), "");
        assert_eq!(ipv4_mask_suffix([255, 255, 0, 0]), "/16");
        assert_eq!(ipv4_mask_suffix([255, 0, 255, 0]), "/255.0.255.0");
        assert_eq!(contiguous_prefix_u32(0), Some(0));
        assert_eq!(ipv6_mask_suffix([0xff; 16]), "");
    }

    #[test]
    fn reader_is_bounded() {
        let r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(0), None);
        assert_eq!(r.u16(2), None);
        assert_eq!(r.bytes(usize::MAX, 2), None);
        assert_eq!(r.cstr(0, 3).as_deref(), Some("\u{1}\u{2}\u{3}"));
    }
}
