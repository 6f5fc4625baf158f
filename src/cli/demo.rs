//! `nftguard demo`: the whole hardening cycle in a throwaway pair of
//! network namespaces, printing each state.
//!
//! ```text
//!  server namespace (this, the main thread)      client namespace (a thread)
//!  nfg-demo-srv 10.255.0.1/24  ─────── veth ─────── nfg-demo-cli 10.255.0.2/24
//!  TCP listeners :80 (the profile allows it)        TCP connects with short
//!                :8080 (it does not)                timeouts
//! ```
//!
//! Why threads and not processes: `unshare(CLONE_NEWNET)` moves only the
//! calling thread, so the server side is the main thread (its namespace
//! is `/proc/<pid>/ns/net`, a path the rollback watchdog — a separate
//! process — can enter) and the client is a second thread with a fresh
//! namespace of its own. The veth pair is made with three rtnetlink
//! requests ([`nftguard::netlink::route`]): no `ip`, no `nft`, nothing
//! to install. Both namespaces vanish when the demo exits.
//!
//! States: DETECT (audit of the server namespace), SELECT (profile
//! public-web-server), PLAN (diff and token), VALIDATE (dry run), APPLY
//! (confirm timeout 3 s, rollback by the detached watchdog), VERIFY (real
//! connects from the client: 80 accepted, 8080 dropped), ROLLBACK (not
//! confirmed: it undoes itself and 8080 answers again), CONFLICT (another
//! program writes between plan and apply: refused, exit 41), then a
//! second apply that is CONFIRMed and stays past its timeout.
//!
//! Files: a private state directory `<--state-dir>/demo-<pid>/` (plans,
//! backups, journal, the confirmed policy, and the boot unit in its
//! `units/` — never `/etc/systemd`, never `/tmp`), removed at the end,
//! as is `--state-dir` itself when the demo had to create it.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use nftguard::detect::{audit, AuditOptions, Host};
use nftguard::engine::{get_generation, GenCheck, Transaction};
use nftguard::netlink::{enter_new_netns, route, Socket};
use nftguard::nft::{Family, Table};
use nftguard::plan::{self, PlanRequest, ProfileName, ProfileParams, RunOptions, Selection};
use nftguard::txn::{
    self, ApplyError, ApplyOptions, Mechanisms, PersistOptions, Phase, RollbackCommand, StateDir,
    StoredPlan,
};

use super::output::Output;
use super::{exit, CliError};

const SERVER_IF: &str = "nfg-demo-srv";
const CLIENT_IF: &str = "nfg-demo-cli";
const SERVER_ADDR: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 1);
const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 2);
const ALLOWED_PORT: u16 = 80;
const BLOCKED_PORT: u16 = 8080;
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(3);
/// A dropped SYN is retransmitted after 1 s: well within that, a connect
/// that has not completed was dropped.
const BLOCKED_PROBE: Duration = Duration::from_millis(700);
const ALLOWED_PROBE: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
struct Step {
    state: &'static str,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<serde_json::Value>,
}

struct Steps<'a> {
    out: &'a Output,
    steps: Vec<Step>,
}

impl Steps<'_> {
    fn say(
        &mut self,
        state: &'static str,
        summary: String,
        detail: Option<String>,
        data: Option<serde_json::Value>,
    ) {
        self.out.say(format!("== {state}: {summary}"));
        if let Some(d) = &detail {
            self.out.say(d.trim_end());
        }
        self.steps.push(Step {
            state,
            summary,
            detail,
            data,
        });
    }
}

