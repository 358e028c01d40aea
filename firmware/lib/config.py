# Everything that differs per board lives in config.json on the board, never in code.
import json

DEFAULTS = {
    "wifi": [],
    "broker": {"host": "mothership.local", "port": 1883, "keepalive": 60},
    "timing": {
        "backoff_min_ms": 1000, "backoff_max_ms": 60000, "retry_ms": 5000,
        "timeout_ms": 10000, "wifi_timeout_ms": 15000, "watchdog_ms": 30000,
        "queue_max": 16,
    },
    "pins": {},
    "app": {},
}


def load(path="config.json"):
    with open(path) as f:
        cfg = json.load(f)
    for k, v in DEFAULTS.items():
        if k not in cfg:
            cfg[k] = v
        elif isinstance(v, dict):
            for kk, vv in v.items():
                cfg[k].setdefault(kk, vv)
    if isinstance(cfg["wifi"], dict):  # a single network may be given without the list
        cfg["wifi"] = [cfg["wifi"]]
    if not cfg.get("device"):
        import machine
        import binascii
        cfg["device"] = "esp32-" + binascii.hexlify(machine.unique_id()).decode()
    return cfg
