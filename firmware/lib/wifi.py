# Joins one of the configured Wi-Fi networks. Loaded by the MQTT client (mqtt_connect.py) only while
# the station is down, and freed again. Never resets the board.
import asyncio
from time import ticks_ms, ticks_diff


async def up(wifi, feed, log):
    # wifi: (network.WLAN, [{"ssid": ..., "password": ...}] tried in order, timeout per network in
    # ms). Returns once joined; while no network answers, goes round them again every 5 s.
    wlan, networks, timeout_ms = wifi
    if wlan.isconnected():
        return
    wlan.active(True)
    while True:
        for n in networks:
            log("wifi: joining", n["ssid"])
            try:
                wlan.disconnect()
            except OSError:
                pass
            try:
                wlan.connect(n["ssid"], n.get("password", ""))
            except OSError as e:
                log("wifi: connect failed:", repr(e))
                continue
            t = ticks_ms()
            while ticks_diff(ticks_ms(), t) < timeout_ms:
                if wlan.isconnected():
                    log("wifi: up %s %s" % (n["ssid"], wlan.ifconfig()[0]))
                    return
                feed()
                await asyncio.sleep_ms(100)
        # No network answered: wait a little, still feeding the watchdog, and go round again.
        t = ticks_ms()
        while ticks_diff(ticks_ms(), t) < 5000:
            feed()
            await asyncio.sleep_ms(200)
