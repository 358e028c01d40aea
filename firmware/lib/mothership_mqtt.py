# Mothership MQTT client for MicroPython (ESP32, MicroPython 1.22+): asyncio, MQTT 3.1.1, QoS 0/1.
# Written for ~100 KB of free heap: one connection, one QoS 1 message in flight, a bounded outbox.
# This file is what a live link runs. Connecting (backoff, Wi-Fi, finding the broker, CONNECT,
# status, <device>/info, subscriptions) is mqtt_connect.py, loaded for each connect and freed
# again, so its code is not on the heap while the link lives.
import asyncio
import struct
import sys
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
        self.discover = discover
        self.host = None if discover else host
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
        self.info = None  # <device>/info template (board.describe), filled in at each connect
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
        self._delay = 0  # backoff before the next connect (mqtt_connect)
        self._kicked = 0  # links closed by the broker right after connecting, in a row
        self._t_up = None  # ticks_ms() when the current link came up

    def subscribe(self, topic_filter, callback, qos=1):
        """Call callback(topic: str, msg: bytes) for every message matching topic_filter.
        Kept for the client's lifetime and renewed after every reconnect."""
        self._subs.append([topic_filter, qos, callback])
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
        while True:
            reader = await self._connecting("connect")
            if reader:
                await self._serve(reader)

    async def _connecting(self, step):
        # mqtt_connect.<step>(self), with that module loaded only for the call.
        try:
            import mqtt_connect

            return await getattr(mqtt_connect, step)(self)
        except Exception as e:  # e.g. no heap to load it, or a SUBSCRIBE sent while up that failed
            self.log("mqtt:", step, "failed:", repr(e))
            self._link_down(e)
            self.feed()
            await asyncio.sleep_ms(1000)
        finally:
            sys.modules.pop("mqtt_connect", None)

    def feed(self):
        if self.wdt:
            self.wdt.feed()

    async def _serve(self, reader):
        # The link is up (mqtt_connect set it up): ping, watch it and feed the watchdog until it dies.
        try:
            while not self._down.is_set():
                self.feed()
                if self.wifi and not self.wifi[0].isconnected():
                    raise OSError("wifi lost")
                now = ticks_ms()
                ka = self.keepalive * 1000
                if ticks_diff(now, self.last_rx) > ka:
                    raise OSError("keepalive: broker silent for %d ms" % ticks_diff(now, self.last_rx))
                if ticks_diff(now, self._last_ping) >= ka // 4:
                    self._last_ping = now
                    await self._send(PINGREQ)
                await asyncio.sleep_ms(self._tick)
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

    async def _send(self, pkt):
        async with self._lock:
            w = self._w
            if w is None:
                raise OSError("not connected")
            w.write(pkt)
            # A write that cannot drain (peer gone, buffers full) is a dead link too.
            await asyncio.wait_for_ms(w.drain(), self.timeout_ms)

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

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
                await asyncio.wait_for_ms(self._puback.wait(), self.retry_ms)
                if self._outbox and self._outbox[0] is m:
                    self._outbox.pop(0)
            except asyncio.TimeoutError:
                pass  # no PUBACK yet: the next round resends it with DUP set
            except Exception as e:
                self._link_down(e)
                await asyncio.sleep_ms(self._tick)
