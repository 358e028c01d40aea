# Test shim for MicroPython's socket module, UDP only (what lib/mdns_find.py uses), bridged to a
# Node dgram socket on 127.0.0.1 by board-worker.mjs. Nothing leaves the machine: the mDNS group
# 224.0.0.251:5353 is mapped to the test's loopback DNS responder, any other address but loopback
# is refused, and group membership is only recorded. The WebAssembly port cannot block, so a
# socket is non-blocking (recvfrom raises EAGAIN when nothing is there); asyncio polls it.
import binascii
import jsboard

AF_INET = 2
SOCK_STREAM = 1
SOCK_DGRAM = 2
IPPROTO_IP = 0
IPPROTO_UDP = 17
SOL_SOCKET = 0xFFF
SO_REUSEADDR = 4
IP_ADD_MEMBERSHIP = 3
EAGAIN = 11


def _err(e):
    return OSError(str(e.args[2]) if len(getattr(e, "args", ())) > 2 else repr(e))


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):
        if af != AF_INET or type != SOCK_DGRAM:
            raise OSError("the test harness bridges UDP sockets only (TCP goes through asyncio)")
        self._id = jsboard.udp_open()
        self._blocking = True

    def setsockopt(self, level, opt, value):
        jsboard.udp_opt(self._id, level, opt, binascii.hexlify(value).decode() if isinstance(value, (bytes, bytearray)) else str(value))

    def bind(self, addr):
        try:
            jsboard.udp_bind(self._id, addr[0], addr[1])
        except Exception as e:
            raise _err(e)

    def setblocking(self, flag):
        self._blocking = bool(flag)

    def settimeout(self, t):
        self._blocking = t is None or t > 0

    def sendto(self, buf, addr):
        try:
            jsboard.udp_send(self._id, binascii.hexlify(buf).decode(), addr[0], addr[1])
        except Exception as e:
            raise _err(e)
        return len(buf)

    def recvfrom(self, n):
        if self._blocking:
            raise OSError("the test harness cannot block: use setblocking(False)")
        r = jsboard.udp_recv(self._id, n)
        if not r:
            raise OSError(EAGAIN)
        host, port, data = r.split(" ")
        return binascii.unhexlify(data), (host, int(port))

    def close(self):
        jsboard.udp_close(self._id)
