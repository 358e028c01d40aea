# Test shim for MicroPython's dht driver; a detached sensor raises OSError(ETIMEDOUT) like the real one.
import jsboard


class DHT22:
    def __init__(self, pin):
        self.pin = pin.id
        self._t = None
        self._h = None

    def measure(self):
        r = jsboard.dht_measure(self.pin)
        if r is None:
            raise OSError(116)  # ETIMEDOUT, what the ESP32 driver raises when nothing answers
        self._t = r[0]
        self._h = r[1]

    def temperature(self):
        return self._t

    def humidity(self):
        return self._h


DHT11 = DHT22
