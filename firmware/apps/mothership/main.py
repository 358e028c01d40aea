# Seed 003: "Test to mothership #N" on `to_mothership` every 5 s; prints what arrives on
# `from_mothership`.
import asyncio
from board import setup, describe

cfg, client = setup()
describe(cfg, client, "mothership", {}, ["to_mothership"])
del setup, describe  # setup code runs once: let the GC have it
app = cfg["app"]
del cfg  # the whole config.json (~1.5 KB of dicts) is not needed past this point


def on_message(topic, msg):
    print((topic, msg))
    if msg == b"received":
        print("ESP received notification from mothership!")


client.subscribe("from_mothership", on_message)


async def main():
    asyncio.create_task(client.run())
    n = 0
    qos = app.get("qos", 0)
    while True:
        if not qos:  # QoS 0 is not queued: count only what can go out, like the seed
            await client.up.wait()
        await client.publish("to_mothership", "Test to mothership #%d" % n, qos=qos)
        n += 1
        await asyncio.sleep_ms(app.get("interval_ms", 5000))


asyncio.run(main())
