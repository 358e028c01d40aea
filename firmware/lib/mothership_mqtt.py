# Mothership MQTT client for MicroPython (ESP32, MicroPython 1.22+): asyncio, MQTT 3.1.1, QoS 0/1.
# Written for ~100 KB of free heap: one connection, one QoS 1 message in flight, a bounded outbox.
import asyncio
import struct
import sys
from random import getrandbits
from time import ticks_ms, ticks_diff

PINGREQ = b"\xc0\x00"


def topic_matches(filt, topic):
    # MQTT 3.1.1 section 4.7: '+' is one level, '#' is this level and every level below.
    if filt == topic:
        return True
    f = filt.split("/")
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
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return out


def _s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack("!H", len(b)) + b


def _publish_packet(topic, msg, retain, qos, pid, dup):
    if isinstance(msg, str):
        msg = msg.encode()
    t = _s(topic)
    n = len(t) + len(msg) + (2 if qos else 0)
    head = bytearray((0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0),))
    head += _remaining_length(n) + t
    if qos:
        head += struct.pack("!H", pid)
    return head + msg


class MQTTClient:
    def __init__(self, client_id, host, port=1883, user=None, password=None, keepalive=60,
                 ssl=None, status_topic=None, queue_max=16, backoff_min_ms=1000,
                 backoff_max_ms=60000, retry_ms=5000, timeout_ms=10000, wifi=None,
                 wdt=None, log=print, discover=False, stable_ms=30000, msg_max=4096):
        self.client_id = client_id
        # discover: find the broker over mDNS (DNS-SD _mqtt._tcp) whenever host is None; the
        # address found is kept until a connect to it fails, then looked up again.
        self._discover = discover
        self.host = None if discover else host
        self.port = port
        self.user = user
        self.password = password
        self.ssl = ssl
        self.status_topic = status_topic
        self.queue_max = queue_max
        self._bmin = backoff_min_ms
        self._bmax = backoff_max_ms
        self._stable = stable_ms  # a link that lived this long resets the backoff
        self.msg_max = msg_max  # larger incoming messages are read past, never held
        self._retry_ms = retry_ms
        self._timeout = timeout_ms / 1000
        self._wifi = wifi
        self._wdt = wdt
        self.log = log
        self._ka_ms = keepalive * 1000
        # Ping at a quarter of the keepalive: the broker hears from us well within its 1.5x limit,
        # and our own deadline (no packet at all for one keepalive) notices a dead link in <= 1.25x.
        self._tick_ms = max(50, min(1000, self._ka_ms // 8))
        self._subs = []  # [filter, qos, callback]
        self._outbox = []  # [topic, msg, retain, pid]; pid 0 = never sent
        self._pid = 0
        self._inflight = 0
        self._puback = asyncio.Event()
        self._suback = asyncio.Event()
        self._sub_pid = 0
        self._kick = asyncio.Event()
        self._lock = asyncio.Lock()
        self._down = None
        self._w = None
        self.connected = False
        self.up = asyncio.Event()  # set while connected and subscribed
        self.last_rx = 0
        self._last_ping = 0
        self.connects = 0
        self.dropped = 0  # QoS 1 messages dropped from a full outbox
        self.dropped_qos0 = 0  # QoS 0 messages published while offline
        self.too_big = 0  # incoming messages over msg_max, skipped
        self._why = None  # what ended the last link
        self._rx_pid = None  # last QoS 1 message received: a DUP of it is acked, not delivered

    def subscribe(self, topic_filter, callback, qos=1):
        """Call callback(topic: str, msg: bytes) for every message matching topic_filter.
        Kept for the client's lifetime and renewed after every reconnect."""
        self._subs.append([topic_filter, qos, callback])
        if self.connected:
            asyncio.create_task(self._subscribe_safe())

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
        """Publish at QoS 1 through the outbox, which survives a dead link; a full outbox drops
        its oldest message and counts it in .dropped. Safe to call before run()."""
        if len(self._outbox) >= self.queue_max:
            self._outbox.pop(0)
            self.dropped += 1
        self._outbox.append([topic, msg, retain, 0])
        self._kick.set()

    def pending(self):
        return len(self._outbox)

    async def run(self):
        """Connect, serve and reconnect forever. Never returns, never resets the board."""
        asyncio.create_task(self._outbox_loop())
        delay = 0
        kicked = 0
        while True:
            if delay:
                # Jitter: a fleet that lost the same broker must not come back in lockstep.
                d = delay // 2 + getrandbits(16) % (delay // 2 + 1)
                self.log("mqtt: next attempt in", d, "ms")
                await self._sleep_fed(d)
            # Grows until a link has lasted stable_ms, not merely until a CONNACK: a link that dies
            # right after connecting (a twin, a message too big) must not loop at the minimum.
            delay = min(self._bmax, max(self._bmin, delay * 2))
            try:
                if self._wifi:
                    await self._wifi.up(self.feed)
                r, session = await self._open()
            except Exception as e:
                self.log("mqtt: connect failed:", repr(e))
                await self._close()
                if self._discover:
                    self.host = None  # the broker may have moved: ask again next time
                continue
            t = ticks_ms()
            await self._serve(r, session)
            if ticks_diff(ticks_ms(), t) >= self._stable:
                delay = self._bmin
                kicked = 0
            elif isinstance(self._why, EOFError):
                # MQTT 3.1.1 closes the older connection of a client id without a word.
                kicked += 1
                if kicked == 3:
                    e = "mqtt: probable twin: another board connects as " + self.client_id
                    self.log(e)
                    self.queue(self.client_id + "/error", e)

    def feed(self):
        if self._wdt:
            self._wdt.feed()

    async def _find(self):
        import mdns_find  # only while looking: its code is freed again below

        try:
            a = await mdns_find.find(int(min(self._timeout * 1000, 5000)), self.feed, self.log)
        finally:
            sys.modules.pop("mdns_find", None)
        if not a:
            raise OSError("mdns: no broker answered")
        self.host, self.port = a

    async def _open(self):
        if self.host is None:
            await self._find()
        self.log("mqtt: connecting to", self.host, self.port)
        r, w = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=self.ssl), self._timeout)
        self._w = w
        flags = 0  # persistent session: the broker keeps our subscriptions and QoS 1 messages
        payload = _s(self.client_id)
        if self.status_topic:
            flags |= 0x04 | 0x08 | 0x20  # will, will QoS 1, will retain
            payload += _s(self.status_topic) + _s(b"offline")
        if self.user is not None:
            flags |= 0x80
            payload += _s(self.user)
            if self.password is not None:
                flags |= 0x40
                payload += _s(self.password)
        vh = b"\x00\x04MQTT\x04" + bytes((flags,)) + struct.pack("!H", self._ka_ms // 1000)
        await self._send(b"\x10" + _remaining_length(len(vh) + len(payload)) + vh + payload)
        ack = await asyncio.wait_for(r.readexactly(4), self._timeout)
        if ack[0] != 0x20 or ack[1] != 2:
            raise OSError("not a CONNACK")
        if ack[3]:
            raise OSError("CONNACK refused, return code %d" % ack[3])
        self.last_rx = self._last_ping = ticks_ms()
        return r, ack[2] & 1  # the reader, and whether the broker kept our session

    async def _serve(self, r, session):
        self._down = asyncio.Event()
        reader = asyncio.create_task(self._reader(r))
        try:
            self.connected = True
            self.connects += 1
            if self.status_topic:
                await self._send(_publish_packet(self.status_topic, b"online", True, 0, 0, False))
            if self._subs and not session:
                await self._subscribe()
            self.up.set()
            self._kick.set()
            self.log("mqtt: up", self.connects)
            while not self._down.is_set():
                self.feed()
                if self._wifi and not self._wifi.isconnected():
                    raise OSError("wifi lost")
                now = ticks_ms()
                if ticks_diff(now, self.last_rx) > self._ka_ms:
                    raise OSError("keepalive: broker silent for %d ms" % ticks_diff(now, self.last_rx))
                if ticks_diff(now, self._last_ping) >= self._ka_ms // 4:
                    self._last_ping = now
                    await self._send(PINGREQ)
                await asyncio.sleep_ms(self._tick_ms)
        except Exception as e:
            self._link_down(e)
        finally:
            self.connected = False
            self.up.clear()
            reader.cancel()
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

    async def _sleep_fed(self, ms):
        t = ticks_ms()
        while ticks_diff(ticks_ms(), t) < ms:
            self.feed()
            await asyncio.sleep_ms(min(200, ms))

    async def _send(self, pkt):
        async with self._lock:
            w = self._w
            if w is None:
                raise OSError("not connected")
            w.write(pkt)
            # A write that cannot drain (peer gone, buffers full) is a dead link too.
            await asyncio.wait_for(w.drain(), self._timeout)

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    async def _subscribe(self):
        # One SUBSCRIBE carries every filter: one round trip after a reconnect, whatever the count.
        pid = self._next_pid()
        body = struct.pack("!H", pid)
        for f, q, _ in self._subs:
            body += _s(f) + bytes((q,))
        self._sub_pid = pid
        self._suback.clear()
        await self._send(b"\x82" + _remaining_length(len(body)) + body)
        await asyncio.wait_for(self._suback.wait(), self._timeout)
        if 0x80 in self._suback_rc:
            self.log("mqtt: broker refused a subscription", bytes(self._suback_rc))

    async def _subscribe_safe(self):
        try:
            await self._subscribe()
        except Exception as e:
            self._link_down(e)

    async def _reader(self, r):
        try:
            while True:
                hdr = (await r.readexactly(1))[0]
                n = 0
                sh = 0
                while True:
                    b = (await r.readexactly(1))[0]
                    n |= (b & 0x7F) << sh
                    sh += 7
                    if not b & 0x80:
                        break
                self.last_rx = ticks_ms()
                kind = hdr & 0xF0
                if kind == 0x30:
                    await self._on_publish(r, hdr, n)
                    continue
                body = await r.readexactly(n) if n else b""
                if kind == 0x40:
                    if struct.unpack("!H", body)[0] == self._inflight:
                        self._puback.set()
                elif kind == 0x90:
                    if struct.unpack("!H", body[:2])[0] == self._sub_pid:
                        self._suback_rc = body[2:]
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

    async def _on_publish(self, r, hdr, n):
        # The payload is read on its own, so it is held once; one over msg_max is never held.
        qos = (hdr >> 1) & 3
        tl = struct.unpack("!H", await r.readexactly(2))[0]
        n -= 2 + tl + (2 if qos else 0)
        big = tl > self.msg_max or n > self.msg_max
        if tl > self.msg_max:
            await self._skip(r, tl)
            topic = "?"
        else:
            topic = (await r.readexactly(tl)).decode()
        pid = await r.readexactly(2) if qos else None
        if big:
            await self._skip(r, n)
        else:
            msg = await r.readexactly(n) if n else b""
        if qos:
            # PUBACK first: a slow or failing callback must not make the broker resend.
            await self._send(b"\x40\x02" + pid)
            if hdr & 0x08 and pid == self._rx_pid:
                return  # redelivered after our PUBACK was lost: already handled
            self._rx_pid = pid
        if big:
            self.too_big += 1
            if self.too_big == 1:  # once: a stream of them must not flood the broker
                self.queue(self.client_id + "/error", "mqtt: %d bytes on %s over msg_max %d, skipped"
                           % (n, topic, self.msg_max))
            return
        for f, _, cb in self._subs:
            if topic_matches(f, topic):
                try:
                    x = cb(topic, msg)
                    if x is not None and hasattr(x, "send"):
                        asyncio.create_task(x)
                except Exception as e:
                    self.log("mqtt: callback for", f, "failed:", repr(e))

    async def _outbox_loop(self):
        while True:
            await self._kick.wait()
            if not self._outbox or not self.connected:
                self._kick.clear()
                continue
            m = self._outbox[0]
            dup = m[3] != 0
            if not dup:
                m[3] = self._next_pid()
            self._inflight = m[3]
            self._puback.clear()
            try:
                await self._send(_publish_packet(m[0], m[1], m[2], 1, m[3], dup))
                await asyncio.wait_for(self._puback.wait(), self._retry_ms / 1000)
                if self._outbox and self._outbox[0] is m:
                    self._outbox.pop(0)
            except asyncio.TimeoutError:
                pass  # no PUBACK yet: the next round resends it with DUP set
            except Exception as e:
                self._link_down(e)
                await asyncio.sleep_ms(self._tick_ms)
