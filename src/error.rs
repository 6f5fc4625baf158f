//! The crate-wide error type.

use std::io;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to nf_tables, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What nftguard was doing.
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// Bytes received from the kernel (or read from a file) do not have the
    /// expected shape.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which structure was being decoded.
        what: &'static str,
        /// What exactly was wrong.
        detail: String,
    },

    /// An attribute or nest would exceed the 65,535-byte limit of `nla_len`.
    #[error(
        "netlink attribute type {kind} would be {len} bytes, over the 65535-byte limit of nla_len"
    )]
    AttributeTooLong {
        /// Attribute type.
        kind: u16,
        /// Length it would have had.
        len: usize,
    },

    /// A socket buffer could not be made large enough for one batch.
    #[error("the netlink {what} buffer is {got} bytes but {needed} are needed; raise net.core.{}mem_max or run with CAP_NET_ADMIN in the initial user namespace", if *what == "send" { "w" } else { "r" })]
    BufferTooSmall {
        /// `send` or `receive`.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes obtained.
        got: usize,
    },

    /// The kernel dropped replies because the receive buffer overflowed.
    #[error("the netlink receive buffer overflowed (ENOBUFS): some kernel replies were lost")]
    ReceiveOverrun,

    /// The ruleset generation changed since it was read: another program
    /// committed in between. Nothing was applied.
    #[error("the ruleset changed since generation {expected} (now {}): nothing was applied", current.map_or_else(|| "unknown".to_string(), |c| c.to_string()))]
    Conflict {
        /// Generation the transaction was planned against.
        expected: u32,
        /// Generation found afterwards, when it could be read.
        current: Option<u32>,
    },

    /// The kernel refused one operation of a batch; the whole batch was
    /// aborted and nothing was applied.
    #[error("operation {op_index} ({op}) rejected: {}{}", errno_text(*errno), message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Rejected {
        /// Index of the operation in the transaction (0-based).
        op_index: usize,
        /// What the operation was, e.g. `add rule inet nftguard input`.
        op: String,
        /// The kernel's errno.
        errno: i32,
        /// The kernel's extended-ack message, if any.
        message: Option<String>,
        /// Offset of the offending attribute inside the message, if given.
        offset: Option<u32>,
        /// Further operations the kernel also refused, as `(index, errno)`.
        others: Vec<(usize, i32)>,
    },

    /// A request outside a batch (dump, generation query) failed.
    #[error("{what}: {}{}", errno_text(*errno), message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Kernel {
        /// What was asked.
        what: String,
        /// The kernel's errno.
        errno: i32,
        /// The kernel's extended-ack message, if any.
        message: Option<String>,
    },

    /// A dump kept being interrupted by concurrent changes.
    #[error("the ruleset kept changing during {attempts} dump attempts")]
    DumpUnstable {
        /// How many attempts were made.
        attempts: u32,
    },

    /// The caller asked for something that cannot be expressed.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was being built.
        what: &'static str,
        /// Why it is invalid.
        detail: String,
    },
}

/// `errno` as "Description (ENAME)".
pub fn errno_text(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::EAGAIN => "EAGAIN",
        libc::ELOOP => "ELOOP",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOBUFS => "ENOBUFS",
        libc::ERESTART => "ERESTART",
        _ => "",
    };
    let text = io::Error::from_raw_os_error(errno).to_string();
    let text = text.split(" (os error").next().unwrap_or(&text).to_string();
    if name.is_empty() {
        format!("{text} (errno {errno})")
    } else {
        format!("{text} ({name})")
    }
}
