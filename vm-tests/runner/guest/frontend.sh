# ufw / firewalld (FRONTEND set by the runner): the real service owns the
# firewall; nftguard's audit reports it, plan is read-only, apply refuses
# with exit 10, and nothing in the ruleset changes.
. ./lib.sh
case "$FRONTEND" in
ufw)
    show ufw --force enable
    show ufw allow 22/tcp
    show ufw limit 2222/tcp
    show ufw status verbose
    ;;
firewalld)
    show systemctl start firewalld.service
    wait_until 120 sh -c 'firewall-cmd --state >/dev/null 2>&1'
    show firewall-cmd --state
    show firewall-cmd --permanent --add-port=2222/tcp
    show firewall-cmd --reload
    show firewall-cmd --list-all
    ;;
esac
show nft list tables
ruleset >/tmp/before.nft
nftguard list --format nft >/tmp/before.nftguard
wc -l /tmp/before.nft

nftguard --json audit >/tmp/audit.json
echo "audit exit status: $?"
jq -c '{confidence, risk_tier, recommended_backend, active_frontend, active_frontends, backend, halt_reasons, warnings}' /tmp/audit.json
check "audit: active_frontend is $FRONTEND" jq -e --arg f "$FRONTEND" '.active_frontend == $f' /tmp/audit.json
check "audit: recommended_backend is $FRONTEND" jq -e --arg f "$FRONTEND" '.recommended_backend == $f' /tmp/audit.json

T=$(plan /tmp/plan.json --profile bastion-host)
jq -c '{backend, active_frontend, read_only, warnings}' /tmp/plan.json
jq -r '.frontend_commands[]? // empty' /tmp/plan.json
check "plan names $FRONTEND as the active frontend" jq -e --arg f "$FRONTEND" '.active_frontend == $f' /tmp/plan.json
check "plan is read-only" jq -e ".read_only == true" /tmp/plan.json
ruleset >/tmp/after-plan.nft
same_file "plan changed nothing (nft list ruleset)" /tmp/before.nft /tmp/after-plan.nft
check "plan created no nftguard table" sh -c '! nft list table inet nftguard >/dev/null 2>&1'

expect_exit 10 "apply refuses while $FRONTEND owns the policy" \
    nftguard apply --approved-plan "$T" --confirm-timeout 60
ruleset >/tmp/after.nft
same_file "apply changed nothing (nft list ruleset)" /tmp/before.nft /tmp/after.nft
nftguard list --format nft >/tmp/after.nftguard
same_file "apply changed nothing (nftguard list)" /tmp/before.nftguard /tmp/after.nftguard
nftguard --json status | jq -c .
check "no rollback armed" sh -c 'nftguard --json status | jq -e ".rollback.pending == false" >/dev/null'
finish
