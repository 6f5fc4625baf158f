//! Exit codes: the hardening workflow's contract (see WORKFLOW.md). Agents
//! branch on these numbers, so they never change meaning.

/// Success.
pub const OK: i32 = 0;
/// Any other error.
pub const OTHER: i32 = 1;
/// Bad command line.
pub const USAGE: i32 = 2;

/// ufw or firewalld owns the policy.
pub const BACKEND_CONFLICT: i32 = 10;
/// IaC-managed.
pub const IAC: i32 = 20;
/// Inside a container.
pub const CONTAINER: i32 = 21;
/// Kubernetes node.
pub const KUBERNETES: i32 = 22;
/// Approval token mismatch, or the ruleset changed since the plan.
pub const TOKEN_MISMATCH: i32 = 41;

/// The table printed by `--help`.
pub const TABLE: &str = "\
Exit codes:
  0  ok                         1  other error                  2  usage
  10 backend conflict           11 backend detection failed     12 ufw and firewalld both active
  20 IaC-managed                21 inside a container           22 Kubernetes node (audit-only)
  30 confidence < 70            31 no rollback mechanism        40 preflight failed
  41 approval token mismatch or ruleset changed since plan      42 backup failed
  50 apply rejected (nothing changed)                            51 apply partial
  60 verify failed              61 another run holds the lock / stale journal";
