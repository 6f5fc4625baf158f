# docker: the real dockerd with a container publishing a port; nftguard's
# audit sees Docker, and DOCKER-USER filtering (plan --docker-user) drops
# or lets through real connections to the published port. The client is
# a network namespace joined by a veth pair, whose host end stands for
# the external interface.
. ./lib.sh
show systemctl start docker.service
wait_until 180 sh -c 'docker info >/dev/null 2>&1'
check "dockerd is running" docker info --format '{{.ServerVersion}}'

# A one-file image: a static busybox serving /www over HTTP.
mkdir -p /tmp/img/bin /tmp/img/www
cp /usr/local/bin/busybox /tmp/img/bin/busybox
ln -s busybox /tmp/img/bin/sh
ln -s busybox /tmp/img/bin/httpd
echo "hello from the container" >/tmp/img/www/index.html
tar -C /tmp/img -cf - . | docker import - vmtest/busybox:1
show docker run -d --name web -p 8080:80 vmtest/busybox:1 /bin/httpd -f -p 80 -h /www
show docker ps

ip netns add client
ip link add vext type veth peer name vcl
ip link set vcl netns client
ip addr add 192.168.77.1/24 dev vext
ip link set vext up
ip -n client addr add 192.168.77.2/24 dev vcl
ip -n client link set vcl up
ip -n client link set lo up
ip -n client route add default via 192.168.77.1
fetch() {
    printf 'GET /index.html HTTP/1.0\r\n\r\n' |
        ip netns exec client nc -N -w 5 192.168.77.1 8080 2>/dev/null | grep -q "hello from the container"
}
no_fetch() { ! fetch; }
check "published port reachable from the client before nftguard" wait_until 60 fetch

nftguard --json audit >/tmp/audit.json
echo "audit exit status: $?"
jq -c '{confidence, risk_tier, docker_host, backend, active_frontend, halt_reasons, warnings}' /tmp/audit.json
check "audit: docker_host" jq -e '.docker_host == true' /tmp/audit.json
jq -c '.tables[] | {family, name, managed_by}' /tmp/audit.json
ruleset >/tmp/docker-before.nft

# 8080 is not among the intended ports: DOCKER-USER drops it from vext.
T=$(plan /tmp/plan1.json --ports 443 --docker-user --docker-ext-if vext)
jq -c '.docker_user' /tmp/plan1.json
expect_exit 0 "apply --docker-user without 8080" nftguard apply --approved-plan "$T" --confirm-timeout 600
show iptables-nft -L DOCKER-USER -n -v
check "published port blocked from the external interface" no_fetch
check "iptables-nft-save still parses the filter table" sh -c 'iptables-nft-save -t filter >/dev/null'
expect_exit 0 "confirm" nftguard confirm

# 8080 intended: let through (matched on the original destination port).
T=$(plan /tmp/plan2.json --ports 443,8080 --docker-user --docker-ext-if vext)
jq -c '.docker_user' /tmp/plan2.json
expect_exit 0 "apply --docker-user with 8080" nftguard apply --approved-plan "$T" --confirm-timeout 600
show iptables-nft -L DOCKER-USER -n -v
check "published port reachable again through DOCKER-USER" wait_until 30 fetch
expect_exit 0 "confirm" nftguard confirm
check "docker's own chains are still there" sh -c 'iptables-nft -t nat -S DOCKER | grep -q "dport 8080"'
finish
