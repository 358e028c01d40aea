# TLS context for the broker connection (MicroPython 1.22+ ssl.SSLContext).
# Not called tls.py: since 1.23 MicroPython has a built-in `tls` module (the `ssl` module is a
# thin Python layer over it), and a built-in module wins over a file of the same name, so a
# lib/tls.py would never be imported (and would break `ssl` if it were).
import binascii
import ssl


def _der(data):
    # MicroPython wants DER: strip the PEM armour of the first certificate (CRLF tolerated).
    if b"-----BEGIN" not in data:
        return data
    b64 = []
    inside = False
    for l in data.split(b"\n"):
        l = l.strip()
        if l.startswith(b"-----BEGIN"):
            inside = True
        elif l.startswith(b"-----END"):
            break
        elif inside and l:
            b64.append(l)
    return binascii.a2b_base64(b"".join(b64))


def context(ca_path=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_path:
        with open(ca_path, "rb") as f:
            data = f.read()
        ctx.load_verify_locations(cadata=_der(data))
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE  # encrypted but unauthenticated: give a CA to verify
    return ctx
