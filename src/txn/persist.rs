//! Persistence for boot, done only at confirm: the confirmed policy in the
//! state directory and the `nftguard-restore.service` unit that re-applies
//! it early at boot (`Before=network-pre.target`, like nftables.service),
//! so the host never comes up with network and without its firewall.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::backup::{recreate_transaction, table_content};
use super::error::{ApplyError, TxnResult};
use super::rollback::find_program;
use super::state::{now_unix, write_file_atomic, StateDir};
use crate::engine::{Ruleset, Transaction};
use crate::nft::render::nft_text;
use crate::nft::Family;

/// File name of the confirmed policy in the state directory.
pub const POLICY_FILE: &str = "policy.json";
/// The same policy as nft text, for people.
pub const POLICY_TEXT_FILE: &str = "policy.nft";
/// Name of the boot unit.
pub const RESTORE_UNIT: &str = "nftguard-restore.service";
/// Where the boot unit goes by default.
pub const DEFAULT_UNIT_DIR: &str = "/etc/systemd/system";
/// The distribution's nftables configuration, checked for `flush ruleset`.
pub const DEFAULT_NFTABLES_CONF: &str = "/etc/nftables.conf";

/// The persisted, confirmed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The apply that was confirmed.
    pub apply_id: String,
    /// When (Unix seconds).
    pub confirmed_at: u64,
    /// The owned tables it consists of.
    pub tables: Vec<(Family, String)>,
    /// Their content as confirmed (typed dump of the live tables).
    pub content: Ruleset,
    /// The transaction that creates them (canonical form; the boot
    /// restore deletes live copies first).
    pub transaction: Transaction,
    /// `sha256:` of the transaction's canonical bytes.
    pub sha256: String,
}

impl Policy {
    /// The policy made of the live content of `tables`.
    pub fn from_live(
        apply_id: &str,
        tables: &[(Family, String)],
        live: &Ruleset,
    ) -> TxnResult<Policy> {
        let mut content = Ruleset {
            genid: live.genid,
            ..Default::default()
        };
        let mut transaction = Transaction::new();
        for (family, name) in tables {
            let part = table_content(live, *family, name);
            for op in recreate_transaction(&part)?.ops() {
                transaction.push(op.clone());
            }
            content.tables.extend(part.tables);
            content.chains.extend(part.chains);
            content.rules.extend(part.rules);
            content.sets.extend(part.sets);
            content.elements.extend(part.elements);
            content.objects.extend(part.objects);
            content.flowtables.extend(part.flowtables);
        }
        let sha256 = super::apply::batch_sha256(&transaction)?;
        Ok(Policy {
            apply_id: apply_id.into(),
            confirmed_at: now_unix(),
            tables: tables.to_vec(),
            content,
            transaction,
            sha256,
        })
    }

    /// Writes the policy (JSON and nft text) into the state directory.
    pub fn store(&self, state: &StateDir) -> TxnResult<()> {
        state.write_json(POLICY_FILE, self)?;
        state.write_atomic(POLICY_TEXT_FILE, nft_text(&self.content).as_bytes())
    }

    /// The persisted policy, if any.
    pub fn load(state: &StateDir) -> TxnResult<Option<Policy>> {
        let p: Option<Policy> = state.read_json(POLICY_FILE)?;
        if let Some(p) = &p {
            if super::apply::batch_sha256(&p.transaction)? != p.sha256 {
                return Err(ApplyError::Corrupt {
                    path: state.file(POLICY_FILE),
                    detail: "its transaction does not match its sha256".into(),
                });
            }
        }
        Ok(p)
    }
}

/// Where and how to install the boot unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistOptions {
    /// Directory for `nftguard-restore.service`.
    pub unit_dir: PathBuf,
    /// The nftguard executable the unit runs.
    pub exe: PathBuf,
    /// The nftables configuration checked for `flush ruleset`.
    pub nftables_conf: PathBuf,
    /// Run `systemctl enable` when systemd is running (off in tests).
    pub enable: bool,
}

impl PersistOptions {
    /// The defaults for the running executable: `/etc/systemd/system`,
    /// `/etc/nftables.conf`, enabling with systemctl when systemd runs.
    pub fn system(exe: PathBuf) -> PersistOptions {
        PersistOptions {
            unit_dir: DEFAULT_UNIT_DIR.into(),
            exe,
            nftables_conf: DEFAULT_NFTABLES_CONF.into(),
            enable: true,
        }
    }
}

/// What persisting did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persisted {
    /// The policy file.
    pub policy_file: PathBuf,
    /// The installed unit file.
    pub unit_file: PathBuf,
    /// Whether `systemctl enable` succeeded.
    pub enabled: bool,
    /// Things the operator must know (manual enabling, `flush ruleset`).
    pub warnings: Vec<String>,
}

