# rollback-timer: an apply that nobody confirms, its nftguard process
# SIGKILLed right after the commit; the systemd transient timer armed
# before the commit must restore the exact prior ruleset on time.
. ./lib.sh
N=${CONFIRM_TIMEOUT:-20}

# The prior state: a table nftguard does not own, and a first nftguard
# policy that was confirmed.
nft -f - <<'NFT'
table inet preexisting {
    chain input {
        type filter hook input priority 10; policy accept;
        tcp dport 9999 counter accept
    }
}
NFT
nftguard --json audit >/tmp/audit.json
echo "audit exit status: $?"
jq -c '{confidence, risk_tier, environment, rollback_mechanism, active_frontend, halt_reasons}' /tmp/audit.json
T1=$(plan /tmp/plan1.json --profile bastion-host)
expect_exit 0 "first apply (bastion-host), auto-confirmed" \
    nftguard apply --approved-plan "$T1" --auto-confirm
ruleset >/tmp/before.nft
show cat /tmp/before.nft

T2=$(plan /tmp/plan2.json --profile public-web-server)
check "second plan has a token" test -n "$T2"
nftguard apply --approved-plan "$T2" --confirm-timeout "$N" >/tmp/apply2.out 2>&1 &
pid=$!
changed() { ! ruleset | cmp -s - /tmp/before.nft; }
# public-web-server opens port 80, bastion-host does not: poll without
# sleeping, to SIGKILL apply as soon as its commit is visible.
killed=
end=$(( $(date +%s) + 120 ))
while [ "$(date +%s)" -lt "$end" ]; do
    if nft -s list chain inet nftguard input 2>/dev/null | grep -q "dport 80"; then
        kill -9 "$pid" 2>/dev/null && killed=yes
        break
    fi
    kill -0 "$pid" 2>/dev/null || { wait_until 10 changed; break; }
done
t_applied=$(date +%s)
if [ -n "$killed" ]; then
    echo "nftguard apply (pid $pid) SIGKILLed right after its commit"
else
    echo "nftguard apply (pid $pid) had already exited when the commit was seen"
fi
wait "$pid"
echo "apply exit status: $? (137 = SIGKILL)"
cat /tmp/apply2.out
check "the unconfirmed policy is live" changed
# What matters: nothing of nftguard runs while its rollback is pending.
show ps -eo pid,comm,args
check "no nftguard process left while the rollback is pending" sh -c '! pgrep -x nftguard'

nftguard --json status >/tmp/status.json
cat /tmp/status.json
check "status: rollback pending" jq -e '.rollback.pending == true' /tmp/status.json
check "status: mechanism systemd" jq -e '.rollback.mechanism == "systemd"' /tmp/status.json
show systemctl list-timers --all --no-pager --full
check "systemctl list-timers shows nftguard's transient timer" \
    sh -c 'systemctl list-timers --all --no-pager --full | grep -q "nftguard-rollback-.*\.timer"'

restored() { ruleset | cmp -s - /tmp/before.nft; }
if wait_until $((N + 60)) restored; then
    took=$(( $(date +%s) - t_applied ))
    echo "restored ${took} s after the commit (confirm timeout ${N} s)"
    check "restored within ${N} + 10 s (took ${took} s)" test "$took" -le $((N + 10))
    check "not restored before the timeout (took ${took} s >= ${N} - 5 s)" test "$took" -ge $((N - 5))
else
    bad "ruleset not restored within ${N} + 60 s"
fi
ruleset >/tmp/after.nft
same_file "ruleset byte-identical to the one before the apply" /tmp/before.nft /tmp/after.nft
show journalctl --no-pager -o short-monotonic -u 'nftguard-rollback-*'
nftguard --json status >/tmp/status2.json
cat /tmp/status2.json
check "status: no rollback pending afterwards" jq -e '.rollback.pending == false' /tmp/status2.json
check "the transient timer is gone" \
    sh -c '! systemctl list-timers --all --no-pager --full | grep -q "nftguard-rollback-"'
finish
