# Mothership MQTT client for MicroPython (ESP32, MicroPython 1.22+): asyncio, MQTT 3.1.1, QoS 0/1.
# Written for ~100 KB of free heap: one connection, one QoS 1 message in flight, a bounded outbox.
# This file is what a live link runs. Connecting (backoff, Wi-Fi, finding the broker, CONNECT,
# status, <device>/info, subscriptions) is mqtt_connect.py, loaded for each connect and freed
# again, so its code is not on the heap while the link lives.
# Heap: each name in this file, and each string of up to 10 characters, stays interned for good,
# and a docstring stays on the heap with its function: hence comments instead of docstrings, and
# state that starts at a constant kept as a class attribute (no code in __init__ for it).
import asyncio
import struct
import sys
from time import ticks_ms, ticks_diff


def topic_matches(topic_filter, topic):
    # MQTT 3.1.1 section 4.7: '+' is one level, '#' is this level and every level below.
    if topic_filter == topic:
        return True
    f = topic_filter.split("/")
    t = topic.split("/")
    if topic[:1] == "$" and f[0] in ("+", "#"):
        return False
    for i, p in enumerate(f):
        if p == "#":
            return True
        if i >= len(t) or (p != "+" and p != t[i]):
            return False
    return len(f) == len(t)


def _remaining_length(n):
    buf = bytearray()
    while n > 0x7F:
        buf.append(n & 0x7F | 0x80)
        n >>= 7
    buf.append(n)
    return buf


def _s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack("!H", len(b)) + b


def _publish_packet(topic, msg, retain, qos, pid, dup):
    if isinstance(msg, str):
        msg = msg.encode()
    t = _s(topic)
    n = len(t) + len(msg) + (2 if qos else 0)
    buf = bytearray((0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0),))
    buf += _remaining_length(n) + t
    if qos:
        buf += struct.pack("!H", pid)
    return buf + msg


