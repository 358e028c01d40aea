# Test shim for MicroPython's built-in tls module (1.23+; the ssl module is micropython-lib's
# ssl.py over it, see ssl.py here). The WebAssembly port has neither. Nothing is decided here:
# the CA bytes, host name and verify mode the firmware gave are handed to board-worker.mjs, which
# runs a real TLS handshake with Node's tls module over the board's TCP connection, with exactly
# that CA and host name; a certificate that does not verify fails the handshake there.
import binascii
import jsboard

PROTOCOL_TLS_CLIENT = 0
PROTOCOL_TLS_SERVER = 1
CERT_NONE = 0
CERT_OPTIONAL = 1
CERT_REQUIRED = 2
MBEDTLS_VERSION = "none: test shim, the handshake runs in Node.js"


from _harness import _oserror as _err  # a failed verification becomes mbedTLS's ValueError


class SSLContext:
    def __init__(self, protocol):
        if protocol != PROTOCOL_TLS_CLIENT:
            raise ValueError("the test harness bridges TLS clients only")
        self.verify_mode = CERT_REQUIRED  # mbedTLS client default
        self._cadata = None

    def load_verify_locations(self, cadata):
        # Like mbedtls_x509_crt_parse: a buffer that is not a certificate fails here, not later.
        try:
            jsboard.tls_check_ca(binascii.hexlify(cadata).decode())
        except Exception as e:
            raise ValueError("invalid cert: " + str(_err(e)))
        self._cadata = bytes(cadata)

    def load_cert_chain(self, cert, key):
        raise OSError("client certificates are not bridged by the test harness")

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, server_hostname=None):
        if server_side:
            raise ValueError("the test harness bridges TLS clients only")
        return SSLSocket(self, sock, server_hostname)


class SSLSocket:
    def __init__(self, ctx, sock, server_hostname):
        self.sid = sock.sid
        self._ca = ctx._cadata
        self._mode = ctx.verify_mode
        self._host = server_hostname

    async def handshake(self):
        # What the firmware passed goes to Node unchanged; Node's result is the result.
        ca = binascii.hexlify(self._ca).decode() if self._ca is not None else None
        try:
            await jsboard.tls_start(self.sid, ca, self._host, self._mode)
        except Exception as e:
            raise _err(e)
