# Builds this board's MQTT client from config.json: Wi-Fi, watchdog, broker, last will, and what
# <device>/info says about the board. Everything that differs per board lives in config.json, never
# in code. This module runs once at boot; setup() drops it from sys.modules and the app deletes
# setup and describe, so its bytecode does not stay on the heap. Its names and strings of up to 10
# characters stay interned for good, though, so there are few of them (see reset_cause).
import json
import sys
import machine
from mothership_mqtt import MQTTClient

FW = "0.1.0"  # the Mothership release this firmware belongs to (package.json), in <device>/info

TIMING = {
    "backoff_min_ms": 1000, "backoff_max_ms": 60000, "retry_ms": 5000, "timeout_ms": 10000,
    "wifi_timeout_ms": 15000, "watchdog_ms": 30000, "queue_max": 16, "stable_ms": 30000,
}


def load(path="config.json"):
    with open(path) as f:
        cfg = json.load(f)
    b = cfg.get("broker")
    if isinstance(b, str):  # "broker": "mdns" or "broker": "192.168.1.20"
        cfg["broker"] = {"host": b}
    for k in ("broker", "timing", "pins", "app"):
        cfg.setdefault(k, {})
    for k, v in TIMING.items():
        cfg["timing"].setdefault(k, v)
    w = cfg.get("wifi") or []
    cfg["wifi"] = [w] if isinstance(w, dict) else w  # one network may be given without a list
    if not cfg.get("device"):
        import binascii
        cfg["device"] = "esp32-" + binascii.hexlify(machine.unique_id()).decode()
    return cfg


def reset_cause():
    # machine's constant name, then the label published on <device>/reset_cause. One string split
    # when needed: as separate literals each label would stay interned for good.
    c = machine.reset_cause()
    t = ("PWRON_RESET power-on HARD_RESET hard-reset WDT_RESET watchdog DEEPSLEEP_RESET deep-sleep "
         "SOFT_RESET soft-reset").split()
    for i in range(0, len(t), 2):
        if getattr(machine, t[i], None) == c:
            return t[i + 1]
    return "unknown(%d)" % c


def setup(path="config.json"):
    """Returns (cfg, client). Queues the reason for the last reset, retained, on
    <device>/reset_cause."""
    cfg = load(path)
    t = cfg["timing"]
    b = cfg["broker"]
    dev = cfg["device"]
    tls = b.get("tls") or b.get("ca")
    ssl = None
    if tls:
        from broker_tls import context  # only boards that use TLS pay for its code
        ssl = context(b.get("ca"))
    wifi = None
    if cfg["wifi"]:
        import network
        wifi = (network.WLAN(network.STA_IF), cfg["wifi"], t["wifi_timeout_ms"])
    # Fed only by the client's healthy loop: a hang becomes a reboot. 0 disables it (an ESP32
    # watchdog cannot be stopped once started, which gets in the way at the REPL).
    wdt = machine.WDT(timeout=t["watchdog_ms"]) if t["watchdog_ms"] else None
    host = b.get("host") or "mdns"  # no address given: find the broker over mDNS
    client = MQTTClient(
        dev, host, b.get("port", 8883 if tls else 1883),
        user=b.get("user"), password=b.get("password"), keepalive=b.get("keepalive", 60),
        ssl=ssl, status_topic=dev + "/status", queue_max=t["queue_max"],
        backoff_min_ms=t["backoff_min_ms"], backoff_max_ms=t["backoff_max_ms"],
        retry_ms=t["retry_ms"], timeout_ms=t["timeout_ms"], wifi=wifi, wdt=wdt,
        stable_ms=t["stable_ms"], msg_max=b.get("msg_max", 4096),
    )
    c = reset_cause()
    print("board: %s reset cause %s" % (dev, c))
    client.queue(dev + "/reset_cause", c, retain=True)
    describe(cfg, client, None, {}, ())  # until the app says more
    sys.modules.pop("board", None)
    return cfg, client


def describe(cfg, client, app, pins, pub):
    """Sets what <device>/info says about this board: the app's name, the pins it uses and the
    topics it publishes on (besides <device>/status, /reset_cause, /error and /info). pins:
    {name: default GPIO}; returns {name: GPIO} as config.json's "pins" sets them. The client adds
    the IP address, Wi-Fi signal, free heap and its subscriptions at each connect."""
    p = {}
    for k in pins:
        p[k] = cfg["pins"].get(k, pins[k])

    def j(v):  # compact JSON, safe inside the % template
        return json.dumps(v, separators=(",", ":")).replace("%", "%%")

    client.info = ('{"app":%s,"fw":%s,"ip":%%s,"rssi":%%s,"heap":%%d,"reset":%s,"pins":%s,'
                   '"pub":%s,"sub":%%s}' % (j(app), j(FW), j(reset_cause()), j(p), j(pub)))
    return p
