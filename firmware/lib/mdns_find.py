# Finds the MQTT broker on the LAN over mDNS / DNS-SD (RFC 6762/6763): asks for `_mqtt._tcp.local`
# (PTR), follows PTR -> SRV (port, host) -> A (IPv4), and returns (ip, port). `mothership up`
# answers with all three in one packet. Imported by the MQTT client only while it looks for the
# broker, then dropped from sys.modules so none of this stays on the heap.
import asyncio
import socket
from time import ticks_ms, ticks_diff

SERVICE = "_mqtt._tcp.local"
GROUP = "224.0.0.251"
PORT = 5353


def query(name, qtype=12):
    # Header: id 0, flags 0, one question. Class IN with the QU bit (0x8001): answer unicast if
    # you can; `mothership up` (bonjour-service) answers by multicast, which we also listen to.
    q = bytearray(b"\0\0\0\0\0\1\0\0\0\0\0\0")
    for p in name.split("."):
        q.append(len(p))
        q += p.encode()
    q += bytes((0, 0, qtype, 0x80, 1))
    return q


def _name(b, i):
    # -> (lower-case dotted name, offset after it); follows compression pointers (RFC 1035 4.1.4).
    parts = []
    end = 0
    for _ in range(32):  # bounded: a pointer loop in a bad packet cannot hang the board
        n = b[i]
        if n >= 0xC0:
            if not end:
                end = i + 2
            i = ((n & 0x3F) << 8) | b[i + 1]
        elif n:
            parts.append(bytes(b[i + 1:i + 1 + n]).decode().lower())
            i += 1 + n
        else:
            return ".".join(parts), end or i + 1
    raise ValueError("name")


def parse(b, st=None, service=SERVICE):
    """Adds what a response says to st = [instance, {instance: (port, host)}, {host: ip}] and
    returns st. Queries, goodbyes (TTL 0) and other records are skipped."""
    if st is None:
        st = [None, {}, {}]
    if len(b) < 12 or not b[2] & 0x80:  # not a response
        return st
    i = 12
    for _ in range((b[4] << 8) | b[5]):  # questions: skip
        i = _name(b, i)[1] + 4
    for _ in range(((b[6] << 8) | b[7]) + ((b[8] << 8) | b[9]) + ((b[10] << 8) | b[11])):
        name, i = _name(b, i)
        t = (b[i] << 8) | b[i + 1]
        live = b[i + 4] | b[i + 5] | b[i + 6] | b[i + 7]
        n = (b[i + 8] << 8) | b[i + 9]
        i += 10
        if live:
            if t == 12 and name == service and st[0] is None:  # PTR -> instance
                st[0] = _name(b, i)[0]
            elif t == 33:  # SRV: priority, weight, port, target
                st[1][name] = ((b[i + 4] << 8) | b[i + 5], _name(b, i + 6)[0])
            elif t == 1 and n == 4 and name not in st[2]:  # A
                st[2][name] = "%d.%d.%d.%d" % (b[i], b[i + 1], b[i + 2], b[i + 3])
        i += n
    return st


def _pick(st, service=SERVICE):
    # -> (instance, port, host, ip or None) for the first instance whose SRV is known, else None
    for inst, (port, host) in st[1].items():
        if inst == st[0] or (st[0] is None and inst.endswith("." + service)):
            return inst, port, host, st[2].get(host)
    return None


async def find(timeout_ms=3000, feed=None, log=print, service=SERVICE):
    """(ip, port) of the first broker that answers within timeout_ms, else None. Repeats the
    question at 0.25, 0.75, 1.75 s ... (doubling), in case a packet is lost."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        try:
            # Multicast answers go to port 5353: listen there, next to the board's own responder.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", PORT))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, bytes((224, 0, 0, 251, 0, 0, 0, 0)))
        except Exception as e:  # OSError, or a port whose socket lacks these options
            # 5353 taken: ask from an ephemeral port ("legacy unicast", RFC 6762 6.7); responders
            # that follow the RFC then answer to that port.
            log("mdns: listening on 5353 failed:", repr(e))
        s.setblocking(False)
        st = [None, {}, {}]
        q = query(service)
        t0 = ticks_ms()
        nxt = 0
        gap = 250
        asked_a = False
        while ticks_diff(ticks_ms(), t0) < timeout_ms:
            if ticks_diff(ticks_ms(), t0) >= nxt:
                try:
                    s.sendto(q, (GROUP, PORT))
                except OSError as e:
                    log("mdns: send failed:", repr(e))
                nxt += gap
                gap *= 2
            try:
                b = s.recvfrom(1500)[0]
            except OSError:  # nothing yet (EAGAIN)
                if feed:
                    feed()
                await asyncio.sleep_ms(20)
                continue
            try:
                parse(b, st, service)
            except Exception as e:  # a malformed packet from someone else: ignore it
                log("mdns: bad packet:", repr(e))
                continue
            p = _pick(st, service)
            if p:
                if p[3]:
                    log("mdns: found", p[0], "at", p[3], p[1], "in", ticks_diff(ticks_ms(), t0), "ms")
                    return p[3], p[1]
                if not asked_a:  # SRV without its A record: ask for the address next
                    asked_a = True
                    q = query(p[2], 1)
                    nxt = ticks_diff(ticks_ms(), t0)
                    gap = 250
        p = _pick(st, service)
        if p:  # the host never told us its address: leave it to the resolver (.local over mDNS)
            return p[2], p[1]
        return None
    finally:
        s.close()
