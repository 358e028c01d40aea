# Hardware watchdog and the reason for the last reset.
import machine

_CAUSES = {}
for _name, _label in (("PWRON_RESET", "power-on"), ("HARD_RESET", "hard-reset"),
                      ("WDT_RESET", "watchdog"), ("DEEPSLEEP_RESET", "deep-sleep"),
                      ("SOFT_RESET", "soft-reset")):
    if hasattr(machine, _name):
        _CAUSES[getattr(machine, _name)] = _label


def reset_cause():
    c = machine.reset_cause()
    return _CAUSES.get(c, "unknown(%d)" % c)


class Watchdog:
    """machine.WDT, fed only by the MQTT client's healthy loop: a hung loop becomes a reboot.
    timeout_ms 0 disables it (an ESP32 watchdog cannot be stopped once started, which gets
    in the way at the REPL)."""

    def __init__(self, timeout_ms):
        self.wdt = machine.WDT(timeout=timeout_ms) if timeout_ms else None

    def feed(self):
        if self.wdt:
            self.wdt.feed()