/// `"…"` quoting for a unit file command line (paths are already free of
/// `$`, `%` and control characters, see `RollbackCommand::check`).
fn unit_quote(p: &Path) -> String {
    let s = p.to_string_lossy();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The text of `nftguard-restore.service`.
pub fn restore_unit_text(exe: &Path, state_dir: &Path) -> String {
    format!(
        "[Unit]\n\
         Description=nftguard: restore the confirmed firewall policy\n\
         DefaultDependencies=no\n\
         Wants=network-pre.target\n\
         Before=network-pre.target shutdown.target\n\
         Conflicts=shutdown.target\n\
         RequiresMountsFor={}\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart={} restore --boot --state-dir {}\n\
         \n\
         [Install]\n\
         WantedBy=sysinit.target\n",
        unit_quote(state_dir),
        unit_quote(exe),
        unit_quote(state_dir),
    )
}

/// Whether systemd is the running init (`/run/systemd/system`, as
/// `sd_booted()` tests).
pub fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// Whether an nftables configuration text flushes the whole ruleset
/// (which would wipe nftguard's table when nftables.service starts after
/// it).
pub fn flushes_ruleset(conf: &str) -> bool {
    conf.lines().any(|l| {
        let code = l.split('#').next().unwrap_or("");
        let words: Vec<&str> = code.split_whitespace().collect();
        words.windows(2).any(|w| w == ["flush", "ruleset"])
    })
}

/// Stores `policy`, installs the boot unit and enables it when systemd
/// runs (otherwise a warning says enabling is manual).
pub fn persist(state: &StateDir, policy: &Policy, opts: &PersistOptions) -> TxnResult<Persisted> {
    let mut warnings = Vec::new();
    policy.store(state)?;
    super::rollback::RollbackCommand {
        exe: opts.exe.clone(),
        state_dir: state.path().to_path_buf(),
        netns: None,
    }
    .check()?;
    let text = restore_unit_text(&opts.exe, state.path());
    std::fs::create_dir_all(&opts.unit_dir)
        .map_err(|e| ApplyError::state("creating the unit directory", &opts.unit_dir, e))?;
    write_file_atomic(&opts.unit_dir, RESTORE_UNIT, text.as_bytes(), 0o644)?;
    let unit_file = opts.unit_dir.join(RESTORE_UNIT);
    let mut enabled = false;
    if opts.enable && systemd_running() {
        match find_program("systemctl") {
            Some(systemctl) => {
                let ok = |args: &[&str]| {
                    std::process::Command::new(&systemctl)
                        .args(args)
                        .stdin(std::process::Stdio::null())
                        .output()
                        .map(|o| {
                            (
                                o.status.success(),
                                String::from_utf8_lossy(&o.stderr).into_owned(),
                            )
                        })
                };
                let _ = ok(&["daemon-reload"]);
                match ok(&["enable", RESTORE_UNIT]) {
                    Ok((true, _)) => enabled = true,
                    Ok((false, err)) => warnings.push(format!(
                        "systemctl enable {RESTORE_UNIT} failed: {}",
                        err.trim()
                    )),
                    Err(e) => warnings.push(format!("running systemctl: {e}")),
                }
            }
            None => warnings.push(format!(
                "systemctl not found: enable {} by hand for the policy to survive a reboot",
                unit_file.display()
            )),
        }
    } else {
        warnings.push(format!(
            "systemd is not running here: {} was written but not enabled; enable it (or run `nftguard restore --boot` at boot) for the policy to survive a reboot",
            unit_file.display()
        ));
    }
    if let Ok(conf) = std::fs::read_to_string(&opts.nftables_conf) {
        if flushes_ruleset(&conf) {
            warnings.push(format!(
                "{} contains `flush ruleset`: if nftables.service starts after {RESTORE_UNIT} it wipes nftguard's table; remove that line or disable nftables.service",
                opts.nftables_conf.display()
            ));
        }
    }
    Ok(Persisted {
        policy_file: state.file(POLICY_FILE),
        unit_file,
        enabled,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_text_orders_before_the_network() {
        let t = restore_unit_text(
            Path::new("/usr/sbin/nftguard"),
            Path::new("/var/lib/nftguard"),
        );
        assert!(t.contains("\nBefore=network-pre.target shutdown.target\n"));
        assert!(t.contains("\nWants=network-pre.target\n"));
        assert!(t.contains(
            "\nExecStart=\"/usr/sbin/nftguard\" restore --boot --state-dir \"/var/lib/nftguard\"\n"
        ));
    }

    #[test]
    fn flush_ruleset_is_found_outside_comments() {
        assert!(flushes_ruleset(
            "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {}\n"
        ));
        assert!(flushes_ruleset("  flush   ruleset # reset\n"));
        assert!(!flushes_ruleset("# flush ruleset\ntable inet filter {}\n"));
        assert!(!flushes_ruleset("flush table inet filter\n"));
    }
}
