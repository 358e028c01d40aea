# Bridges MicroPython's asyncio stream API (open_connection, StreamReader/Writer) to Node sockets
# and makes asyncio.run non-blocking, as the WebAssembly port needs. Not part of the firmware.
import asyncio
import binascii
import gc
import jsboard

_tasks = []
_create_task = asyncio.create_task


def create_task(coro):
    t = _create_task(coro)
    # Remember live tasks so stop() can end the board; forget finished ones to keep the heap flat.
    i = 0
    while i < len(_tasks):
        if _tasks[i].done():
            _tasks.pop(i)
        else:
            i += 1
    _tasks.append(t)
    return t


def run(coro):
    create_task(coro)


def stop():
    for t in _tasks:
        t.cancel()


def _oserror(e):
    # The worker rejects with the ESP32's errno as the message ("104"): OSError(104), as lwIP raises.
    m = str(e.args[2]) if len(getattr(e, "args", ())) > 2 else repr(e)
    if m.startswith("x509: "):  # mbedTLS's verify result, raised by MicroPython as a ValueError
        return ValueError("\n" + m[6:] + "\n")
    return OSError(int(m)) if m.isdigit() else OSError(m)


async def _await(p):
    try:
        return await p
    except Exception as e:
        raise _oserror(e)


# mem_alloc() + mem_free() is constant while the heap keeps its size (mem_free() here also counts
# the room the heap may still grow into), so a rise means the heap grew.
_heap = [gc.mem_alloc() + gc.mem_free()]


def _heap_check():
    # This port grows its GC heap when an allocation does not fit; an ESP32 cannot. A growth since
    # the last check means an allocation that would have raised MemoryError on the board: raise it
    # here, once for each growth (the tests also check that the heap never outgrew the ESP32's).
    h = gc.mem_alloc() + gc.mem_free()
    if h > _heap[0]:
        _heap[0] = h
        raise MemoryError("memory allocation failed (the heap had to grow past the ESP32's)")


def _write(sid, buf):
    # No more than the socket can take goes to the worker: hex doubles it, and this copy is the
    # shim's, not MicroPython's.
    r = jsboard.net_write(sid, binascii.hexlify(buf[:5760]).decode())
    if r is not None and r < 0:
        raise OSError(-r)
    return r


class Stream:
    # MicroPython's extmod/asyncio/stream.py over an ESP32 (lwIP) socket: a read returns what has
    # arrived (at most n bytes, b'' at EOF); write() sends what the socket takes and keeps the rest
    # for drain(); close() does nothing, only wait_closed() closes the socket.
    def __init__(self, sid, err=None):
        self.sid = sid
        self.out_buf = b""
        self.err = err  # a TLS handshake that failed: raised at the first read or write

    def _check(self):
        if self.err:
            raise self.err
        _heap_check()

    async def _recv(self, n):
        self._check()
        b = bytes(await _await(jsboard.net_read(self.sid, n)))
        _heap_check()
        return b

    async def read(self, n=-1):
        r = b""
        while True:
            r2 = await self._recv(n if n >= 0 else 4096)
            if n >= 0 or not r2:
                return r2 if n >= 0 else r
            r += r2

    async def readinto(self, buf):
        b = await self._recv(len(buf))
        buf[:len(b)] = b
        return len(b)

    async def readexactly(self, n):
        r = b""
        while n:
            r2 = await self._recv(n)
            if not r2:
                raise EOFError
            r += r2
            n -= len(r2)
        return r

    def write(self, buf):
        self._check()
        if not self.out_buf:
            ret = _write(self.sid, buf)
            if ret == len(buf):
                return
            if ret is not None:
                buf = buf[ret:]
        self.out_buf += buf

    async def drain(self):
        if not self.out_buf:
            return await asyncio.sleep_ms(0)
        mv = memoryview(self.out_buf)
        off = 0
        while off < len(mv):
            await _await(jsboard.net_writable(self.sid))
            ret = _write(self.sid, mv[off:])
            if ret is not None:
                off += ret
        self.out_buf = b""

    def close(self):
        pass

    async def wait_closed(self):
        jsboard.net_close(self.sid)


class _Tcp:
    # What asyncio.open_connection hands to ssl: the board's TCP connection, by its id.
    def __init__(self, sid):
        self.sid = sid


async def open_connection(host, port, ssl=None, server_hostname=None):
    # As MicroPython's asyncio.open_connection: TCP first, then, with ssl, the context's
    # wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False) over it. The handshake
    # runs here, but as on the board a failure is raised at the first read or write, and the socket
    # stays open until wait_closed().
    try:
        sid = await _await(jsboard.net_connect(host, port))
    except asyncio.CancelledError:
        # Given up on (the firmware's connect timeout): on the board the socket object is garbage
        # then, and its finaliser closes it at the next collection; here at once.
        jsboard.net_connect_abandoned()
        raise
    err = None
    if ssl:
        try:
            if ssl is True:
                import ssl as _ssl
                ssl = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
            t = ssl.wrap_socket(_Tcp(sid), server_hostname=server_hostname or host,
                                do_handshake_on_connect=False)
            await t.handshake()
        except Exception as e:
            err = e
    s = Stream(sid, err)
    return s, s


asyncio.create_task = create_task
asyncio.run = run
asyncio.open_connection = open_connection
