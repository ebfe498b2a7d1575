"""The HTTP/1.1 connections the service serves: aiohttp's, with a read deadline, and a
short answer to a request aiohttp cannot parse.

**Read deadline.** aiohttp has no timeout for reading a request: a connection that sends
half a header, or a body shorter than its Content-Length, is held until its keep-alive
timeout (75 s) or for good. Here a request must arrive in full, header and body, within
`read_timeout` of its first byte, or:
- its header never completed: the connection gets a 408 and is closed;
- its body never completed: reading the body fails with `BodyTimeout` (a 408 from the
  error middleware) and the connection is closed after that answer.
The clock starts at a request's first byte, not when the connection opens, so a client's
pool may open connections ahead of use; an idle connection keeps its keep-alive timeout,
and a handler that takes its time after the body has arrived is never cut short. (Only
the start of a next request that comes in the same packet as a whole one, pipelined, is
not timed: aiohttp keeps it inside its parser, and the keep-alive timeout bounds it.)

**Malformed requests** (a NUL in a header, Content-Length with Transfer-Encoding, a
bad chunk size...) get aiohttp's 400 as a JSON `detail`, and one WARNING line naming the
reason and the peer, never the traceback aiohttp logs at ERROR for each (a way to flood
the log). Garbage that is not HTTP at all (TLS to a plain port) stays at DEBUG.

`api.server` builds these handlers; tests/integration/api/test_slow_clients.py and
test_hostile_http.py hold them to this.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from prometheus_client import Counter

from api.responses import error_response

log = logging.getLogger(__name__)

TIMEOUT_DETAIL = "request not received in time"
MAX_REASON = 200

REFUSED = Counter(
    "orders_http_refused_requests_total",
    "Requests refused before the app saw them in full, by reason",
    ["reason"],  # malformed, header_timeout, body_timeout
)


class BodyTimeout(TimeoutError):
    """A request's body did not arrive within the read timeout (a 408).

    A TimeoutError, so that aiohttp's own reading of an unread body after the answer
    (its lingering close) takes it as the end of that wait."""


def _timeout_answer() -> bytes:
    body = error_response(408, TIMEOUT_DETAIL).body
    assert isinstance(body, bytes)
    head = (
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


_TIMEOUT_ANSWER = _timeout_answer()


class ConnectionHandler(RequestHandler):
    """One connection: aiohttp's handler with a read deadline and quiet 400s."""

    def __init__(
        self,
        manager: web.Server,
        *,
        loop: asyncio.AbstractEventLoop,
        read_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self._clock = loop
        self._read_timeout = read_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None  # the body of the latest request
        self._handling = False  # a request is in the app, its answer not yet written

    def data_received(self, data: bytes) -> None:
        if data and self._deadline is None:
            self._arm()  # the first byte of a request
        super().data_received(data)

    def request_started(self, body: StreamReader) -> None:
        """A request's header is in (called before the app sees the request)."""
        self._body, self._handling = body, True
        if body.is_eof():
            self._disarm()
        else:
            self._arm()
            body.on_eof(self._disarm)

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            self._handling = False

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):  # a fault of ours: aiohttp logs it
            return super().handle_error(request, status, exc, message)
        reason = " ".join(str(exc.message).split(":\n", 1)[0].split())[:MAX_REASON]
        if isinstance(exc, BadHttpMethod):  # not HTTP at all: a scanner, TLS to this port
            log.debug("not an HTTP request (from %s): %s", request.remote, reason)
        else:
            log.warning(
                "malformed HTTP request answered %s: %s (from %s)", status, reason, request.remote
            )
        REFUSED.labels("malformed").inc()
        if request.writer.output_size > 0:  # an answer has begun: only closing is left
            raise ConnectionError("malformed request after the answer began")
        response = error_response(status, f"malformed HTTP request: {reason}")
        response.force_close()
        return response

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self._clock.call_later(self._read_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        body = self._body
        if body is not None and not body.is_eof():
            REFUSED.labels("body_timeout").inc()
            log.info(
                "request body not received in %ss: answering 408 (from %s)",
                self._read_timeout,
                self.peername,
            )
            body.set_exception(BodyTimeout(TIMEOUT_DETAIL))
            self.close()  # after the answer
        elif self._handling:
            self._arm()  # the bytes of a next request wait for this answer: not the client's fault
        elif self.transport is not None:
            REFUSED.labels("header_timeout").inc()
            log.info(
                "request header not received in %ss: closing (from %s)",
                self._read_timeout,
                self.peername,
            )
            self.transport.write(_TIMEOUT_ANSWER)
            self.force_close()
