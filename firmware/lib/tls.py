# TLS context for the broker connection (MicroPython 1.22+ ssl.SSLContext).
import binascii
import ssl


def context(ca_path=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_path:
        with open(ca_path, "rb") as f:
            data = f.read()
        if b"-----BEGIN" in data:  # MicroPython wants DER: strip the PEM armour
            data = binascii.a2b_base64(
                b"".join(l for l in data.split(b"\n") if l and not l.startswith(b"-----")))
        ctx.load_verify_locations(cadata=data)
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE  # encrypted but unauthenticated: give a CA to verify
    return ctx
