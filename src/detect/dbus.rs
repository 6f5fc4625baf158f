//! A minimal, read-only D-Bus client: enough of the wire protocol to read
//! one string property (`org.freedesktop.DBus.Properties.Get`) from the
//! system bus, without a D-Bus library.
//!
//! Every method call carries `NO_AUTO_START`: asking about an activatable
//! service that is not running must not start it (the audit changes
//! nothing). Only `EXTERNAL` authentication (our uid over the unix socket)
//! is spoken; replies in either byte order are understood.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

const METHOD_CALL: u8 = 1;
const METHOD_RETURN: u8 = 2;
const ERROR: u8 = 3;
const FLAG_NO_AUTO_START: u8 = 0x2;

const FIELD_PATH: u8 = 1;
const FIELD_INTERFACE: u8 = 2;
const FIELD_MEMBER: u8 = 3;
const FIELD_ERROR_NAME: u8 = 4;
const FIELD_REPLY_SERIAL: u8 = 5;
const FIELD_DESTINATION: u8 = 6;
const FIELD_SIGNATURE: u8 = 8;

/// A reply larger than this is refused (a property read is tiny).
const MAX_MESSAGE: usize = 1 << 20;
/// The bus answers in microseconds; a hung bus must not hang the audit.
const TIMEOUT: Duration = Duration::from_millis(500);

fn bus_error(detail: impl Into<String>) -> Error {
    Error::Malformed {
        what: "D-Bus exchange",
        detail: detail.into(),
    }
}

fn io_error(source: std::io::Error) -> Error {
    Error::Io {
        what: "talking to the D-Bus system bus",
        source,
    }
}

/// Reads the string property `property` of `interface` on `path` of the
/// service `destination`, over the bus socket at `bus`.
pub fn get_string_property(
    bus: &Path,
    destination: &str,
    path: &str,
    interface: &str,
    property: &str,
) -> Result<String> {
    let stream = UnixStream::connect(bus).map_err(io_error)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io_error)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io_error)?;
    let mut reader = BufReader::new(stream.try_clone().map_err(io_error)?);
    let mut writer = stream;
    authenticate(&mut reader, &mut writer)?;

    let hello = method_call(
        1,
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "Hello",
        "org.freedesktop.DBus",
        "",
        &[],
    );
    let mut body = Vec::new();
    put_string(&mut body, interface);
    put_string(&mut body, property);
    let get = method_call(
        2,
        path,
        "org.freedesktop.DBus.Properties",
        "Get",
        destination,
        "ss",
        &body,
    );
    writer.write_all(&hello).map_err(io_error)?;
    writer.write_all(&get).map_err(io_error)?;
    // Skip the Hello reply and the NameAcquired signal.
    for _ in 0..16 {
        let reply = read_message(&mut reader)?;
        if reply.reply_serial != Some(2) {
            continue;
        }
        return match reply.kind {
            METHOD_RETURN => variant_string(&reply),
            ERROR => Err(bus_error(format!(
                "{} answered {}",
                destination,
                reply.error_name.unwrap_or_else(|| "an error".into())
            ))),
            k => Err(bus_error(format!("unexpected message type {k}"))),
        };
    }
    Err(bus_error("no reply to Properties.Get"))
}

fn authenticate(reader: &mut BufReader<UnixStream>, writer: &mut UnixStream) -> Result<()> {
    // EXTERNAL authentication claims our uid; the bus checks it against the
    // socket's peer credentials. /proc/self/status avoids an unsafe getuid().
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1)?.parse::<u32>().ok())
        })
        .unwrap_or(0);
    let hex: String = uid
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    writer
        .write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())
        .map_err(io_error)?;
    let mut line = String::new();
    reader.read_line(&mut line).map_err(io_error)?;
    if !line.starts_with("OK ") {
        return Err(bus_error(format!(
            "authentication refused: {}",
            line.trim()
        )));
    }
    writer.write_all(b"BEGIN\r\n").map_err(io_error)
}

fn pad_to(buf: &mut Vec<u8>, align: usize) {
    while !buf.len().is_multiple_of(align) {
        buf.push(0);
    }
}

fn put_string(buf: &mut Vec<u8>, s: &str) {
    pad_to(buf, 4);
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
}

fn put_field(buf: &mut Vec<u8>, code: u8, sig: u8, value: &str) {
    pad_to(buf, 8);
    buf.extend_from_slice(&[code, 1, sig, 0]);
    if sig == b'g' {
        buf.push(value.len() as u8);
        buf.extend_from_slice(value.as_bytes());
        buf.push(0);
    } else {
        put_string(buf, value);
    }
}

/// Encodes a little-endian method call.
fn method_call(
    serial: u32,
    path: &str,
    interface: &str,
    member: &str,
    destination: &str,
    signature: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut fields = Vec::new();
    put_field(&mut fields, FIELD_PATH, b'o', path);
    put_field(&mut fields, FIELD_INTERFACE, b's', interface);
    put_field(&mut fields, FIELD_MEMBER, b's', member);
    put_field(&mut fields, FIELD_DESTINATION, b's', destination);
    if !signature.is_empty() {
        put_field(&mut fields, FIELD_SIGNATURE, b'g', signature);
    }
    let mut m = vec![b'l', METHOD_CALL, FLAG_NO_AUTO_START, 1];
    m.extend_from_slice(&(body.len() as u32).to_le_bytes());
    m.extend_from_slice(&serial.to_le_bytes());
    m.extend_from_slice(&(fields.len() as u32).to_le_bytes());
    m.extend_from_slice(&fields);
    pad_to(&mut m, 8);
    m.extend_from_slice(body);
    m
}

