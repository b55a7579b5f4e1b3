import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_it_fails_any_connection_outside_loopback():
    # 192.0.2.1 is TEST-NET-1: never routed, so only the guard can answer this quickly.
    with pytest.warns(UserWarning, match="192.0.2.1"), pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_it_still_allows_loopback():
    server = socket.create_server(("127.0.0.1", 0))
    try:
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
    finally:
        server.close()
