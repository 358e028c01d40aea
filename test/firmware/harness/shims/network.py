# Test shim for the ESP32's network module: the JS side decides whether the access point is there.
import jsboard

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010


class WLAN:
    def __init__(self, interface=STA_IF):
        self._active = False

    def active(self, a=None):
        if a is None:
            return self._active
        self._active = bool(a)

    def connect(self, ssid=None, key=None):
        jsboard.wifi_connect(ssid, key or "")

    def disconnect(self):
        jsboard.wifi_disconnect()

    def isconnected(self):
        return jsboard.wifi_isconnected()

    def status(self, *a):
        return STAT_GOT_IP if self.isconnected() else STAT_IDLE

    def ifconfig(self, *a):
        return ("192.168.4.23", "255.255.255.0", "192.168.4.1", "192.168.4.1")

    def config(self, *a, **k):
        return None
