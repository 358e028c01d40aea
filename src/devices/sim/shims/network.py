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
        if a and a[0] == "rssi":
            # As the ESP32 port: the access point's signal in dBm while associated (the test's
            # Board.setStation, default -58), OSError("Wifi Not Connected") when not.
            if not self.isconnected():
                raise OSError("Wifi Not Connected")
            return jsboard.wifi_rssi()
        return STAT_GOT_IP if self.isconnected() else STAT_IDLE

    def ifconfig(self, *a):
        # (ip, netmask, gateway, dns) as the ESP32 port; the address is the test's DHCP lease
        # (Board.setStation, default 192.168.4.23), 0.0.0.0 while not joined.
        ip = jsboard.wifi_ip() if self.isconnected() else "0.0.0.0"
        return (ip, "255.255.255.0", "192.168.4.1", "192.168.4.1")

    def config(self, *a, **k):
        return None
