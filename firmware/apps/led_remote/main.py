# Seed 002: each board publishes its button on `<name>/btn/0` every 0.5 s and drives its LED
# from the other board's button. config.json "app": {"name": "blue", "peer": "green"}.
import asyncio
from board import setup, describe
from machine import Pin

cfg, client = setup()
app = cfg["app"]
btn_topic = app.get("name", cfg["device"]) + "/btn/0"
peer = app.get("peer", "green")
pins = describe(cfg, client, "led_remote", {"button": 0, "led": 2}, [btn_topic])
del setup, describe  # setup code runs once: let the GC have it
btn = Pin(pins["button"], Pin.IN, Pin.PULL_UP)  # BOOT button, active low: 1 = released
led = Pin(pins["led"], Pin.OUT, value=0)
del cfg, pins  # the whole config.json (~1.5 KB of dicts) is not needed past this point


def on_peer_button(topic, msg):
    # The peer's button is active low: '0' means pressed, so light our LED.
    led.value(0 if msg == b"1" else 1)


client.subscribe(peer + "/btn/0", on_peer_button)


async def main():
    asyncio.create_task(client.run())
    while True:
        await client.publish(btn_topic, str(btn.value()), qos=app.get("qos", 0))
        await asyncio.sleep_ms(app.get("interval_ms", 500))


asyncio.run(main())
