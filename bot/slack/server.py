"""HTTP mode: Slack's requests at ``/slack/events`` (checked by ``bot.slack.guard`` first),
``/healthz``, under waitress with limits that keep both answered under load."""

from __future__ import annotations

import json
import logging
import resource
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge, RequestHeaderFieldsTooLarge

from bot.slack.acks_first import InFlight
from bot.slack.guard import MAX_BODY, WSGIApp, guard_events, log_refusal, too_large
from bot.slack.health import Health

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"

# Open connections waitress keeps (its default is 100: a hundred idle sockets locked everyone
# else out, /healthz included). Idle and slow connections cost a socket each, not a thread:
# waitress hands a request to a thread only once it has arrived whole.
CONNECTION_LIMIT = 1000
# Each connection may hold a socket and a spooled request body; plus room for the database
# pool, git, logs and the listening socket.
FDS_PER_CONNECTION = 2
FDS_RESERVED = 200
# Close a connection idle this long. Above the idle timeout of common load balancers (60 s),
# so they close first and never send on a socket we are closing; nginx's default too.
IDLE_TIMEOUT = 75
# How often waitress looks for idle connections to close.
CLEANUP_INTERVAL = 5


class _RefusedByWaitress(ErrorTask):
    """waitress's own answers to a request it will not hand over — a body over the limit
    (from its Content-Length, unread), headers too large, a request line or header it cannot
    parse — each logged in the guard's one line. (A 500 is logged by waitress itself, with
    its traceback.)"""

    def execute(self) -> None:
        request, error = self.request, self.request.error
        # waitress's own words name its settings ("exceeds max_body of 1048577"): say ours.
        known = True
        if isinstance(error, RequestEntityTooLarge):
            error.body = too_large(None if request.chunked else request.content_length, MAX_BODY)
        elif isinstance(error, RequestHeaderFieldsTooLarge):
            error.body = f"headers over the {self.channel.adj.max_request_header_size}-byte limit"
            known = False  # waitress stops reading and takes it for "GET /"
        if error.code != 500:
            # A request line that did not parse leaves no method or path.
            method = getattr(request, "command", None) if known else None
            path = getattr(request, "path", None) if known else None
            remote = str(self.channel.addr[0]) if self.channel.addr else ""
            log_refusal(method or "", path or "", remote, error.code, error.body)
        super().execute()


class _Channel(HTTPChannel):
    """A waitress connection that never invites a body it has already refused.

    waitress answers ``Expect: 100-continue`` with ``100 Continue`` as soon as the headers
    are in, even when they already refuse the request (a Content-Length over the limit): the
    client would then send its 100 MB. Here the refusal goes out instead.
    """

    error_task_class = _RefusedByWaitress

    def send_continue(self) -> None:
        if self.request is not None and self.request.error is not None:
            self.request.expect_continue = False  # the 413 (or 400) is the answer
            return
        super().send_continue()


def make_wsgi_app(
    app: App, signing_secret: str, health: Health, in_flight: InFlight | None = None
) -> WSGIApp:
    events = guard_events(app, signing_secret, in_flight=in_flight)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == EVENTS_PATH:
            return events(environ, start_response)
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            code, report = health.report()
            return _json(start_response, code, report)
        return _json(start_response, 404, {"error": "not found"})

    return wsgi


def _json(start_response: Callable[..., Any], code: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode() + b"\n"
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[code]
    start_response(
        f"{code} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def connection_limit(wanted: int = CONNECTION_LIMIT) -> int:
    """Raise this process's open-file limit to fit ``wanted`` connections (up to the hard
    limit, which only root can raise); fewer connections when it cannot."""
    need = wanted * FDS_PER_CONNECTION + FDS_RESERVED
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            log.debug("could not raise the open-file limit", exc_info=True)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return wanted
    fits = max(10, (soft - FDS_RESERVED) // FDS_PER_CONNECTION)
    log.warning(
        "open-file limit %d (hard %s) fits %d connections, not %d: raise it (ulimit -n %d)",
        soft, hard, fits, wanted, need,
    )  # fmt: skip
    return fits


class Server:
    """A production WSGI server (waitress: threads, no shell, no reloader) that can be
    stopped from another thread or a signal handler without a stray traceback."""

    def __init__(self, wsgi: WSGIApp, host: str, port: int, threads: int = 8) -> None:
        server = create_server(
            wsgi, host=host, port=port, threads=threads, ident="curator",
            connection_limit=connection_limit(),
            channel_timeout=IDLE_TIMEOUT,
            cleanup_interval=CLEANUP_INTERVAL,
            # select() cannot watch a socket numbered 1024 or more; poll() can.
            asyncore_use_poll=True,
            # waitress answers 413 itself, from Content-Length, before reading the body (its
            # own limit is ">= max", ours "> MAX_BODY"), and _RefusedByWaitress logs it;
            # bodies past 512 KiB spool to disk.
            max_request_body_size=MAX_BODY + 1,
        )  # fmt: skip
        assert isinstance(server, BaseWSGIServer)  # one host and port: one socket
        server.channel_class = _Channel
        self._server = server
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def run(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            # Closing the socket under waitress's loop ends it with an error; ours is expected.
            if not self._stopping.is_set():
                raise

    def close(self) -> None:
        self._stopping.set()
        self._server.close()


def make_server(wsgi: WSGIApp, host: str, port: int, threads: int = 8) -> Server:
    return Server(wsgi, host, port, threads)
