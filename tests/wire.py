"""Round trips on the wire: a TCP relay in front of PostgreSQL or Redis that counts them.

A statement count (`count_queries`) misses what the driver sends on its own — psycopg2's
`BEGIN`, the pool's `ROLLBACK` on return, a `SET`, a pre-ping — and Redis calls, which are no
SQL at all. Each of those costs the request a wait for the server. The relay forwards bytes
unchanged and counts one round trip each time a client speaks after the server answered (its
first words included): a query and its answer, however many packets they take, are one.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


class Relay:
    """Listens on 127.0.0.1 (a port of its own) and relays each connection to `host:port`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.round_trips = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name="wire-relay", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self.listener.close()

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        """[round trips, new connections] made inside the block (filled in when it ends)."""
        result: list[int] = []
        with self._lock:
            trips, connections = self.round_trips, self.connections
        yield result
        with self._lock:
            result += [self.round_trips - trips, self.connections - connections]

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self._lock:
                self.connections += 1
            server = socket.create_connection(self.target)
            threading.Thread(target=self._relay, args=(client, server), name="wire-relay-conn",
                             daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        client_spoke_last = False
        try:
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    if key.fileobj is client and not client_spoke_last:
                        with self._lock:  # counted before the bytes go on: the answer cannot come first
                            self.round_trips += 1
                    client_spoke_last = key.fileobj is client
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            server.close()


def relayed_url(url: str, relay: Relay) -> str:
    """`url` (a database or Redis URL) pointed at `relay` instead of its server."""
    if url.startswith("redis://"):
        address, _, tail = url[len("redis://"):].partition("/")
        credentials = address.rpartition("@")[0]
        return f"redis://{credentials + '@' if credentials else ''}127.0.0.1:{relay.port}/{tail}"
    return make_url(url).set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)


def relay_for(url: str) -> Relay:
    """A relay in front of the server `url` names (a database or Redis URL)."""
    if url.startswith("redis://"):
        address = url[len("redis://"):].partition("/")[0].rpartition("@")[2]
        host, _, port = address.partition(":")
        return Relay(host or "127.0.0.1", int(port or 6379))
    parsed = make_url(url)
    return Relay(parsed.host or "127.0.0.1", parsed.port or 5432)
