"""A Slack Web API client that keeps its HTTP connection open between calls.

slack_sdk's ``WebClient`` sends each call with ``urllib``, which opens a new connection (and,
to Slack, a new TLS session) every time and closes it after the answer: most of the cost of
a card's ``chat.update`` was that connection (bench/events.py). slack_sdk has no option for
keep-alive in its synchronous client, so this one replaces only the step that sends the
request: each thread keeps one ``http.client`` connection per host and reuses it. Everything
around it stays slack_sdk's: the request it builds, the timeout, the retry handlers (a 429
waited out, a 5xx or a dropped connection retried) and how errors reach them — a non-2xx
answer is an ``HTTPError`` and a failure to send a ``URLError``, as with ``urllib``.

A connection the server closed while it sat idle fails on the next request before any
answer comes back; that request is sent once more on a new connection (what the server did
not answer it did not run), and a connection idle for longer than ``IDLE_REUSE`` is not
reused at all. With a proxy configured, calls go through ``urllib`` as before.
"""

from __future__ import annotations

import ssl
import threading
import time
from http.client import HTTPConnection, HTTPResponse, HTTPSConnection, RemoteDisconnected
from io import BytesIO
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient

# Reuse a connection idle at most this long. Servers and load balancers close idle
# connections after a while (often 60 s or more); well under that, a reused connection is
# almost never one the other side is closing just then.
IDLE_REUSE = 30.0

# What a connection closed by the server while idle looks like on the next request.
_CLOSED_WHILE_IDLE = (RemoteDisconnected, ConnectionResetError, BrokenPipeError)

_Key = tuple[str, str, int]


class _Open(threading.local):
    """This thread's open connections, by (scheme, host, port), with when each was last used."""

    def __init__(self) -> None:
        self.connections: dict[_Key, tuple[HTTPConnection, float]] = {}


class KeepAliveWebClient(WebClient):
    """``WebClient`` that reuses one connection per thread and host (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open = _Open()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return super()._perform_urllib_http_request_internal(url, req)
        scheme = parts.scheme.lower()
        key = (scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = dict(req.header_items())
        for _ in range(2):
            conn, reused = self._connection(key)
            try:
                try:
                    conn.request(req.get_method(), target, body=req.data, headers=headers)
                except OSError as exc:
                    if reused and isinstance(exc, _CLOSED_WHILE_IDLE):
                        raise
                    raise URLError(exc) from exc  # as urllib reports a request not sent
                response = conn.getresponse()
                body = response.read()
            except _CLOSED_WHILE_IDLE:
                self._drop(key, conn)
                if reused:
                    continue  # closed by the server while idle: once more, on a new connection
                raise
            except BaseException:
                self._drop(key, conn)
                raise
            if response.will_close:
                self._drop(key, conn)
            else:
                self._open.connections[key] = (conn, time.monotonic())
            return self._answer(url, response, body)
        raise AssertionError("unreachable: the second try is on a new connection")

    def _connection(self, key: _Key) -> tuple[HTTPConnection, bool]:
        kept = self._open.connections.pop(key, None)
        if kept is not None:
            conn, used = kept
            if time.monotonic() - used <= IDLE_REUSE and conn.sock is not None:
                return conn, True
            conn.close()
        scheme, host, port = key
        conn: HTTPConnection
        if scheme == "https":
            context = self.ssl or ssl.create_default_context()
            conn = HTTPSConnection(host, port, timeout=self.timeout, context=context)
        else:
            conn = HTTPConnection(host, port, timeout=self.timeout)
        return conn, False

    def _drop(self, key: _Key, conn: HTTPConnection) -> None:
        conn.close()
        self._open.connections.pop(key, None)

    def _answer(self, url: str, response: HTTPResponse, body: bytes) -> dict[str, Any]:
        """What slack_sdk's urllib step returns for a 2xx, or the ``HTTPError`` it raises."""
        if not 200 <= response.status < 300:
            raise HTTPError(url, response.status, response.reason, response.headers, BytesIO(body))
        if response.headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.headers, "body": body}
        charset = response.headers.get_content_charset() or "utf-8"
        decoded = body.decode(charset)
        self._logger.debug(
            "Received the following response - status: %s, headers: %s, body: %s",
            response.status, dict(response.headers), decoded,
        )  # fmt: skip
        return {"status": response.status, "headers": response.headers, "body": decoded}
