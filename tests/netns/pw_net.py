#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Traffic tools of the netns test tier (see scripts/netns.sh). Standard library only.

Every sender is bounded in packets and seconds: it never runs longer than --max-seconds.

  rx          receiver behind pbxwall: UDP and TCP listeners that count datagrams and accepted
              connections per source, plus an optional AF_PACKET capture of the protected
              interface that counts, per source, every frame the XDP program let through.
              SIGUSR1 writes the counts (JSON) to --out; SIGTERM writes them and exits.
  udp         send COUNT datagrams from SRC to DST:PORT, spread over about SECONDS.
  tcp         open one TCP connection from SRC to DST:PORT; exit 0 when it connects, 1 if not.
  dns-server  answer every datagram received on ADDR:PORT (a DNS-like responder).
  dns-query   send one query from an ephemeral port, exit 0 when the answer arrives, 1 if not.
  tcp-server  accept connections on ADDR:PORT and send a greeting to each (--sink: read
              each to its end instead, sending nothing but ACKs).
  tcp-fetch   connect to DST:PORT, exit 0 when the greeting arrives, 1 if not.
  tcp-upload  connect to DST:PORT, wait DELAY s, send BYTES of data (segments whose payload
              the kernel keeps outside the linear buffer), write the local port and the
              CLOCK_MONOTONIC times of the connection and the send to --ready (JSON), hold the
              connection open for HOLD s, close.
  ping        IPv4 echo requests (raw socket); exit 0 when a reply arrives, 1 if not.
"""
import argparse
import errno
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def norm(addr):
    """'::ffff:198.18.1.10' -> '198.18.1.10'; IPv6 in canonical form."""
    a = ipaddress.ip_address(addr.split('%')[0])
    if a.version == 6 and a.ipv4_mapped:
        return str(a.ipv4_mapped)
    return str(a)


def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def write_json_atomically(path, obj):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    os.rename(tmp, path)


def bump(table, key, src, n=1):
    table.setdefault(key, {})
    table[key][src] = table[key].get(src, 0) + n


def parse_frame(frame):
    """(source, 'udp/5060' | 'tcp/22' | 'icmp' | ...) of an Ethernet frame, or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from('!H', frame, 12)[0]
    off = 14
    if ethertype == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 0x0f) * 4
        proto = frame[off + 9]
        src = socket.inet_ntop(socket.AF_INET, frame[off + 12:off + 16])
        frag = struct.unpack_from('!H', frame, off + 6)[0] & 0x1fff
        l4 = off + ihl
        if frag:
            return src, 'fragment'
    elif ethertype == 0x86dd and len(frame) >= off + 40:
        proto = frame[off + 6]
        src = socket.inet_ntop(socket.AF_INET6, frame[off + 8:off + 24])
        l4 = off + 40
    else:
        return None
    if proto in (6, 17) and len(frame) >= l4 + 4:
        dport = struct.unpack_from('!H', frame, l4 + 2)[0]
        return src, ('tcp' if proto == 6 else 'udp') + '/' + str(dport)
    if proto in (1, 58):
        return src, 'icmp' if proto == 1 else 'icmp6'
    return src, 'proto%d' % proto


def cmd_rx(a):
    counts = {'udp': {}, 'tcp': {}, 'wire': {}}
    socks = {}
    for port in a.udp:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(('::', port))
        s.setblocking(False)
        socks[s.fileno()] = ('udp', port, s)
    for port in a.tcp:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('::', port))
        s.listen(128)
        s.setblocking(False)
        socks[s.fileno()] = ('tcp', port, s)
    if a.iface:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((a.iface, 0))
        s.setblocking(False)
        socks[s.fileno()] = ('wire', 0, s)

    rpipe, wpipe = os.pipe()
    os.set_blocking(wpipe, False)
    signal.set_wakeup_fd(wpipe)
    wanted = {'dump': False, 'exit': False}
    signal.signal(signal.SIGUSR1, lambda *_: wanted.__setitem__('dump', True))
    signal.signal(signal.SIGTERM, lambda *_: wanted.__setitem__('exit', True))
    signal.signal(signal.SIGINT, lambda *_: wanted.__setitem__('exit', True))

    with open(a.ready, 'w') as f:
        f.write('%d\n' % os.getpid())
    deadline = time.monotonic() + a.max_seconds
    poller = select.poll()
    for fd in socks:
        poller.register(fd, select.POLLIN)
    poller.register(rpipe, select.POLLIN)
    while True:
        if wanted['dump'] or wanted['exit']:
            wanted['dump'] = False
            write_json_atomically(a.out, counts)
            if wanted['exit']:
                return 0
        if time.monotonic() > deadline:
            write_json_atomically(a.out, counts)
            return 0
        try:
            events = poller.poll(500)
        except InterruptedError:
            continue
        for fd, _ in events:
            if fd == rpipe:
                os.read(rpipe, 512)
                continue
            kind, port, s = socks[fd]
            for _ in range(256):  # drain, bounded so signals are seen
                try:
                    if kind == 'udp':
                        _, src = s.recvfrom(65535)
                        bump(counts['udp'], str(port), norm(src[0]))
                    elif kind == 'tcp':
                        conn, src = s.accept()
                        bump(counts['tcp'], str(port), norm(src[0]))
                        try:
                            conn.send(b'hello\n')
                        except OSError:
                            pass
                        conn.close()
                    else:
                        frame, addr = s.recvfrom(65535)
                        if addr[2] == PACKET_OUTGOING:
                            continue
                        parsed = parse_frame(frame)
                        if parsed:
                            bump(counts['wire'], parsed[1], norm(parsed[0]))
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.ECONNABORTED):
                        break
                    raise