fn fail(what: impl std::fmt::Display) -> CliError {
    CliError::new(exit::OTHER, format!("demo: {what}"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A TCP probe request to the client thread.
type ProbeRequest = (SocketAddr, Duration, mpsc::Sender<bool>);

/// The client side: a thread in its own network namespace that connects
/// where it is told.
struct Client {
    requests: mpsc::Sender<ProbeRequest>,
}

impl Client {
    /// Starts the client thread in a fresh namespace; returns it and the
    /// open namespace file (for the veth peer), then waits for `configure`
    /// before setting up its end of the link.
    fn start(configure: mpsc::Receiver<()>) -> Result<(Client, std::fs::File), CliError> {
        let (ns_tx, ns_rx) = mpsc::channel();
        let (req_tx, req_rx) = mpsc::channel::<ProbeRequest>();
        std::thread::spawn(move || {
            let setup = || -> nftguard::Result<std::fs::File> {
                enter_new_netns()?;
                std::fs::File::open("/proc/thread-self/ns/net").map_err(|source| {
                    nftguard::Error::Io {
                        what: "opening the client namespace",
                        source,
                    }
                })
            };
            let ready = setup();
            let ok = ready.is_ok();
            if ns_tx.send(ready.map_err(|e| e.to_string())).is_err() || !ok {
                return;
            }
            if configure.recv().is_err() {
                return;
            }
            let link = || -> nftguard::Result<()> {
                let mut s = route::route_socket()?;
                route::set_link_up(&mut s, "lo")?;
                route::add_ipv4_address(&mut s, CLIENT_IF, CLIENT_ADDR, 24)?;
                route::set_link_up(&mut s, CLIENT_IF)
            };
            let linked = link();
            for (addr, timeout, reply) in req_rx {
                let open = linked.is_ok() && TcpStream::connect_timeout(&addr, timeout).is_ok();
                let _ = reply.send(open);
            }
        });
        let ns = ns_rx
            .recv()
            .map_err(|_| fail("the client thread died"))?
            .map_err(|e| {
                CliError::new(
                    exit::OTHER,
                    format!("{e}: the demo needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)"),
                )
            })?;
        Ok((Client { requests: req_tx }, ns))
    }

    /// Whether a TCP connection to the server's `port` is established
    /// within `timeout`.
    fn connects(&self, port: u16, timeout: Duration) -> bool {
        let (tx, rx) = mpsc::channel();
        let addr = SocketAddr::from((SERVER_ADDR, port));
        self.requests.send((addr, timeout, tx)).is_ok() && rx.recv().unwrap_or(false)
    }
}

/// A listener on the server that accepts and closes every connection.
fn listen(port: u16) -> Result<(), CliError> {
    let l = TcpListener::bind(SocketAddr::from((SERVER_ADDR, port)))
        .map_err(|e| fail(format!("listening on port {port}: {e}")))?;
    std::thread::spawn(move || {
        for c in l.incoming() {
            drop(c);
        }
    });
    Ok(())
}

/// The demo's private directory, removed (with `--state-dir` itself when
/// the demo created it) when dropped.
struct DemoDir {
    dir: PathBuf,
    created_parent: Option<PathBuf>,
}

impl DemoDir {
    fn create(state_dir: &Path) -> Result<DemoDir, CliError> {
        let created_parent = (!state_dir.exists()).then(|| state_dir.to_path_buf());
        nftguard::plan::store::ensure_state_dir(state_dir).map_err(|e| fail(e.to_string()))?;
        let dir = state_dir.join(format!("demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let d = DemoDir {
            dir,
            created_parent,
        };
        nftguard::plan::store::ensure_state_dir(&d.dir).map_err(|e| fail(e.to_string()))?;
        Ok(d)
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(p) = &self.created_parent {
            let _ = std::fs::remove_dir(p); // only if empty
        }
    }
}

fn txn_err(e: ApplyError) -> CliError {
    CliError::new(e.exit_code(), format!("demo: {e}"))
}

/// What every apply of the demo shares.
struct ApplyContext {
    exe: PathBuf,
    state_dir: PathBuf,
    netns: PathBuf,
    persist: PersistOptions,
}

impl ApplyContext {
    fn options<'a>(
        &self,
        dry_run: bool,
        verify: Option<txn::VerifyHook<'a>>,
        token: &str,
    ) -> ApplyOptions<'a> {
        ApplyOptions {
            supplied_token: token.to_string(),
            confirm_timeout: CONFIRM_TIMEOUT,
            dry_run,
            auto_confirm: false,
            rollback: RollbackCommand {
                exe: self.exe.clone(),
                state_dir: self.state_dir.clone(),
                netns: Some(self.netns.clone()),
            },
            // Never a timer on the host's systemd or atd: the detached
            // watchdog lives only as long as the rollback needs it.
            mechanisms: Mechanisms::watchdog_only(),
            verify,
            persist: self.persist.clone(),
            forced: Some("nftguard demo (throwaway namespaces)".into()),
        }
    }
}

/// Waits until the journal's last apply is in `phase`.
fn wait_phase(state: &StateDir, phase: Phase, within: Duration) -> Result<(), CliError> {
    let until = Instant::now() + within;
    loop {
        let s = txn::status(state).map_err(txn_err)?;
        if s.last_apply.as_ref().is_some_and(|e| e.phase == phase) {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(fail(format!(
                "the apply did not reach {phase:?} (it is {:?})",
                s.last_apply.map(|e| e.phase)
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the demo. `netns` must be `None` (the demo makes its own pair of
/// namespaces); `state_dir` is where its private directory goes.
pub fn run(out: &Output, netns: Option<&Path>, state_dir: &Path) -> Result<(), CliError> {
    if netns.is_some() {
        return Err(CliError::new(
            exit::USAGE,
            "demo makes its own pair of throwaway network namespaces; --netns does not apply",
        ));
    }
    let mut steps = Steps {
        out,
        steps: Vec::new(),
    };

    // --- the lab --------------------------------------------------------
    let (configure_tx, configure_rx) = mpsc::channel();
    let (client, client_ns) = Client::start(configure_rx)?;
    enter_new_netns().map_err(|e| {
        CliError::new(
            exit::OTHER,
            format!("{e}: the demo needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)"),
        )
    })?;
    let server_ns = PathBuf::from(format!("/proc/{}/ns/net", std::process::id()));
    let mut rt = route::route_socket()?;
    route::set_link_up(&mut rt, "lo")?;
    route::create_veth_pair(&mut rt, SERVER_IF, CLIENT_IF, &client_ns)?;
    route::add_ipv4_address(&mut rt, SERVER_IF, SERVER_ADDR, 24)?;
    route::set_link_up(&mut rt, SERVER_IF)?;
    configure_tx
        .send(())
        .map_err(|_| fail("the client thread died"))?;
    listen(ALLOWED_PORT)?;
    listen(BLOCKED_PORT)?;
    // A new veth pair can take a moment before it carries packets.
    let until = Instant::now() + Duration::from_secs(20);
    while !client.connects(ALLOWED_PORT, Duration::from_millis(300)) {
        if Instant::now() >= until {
            return Err(fail("the veth pair never carried traffic"));
        }
    }
    let before = (
        client.connects(ALLOWED_PORT, ALLOWED_PROBE),
        client.connects(BLOCKED_PORT, ALLOWED_PROBE),
    );
    let demo_dir = DemoDir::create(state_dir)?;
    let state_path = demo_dir.dir.join("state");
    let state = StateDir::open(&state_path).map_err(txn_err)?;
    steps.say(
        "SETUP",
        format!(
            "server namespace {} ({SERVER_IF} {SERVER_ADDR}/24, listening on {ALLOWED_PORT} and {BLOCKED_PORT}), client namespace ({CLIENT_IF} {CLIENT_ADDR}/24), one veth pair",
            server_ns.display()
        ),
        Some(format!(
            "before any policy, from the client: port {ALLOWED_PORT} {}, port {BLOCKED_PORT} {}\nprivate state directory {}",
            open_word(before.0),
            open_word(before.1),
            state_path.display()
        )),
        Some(serde_json::json!({
            "server_netns": server_ns,
            "state_dir": state_path,
            "before": {"allowed_port_open": before.0, "blocked_port_open": before.1},
        })),
    );

    // --- DETECT ---------------------------------------------------------
    let mut sock = Socket::new()?;
    let report = audit(&mut sock, &Host::default(), &AuditOptions::default())?;
    let halts = report.recommended_backend == "stop";
    steps.say(
        "DETECT",
        format!(
            "confidence {}, risk tier {}, backend {}, recommended {}, audit exit code {}",
            report.confidence,
            format!("{:?}", report.risk_tier).to_lowercase(),
            report.backend,
            report.recommended_backend,
            report.exit_code
        ),
        halts.then(|| {
            format!(
                "the audit would stop a real run here ({}); the demo goes on: its namespaces are throwaway",
                report.halt_reasons.join("; ")
            )
        }),
        Some(serde_json::json!({
            "confidence": report.confidence,
            "risk_tier": report.risk_tier,
            "exit_code": report.exit_code,
            "halt_reasons": report.halt_reasons,
        })),
    );

    // --- SELECT, PLAN ---------------------------------------------------
    let request = PlanRequest {
        selection: Selection::Profile(ProfileName::PublicWebServer),
        params: ProfileParams {
            ssh_port: Some(22),
            ..ProfileParams::default()
        },
        operator: None,
        state_dir: state_path.clone(),
        netns: Some(server_ns.clone()),
        docker_user: None,
    };
    steps.say(
        "SELECT",
        "profile public-web-server: ssh 22 (per-source limit), 80, 443; input policy drop".into(),
        None,
        None,
    );
    let plan_now = |sock: &mut Socket| {
        plan::run(
            sock,
            &Host::default(),
            &request,
            &RunOptions {
                refresh_audit: true,
                audit: AuditOptions::default(),
            },
        )
        .map_err(|e| CliError::new(e.exit_code(), format!("demo: {e}")))
    };
    let bundle = plan_now(&mut sock)?;
    steps.say(
        "PLAN",
        format!(
            "{} to add, {} to remove, risk {}, base generation {}",
            bundle.plan.diff.add.len(),
            bundle.plan.diff.remove.len(),
            bundle.plan.risk_assessment.name(),
            bundle.plan.base_genid
        ),
        Some(format!("approval_token {}", bundle.plan.approval_token)),
        Some(serde_json::json!({
            "approval_token": bundle.plan.approval_token,
            "add": bundle.plan.diff.add.len(),
            "base_genid": bundle.plan.base_genid,
        })),
    );

    // --- VALIDATE -------------------------------------------------------
    let exe = std::env::current_exe().map_err(|e| fail(format!("finding nftguard: {e}")))?;
    let persist = PersistOptions {
        unit_dir: demo_dir.dir.join("units"),
        exe: exe.clone(),
        nftables_conf: demo_dir.dir.join("nftables.conf"),
        enable: false,
    };
    let ctx = ApplyContext {
        exe,
        state_dir: state_path.clone(),
        netns: server_ns.clone(),
        persist: persist.clone(),
    };
    let options = |dry_run, verify, token: &str| ctx.options(dry_run, verify, token);
    let stored = StoredPlan::from_bundle(&bundle);
    let gen_before = get_generation(&mut sock)?.id;
    let dry = txn::apply(
        &mut sock,
        &state,
        &stored,
        &mut options(true, None, &bundle.plan.approval_token),
    )
    .map_err(txn_err)?;
    steps.say(
        "VALIDATE",
        format!(
            "dry run: the kernel checked the batch ({} operations) without committing; generation {gen_before} -> {}",
            stored.transaction.len(),
            dry.genid
        ),
        None,
        None,
    );

    // --- APPLY + VERIFY (not confirmed) ----------------------------------
    let verify_probes = |client: &Client| -> Result<(), String> {
        let allowed = client.connects(ALLOWED_PORT, ALLOWED_PROBE);
        let blocked = !client.connects(BLOCKED_PORT, BLOCKED_PROBE);
        match (allowed, blocked) {
            (true, true) => Ok(()),
            _ => Err(format!(
                "port {ALLOWED_PORT} {}, port {BLOCKED_PORT} {}",
                open_word(allowed),
                open_word(!blocked)
            )),
        }
    };
    let hook: txn::VerifyHook<'_> = Box::new(|_sock: &mut Socket| verify_probes(&client));
    let applied = txn::apply(
        &mut sock,
        &state,
        &stored,
        &mut options(false, Some(hook), &bundle.plan.approval_token),
    )
    .map_err(txn_err)?;
    let armed = applied
        .rollback
        .clone()
        .ok_or_else(|| fail("no rollback was armed"))?;
    steps.say(
        "APPLY",
        format!(
            "apply {} committed atomically, generation {} -> {}; backup {}",
            applied.apply_id.as_deref().unwrap_or("?"),
            applied.base_genid,
            applied.genid,
            applied.backup_id.as_deref().unwrap_or("-")
        ),
        Some(format!(
            "rollback armed ({}): fires in {} s unless confirmed",
            armed.mechanism.name(),
            CONFIRM_TIMEOUT.as_secs()
        )),
        Some(serde_json::json!({"apply": applied})),
    );
    steps.say(
        "VERIFY",
        format!(
            "from the client: port {ALLOWED_PORT} open (allowed), port {BLOCKED_PORT} dropped (not in the policy)"
        ),
        None,
        Some(serde_json::json!({"allowed_port_open": true, "blocked_port_open": false})),
    );

    // --- ROLLBACK: nobody confirms --------------------------------------
    let until = Instant::now() + CONFIRM_TIMEOUT + Duration::from_secs(15);
    let reopened_at = loop {
        if client.connects(BLOCKED_PORT, Duration::from_millis(100)) {
            break now_ms();
        }
        if Instant::now() >= until {
            return Err(fail("the unconfirmed apply did not roll back"));
        }
    };
    wait_phase(&state, Phase::RolledBack, Duration::from_secs(10))?;
    let latency = reopened_at.saturating_sub(armed.fires_at_ms);
    steps.say(
        "ROLLBACK",
        format!(
            "not confirmed: the watchdog restored the previous state; port {BLOCKED_PORT} answers again {latency} ms after the window ended"
        ),
        None,
        Some(serde_json::json!({"latency_ms": latency, "blocked_port_open": true})),
    );

    // --- CONFLICT: a writer between plan and apply ----------------------
    let bundle = plan_now(&mut sock)?;
    let mut intruder = Transaction::new();
    intruder.add_table(Table::new(Family::Inet, "intruder"));
    intruder.commit(&mut Socket::new()?, GenCheck::Unconditional)?;
    let refused = txn::apply(
        &mut sock,
        &state,
        &StoredPlan::from_bundle(&bundle),
        &mut options(false, None, &bundle.plan.approval_token),
    );
    let detail = match refused {
        Err(e @ ApplyError::RulesetChanged { .. }) => e.to_string(),
        Err(e) => return Err(txn_err(e)),
        Ok(_) => return Err(fail("an apply on a changed ruleset was not refused")),
    };
    let still_open = client.connects(BLOCKED_PORT, ALLOWED_PROBE);
    steps.say(
        "CONFLICT",
        format!(
            "another program committed `table inet intruder` after the plan: apply refused with exit {}, nothing applied (port {BLOCKED_PORT} {})",
            exit::TOKEN_MISMATCH,
            open_word(still_open)
        ),
        Some(detail),
        None,
    );
    if !still_open {
        return Err(fail("the refused apply changed the ruleset"));
    }

    // --- APPLY again, CONFIRM, and it stays ------------------------------
    let bundle = plan_now(&mut sock)?;
    let hook: txn::VerifyHook<'_> = Box::new(|_sock: &mut Socket| verify_probes(&client));
    let applied = txn::apply(
        &mut sock,
        &state,
        &StoredPlan::from_bundle(&bundle),
        &mut options(false, Some(hook), &bundle.plan.approval_token),
    )
    .map_err(txn_err)?;
    let armed = applied
        .rollback
        .clone()
        .ok_or_else(|| fail("no rollback was armed"))?;
    let persisted = txn::confirm(&mut sock, &state, &persist).map_err(txn_err)?;
    let wait_past = armed.fires_at_ms.saturating_sub(now_ms()) + 1500;
    std::thread::sleep(Duration::from_millis(wait_past));
    let status = txn::status(&state).map_err(txn_err)?;
    let confirmed = status
        .last_apply
        .as_ref()
        .is_some_and(|e| e.phase == Phase::Confirmed);
    let stays = client.connects(ALLOWED_PORT, ALLOWED_PROBE)
        && !client.connects(BLOCKED_PORT, BLOCKED_PROBE);
    steps.say(
        "CONFIRM",
        format!(
            "apply {} confirmed: rollback disarmed, policy persisted to {} (boot unit {})",
            applied.apply_id.as_deref().unwrap_or("?"),
            persisted.policy_file.display(),
            persisted.unit_file.display()
        ),
        Some(format!(
            "{} s after its window ended: journal {}, rollback pending {}, port {ALLOWED_PORT} open, port {BLOCKED_PORT} {}",
            (now_ms().saturating_sub(armed.fires_at_ms) as f64 / 1000.0),
            if confirmed { "confirmed" } else { "NOT confirmed" },
            status.rollback.pending,
            if stays { "still dropped" } else { "OPEN" }
        )),
        Some(serde_json::json!({
            "confirmed": confirmed,
            "rollback_pending": status.rollback.pending,
            "policy_stays": stays,
        })),
    );
    if !confirmed || status.rollback.pending || !stays {
        return Err(fail("the confirmed policy did not stay"));
    }

    drop(demo_dir);
    steps.say(
        "CLEANUP",
        "private state directory removed; both namespaces vanish when the demo exits".into(),
        None,
        None,
    );
    if out.is_json() {
        out.json(&serde_json::json!({ "steps": steps.steps }));
    }
    Ok(())
}

fn open_word(open: bool) -> &'static str {
    if open {
        "open"
    } else {
        "dropped"
    }
}
