# One connect of the MQTT client (mothership_mqtt.py): the backoff wait before it, Wi-Fi, the
# broker's address, CONNECT/CONNACK, then the session: retained `online` on <device>/status,
# retained <device>/info, the subscriptions. The client imports this module for each connect and
# drops it from sys.modules afterwards, so none of this code is on the heap while the link lives.
# Its names and short strings are interned for good at the first connect, though: log lines are
# formatted from strings longer than 10 characters (never interned), locals reuse common names.
import asyncio
import struct
import sys
from random import getrandbits
from time import ticks_ms, ticks_diff
from mothership_mqtt import _publish_packet, _remaining_length, _s


async def connect(c):
    """One attempt. Returns the reader task of a link that came up (its _down already set if the
    session set-up failed), or None after a failed attempt."""
    _ended(c)
    d = c._delay
    if d:
        # Jitter: a fleet that lost the same broker must not come back in lockstep.
        d = d // 2 + getrandbits(16) % (d // 2 + 1)
        c.log("mqtt: next attempt in %d ms" % d)
        t = ticks_ms()
        while ticks_diff(ticks_ms(), t) < d:
            c.feed()
            await asyncio.sleep_ms(min(200, d))
    # Grows until a link has lasted stable_ms, not merely until a CONNACK: a link that dies right
    # after connecting (a twin, a message too big) must not loop at the minimum.
    c._delay = min(c.backoff_max_ms, max(c.backoff_min_ms, c._delay * 2))
    try:
        if c.wifi and not c.wifi[0].isconnected():
            import wifi  # only while joining

            try:
                await wifi.up(c.wifi, c.feed, c.log)
            finally:
                sys.modules.pop("wifi", None)
        r, session = await _open(c)
    except Exception as e:
        c.log("mqtt: connect failed:", repr(e))
        await c._close()
        if c.mdns:
            c.host = None  # the broker may have moved: ask again next time
        return None
    c._t_up = ticks_ms()
    c._down = asyncio.Event()
    t = asyncio.create_task(c._reader(r))
    try:
        c.connected = True
        c.connects += 1
        if c.status_topic:
            await c._send(_publish_packet(c.status_topic, b"online", True, 0, 0, False))
        if c.info:
            # QoS 0: sent again at every connect, so a copy queued in the outbox would only be stale.
            await c._send(_publish_packet(c.client_id + "/info", _info(c), True, 0, 0, False))
        # A kept session holds our filters only if a SUBACK for all of them came back.
        if c._subs and not (session and c._subbed):
            await subscribe(c)
        c.up.set()
        c._kick.set()
        c.log("mqtt: up %d" % c.connects)
    except Exception as e:
        c._link_down(e)
    return t


def _ended(c):
    # How the last link ended decides the wait before this attempt.
    t = c._t_up
    if t is None:
        return
    c._t_up = None
    if ticks_diff(ticks_ms(), t) >= c.stable_ms:
        c._delay = c.backoff_min_ms
        c._kicked = 0
    elif isinstance(c._why, EOFError):
        # MQTT 3.1.1 closes the older connection of a client id without a word.
        c._kicked += 1
        if c._kicked == 3:
            e = "mqtt: probable twin: another board connects as " + c.client_id
            c.log(e)
            c.queue(c.client_id + "/error", e)


async def _open(c):
    if c.host is None:
        import mdns_find  # only while looking

        try:
            a = await mdns_find.find(min(c.timeout_ms, 5000), c.feed, c.log)
        finally:
            sys.modules.pop("mdns_find", None)
        if not a:
            raise OSError("mdns: no broker answered")
        c.host, c.port = a
    c.log("mqtt: connecting to", c.host, c.port)
    r, w = await asyncio.wait_for_ms(
        asyncio.open_connection(c.host, c.port, ssl=c.ssl), c.timeout_ms)
    c._w = w
    flags = 0  # persistent session: the broker keeps our subscriptions and QoS 1 messages
    data = _s(c.client_id)  # the payload
    if c.status_topic:
        flags |= 0x04 | 0x08 | 0x20  # will, will QoS 1, will retain
        data += _s(c.status_topic) + _s(b"offline")
    if c.user is not None:
        flags |= 0x80
        data += _s(c.user)
        if c.password is not None:
            flags |= 0x40
            data += _s(c.password)
    buf = b"\x00\x04MQTT\x04" + bytes((flags,)) + struct.pack("!H", c.keepalive)  # variable header
    await c._send(b"\x10" + _remaining_length(len(buf) + len(data)) + buf + data)
    buf = await asyncio.wait_for_ms(r.readexactly(4), c.timeout_ms)  # CONNACK
    if buf[0] != 0x20 or buf[1] != 2:
        raise OSError("not a CONNACK")
    if buf[3]:
        raise OSError("CONNACK refused, return code %d" % buf[3])
    c.last_rx = c._last_ping = ticks_ms()
    return r, buf[2] & 1  # the reader, and whether the broker kept our session


def _info(c):
    # The board as it is now, in the template board.describe() made: IP address, Wi-Fi signal
    # (dBm), free heap after a collection, the subscribed filters. JSON, with null for what the
    # board cannot tell (no Wi-Fi configured, or the station reports no signal).
    import gc
    import json

    ip = rssi = None
    if c.wifi:
        w = c.wifi[0]
        ip = w.ifconfig()[0]
        try:
            rssi = w.status("rssi")
        except Exception:  # OSError on the ESP32 when not associated
            pass
    gc.collect()
    return c.info % (json.dumps(ip), json.dumps(rssi), gc.mem_free(),
                     json.dumps([s[0] for s in c._subs], separators=(",", ":")))


async def subscribe(c):
    # One SUBSCRIBE carries every filter: one round trip after a reconnect, whatever the count.
    c._pid = c._pid % 65535 + 1
    data = struct.pack("!H", c._pid)
    for f, qos, _ in c._subs:
        data += _s(f) + bytes((qos,))
    c._sub_pid = c._pid
    c._subbed = False
    c._suback = asyncio.Event()  # only while waiting: not on the heap while the link lives
    try:
        await c._send(b"\x82" + _remaining_length(len(data)) + data)
        await asyncio.wait_for_ms(c._suback.wait(), c.timeout_ms)
    finally:
        c._suback = None
    c._subbed = True
    if 0x80 in c._suback_rc:
        c.log("mqtt: broker refused a subscription", bytes(c._suback_rc))
