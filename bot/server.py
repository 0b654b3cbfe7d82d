"""HTTP mode: Slack's events at ``/slack/events`` (signatures verified by Bolt), ``/healthz``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.engine import Engine
from waitress.server import BaseWSGIServer, create_server

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App, engine: Engine) -> WSGIApp:
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            ok = _database_ok(engine)
            status = "200 OK" if ok else "503 Service Unavailable"
            body = b"ok\n" if ok else b"database unavailable\n"
            start_response(
                status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return wsgi


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        log.exception("health check: database unavailable")
        return False


class Server:
    """A production WSGI server (waitress: threads, no shell, no reloader) that can be
    stopped from another thread or a signal handler without a stray traceback."""

    def __init__(self, wsgi: WSGIApp, host: str, port: int, threads: int = 8) -> None:
        server = create_server(wsgi, host=host, port=port, threads=threads, ident="curator")
        assert isinstance(server, BaseWSGIServer)  # one host and port: one socket
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