class MQTTClient:
    info = None  # <device>/info template (board.describe), filled in at each connect
    connected = False
    connects = 0
    dropped = 0  # QoS 1 messages dropped from a full outbox
    dropped_qos0 = 0  # QoS 0 messages published while offline
    too_big = 0  # incoming messages over msg_max, skipped
    last_rx = 0
    _last_ping = 0
    _pid = 0
    _inflight = 0
    _sub_pid = 0
    _suback = None  # an Event while a SUBSCRIBE waits for its SUBACK (mqtt_connect.subscribe)
    _subbed = False  # the broker acknowledged every filter in _subs
    _down = None  # an Event per link, set when it dies
    _w = None
    _why = None  # what ended the last link
    _rx_pid = None  # last QoS 1 message received: a DUP of it is acked, not delivered
    _delay = 0  # backoff before the next connect (mqtt_connect)
    _kicked = 0  # links closed by the broker right after connecting, in a row
    _t_up = None  # ticks_ms() when the current link came up

    def __init__(self, client_id, host, port=1883, user=None, password=None, keepalive=60,
                 ssl=None, status_topic=None, queue_max=16, backoff_min_ms=1000,
                 backoff_max_ms=60000, retry_ms=5000, timeout_ms=10000, wifi=None,
                 wdt=None, log=print, stable_ms=30000, msg_max=4096):
        self.client_id = client_id
        # host "mdns": find the broker over mDNS (DNS-SD _mqtt._tcp) whenever self.host is None;
        # the address found is kept until a connect to it fails, then looked up again.
        self.mdns = host == "mdns"
        self.host = None if self.mdns else host
        self.port = port
        self.user = user
        self.password = password
        self.ssl = ssl
        self.status_topic = status_topic
        self.queue_max = queue_max
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self.stable_ms = stable_ms  # a link that lived this long resets the backoff
        self.msg_max = msg_max  # larger incoming messages are read past, never held
        self.retry_ms = retry_ms
        self.timeout_ms = timeout_ms
        # wifi: (network.WLAN, [{"ssid": ..., "password": ...}] tried in order, join timeout ms)
        self.wifi = wifi
        self.wdt = wdt
        self.log = log
        self.keepalive = keepalive
        # Ping at a quarter of the keepalive: the broker hears from us well within its 1.5x limit,
        # and our own deadline (no packet at all for one keepalive) notices a dead link in <= 1.25x.
        self._tick = max(50, min(1000, keepalive * 125))
        self._subs = []  # [filter, qos, callback]
        self._outbox = []  # [topic, msg, retain, pid]; pid 0 = never sent
        self._puback = asyncio.Event()
        self._kick = asyncio.Event()
        self._lock = asyncio.Lock()
        self.up = asyncio.Event()  # set while connected and subscribed

    def subscribe(self, topic_filter, callback, qos=1):
        # Calls callback(topic: str, msg: bytes) for every message matching topic_filter. Kept for
        # the client's lifetime, and sent again whenever the broker has lost the board's session.
        self._subs.append([topic_filter, qos, callback])
        self._subbed = False  # a kept session does not hold this one yet
        if self.connected:
            asyncio.create_task(self._connecting("subscribe"))

    async def publish(self, topic, msg, retain=False, qos=0):
        if qos:
            return self.queue(topic, msg, retain)
        if not self.connected:
            self.dropped_qos0 += 1
            return
        try:
            await self._send(_publish_packet(topic, msg, retain, 0, 0, False))
        except Exception as e:
            self.dropped_qos0 += 1
            self._link_down(e)

    def queue(self, topic, msg, retain=False):
        # Publishes at QoS 1 through the outbox, which survives a dead link; a full outbox drops
        # its oldest message and counts it in .dropped. Safe to call before run().
        if len(self._outbox) >= self.queue_max:
            self._outbox.pop(0)
            self.dropped += 1
        self._outbox.append([topic, msg, retain, 0])
        self._kick.set()

    def pending(self):
        return len(self._outbox)

    async def run(self):
        # Connects, serves and reconnects forever. Never returns, never resets the board.
        asyncio.create_task(self._outbox_loop())
        while True:
            t = await self._connecting("connect")  # the link's reader task, if it came up
            if t:
                await self._serve(t)

    async def _connecting(self, step):
        # mqtt_connect.<step>(self), with that module loaded only for the call.
        try:
            import mqtt_connect

            return await getattr(mqtt_connect, step)(self)
        except Exception as e:  # e.g. no heap to load it, or a SUBSCRIBE sent while up that failed
            self.log("mqtt: %s failed: %r" % (step, e))
            self._link_down(e)
            self.feed()
            await asyncio.sleep_ms(1000)
        finally:
            sys.modules.pop("mqtt_connect", None)

    def feed(self):
        if self.wdt:
            self.wdt.feed()

    async def _serve(self, t):
        # The link is up (mqtt_connect set it up): ping, watch it and feed the watchdog until it dies.
        try:
            while not self._down.is_set():
                self.feed()
                if self.wifi and not self.wifi[0].isconnected():
                    raise OSError("wifi lost")
                now = ticks_ms()
                k = self.keepalive * 1000
                if ticks_diff(now, self.last_rx) > k:
                    raise OSError("keepalive: broker silent for %d ms" % ticks_diff(now, self.last_rx))
                if ticks_diff(now, self._last_ping) >= k // 4:
                    self._last_ping = now
                    await self._send(b"\xc0\x00")  # PINGREQ
                await asyncio.sleep_ms(self._tick)
        except Exception as e:
            self._link_down(e)
        finally:
            self.connected = False
            self.up.clear()
            t.cancel()  # the reader
            await self._close()
            self.log("mqtt: down")

    def _link_down(self, e):
        if self._down and not self._down.is_set():
            self.log("mqtt: link lost:", repr(e))
            self._why = e
            self._down.set()

    async def _close(self):
        w = self._w
        self._w = None
        if w:
            try:
                w.close()
                await w.wait_closed()  # in MicroPython's asyncio only this closes the socket
            except Exception:
                pass

    async def _send(self, data):
        async with self._lock:
            w = self._w
            if w is None:
                raise OSError("not connected")
            w.write(data)
            # A write that cannot drain (peer gone, buffers full) is a dead link too.
            await asyncio.wait_for_ms(w.drain(), self.timeout_ms)

    async def _reader(self, r):
        try:
            while True:
                h = (await r.readexactly(1))[0]  # fixed header: packet type and flags
                n = 0
                s = 0
                while True:
                    b = (await r.readexactly(1))[0]
                    n |= (b & 0x7F) << s
                    s += 7
                    if not b & 0x80:
                        break
                self.last_rx = ticks_ms()
                if h & 0xF0 == 0x30:
                    await self._on_publish(r, h, n)
                    continue
                data = await r.readexactly(n) if n else b""
                if h & 0xF0 == 0x40:  # PUBACK
                    if struct.unpack("!H", data)[0] == self._inflight:
                        self._puback.set()
                elif h & 0xF0 == 0x90:  # SUBACK
                    if self._suback and struct.unpack("!H", data[:2])[0] == self._sub_pid:
                        self._suback_rc = data[2:]
                        self._suback.set()
        except Exception as e:
            self._link_down(e)

    async def _skip(self, r, n):
        # Read past n bytes in small pieces: nothing of that size is ever allocated.
        buf = memoryview(bytearray(512))
        while n:
            k = await r.readinto(buf[:min(n, 512)])
            if k == 0:  # None: nothing yet, as MicroPython's own readexactly allows
                raise EOFError
            n -= k or 0
            self.last_rx = ticks_ms()

    async def _on_publish(self, r, h, n):
        # The payload is read on its own, so it is held once; one over msg_max is never held.
        qos = (h >> 1) & 3
        k = struct.unpack("!H", await r.readexactly(2))[0]  # topic length
        n -= 2 + k + (2 if qos else 0)
        big = k > self.msg_max or n > self.msg_max
        if k > self.msg_max:
            await self._skip(r, k)
            topic = "?"
        else:
            topic = (await r.readexactly(k)).decode()
        pid = await r.readexactly(2) if qos else None
        if big:
            await self._skip(r, n)
        else:
            msg = await r.readexactly(n) if n else b""
        if qos:
            # PUBACK first: a slow or failing callback must not make the broker resend.
            await self._send(b"\x40\x02" + pid)
            if h & 0x08 and pid == self._rx_pid:
                return  # redelivered after our PUBACK was lost: already handled
            self._rx_pid = pid
        if big:
            self.too_big += 1
            if self.too_big == 1:  # once: a stream of them must not flood the broker
                self.queue(self.client_id + "/error", "mqtt: %d bytes on %s over msg_max %d, skipped"
                           % (n, topic, self.msg_max))
            return
        for f, _, callback in self._subs:
            if topic_matches(f, topic):
                try:
                    x = callback(topic, msg)
                    if x is not None and hasattr(x, "send"):
                        asyncio.create_task(x)
                except Exception as e:
                    self.log("mqtt: callback for %s failed: %r" % (f, e))

    async def _outbox_loop(self):
        while True:
            await self._kick.wait()
            if not self._outbox or not self.connected:
                self._kick.clear()
                continue
            m = self._outbox[0]
            dup = m[3] != 0
            if not dup:
                self._pid = self._pid % 65535 + 1
                m[3] = self._pid
            self._inflight = m[3]
            self._puback.clear()
            try:
                await self._send(_publish_packet(m[0], m[1], m[2], 1, m[3], dup))
                await asyncio.wait_for_ms(self._puback.wait(), self.retry_ms)
                if self._outbox and self._outbox[0] is m:
                    self._outbox.pop(0)
            except asyncio.TimeoutError:
                pass  # no PUBACK yet: the next round resends it with DUP set
            except Exception as e:
                self._link_down(e)
                await asyncio.sleep_ms(self._tick)
