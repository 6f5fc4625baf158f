#!/usr/bin/env python3
"""Sends hand-built IPv4/IPv6 packets through raw sockets, for the
evaluator's differential test (tests/eval_kernel.rs).

The Rust tests avoid `unsafe`, and the standard library has no raw
sockets, so this small helper builds and sends the packets. One packet
per stdin line:

    FAMILY SADDR DADDR PROTO SPORT DPORT TCPFLAGS ICMPTYPE TAG

FAMILY is 4 or 6; PROTO is tcp, udp or icmp (ICMPv6 for family 6); TAG is
the IPv4 identification or the IPv6 flow label that identifies the packet
in the observer's sets. Every packet carries DSCP AF11 (10), TTL/hop
limit 64, no IP options or extension headers, and correct checksums (so
that conntrack judges it on its flags, not on a bad checksum). For ICMP
the echo identifier is SPORT and the sequence number DPORT.
"""

import socket
import struct
import sys
import time

DSCP = 10
TTL = 64


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def transport(proto, fam, sport, dport, flags, icmp_type):
    if proto == "tcp":
        # seq, ack 0, data offset 5, flags, window, csum 0, urgent 0
        hdr = struct.pack("!HHIIBBHHH", sport, dport, 0x1000 + sport, 0, 5 << 4, flags, 64240, 0, 0)
        return 6, hdr, 16
    if proto == "udp":
        payload = b"nftg"
        hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        return 17, hdr, 6
    if proto == "icmp":
        payload = b"nftguard"
        hdr = struct.pack("!BBHHH", icmp_type, 0, 0, sport, dport) + payload
        return (1 if fam == 4 else 58), hdr, 2
    raise ValueError("unknown protocol " + proto)


def with_csum(l4, at, value):
    return l4[:at] + struct.pack("!H", value) + l4[at + 2:]


def build(fam, saddr, daddr, proto, sport, dport, flags, icmp_type, tag):
    num, l4, at = transport(proto, fam, sport, dport, flags, icmp_type)
    if fam == 4:
        src, dst = socket.inet_pton(socket.AF_INET, saddr), socket.inet_pton(socket.AF_INET, daddr)
        if num == 1:
            l4 = with_csum(l4, at, csum(l4))
        else:
            pseudo = src + dst + struct.pack("!BBH", 0, num, len(l4))
            l4 = with_csum(l4, at, csum(pseudo + l4))
        total = 20 + len(l4)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, DSCP << 2, total, tag, 0, TTL, num, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return ip + l4
    src, dst = socket.inet_pton(socket.AF_INET6, saddr), socket.inet_pton(socket.AF_INET6, daddr)
    pseudo = src + dst + struct.pack("!IxxxB", len(l4), num)
    l4 = with_csum(l4, at, csum(pseudo + l4))
    first = (6 << 28) | ((DSCP << 2) << 20) | (tag & 0xFFFFF)
    ip = struct.pack("!IHBB16s16s", first, len(l4), num, TTL, src, dst)
    return ip + l4


def main():
    s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        fam = int(f[0])
        pkt = build(fam, f[1], f[2], f[3], int(f[4]), int(f[5]), int(f[6]), int(f[7]), int(f[8]))
        (s4 if fam == 4 else s6).sendto(pkt, (f[2], 0))
        sent += 1
        # Pace the burst so the receiving CPU's backlog never overflows.
        if sent % 50 == 0:
            time.sleep(0.002)
    print(sent)


if __name__ == "__main__":
    main()
