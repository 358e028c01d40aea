# Seeds 000/001: two boards talk. config.json "app": {"role": "machine1" | "machine2"}.
# machine1 says "I say hello to you #N" on `hello` every 5 s and reacts to `received` on
# `notification`; machine2 prints what arrives on `hello` and answers `received` on `notification`.
import asyncio
from board import setup, describe
from machine import Pin

cfg, client = setup()
app = cfg["app"]
role = app.get("role", "machine1")
qos = app.get("qos", 0)
pins = describe(cfg, client, "conversation", {"led": 2},
                ["hello" if role == "machine1" else "notification"])
del setup, describe  # setup code runs once: let the GC have it
led = Pin(pins["led"], Pin.OUT, value=0)
del cfg, pins  # the whole config.json (~1.5 KB of dicts) is not needed past this point


def on_notification(topic, msg):
    print((topic, msg))
    if msg == b"received":
        print("machine1: machine2 received it")
        led.value(not led.value())  # blink once per answer


async def on_hello(topic, msg):
    print((topic, msg))
    await client.publish("notification", "received", qos=qos)


if role == "machine1":
    client.subscribe("notification", on_notification)
else:
    client.subscribe("hello", on_hello)


async def main():
    asyncio.create_task(client.run())
    n = 0
    while True:
        if role == "machine1":
            if not qos:  # QoS 0 is not queued: count only what can go out, like the seed
                await client.up.wait()
            await client.publish("hello", "I say hello to you #%d" % n, qos=qos)
            n += 1
        await asyncio.sleep_ms(app.get("interval_ms", 5000))


asyncio.run(main())
