#!/usr/bin/python3
"""paho-mqtt (Debian's python3-paho-mqtt 1.6.1) scenarios driven by test/interop/paho.test.ts.

Usage: paho_scenarios.py <scenario> <json-args>
Each scenario prints one JSON object on stdout with what it observed and exits 0, or prints an error on
stderr and exits 1. Every wait is bounded (WAIT seconds) so a broken broker cannot hang the test.
"""

import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

WAIT = 8.0


def rc_value(rc):
    """A reason code as an int, whether paho gives a ReasonCodes object (v5) or an int (3.1.1)."""
    return rc.value if hasattr(rc, "value") else int(rc)


class Client:
    """A paho client with its events turned into waitable state."""

    def __init__(self, args, client_id, clean=True, transport="tcp", will=None, session_expiry=None):
        self.v5 = args["version"] == 5
        protocol = mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311
        if self.v5:
            self.c = mqtt.Client(client_id=client_id, protocol=protocol, transport=transport)
        else:
            self.c = mqtt.Client(client_id=client_id, clean_session=clean, protocol=protocol, transport=transport)
        if transport == "websockets":
            self.c.ws_set_options(path="/mqtt")
        self.connected = threading.Event()
        self.connack = None
        self.session_present = None
        self.subacks = {}
        self.acks = {}
        self.messages = []
        self.msg_cond = threading.Condition()
        self.disconnected = threading.Event()
        self.disconnect_rc = None
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self.c.on_publish = self._on_publish
        self.c.on_disconnect = self._on_disconnect
        if will:
            props = None
            if self.v5 and will.get("delay") is not None:
                props = Properties(PacketTypes.WILLMESSAGE)
                props.WillDelayInterval = will["delay"]
            self.c.will_set(will["topic"], will["payload"], qos=will.get("qos", 0), retain=will.get("retain", False), properties=props)
        port = args["wsPort"] if transport == "websockets" else args["port"]
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            if session_expiry is not None:
                props.SessionExpiryInterval = session_expiry
            self.c.connect("127.0.0.1", port, keepalive=30, clean_start=clean, properties=props)
        else:
            self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        if not self.connected.wait(WAIT):
            fail("no CONNACK")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = rc_value(rc)
        self.session_present = bool(flags.get("session present"))
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        self.subacks[mid] = [rc_value(g) for g in granted]

    def _on_publish(self, client, userdata, mid):
        self.acks[mid] = True

    def _on_message(self, client, userdata, msg):
        with self.msg_cond:
            self.messages.append(msg)
            self.msg_cond.notify_all()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnect_rc = rc_value(rc)
        self.disconnected.set()

    def subscribe(self, topic, qos=0, **kw):
        result, mid = self.c.subscribe(topic, qos, **kw) if kw else self.c.subscribe(topic, qos)
        if result != mqtt.MQTT_ERR_SUCCESS:
            fail("subscribe not sent: %s" % result)
        deadline = time.time() + WAIT
        while mid not in self.subacks:
            if time.time() > deadline:
                fail("no SUBACK")
            time.sleep(0.01)
        return self.subacks[mid]

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish(WAIT)
        if not info.is_published():
            fail("publish of %s at QoS %d not completed" % (topic, qos))

    def wait_messages(self, count):
        deadline = time.time() + WAIT
        with self.msg_cond:
            while len(self.messages) < count:
                left = deadline - time.time()
                if left <= 0:
                    fail("got %d of %d messages" % (len(self.messages), count))
                self.msg_cond.wait(left)
            return list(self.messages[:count])

    def quiet(self, seconds=0.4):
        before = len(self.messages)
        time.sleep(seconds)
        return len(self.messages) == before

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def fail(why):
    sys.stderr.write(why + "\n")
    sys.stderr.flush()
    sys.exit(1)


def msg_json(m):
    out = {"topic": m.topic, "payload": m.payload.decode("utf-8", "replace"), "qos": m.qos, "retain": bool(m.retain)}
    props = getattr(m, "properties", None)
    if props is not None:
        p = {}
        for name in ("UserProperty", "ContentType", "ResponseTopic", "MessageExpiryInterval", "PayloadFormatIndicator", "SubscriptionIdentifier"):
            if hasattr(props, name):
                p[name] = getattr(props, name)
        if hasattr(props, "CorrelationData"):
            p["CorrelationData"] = list(props.CorrelationData)
        out["properties"] = p
    return out


def roundtrip(args):
    """A subscriber at QoS 2 and a publisher at args.qos, over args.transport."""
    transport = args.get("transport", "tcp")
    sub = Client(args, args["id"] + "-s", transport=transport)
    granted = sub.subscribe(args["topic"] + "/#", 2)
    pub = Client(args, args["id"] + "-p", transport=transport)
    pub.publish(args["topic"] + "/x", "paho q%d" % args["qos"], qos=args["qos"])
    msgs = sub.wait_messages(1)
    pub.close()
    sub.close()
    return {"connack": [sub.connack, pub.connack], "granted": granted, "message": msg_json(msgs[0])}


