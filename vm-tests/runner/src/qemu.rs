//! Booting a kernel + initramfs under qemu-system-x86_64, reading the
//! guest's result lines from the second serial port, and killing a VM that
//! overruns its time.

use std::ffi::OsString;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::apt;
use crate::kernels::PreparedKernel;

const QEMU: &str = "qemu-system-x86_64";

/// How the guest's CPU is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg (no KVM)",
        })
    }
}

#[derive(Debug, Clone, Copy)]
pub struct VmSettings {
    pub memory_mb: u32,
    pub cpus: u32,
    pub accel: Accel,
}

/// Installs qemu-system-x86 with apt-get when qemu is missing.
pub fn ensure_installed() -> Result<(), String> {
    if on_path(QEMU) {
        return Ok(());
    }
    println!("vm-tests: installing qemu-system-x86");
    apt::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args([
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "qemu-system-x86",
            ]),
    )?;
    if on_path(QEMU) {
        Ok(())
    } else {
        Err(format!(
            "{QEMU} still missing after installing qemu-system-x86"
        ))
    }
}

pub fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
        .unwrap_or(false)
}

/// KVM only if it really runs a guest: on this project's machines
/// `/dev/kvm` exists but a KVM guest hangs. The probe boots `kernel` with no
/// initramfs under KVM; it panics at once for want of a root filesystem and
/// (`panic=-1`, `-no-reboot`) qemu exits. A working KVM does that in a few
/// seconds; after 10 s the probe is killed and TCG is used.
pub fn probe_kvm(kernel: &PreparedKernel, logs: &Path) -> Accel {
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_err()
    {
        return Accel::Tcg;
    }
    let log = logs.join("kvm-probe.console.log");
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-accel",
        "kvm",
        "-m",
        "256",
        "-smp",
        "1",
        "-nodefaults",
        "-no-user-config",
    ])
    .args(["-display", "none", "-no-reboot", "-kernel"])
    .arg(&kernel.vmlinuz)
    .args(["-append", "console=ttyS0 panic=-1 loglevel=4"])
    .arg("-serial")
    .arg(format!("file:{}", log.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let Ok(mut child) = cmd.spawn() else {
        return Accel::Tcg;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return if text.contains("Kernel panic") {
                    Accel::Kvm
                } else {
                    Accel::Tcg
                };
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                kill(&mut child);
                return Accel::Tcg;
            }
        }
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// One VM boot.
pub struct Boot<'a> {
    pub kernel: &'a PreparedKernel,
    pub initrd: &'a Path,
    /// The kernel command line.
    pub append: String,
    /// More qemu arguments (disks, network).
    pub extra: Vec<OsString>,
    /// `false`: `-no-reboot`, a guest reboot ends qemu; `true`: the guest
    /// reboots in place (same disks) and only a power-off ends qemu.
    pub reboot: bool,
    pub settings: VmSettings,
    pub timeout: Duration,
    /// ttyS0 (kernel console) is written here.
    pub console_log: PathBuf,
    /// ttyS1 (results) is copied here as it arrives.
    pub results_log: PathBuf,
}

/// The command line of an initramfs-only boot (`rdinit=/init`).
pub const INITRAMFS_APPEND: &str = "console=ttyS0 panic=-1 loglevel=4 rdinit=/init";

/// How a boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// qemu exited by itself (the guest powered off, rebooted or crashed).
    Exited,
    /// Killed at the timeout.
    TimedOut,
    /// Killed by the scenario before it ended by itself.
    Killed,
}

/// Result lines with their arrival time (since qemu started).
pub struct BootOutput {
    pub lines: Vec<(Duration, String)>,
    pub ending: Ending,
    pub took: Duration,
}

/// What waiting for the next result line gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Line(Duration, String),
    /// qemu closed its output (it is exiting).
    Closed,
    /// The VM's own timeout passed (the VM is killed by [`Running::finish`]).
    TimedOut,
    /// The caller's shorter wait passed; the VM runs on.
    Waited,
}

/// A VM that is running: its result lines are read as they come.
pub struct Running {
    child: Child,
    rx: mpsc::Receiver<(Duration, String)>,
    reader: Option<std::thread::JoinHandle<()>>,
    stderr_reader: Option<std::thread::JoinHandle<String>>,
    results: std::fs::File,
    start: Instant,
    deadline: Instant,
    lines: Vec<(Duration, String)>,
    ending: Option<Ending>,
}

