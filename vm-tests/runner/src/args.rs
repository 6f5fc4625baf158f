//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use crate::kernels::{KernelSeries, SERIES};

pub const HELP: &str = "\
usage: vm-tests/run [--kernels 5.10,6.1,6.12] [--scenarios LIST|all]
                    [--timeout SECS] [--memory MB] [--cpus N] [--no-kvm]

Boots each Debian kernel under qemu (TCG unless KVM really works) and runs
each scenario inside it; prints a kernel x scenario table. Downloads go to
vm-tests/cache/ (reused: a second run downloads nothing); console and result
logs of every VM go to vm-tests/cache/logs/.

  --kernels LIST    kernel series to test (default: 5.10,6.1,6.12)
                    5.10 = Debian bullseye, 6.1 = bookworm, 6.12 = trixie
  --scenarios LIST  scenarios to run, or `all` (default: all); known:
                    engine, rollback-timer, reboot-persistence, ssh-lockout,
                    ufw, firewalld, docker. The full-system ones (all but
                    engine) boot a Debian bookworm rootfs and run on 6.1
                    only (n/a elsewhere), unless both --kernels and
                    --scenarios are given: then on every kernel named
  --timeout SECS    a VM still running after SECS is killed and its cell
                    fails (default: 900)
  --memory MB       guest memory (default: 2048)
  --cpus N          guest vCPUs (default: 2)
  --no-kvm          do not probe /dev/kvm, use TCG
  --repo DIR        repository root (set by vm-tests/run)

Exit status: 0 every cell passed, 1 a cell failed, 2 usage error,
3 the host could not prepare the run.
";

/// Parsed command line.
#[derive(Debug)]
pub struct Args {
    pub repo: PathBuf,
    pub kernels: Vec<&'static KernelSeries>,
    pub scenarios: Vec<String>,
    pub timeout: Duration,
    pub memory_mb: u32,
    pub cpus: u32,
    pub no_kvm: bool,
    /// `--kernels` was given (not the default matrix).
    pub kernels_given: bool,
}

impl Args {
    /// `Ok(None)` for `--help`.
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
        let mut a = Args {
            repo: PathBuf::from("."),
            kernels: SERIES.iter().collect(),
            scenarios: vec!["all".into()],
            timeout: Duration::from_secs(900),
            memory_mb: 2048,
            cpus: 2,
            no_kvm: false,
            kernels_given: false,
        };
        while let Some(flag) = it.next() {
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (flag.clone(), None),
            };
            let mut value = |what: &str| -> Result<String, String> {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| format!("{what} needs a value"))
            };
            match name.as_str() {
                "-h" | "--help" => return Ok(None),
                "--kernels" => {
                    a.kernels_given = true;
                    let v = value("--kernels")?;
                    a.kernels = v
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| {
                            SERIES.iter().find(|k| k.series == s).ok_or_else(|| {
                                let known: Vec<&str> = SERIES.iter().map(|k| k.series).collect();
                                format!("unknown kernel series `{s}` (known: {})", known.join(", "))
                            })
                        })
                        .collect::<Result<_, _>>()?;
                    if a.kernels.is_empty() {
                        return Err("--kernels needs at least one series".into());
                    }
                }
                "--scenarios" => {
                    let v = value("--scenarios")?;
                    a.scenarios = v
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect();
                    if a.scenarios.is_empty() {
                        return Err("--scenarios needs at least one name".into());
                    }
                }
                "--timeout" => {
                    a.timeout = Duration::from_secs(number(&value("--timeout")?, "--timeout")?)
                }
                "--memory" => a.memory_mb = number(&value("--memory")?, "--memory")? as u32,
                "--cpus" => a.cpus = number(&value("--cpus")?, "--cpus")? as u32,
                "--no-kvm" => a.no_kvm = true,
                "--repo" => a.repo = PathBuf::from(value("--repo")?),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Some(a))
    }
}

fn number(v: &str, flag: &str) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if n > 0 && n < 1 << 20 => Ok(n),
        _ => Err(format!("{flag}: `{v}` is not a positive number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Option<Args>, String> {
        Args::parse(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_are_the_whole_matrix() {
        let a = parse(&[]).unwrap().unwrap();
        let k: Vec<&str> = a.kernels.iter().map(|k| k.series).collect();
        assert_eq!(k, ["5.10", "6.1", "6.12"]);
        assert_eq!(a.scenarios, ["all"]);
    }

    #[test]
    fn one_cell() {
        let a = parse(&["--kernels", "6.1", "--scenarios=engine", "--timeout", "60"])
            .unwrap()
            .unwrap();
        assert_eq!(a.kernels.len(), 1);
        assert_eq!(a.kernels[0].suite, "bookworm");
        assert_eq!(a.scenarios, ["engine"]);
        assert_eq!(a.timeout, Duration::from_secs(60));
    }

    #[test]
    fn bad_input_is_explained() {
        assert!(parse(&["--kernels", "4.19"])
            .unwrap_err()
            .contains("unknown kernel series `4.19`"));
        assert!(parse(&["--timeout", "x"])
            .unwrap_err()
            .contains("not a positive number"));
        assert!(parse(&["--kernels"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--frob"]).unwrap_err().contains("unknown argument"));
    }
}