def retained(args):
    pub = Client(args, args["id"] + "-p")
    pub.publish(args["topic"], "kept", qos=1, retain=True)
    pub.close()
    sub = Client(args, args["id"] + "-s")
    sub.subscribe(args["topic"], 1)
    msgs = sub.wait_messages(1)
    sub.close()
    return {"message": msg_json(msgs[0])}


def will_client(args):
    """Connects with a will, says so, then waits to be killed (the test SIGKILLs this process)."""
    Client(args, args["id"], will={"topic": args["topic"], "payload": "paho died", "qos": 1})
    print(json.dumps({"connected": True}), flush=True)
    time.sleep(WAIT * 2)
    return {"killed": False}


def watch(args):
    """Subscribes, says so, and reports the first `count` messages."""
    sub = Client(args, args["id"])
    sub.subscribe(args["topic"], args.get("qos", 1))
    print(json.dumps({"subscribed": True}), flush=True)
    msgs = sub.wait_messages(args.get("count", 1))
    sub.close()
    return {"messages": [msg_json(m) for m in msgs]}


def v5_properties(args):
    sub = Client(args, args["id"] + "-s")
    sp = Properties(PacketTypes.SUBSCRIBE)
    sp.SubscriptionIdentifier = 99
    sub.subscribe(args["topic"], 1, properties=sp)
    pub = Client(args, args["id"] + "-p")
    pp = Properties(PacketTypes.PUBLISH)
    pp.UserProperty = [("unit", "C"), ("sensor", "dht22")]
    pp.ContentType = "text/plain"
    pp.ResponseTopic = args["topic"] + "/reply"
    pp.CorrelationData = b"\x01\x02\xff"
    pp.MessageExpiryInterval = 120
    pp.PayloadFormatIndicator = 1
    pub.publish(args["topic"], "t=24.1C, h=26.5%.", qos=1, properties=pp)
    msgs = sub.wait_messages(1)
    pub.close()
    sub.close()
    return {"message": msg_json(msgs[0])}


def reason_codes(args):
    """SUBACK codes for granted, invalid and denied filters, then PUBACK for a denied publish (v5)."""
    c = Client(args, args["id"])
    # paho refuses an invalid filter itself; its check is switched off to see what the broker answers.
    c.c._filter_wildcard_len_check = lambda sub: mqtt.MQTT_ERR_SUCCESS
    out = {}
    out["granted"] = c.subscribe([(args["topic"], 2), ("bad/#/filter", 1), ("secret/x", 1)])
    if args["version"] == 5:
        puback = {}
        # paho 1.6 does not surface the PUBACK reason code; it is read from the raw packet handler.
        original = c.c._handle_pubackcomp

        def spy(cmd):
            packet = c.c._in_packet["packet"]
            if len(packet) > 2:
                puback["rc"] = packet[2]
            else:
                puback["rc"] = 0
            return original(cmd)

        c.c._handle_pubackcomp = spy
        c.publish("secret/plans", "x", qos=1)
        out["puback"] = puback.get("rc")
    still = c.subscribe(args["topic"] + "/after", 1)
    out["after"] = still
    c.close()
    return out


def session(args):
    """A persistent session is kept while away: QoS 1 messages are queued and delivered on return."""
    expiry = 300 if args["version"] == 5 else None
    first = Client(args, args["id"], clean=False, session_expiry=expiry)
    first.subscribe(args["topic"], 1)
    first.close()
    first.disconnected.wait(WAIT)
    pub = Client(args, args["id"] + "-p")
    for i in range(3):
        pub.publish(args["topic"], "queued %d" % i, qos=1)
    pub.close()
    back = Client(args, args["id"], clean=False, session_expiry=0 if args["version"] == 5 else None)
    msgs = back.wait_messages(3)
    out = {"sessionPresent": [first.session_present, back.session_present], "messages": [msg_json(m) for m in msgs]}
    back.close()
    # End it (3.1.1: a clean session discards it).
    if args["version"] != 5:
        Client(args, args["id"], clean=True).close()
    return out


def protocol_violation(args):
    """Publishes on a topic with a wildcard: the broker must close the connection [MQTT-3.3.2-2]."""
    c = Client(args, args["id"])
    # paho's publish() refuses wildcards itself; its internal sender does not check.
    c.c._send_publish(0, b"bad/+/topic", b"x", 0, info=mqtt.MQTTMessageInfo(0))
    closed = c.disconnected.wait(WAIT)
    c.c.loop_stop()
    return {"closed": closed, "rc": c.disconnect_rc}


SCENARIOS = {
    "roundtrip": roundtrip,
    "retained": retained,
    "will_client": will_client,
    "watch": watch,
    "v5_properties": v5_properties,
    "reason_codes": reason_codes,
    "session": session,
    "protocol_violation": protocol_violation,
}

if __name__ == "__main__":
    result = SCENARIOS[sys.argv[1]](json.loads(sys.argv[2]))
    print(json.dumps(result), flush=True)
