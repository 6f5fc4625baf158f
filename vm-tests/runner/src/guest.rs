//! The guest side of a busybox VM: its `/init` and the line protocol it
//! speaks back over the second serial port.
//!
//! ttyS0 is the kernel console (saved to logs/…console.log); ttyS1 carries
//! only the init's marker lines and the jobs' output, so kernel messages
//! can never split a marker line. Markers:
//!
//! ```text
//! @@VMTEST BOOTED <uname -r>
//! @@VMTEST MODULES loaded=<n> failed=<names,…>
//! @@VMTEST BEGIN <job>
//! …the job's stdout and stderr…
//! @@VMTEST END <job> rc=<exit code>
//! @@VMTEST DONE
//! ```

use std::time::Duration;

use crate::cpio::Image;

pub const MARK: &str = "@@VMTEST ";
/// Where busybox and its applet links live in the guest (after the real
/// tools in /usr/sbin and /usr/bin on PATH, so `ip`, `unshare`, `nft` are
/// the real ones).
pub const BUSYBOX_DIR: &str = "/busybox";

/// A command the guest runs after boot; its exit code is reported.
#[derive(Debug, Clone)]
pub struct GuestJob {
    /// A name without spaces, e.g. `engine_roundtrip`.
    pub name: String,
    pub argv: Vec<String>,
    /// Killed (SIGKILL) after this long inside the guest.
    pub timeout: Duration,
}

/// Adds busybox, the init and the job list to `img`.
pub fn add_init(
    img: &mut Image,
    busybox: &std::path::Path,
    modules: &[String],
    jobs: &[GuestJob],
) -> Result<(), String> {
    img.add_host_file(busybox, &format!("{BUSYBOX_DIR}/busybox"))?;
    for d in [
        "/proc", "/sys", "/dev", "/tmp", "/run", "/root", "/var/tmp", "/etc",
    ] {
        img.add_dir(d);
    }
    img.add_char_device("/dev/console", 5, 1);
    img.add_bytes(
        "/etc/vmtest/modules",
        format!("{}\n", modules.join("\n")),
        0o644,
    );
    let mut list = String::new();
    for j in jobs {
        // One line per job: name, timeout in seconds, argv (no spaces in
        // arguments: they are paths and flags we generate).
        list.push_str(&format!(
            "{} {} {}\n",
            j.name,
            j.timeout.as_secs(),
            j.argv.join(" ")
        ));
    }
    img.add_bytes("/etc/vmtest/jobs", list, 0o644);
    img.add_bytes("/init", INIT, 0o755);
    Ok(())
}

const INIT: &str = r#"#!/busybox/busybox sh
# nftguard vm-tests init: mount, load the netfilter modules, run the jobs,
# report over ttyS1, power off.
/busybox/busybox --install -s /busybox
export PATH=/usr/sbin:/usr/bin:/busybox
export HOME=/root TMPDIR=/tmp RUST_BACKTRACE=0
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts devpts /dev/pts
echo /busybox/modprobe > /proc/sys/kernel/modprobe
exec 3>/dev/ttyS1
say() { echo "@@VMTEST $*" >&3; }
say "BOOTED $(uname -r)"
loaded=0
failed=
for m in $(cat /etc/vmtest/modules); do
    if modprobe "$m" 2>/dev/null; then loaded=$((loaded + 1)); else failed="$failed$m,"; fi
done
say "MODULES loaded=$loaded failed=$failed"
ip link set lo up
cd /tmp
while read -r name secs cmd; do
    say "BEGIN $name"
    timeout -s KILL "$secs" $cmd >&3 2>&3 </dev/null
    say "END $name rc=$?"
done < /etc/vmtest/jobs
say "DONE"
exec 3>&-
sync
reboot -f
"#;

/// One event read back from the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Booted(String),
    Modules {
        loaded: u32,
        failed: Vec<String>,
    },
    Begin(String),
    End {
        job: String,
        rc: i32,
    },
    Done,
    /// Any other line (a job's output).
    Output(String),
}

pub fn parse_line(line: &str) -> Event {
    let Some(rest) = line.strip_prefix(MARK) else {
        return Event::Output(line.to_string());
    };
    let (word, args) = rest.split_once(' ').unwrap_or((rest, ""));
    match word {
        "BOOTED" => Event::Booted(args.trim().to_string()),
        "MODULES" => {
            let mut loaded = 0;
            let mut failed = Vec::new();
            for kv in args.split_whitespace() {
                if let Some(n) = kv.strip_prefix("loaded=") {
                    loaded = n.parse().unwrap_or(0);
                } else if let Some(f) = kv.strip_prefix("failed=") {
                    failed = f
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect();
                }
            }
            Event::Modules { loaded, failed }
        }
        "BEGIN" => Event::Begin(args.trim().to_string()),
        "END" => {
            let (job, rc) = args.rsplit_once(" rc=").unwrap_or((args, "-1"));
            Event::End {
                job: job.trim().to_string(),
                rc: rc.trim().parse().unwrap_or(-1),
            }
        }
        "DONE" => Event::Done,
        _ => Event::Output(line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(
            parse_line("@@VMTEST BOOTED 6.1.0-50-amd64"),
            Event::Booted("6.1.0-50-amd64".into())
        );
        assert_eq!(
            parse_line("@@VMTEST MODULES loaded=3 failed=nft_a,nft_b,"),
            Event::Modules {
                loaded: 3,
                failed: vec!["nft_a".into(), "nft_b".into()]
            }
        );
        assert_eq!(parse_line("@@VMTEST BEGIN cli"), Event::Begin("cli".into()));
        assert_eq!(
            parse_line("@@VMTEST END cli rc=101"),
            Event::End {
                job: "cli".into(),
                rc: 101
            }
        );
        assert_eq!(parse_line("@@VMTEST DONE"), Event::Done);
        assert_eq!(
            parse_line("test x ... ok"),
            Event::Output("test x ... ok".into())
        );
    }
}
