# Joins one of the configured Wi-Fi networks and rejoins when it drops. Never resets the board.
import asyncio
from time import ticks_ms, ticks_diff
import network


class WiFi:
    def __init__(self, networks, timeout_ms=15000, pause_ms=5000, log=print):
        self.networks = networks  # [{"ssid": ..., "password": ...}], tried in order
        self.timeout_ms = timeout_ms
        self.pause_ms = pause_ms
        self.log = log
        self.wlan = network.WLAN(network.STA_IF)

    def isconnected(self):
        return self.wlan.isconnected()

    async def up(self, feed=None):
        wlan = self.wlan
        if wlan.isconnected():
            return
        wlan.active(True)
        while True:
            for net in self.networks:
                self.log("wifi: joining", net["ssid"])
                try:
                    wlan.disconnect()
                except OSError:
                    pass
                try:
                    wlan.connect(net["ssid"], net.get("password", ""))
                except OSError as e:
                    self.log("wifi: connect failed:", repr(e))
                    continue
                t = ticks_ms()
                while ticks_diff(ticks_ms(), t) < self.timeout_ms:
                    if wlan.isconnected():
                        self.log("wifi: up", net["ssid"], wlan.ifconfig()[0])
                        return
                    if feed:
                        feed()
                    await asyncio.sleep_ms(100)
            # No network answered: wait a little, still feeding the watchdog, and go round again.
            t = ticks_ms()
            while ticks_diff(ticks_ms(), t) < self.pause_ms:
                if feed:
                    feed()
                await asyncio.sleep_ms(200)
