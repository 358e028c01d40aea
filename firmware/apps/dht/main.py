# Seed 004: DHT22 on GPIO14 -> "t=24.1C, h=26.5%." on `testincr`; LED driven by "on"/"off" on
# `output` (QoS 1); soil moisture from the ADC on GPIO36 on `<device>/soil`. A detached or failing
# sensor is reported on `<device>/error` and retried at the next reading, never a reboot.
import asyncio
from board import setup, describe
import dht
from machine import ADC, Pin

cfg, client = setup()
app = cfg["app"]
dev = cfg["device"]
pins = describe(cfg, client, "dht", {"led": 2, "dht": 14, "soil": 36}, ["testincr", dev + "/soil"])
del setup, describe  # setup code runs once: let the GC have it
led = Pin(pins["led"], Pin.OUT, value=0)
sensor = dht.DHT22(Pin(pins["dht"]))
soil = ADC(Pin(pins["soil"]))
try:
    soil.atten(ADC.ATTN_11DB)  # full 0-3.3 V range
except AttributeError:
    pass
dry = app.get("soil_dry", 65535)  # read_u16() in dry air and in water: calibrate per probe
wet = app.get("soil_wet", 0)
del cfg, pins  # the whole config.json (~1.5 KB of dicts) is not needed past this point


def on_output(topic, msg):
    if msg == b"on":
        led.value(1)
    elif msg == b"off":
        led.value(0)
    print((topic, msg))


client.subscribe("output", on_output, qos=1)


async def main():
    asyncio.create_task(client.run())
    qos = app.get("qos", 0)
    failures = 0
    while True:
        try:
            sensor.measure()
            t = sensor.temperature()
            h = sensor.humidity()
            await client.publish("testincr", "t=%.1fC, h=%.1f%%." % (t, h), qos=qos)
            if failures:
                await client.publish(dev + "/error", "dht: ok again", qos=1)
            failures = 0
        except OSError as e:
            failures += 1
            # First failure, then every 10th: an unplugged sensor must not flood the broker.
            if failures == 1 or failures % 10 == 0:
                await client.publish(dev + "/error", "dht: %r (%d in a row)" % (e, failures), qos=1)
        raw = soil.read_u16()
        span = dry - wet if dry != wet else 1
        pct = max(0, min(100, (dry - raw) * 100 // span))
        await client.publish(dev + "/soil", "soil=%d%%, raw=%d" % (pct, raw), qos=qos)
        await asyncio.sleep_ms(app.get("interval_ms", 5000))


asyncio.run(main())