def bound_socket(src, dst, kind, sport=0):
    fam = family_of(dst)
    s = socket.socket(fam, kind)
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if src or sport:
        s.bind((src or ('::' if fam == socket.AF_INET6 else '0.0.0.0'), sport))
    return s


def cmd_udp(a):
    s = bound_socket(a.src, a.dst, socket.SOCK_DGRAM, a.sport)
    payload = (a.payload or 'pbxwall test datagram').encode()
    start = time.monotonic()
    hard_stop = start + a.max_seconds
    sent = 0
    refused = 0  # sends the kernel refused for want of buffer space: tried again, not counted
    batch = max(1, a.count // max(1, int(a.seconds * 100)))  # ~100 batches per second
    while sent < a.count:
        now = time.monotonic()
        if now > hard_stop:
            break
        due = start + a.seconds * sent / a.count
        if due > now:
            time.sleep(min(due - now, 0.05))
            continue
        for _ in range(min(batch, a.count - sent)):
            try:
                s.sendto(payload, (a.dst, a.port))
            except OSError as e:
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                refused += 1
                time.sleep(0.001)
                break
            sent += 1
    print(json.dumps({'sent': sent, 'refused': refused, 'seconds': round(time.monotonic() - start, 3)}))
    return 0


def cmd_tcp(a):
    s = bound_socket(a.src, a.dst, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        s.connect((a.dst, a.port))
        print('connected %s -> %s:%d' % (a.src, a.dst, a.port))
        return 0
    except OSError as e:
        print('no connection %s -> %s:%d: %s' % (a.src, a.dst, a.port, e))
        return 1
    finally:
        s.close()


def cmd_dns_server(a):
    s = socket.socket(family_of(a.addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    with open(a.ready, 'w') as f:
        f.write('%d\n' % os.getpid())
    deadline = time.monotonic() + a.max_seconds
    s.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            data, src = s.recvfrom(4096)
        except socket.timeout:
            continue
        s.sendto(b'ANSWER ' + data[:64], src)
    return 0


def cmd_dns_query(a):
    s = bound_socket(a.src, a.dst, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    s.sendto(b'QUERY pbx.example.', (a.dst, a.port))
    try:
        data, src = s.recvfrom(4096)
    except socket.timeout:
        print('no answer from %s:%d within %.1f s' % (a.dst, a.port, a.timeout))
        return 1
    print(json.dumps({'answer': data.decode(errors='replace'), 'from': '%s:%d' % (src[0], src[1]),
                      'local_port': s.getsockname()[1]}))
    return 0


def cmd_tcp_server(a):
    s = socket.socket(family_of(a.addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    s.listen(16)
    s.settimeout(0.5)
    with open(a.ready, 'w') as f:
        f.write('%d\n' % os.getpid())
    deadline = time.monotonic() + a.max_seconds
    while time.monotonic() < deadline:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        try:
            if a.sink:
                conn.settimeout(max(0.1, deadline - time.monotonic()))
                while conn.recv(65536):
                    pass
            else:
                conn.sendall(b'GREETING from the wan server\n')
        except OSError:
            pass
        conn.close()
    return 0


def cmd_tcp_upload(a):
    s = bound_socket(a.src, a.dst, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        s.connect((a.dst, a.port))
        connected = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        time.sleep(a.delay)
        sent = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        s.sendall(b'u' * a.bytes)
        with open(a.ready + '.tmp', 'w') as f:
            json.dump({'local_port': s.getsockname()[1], 'connected_ns': connected, 'sent_ns': sent}, f)
        os.rename(a.ready + '.tmp', a.ready)
        time.sleep(a.hold)
    except OSError as e:
        print('upload to %s:%d failed: %s' % (a.dst, a.port, e))
        return 1
    finally:
        s.close()
    return 0


def cmd_tcp_fetch(a):
    s = bound_socket(a.src, a.dst, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        s.connect((a.dst, a.port))
        data = s.recv(256)
    except OSError as e:
        print('no greeting from %s:%d: %s' % (a.dst, a.port, e))
        return 1
    finally:
        s.close()
    if not data:
        print('connection to %s:%d closed without a greeting' % (a.dst, a.port))
        return 1
    print('greeting from %s:%d: %r' % (a.dst, a.port, data))
    return 0


def icmp_checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff


def cmd_ping(a):
    """IPv4 echo requests over a raw socket (root); exit 0 when a reply comes back."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if a.src:
        s.bind((a.src, 0))
    ident = os.getpid() & 0xffff
    deadline = time.monotonic() + a.timeout
    replies = 0
    for seq in range(1, a.count + 1):
        body = b'pbxwall netns ping'
        hdr = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
        s.sendto(struct.pack('!BBHHH', 8, 0, icmp_checksum(hdr + body), ident, seq) + body, (a.dst, 0))
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, min(0.5, deadline - time.monotonic())))
            try:
                pkt, src = s.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (pkt[0] & 0x0f) * 4
            typ, _, _, rid, rseq = struct.unpack_from('!BBHHH', pkt, ihl)
            if typ == 0 and rid == ident and rseq == seq and src[0] == a.dst:
                replies += 1
                break
    print(json.dumps({'sent': a.count, 'replies': replies}))
    return 0 if replies else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)

    r = sub.add_parser('rx')
    r.add_argument('--udp', type=int, action='append', default=[])
    r.add_argument('--tcp', type=int, action='append', default=[])
    r.add_argument('--iface', help='capture this interface (AF_PACKET) behind the XDP program')
    r.add_argument('--out', required=True)
    r.add_argument('--ready', required=True)
    r.add_argument('--max-seconds', type=float, default=600)

    u = sub.add_parser('udp')
    u.add_argument('--src')
    u.add_argument('--dst', required=True)
    u.add_argument('--port', type=int, required=True)
    u.add_argument('--sport', type=int, default=0, help='source port (SO_REUSEADDR: may share a server\'s)')
    u.add_argument('--count', type=int, default=1)
    u.add_argument('--seconds', type=float, default=0.0)
    u.add_argument('--payload')
    u.add_argument('--max-seconds', type=float, default=30)

    t = sub.add_parser('tcp')
    t.add_argument('--src')
    t.add_argument('--dst', required=True)
    t.add_argument('--port', type=int, required=True)
    t.add_argument('--timeout', type=float, default=2.0)

    ds = sub.add_parser('dns-server')
    ds.add_argument('--addr', required=True)
    ds.add_argument('--port', type=int, default=53)
    ds.add_argument('--ready', required=True)
    ds.add_argument('--max-seconds', type=float, default=300)

    dq = sub.add_parser('dns-query')
    dq.add_argument('--src')
    dq.add_argument('--dst', required=True)
    dq.add_argument('--port', type=int, default=53)
    dq.add_argument('--timeout', type=float, default=2.0)

    ts = sub.add_parser('tcp-server')
    ts.add_argument('--addr', required=True)
    ts.add_argument('--port', type=int, required=True)
    ts.add_argument('--ready', required=True)
    ts.add_argument('--max-seconds', type=float, default=300)
    ts.add_argument('--sink', action='store_true')

    tu = sub.add_parser('tcp-upload')
    tu.add_argument('--src')
    tu.add_argument('--dst', required=True)
    tu.add_argument('--port', type=int, required=True)
    tu.add_argument('--ready', required=True)
    tu.add_argument('--delay', type=float, default=1.5)
    tu.add_argument('--bytes', type=int, default=20000)
    tu.add_argument('--hold', type=float, default=5.0)
    tu.add_argument('--timeout', type=float, default=5.0)

    tf = sub.add_parser('tcp-fetch')
    tf.add_argument('--src')
    tf.add_argument('--dst', required=True)
    tf.add_argument('--port', type=int, required=True)
    tf.add_argument('--timeout', type=float, default=2.0)

    pg = sub.add_parser('ping')
    pg.add_argument('--src')
    pg.add_argument('--dst', required=True)
    pg.add_argument('--count', type=int, default=2)
    pg.add_argument('--timeout', type=float, default=2.0)

    a = p.parse_args()
    if a.cmd == 'udp' and a.count > 1000000:
        p.error('udp: --count is bounded to 1000000')
    if a.cmd == 'tcp-upload' and not (0 < a.bytes <= 10000000 and a.delay + a.hold <= 60):
        p.error('tcp-upload: --bytes is bounded to 10000000, --delay + --hold to 60 s')
    return {
        'rx': cmd_rx, 'udp': cmd_udp, 'tcp': cmd_tcp, 'dns-server': cmd_dns_server,
        'dns-query': cmd_dns_query, 'tcp-server': cmd_tcp_server, 'tcp-fetch': cmd_tcp_fetch,
        'tcp-upload': cmd_tcp_upload, 'ping': cmd_ping,
    }[a.cmd](a)


if __name__ == '__main__':
    sys.exit(main())
