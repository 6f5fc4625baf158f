# Sourced by every scenario script (POSIX sh). Results go to stdout, which
# boot.sh sends to ttyS1: `@@VMTEST CHECK ok|FAIL <what>` lines are the
# checks the host counts; everything else is the log.
say() { echo "@@VMTEST $*"; }
ok() { say "CHECK ok $*"; }
bad() { say "CHECK FAIL $*"; }

# check WHAT CMD...: ok when CMD exits 0.
check() {
    what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# show CMD...: prints the command, its output and exit code; returns it.
show() {
    echo "+ $*"
    "$@"
    rc=$?
    echo "  (exit $rc)"
    return $rc
}

# expect_exit CODE WHAT CMD...: ok when CMD exits with CODE.
expect_exit() {
    want=$1
    what=$2
    shift 2
    echo "+ $*"
    "$@"
    rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, expected $want"; fi
}

# same_file WHAT A B: ok when A and B are byte-identical (else the diff).
same_file() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        bad "$1"
        diff -u "$2" "$3" | head -80
    fi
}

# The ruleset as `nft` prints it without counters and other state.
ruleset() { nft -s list ruleset; }

# plan FILE ARGS...: `nftguard --json plan ARGS` into FILE; prints the
# approval token (empty when the plan failed).
plan() {
    f=$1
    shift
    echo "+ nftguard --json plan $*" >&2
    nftguard --json plan "$@" >"$f"
    rc=$?
    echo "  (exit $rc)" >&2
    jq -r '.approval_token // empty' "$f" 2>/dev/null
    return $rc
}

# wait_until SECS CMD...: polls CMD every half second; 0 once it succeeds.
wait_until() {
    secs=$1
    shift
    end=$(( $(date +%s) + secs ))
    while ! "$@"; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.5
    done
    return 0
}

# The scenario is over: the host sees DONE, the VM powers off.
finish() {
    say DONE
    touch /run/vmtest-keep
    systemctl --no-block poweroff
    exit 0
}

# Reboot the VM in place (qemu runs without -no-reboot); boot.sh runs the
# scenario again with VMTEST_BOOT=2.
reboot_vm() {
    say REBOOTING
    touch /run/vmtest-keep
    sync
    systemctl --no-block reboot
    exit 0
}

# The host drives the rest (over SSH); it powers the VM off.
hold() {
    touch /run/vmtest-keep
    say READY
    exit 0
}
