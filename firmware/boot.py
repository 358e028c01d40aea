# Runs before main.py at every boot. Kept empty of network code so the REPL stays reachable:
# main.py joins Wi-Fi from config.json inside its asyncio loop.
import gc

gc.collect()
