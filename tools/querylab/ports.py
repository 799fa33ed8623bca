"""Ports on 127.0.0.1 for the servers the tests start."""

import socket


def free_port() -> int:
    """A port the OS just handed out and released: free, and closed until something listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
