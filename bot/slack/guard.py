"""The door of ``/slack/events``: size, signature, then shape — before Bolt sees a byte.

Bolt's own adapter reads and parses the whole body before it checks the signature, and logs
the body of a request that fails the check. Here the order is the safe one: a body over the
limit is refused from its Content-Length without being read; the timestamp and signature
are checked on the raw bytes; only then is the body parsed, and a signed body that does not
parse is a 400, never a 500. A refusal is one log line (method, path, remote address,
reason), never the body.

The guard is the only signature check: Bolt's own (``RequestVerification``, which would
verify the same bytes again) is off, and ``require_the_guard`` puts a check in its place
that refuses any HTTP request Bolt is handed by anything but the guard. One verification
per request, and no way into a listener around it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.slack.acks_first import InFlight

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Slack's largest payloads are interactive ones that carry a whole view (Slack caps a view
# at 250 kB), form-encoded; 1 MiB leaves room for that and refuses anything bigger unread.
MAX_BODY = 1024 * 1024
# The key in a request's context that says it came through the guard: set only by the guard
# (a request's context is built by code, never from its body or headers).
GUARDED = "curator_guarded"
# Slack's rule: a request whose timestamp is more than five minutes off is a replay.
MAX_AGE = 5 * 60

_STATUS = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    405: "405 Method Not Allowed",
    411: "411 Length Required",
    413: "413 Content Too Large",
}


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def guard_events(
    app: App, signing_secret: str, *, max_body: int = MAX_BODY, in_flight: InFlight | None = None
) -> WSGIApp:
    """A WSGI app for Slack's requests: checked here, then dispatched to ``app``. While one is
    being answered, ``in_flight`` counts it (the events' work waits: ``bot.slack.acks_first``)."""
    verifier = SignatureVerifier(signing_secret)
    counting = in_flight.request if in_flight is not None else contextlib.nullcontext

    def events(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with counting():
            return _answer(environ, start_response)

    def _answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            body = _read_body(environ, max_body)
            text = _verify(environ, body, verifier)
            request = _parse(environ, text)
            response = _dispatch(app, request)
        except _Refused as refused:
            return _refuse(environ, start_response, refused)
        wsgi = WsgiHttpResponse(response.status, response.headers, response.body)
        start_response(wsgi.status, wsgi.get_headers())
        return wsgi.get_body()

    return events


def _read_body(environ: dict[str, Any], max_body: int) -> bytes:
    """Exactly the body, or a refusal; nothing over ``max_body`` is ever read."""
    method = environ.get("REQUEST_METHOD", "")
    if method != "POST":
        raise _Refused(405, f"method {method[:16]!r}: Slack only POSTs")
    length = environ.get("CONTENT_LENGTH") or ""
    if not length:
        # A server that hands over a chunked body unbuffered (waitress buffers it and sets
        # the length): read one byte past the limit, no more, to tell "too big" apart.
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            raise _Refused(411, "no Content-Length")
        body = environ["wsgi.input"].read(max_body + 1)
        if len(body) > max_body:
            raise _Refused(413, too_large(None, max_body))
        return body
    if not (length.isascii() and length.isdigit()) or len(length) > 18:
        raise _Refused(400, "Content-Length is not a number")
    size = int(length)
    if size > max_body:
        raise _Refused(413, too_large(size, max_body))
    body = environ["wsgi.input"].read(size)
    if len(body) != size:
        raise _Refused(400, f"body ended after {len(body)} of {size} bytes")
    return body


def _verify(environ: dict[str, Any], body: bytes, verifier: SignatureVerifier) -> str:
    """The body as text, once its timestamp and signature are Slack's."""
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not stamp:
        raise _Refused(401, "no X-Slack-Request-Timestamp")
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise _Refused(401, "X-Slack-Request-Timestamp is not a Unix time")
    skew = time.time() - int(stamp)
    if abs(skew) > MAX_AGE:
        raise _Refused(401, f"timestamp {int(skew)} s off, more than {MAX_AGE} s (a replay?)")
    if not signature:
        raise _Refused(401, "no X-Slack-Signature")
    # Header bytes arrive as latin-1 text; slack_sdk compares with hmac.compare_digest, which
    # raises on a non-ASCII str. Slack's signatures are "v0=" and hex: nothing else is compared.
    if not (signature.isascii() and signature.startswith("v0=")):
        raise _Refused(401, "X-Slack-Signature is not a v0= signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(401, "body is not UTF-8, so Slack did not send it") from None
    if not verifier.is_valid(text, stamp, signature):
        raise _Refused(401, "signature does not match SLACK_SIGNING_SECRET")
    return text


def _parse(environ: dict[str, Any], text: str) -> BoltRequest:
    """Bolt's request; a signed body Bolt cannot read (bad JSON, a list, a bad form) is a 400."""
    headers = WsgiHttpRequest(environ).get_headers()
    try:
        request = BoltRequest(
            body=text, query=environ.get("QUERY_STRING", ""), headers=headers,
            context={GUARDED: True},
        )  # fmt: skip
    except Exception as exc:  # building the request only parses the body: any error is its shape
        raise _Refused(400, f"signed body does not parse ({type(exc).__name__})") from None
    if not isinstance(request.body, dict):
        raise _Refused(400, "signed body is not a JSON object or a form")
    return request


def _dispatch(app: App, request: BoltRequest) -> BoltResponse:
    """Bolt's answer. Bolt turns a listener's or a middleware's failure into a 500 itself; an
    exception out of ``dispatch`` means its own error handling broke on a body it cannot read
    (``"event": null``: Slack never sends it), so it is the body's shape, as in ``_parse``."""
    try:
        return app.dispatch(request)
    except Exception as exc:
        log.debug("Bolt could not dispatch a signed request", exc_info=True)
        raise _Refused(400, f"signed body Bolt cannot read ({type(exc).__name__})") from None


class _OnlyThroughTheGuard(Middleware):
    """In Bolt's place of its signature check: an HTTP request that did not come through the
    guard is refused (401, one line, never the body). Socket Mode's requests come over the
    connection the app token opened, and are not signed: they pass, as with Bolt's check."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        if req.mode == "socket_mode" or req.context.get(GUARDED) is True:
            return next()
        log.warning("refused a request Bolt was handed around the guard: 401")
        return BoltResponse(status=401, body={"error": "invalid request"})


def require_the_guard(app: App) -> None:
    """Make ``app`` (built with ``request_verification_enabled=False``) refuse every HTTP
    request that ``guard_events`` did not check, before any other middleware or listener."""
    app._middleware_list.insert(0, _OnlyThroughTheGuard())  # Bolt has no public way first


def too_large(size: int | None, max_body: int) -> str:
    """Why a body is refused for its size (``None``: chunked, so no size was announced)."""
    if size is None:
        return f"chunked body over the {max_body}-byte limit"
    return f"body of {size} bytes is over the {max_body}-byte limit"


def log_refusal(method: str, path: str, remote: str, status: int, reason: str) -> None:
    """The one line a refused request leaves, whoever refused it (the server too): never the
    body. Method and path come from the request line: shown with repr, so they cannot forge
    lines."""
    log.warning("refused %.16r %.64r from %s: %d %s", method, path, remote or "?", status, reason)


def _refuse(
    environ: dict[str, Any], start_response: Callable[..., Any], refused: _Refused
) -> Iterable[bytes]:
    log_refusal(
        environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
        environ.get("REMOTE_ADDR", ""), refused.status, refused.reason,
    )  # fmt: skip
    body = f"{refused.reason}\n".encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    if refused.status == 405:
        headers.append(("Allow", "POST"))
    start_response(_STATUS[refused.status], headers)
    return [body]
