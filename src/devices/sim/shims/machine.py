# Test shim for the ESP32's machine module; pin levels, the ADC, the watchdog and resets are
# kept on the JS side (src/devices/sim/board.ts) where a test or the sim can see and drive them.
import jsboard

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return jsboard.pin_get(self.id)
        jsboard.pin_set(self.id, 1 if v else 0)

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3

    def __init__(self, pin, atten=None):
        self.pin = pin.id if isinstance(pin, Pin) else pin

    def atten(self, a):
        pass

    def read_u16(self):
        return jsboard.adc_read(self.pin)

    def read(self):
        return jsboard.adc_read(self.pin) >> 4


class WDT:
    def __init__(self, id=0, timeout=5000):
        jsboard.wdt_start(timeout)

    def feed(self):
        jsboard.wdt_feed()


def unique_id():
    import binascii
    return binascii.unhexlify(jsboard.unique_id())


def reset_cause():
    # The test's BoardOptions.resetCause, default PWRON_RESET. The ESP32 port (1.27) returns
    # PWRON_RESET after power-on and brownout, HARD_RESET after machine.reset(), a panic or the
    # reset pin, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET after a soft reboot, 0 when unknown.
    return jsboard.reset_cause()


def reset():
    jsboard.reset()
    raise SystemExit