impl Boot<'_> {
    /// Runs the VM to its end; `on_line` sees every result line as it comes.
    pub fn run(&self, mut on_line: impl FnMut(Duration, &str)) -> Result<BootOutput, String> {
        let mut vm = self.start()?;
        while let Next::Line(at, line) = vm.next(None) {
            on_line(at, &line);
        }
        Ok(vm.finish())
    }

    /// Starts qemu; ttyS1 is read line by line through [`Running::next`].
    pub fn start(&self) -> Result<Running, String> {
        let accel = match self.settings.accel {
            Accel::Kvm => "kvm",
            // Multi-threaded TCG: one host thread per vCPU.
            Accel::Tcg => "tcg,thread=multi",
        };
        let mut cmd = Command::new(QEMU);
        cmd.args(["-accel", accel])
            .args(["-m", &self.settings.memory_mb.to_string()])
            .args(["-smp", &self.settings.cpus.to_string()])
            .args(["-nodefaults", "-no-user-config", "-display", "none"]);
        if !self.reboot {
            cmd.arg("-no-reboot");
        }
        cmd.arg("-kernel")
            .arg(&self.kernel.vmlinuz)
            .arg("-initrd")
            .arg(self.initrd)
            .arg("-append")
            .arg(&self.append)
            .arg("-serial")
            .arg(format!("file:{}", self.console_log.display()))
            .args(["-serial", "stdio"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let results = std::fs::File::create(&self.results_log)
            .map_err(|e| format!("creating {}: {e}", self.results_log.display()))?;
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("starting {QEMU}: {e}"))?;
        let (tx, rx) = mpsc::channel::<(Duration, String)>();
        let stdout = child.stdout.take().ok_or("qemu stdout is not piped")?;
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf)
                            .trim_end_matches(['\r', '\n'])
                            .to_string();
                        if tx.send((start.elapsed(), line)).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = child.stderr.take();
        let stderr_reader = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut e) = stderr {
                let _ = std::io::Read::read_to_string(&mut e, &mut s);
            }
            s
        });
        Ok(Running {
            child,
            rx,
            reader: Some(reader),
            stderr_reader: Some(stderr_reader),
            results,
            start,
            deadline: start + self.timeout,
            lines: Vec::new(),
            ending: None,
        })
    }
}

impl Running {
    /// Time since qemu started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The next result line, waiting at most until the VM's timeout or
    /// `wait` (whichever is sooner).
    pub fn next(&mut self, wait: Option<Duration>) -> Next {
        if let Some(e) = &self.ending {
            return match e {
                Ending::TimedOut => Next::TimedOut,
                _ => Next::Closed,
            };
        }
        let now = Instant::now();
        let vm_left = self.deadline.saturating_duration_since(now);
        let left = wait.map_or(vm_left, |w| w.min(vm_left));
        match self.rx.recv_timeout(left) {
            Ok((at, line)) => {
                use std::io::Write;
                let _ = writeln!(self.results, "[{:8.2}] {line}", at.as_secs_f64());
                self.lines.push((at, line.clone()));
                Next::Line(at, line)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.ending = Some(Ending::Exited);
                Next::Closed
            }
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() >= self.deadline => {
                self.ending = Some(Ending::TimedOut);
                Next::TimedOut
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Next::Waited,
        }
    }

    /// Writes a host-side note into the results log (what the host did and
    /// saw, between the guest's lines).
    pub fn note(&mut self, text: &str) {
        use std::io::Write;
        let at = self.start.elapsed();
        let _ = writeln!(self.results, "[{:8.2}] [host] {text}", at.as_secs_f64());
        self.lines.push((at, format!("[host] {text}")));
    }

    /// Kills the VM now (the scenario is done with it or gave up).
    pub fn kill(&mut self) {
        if self.ending.is_none() {
            self.ending = Some(Ending::Killed);
        }
        kill(&mut self.child);
    }

    /// Waits for qemu to end (killing it at the timeout) and returns every
    /// line read.
    pub fn finish(mut self) -> BootOutput {
        while self.ending.is_none() {
            if let Next::Line(..) = self.next(None) {}
        }
        if self.ending == Some(Ending::TimedOut) {
            kill(&mut self.child);
        } else {
            // stdout closed: qemu is exiting; do not wait forever anyway.
            let grace = Instant::now() + Duration::from_secs(30);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < grace {
                std::thread::sleep(Duration::from_millis(50));
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                kill(&mut self.child);
            }
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let err = self
            .stderr_reader
            .take()
            .and_then(|r| r.join().ok())
            .unwrap_or_default();
        if !err.trim().is_empty() {
            self.note(&format!("qemu stderr: {}", err.trim()));
        }
        BootOutput {
            lines: self.lines,
            ending: self.ending.unwrap_or(Ending::Exited),
            took: self.start.elapsed(),
        }
    }
}
