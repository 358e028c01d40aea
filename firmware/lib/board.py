# Builds the MQTT client of this board from config.json: Wi-Fi, watchdog, broker, last will.
import binascii
import config
from mothership_mqtt import MQTTClient
from watchdog import Watchdog, reset_cause
from wifi import WiFi


def _tls(b):
    ca = b.get("ca")
    if not b.get("tls") and not ca:
        return None
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        with open(ca, "rb") as f:
            data = f.read()
        if b"-----BEGIN" in data:  # MicroPython wants DER: strip the PEM armour
            lines = data.split(b"\n")
            data = binascii.a2b_base64(b"".join(l for l in lines if l and not l.startswith(b"-----")))
        ctx.load_verify_locations(cadata=data)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def setup(path="config.json"):
    """Returns (cfg, client). Queues the reason for the last reset, retained, on <device>/reset_cause."""
    cfg = config.load(path)
    t = cfg["timing"]
    b = cfg["broker"]
    dev = cfg["device"]
    client = MQTTClient(
        dev, b["host"], b.get("port", 8883 if _want_tls(b) else 1883),
        user=b.get("user"), password=b.get("password"), keepalive=b.get("keepalive", 60),
        ssl=_tls(b), status_topic=dev + "/status", queue_max=t["queue_max"],
        backoff_min_ms=t["backoff_min_ms"], backoff_max_ms=t["backoff_max_ms"],
        retry_ms=t["retry_ms"], timeout_ms=t["timeout_ms"],
        wifi=WiFi(cfg["wifi"], t["wifi_timeout_ms"]) if cfg["wifi"] else None,
        wdt=Watchdog(t["watchdog_ms"]),
    )
    cause = reset_cause()
    print("board:", dev, "reset cause", cause)
    client.queue(dev + "/reset_cause", cause, retain=True)
    return cfg, client


def _want_tls(b):
    return bool(b.get("tls") or b.get("ca"))
