# usocket is the old name of socket on MicroPython.
from socket import *  # noqa: F403
