# Bridges MicroPython's asyncio stream API (open_connection, StreamReader/Writer) to Node sockets
# and makes asyncio.run non-blocking, as the WebAssembly port needs. Not part of the firmware.
import asyncio
import binascii
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


async def _await(p):
    try:
        return await p
    except Exception as e:
        raise OSError(str(e.args[2]) if len(getattr(e, "args", ())) > 2 else repr(e))


class Stream:
    def __init__(self, sid):
        self.sid = sid

    async def read(self, n=-1):
        return bytes(await _await(jsboard.net_read(self.sid, n if n > 0 else 4096)))

    async def readexactly(self, n):
        b = bytes(await _await(jsboard.net_read(self.sid, n)))
        if len(b) == n:
            return b
        buf = bytearray(b)
        while len(buf) < n:
            b = bytes(await _await(jsboard.net_read(self.sid, n - len(buf))))
            if not b:
                raise EOFError
            buf += b
        return bytes(buf)

    def write(self, buf):
        jsboard.net_write(self.sid, binascii.hexlify(buf).decode())

    async def drain(self):
        await _await(jsboard.net_drain(self.sid))

    def close(self):
        jsboard.net_close(self.sid)

    async def wait_closed(self):
        pass


class _Tcp:
    # What asyncio.open_connection hands to ssl: the board's TCP connection, by its id.
    def __init__(self, sid):
        self.sid = sid


async def open_connection(host, port, ssl=None, server_hostname=None):
    # As MicroPython's asyncio.open_connection: TCP first, then, with ssl, the context's
    # wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False) over it. The handshake
    # (lazy on the board, at the first read or write) is run here, before the stream is returned.
    sid = await _await(jsboard.net_connect(host, port))
    if ssl:
        try:
            if ssl is True:
                import ssl as _ssl
                ssl = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
            t = ssl.wrap_socket(_Tcp(sid), server_hostname=server_hostname or host,
                                do_handshake_on_connect=False)
            await t.handshake()
        except BaseException:
            jsboard.net_close(sid)
            raise
    s = Stream(sid)
    return s, s


asyncio.create_task = create_task
asyncio.run = run
asyncio.open_connection = open_connection
