"""Broken dependencies on purpose: a closed port, a server that never answers, and a TCP
proxy a test can cut and restore (kinder to the shared servers than stopping them).

It runs its own event loop in a thread, so it keeps forwarding while the test blocks.
`cut()` closes every open connection and stops listening (clients see refused
connections); `restore()` listens again on the same port; `slow(seconds)` holds every
chunk of the server's answers that long (a server slow to answer, its answers queueing);
`pause()` holds every byte both ways until `resume()`, connections staying open (a server
that stalls, as `CLIENT PAUSE` stalls Redis): what a client sent and then hung up on is
never delivered, as Redis drops the unprocessed input of a client that went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any


def free_port() -> int:
    """A port nothing listens on (bound, then closed): connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


closed_port = free_port


@contextlib.asynccontextmanager
async def hung_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never sends a byte; yields its port."""
    writers: set[asyncio.StreamWriter] = set()

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, listen_port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = listen_port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._delay = 0.0
        self._flowing = asyncio.Event()
        self._flowing.set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def slow(self, seconds: float) -> None:
        """Hold each chunk the server sends for `seconds` (0: forward at once again)."""
        self._delay = seconds

    def pause(self) -> None:
        """Hold every byte both ways until `resume()`; connections stay open."""
        self._call(self._set_flowing(False))

    def resume(self) -> None:
        self._call(self._set_flowing(True))

    def stop(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        fut.result(timeout=10)

    async def _set_flowing(self, flowing: bool) -> None:
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, "127.0.0.1", self.port, reuse_address=True
            )

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update({client_w, upstream_w})
        await asyncio.gather(
            self._pipe(client_r, upstream_w), self._pipe(upstream_r, client_w, answers=True)
        )
        self._writers.difference_update({client_w, upstream_w})

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, answers: bool = False
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if answers and self._delay:
                    await asyncio.sleep(self._delay)
                if not self._flowing.is_set():
                    held = await self._held(reader, data)
                    if held is None:
                        break  # the sender hung up while paused: what it sent is dropped
                    data = held
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    async def _held(self, reader: asyncio.StreamReader, data: bytes) -> bytes | None:
        """`data` and what else arrives until the proxy resumes; None if the sender hangs up."""
        chunks = [data]
        resumed = asyncio.ensure_future(self._flowing.wait())
        try:
            while not resumed.done():
                more = asyncio.ensure_future(reader.read(65536))
                await asyncio.wait({resumed, more}, return_when=asyncio.FIRST_COMPLETED)
                if not more.done():
                    more.cancel()  # resumed: a read cancelled while waiting loses nothing
                    break
                if not more.result():
                    return None
                chunks.append(more.result())
        finally:
            resumed.cancel()
        return b"".join(chunks)


@contextlib.contextmanager
def tcp_proxy(target_host: str, target_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
