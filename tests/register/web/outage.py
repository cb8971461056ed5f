"""A loopback TCP relay in front of the test PostgreSQL, cut and restored at will.

The shared test server cannot be stopped from a test; the service is pointed at this relay
instead, and `cut()` closes the listener and every relayed connection, which the service sees
exactly as a database that went down. `restore()` listens again on the same port.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy.engine import make_url


class DatabaseRelay:
    """Relay 127.0.0.1:<port> to the database server of a URL."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self.url = url
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = 0
        self.restore()

    @property
    def relayed_url(self) -> str:
        """The database URL through the relay."""
        parsed = make_url(self.url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    def restore(self) -> None:
        """Listen (again) and relay new connections."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and drop every open one: the database is down."""
        with self._lock:
            doomed, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for sock in [*doomed, *([listener] if listener else [])]:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@contextmanager
def relay(url: str) -> Iterator[DatabaseRelay]:
    """A relay to `url`'s server, cut when the block ends."""
    relay = DatabaseRelay(url)
    try:
        yield relay
    finally:
        relay.cut()