/// The parts of a received message the client needs.
#[derive(Debug, Default)]
struct Reply {
    kind: u8,
    little: bool,
    reply_serial: Option<u32>,
    error_name: Option<String>,
    signature: String,
    body: Vec<u8>,
}

/// A bounds-checked reader over a message, aware of its byte order and of
/// alignment relative to the message start.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    little: bool,
}

impl Cursor<'_> {
    fn align(&mut self, n: usize) -> Result<()> {
        let p = self.pos.div_ceil(n) * n;
        if p > self.buf.len() {
            return Err(bus_error("truncated message"));
        }
        self.pos = p;
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| bus_error("truncated message"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        self.align(4)?;
        let b: [u8; 4] = self
            .take(4)?
            .try_into()
            .map_err(|_| bus_error("truncated"))?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn string(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        let s = String::from_utf8_lossy(self.take(len)?).into_owned();
        self.take(1)?; // NUL
        Ok(s)
    }

    fn signature(&mut self) -> Result<String> {
        let len = self.u8()? as usize;
        let s = String::from_utf8_lossy(self.take(len)?).into_owned();
        self.take(1)?;
        Ok(s)
    }
}

fn read_message(reader: &mut impl Read) -> Result<Reply> {
    let mut fixed = [0u8; 16];
    reader.read_exact(&mut fixed).map_err(io_error)?;
    let little = match fixed[0] {
        b'l' => true,
        b'B' => false,
        e => return Err(bus_error(format!("byte order mark {e:#x}"))),
    };
    let num = |i: usize| {
        let b = [fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]];
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let body_len = num(4) as usize;
    let fields_len = num(12) as usize;
    let header_len = (16 + fields_len).div_ceil(8) * 8;
    let total = header_len
        .checked_add(body_len)
        .filter(|t| *t <= MAX_MESSAGE)
        .ok_or_else(|| bus_error("message too large"))?;
    let mut msg = fixed.to_vec();
    msg.resize(total, 0);
    reader.read_exact(&mut msg[16..]).map_err(io_error)?;
    let mut reply = Reply {
        kind: fixed[1],
        little,
        ..Default::default()
    };
    let mut c = Cursor {
        buf: &msg[..16 + fields_len],
        pos: 16,
        little,
    };
    while c.pos < c.buf.len() {
        c.align(8)?;
        let code = c.u8()?;
        let sig = c.signature()?;
        match sig.as_str() {
            "u" => {
                let v = c.u32()?;
                if code == FIELD_REPLY_SERIAL {
                    reply.reply_serial = Some(v);
                }
            }
            "s" | "o" => {
                let v = c.string()?;
                if code == FIELD_ERROR_NAME {
                    reply.error_name = Some(v);
                }
            }
            "g" => {
                let v = c.signature()?;
                if code == FIELD_SIGNATURE {
                    reply.signature = v;
                }
            }
            other => return Err(bus_error(format!("header field of type {other}"))),
        }
    }
    reply.body = msg[header_len..].to_vec();
    Ok(reply)
}

/// The string inside a `v` (variant) reply body.
fn variant_string(reply: &Reply) -> Result<String> {
    if reply.signature != "v" {
        return Err(bus_error(format!("reply signature {:?}", reply.signature)));
    }
    // The body starts at an 8-aligned offset of the message, so alignment
    // inside it can be computed from the body start.
    let mut c = Cursor {
        buf: &reply.body,
        pos: 0,
        little: reply.little,
    };
    let inner = c.signature()?;
    if inner != "s" {
        return Err(bus_error(format!("property of type {inner}, not a string")));
    }
    c.string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_call_layout() {
        let m = method_call(2, "/a", "i.f", "Get", "d.x", "ss", &[1, 2, 3, 4]);
        assert_eq!(&m[..4], &[b'l', 1, 2, 1]);
        assert_eq!(u32::from_le_bytes(m[4..8].try_into().unwrap()), 4);
        assert_eq!(u32::from_le_bytes(m[8..12].try_into().unwrap()), 2);
        assert_eq!(m.len() % 8, 4); // body of 4 bytes after an 8-aligned header
        assert_eq!(&m[16..24], &[1, 1, b'o', 0, 2, 0, 0, 0]);
    }

    fn reply_bytes(little: bool) -> Vec<u8> {
        let n = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut fields = vec![FIELD_REPLY_SERIAL, 1, b'u', 0];
        fields.extend_from_slice(&n(2));
        // the next field starts 8-aligned: right after these 8 bytes
        fields.extend_from_slice(&[FIELD_SIGNATURE, 1, b'g', 0, 1, b'v', 0]);
        let mut body = vec![1, b's', 0, 0];
        body.extend_from_slice(&n(7));
        body.extend_from_slice(b"RUNNING\0");
        let mut m = vec![if little { b'l' } else { b'B' }, METHOD_RETURN, 0, 1];
        m.extend_from_slice(&n(body.len() as u32));
        m.extend_from_slice(&n(9));
        m.extend_from_slice(&n(fields.len() as u32));
        m.extend_from_slice(&fields);
        pad_to(&mut m, 8);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn parses_property_reply_in_both_byte_orders() {
        for little in [true, false] {
            let bytes = reply_bytes(little);
            let r = read_message(&mut &bytes[..]).unwrap();
            assert_eq!((r.kind, r.reply_serial), (METHOD_RETURN, Some(2)));
            assert_eq!(variant_string(&r).unwrap(), "RUNNING");
        }
    }

    #[test]
    fn truncated_replies_are_errors() {
        let bytes = reply_bytes(true);
        for cut in 0..bytes.len() {
            assert!(read_message(&mut &bytes[..cut]).is_err());
        }
    }
}
