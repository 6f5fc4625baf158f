//! Reading the replies of a netlink dump request: every multipart message
//! carrying the request's sequence number, up to `NLMSG_DONE`.

use super::message::{Message, MessageIter, NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR};
use super::socket::{KernelError, Socket};
use crate::error::{Error, Result};

/// Reads the replies to the dump request sent with sequence number `seq`
/// and hands every data message to `each`. Messages of other sequence
/// numbers (stale replies) are skipped.
///
/// Returns `Ok(true)` when the dump completed consistently, `Ok(false)`
/// when the kernel flagged it as interrupted by a concurrent change
/// (`NLM_F_DUMP_INTR`, or `EINTR` instead of a result): the caller decides
/// whether to restart. `what` names the dump in errors.
pub fn read_dump<F>(sock: &mut Socket, seq: u32, what: &str, mut each: F) -> Result<bool>
where
    F: FnMut(&Message<'_>) -> Result<()>,
{
    let mut consistent = true;
    loop {
        let Some(buf) = sock.recv(true)? else {
            continue;
        };
        for m in MessageIter::new(buf) {
            let m = m?;
            if m.header.seq != seq {
                continue;
            }
            if m.header.flags & NLM_F_DUMP_INTR != 0 {
                consistent = false;
            }
            match m.header.kind {
                NLMSG_DONE => return Ok(consistent),
                NLMSG_ERROR => {
                    let e = KernelError::parse(&m.header, m.payload)?;
                    if e.errno == libc::EINTR {
                        // The kernel could not complete the dump consistently.
                        return Ok(false);
                    }
                    if e.errno != 0 {
                        return Err(Error::Kernel {
                            what: what.to_string(),
                            errno: e.errno,
                            message: e.message,
                        });
                    }
                }
                _ => each(&m)?,
            }
        }
    }
}
