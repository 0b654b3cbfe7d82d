"""The HTTP endpoint against what the internet sends it: oversized, unsigned, malformed and
slow requests, under the production server. Nothing here may cost a 500, a traceback, a
body in the log, or /healthz."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bot.config import Config, config_from_mapping
from bot.slack.guard import MAX_BODY
from storage import migrate
from storage.db import make_engine
from tests.slack_requests import (
    SIGNING_SECRET,
    bot_app,
    post,
    reaction_event,
    send_event,
    serve_bot,
    sign,
)
from tests.slack_standin import SlackStandIn

MARKER = "BODY-MARKER-7f3a"  # appears in every test body: it must never reach the log


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    # The door is the same whatever the database: one SQLite database for the module.
    tmp = tmp_path_factory.mktemp("endpoint")
    return config_from_mapping(
        {"content": {"remote": str(tmp / "remote.git")}, "slack": {"channel": "#curation"}},
        path=tmp / "curator.yml",
        env={"DATABASE_URL": f"sqlite:///{tmp / 'curator.db'}"},
    )


@pytest.fixture(scope="module")
def engine(config: Config) -> Iterator[Engine]:
    eng = make_engine(config.database_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def endpoint(config: Config, engine: Engine, standin: SlackStandIn) -> Iterator[str]:
    with serve_bot(config, engine, standin.url) as url:
        yield url


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    assert MARKER not in caplog.text
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)


def event_body(pad: int = 0) -> bytes:
    payload = reaction_event(
        "reaction_added", user="UALICE", reaction="eyes", channel="C1", ts="1.000001",
        event_ts="1800000000.000001",
    )  # fmt: skip
    payload["note"] = MARKER + "x" * pad
    return json.dumps(payload).encode()


def raw(url: str, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are; the server's whole answer (it closes, or we stop at a
    complete response head plus its Content-Length)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as s:
        # The server may answer (and close) before taking it all: then read its answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(request)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                break
        return data


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.slack.guard"]


# --- item 7: size first, signature next, parsing last ---------------------------------


def test_a_huge_unsigned_body_is_refused_from_its_length_unread(endpoint, log):
    """10 MB announced, 1 KB sent: the 413 comes back without the server waiting for the
    rest (the socket would time out if it read on)."""
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {10 * 1024 * 1024}\r\n\r\n"
    ).encode()
    answer = raw(endpoint, head + MARKER.encode() * 50)
    assert status_of(answer) == 413


def test_the_limit_is_one_mebibyte_exactly(endpoint, log):
    at_limit = event_body()
    at_limit = event_body(MAX_BODY - len(at_limit))
    assert len(at_limit) == MAX_BODY
    headers = {"Content-Type": "application/json", **sign(at_limit)}
    assert post(endpoint, at_limit, headers)[0] == 200
    over = event_body(MAX_BODY - len(event_body()) + 1)
    head = "".join(f"{k}: {v}\r\n" for k, v in sign(over).items())
    request = f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: {len(over)}\r\n{head}\r\n"
    assert status_of(raw(endpoint, request.encode() + over)) == 413


@pytest.mark.parametrize(
    "headers, reason",
    [
        ({}, "no X-Slack-Request-Timestamp"),
        ({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}, "not a Unix time"),
        ({"X-Slack-Request-Timestamp": "²³", "X-Slack-Signature": "v0=00"}, "not a Unix time"),
        ({"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=00"}, "not a Unix"),
        ({"X-Slack-Request-Timestamp": "1000000000", "X-Slack-Signature": "v0=0"}, "replay"),
        ({"X-Slack-Request-Timestamp": "NOW"}, "no X-Slack-Signature"),
        ({"X-Slack-Request-Timestamp": "NOW", "X-Slack-Signature": "v0=00"}, "does not match"),
    ],
)
@pytest.mark.parametrize("body", [b"{not json " + MARKER.encode(), MARKER.encode() * 20_000])
def test_unsigned_requests_get_401_and_one_line_without_the_body(
    endpoint, log, headers, reason, body
):
    headers = {k: str(int(time.time())) if v == "NOW" else v for k, v in headers.items()}
    status, answer = post(endpoint, body, {"Content-Type": "application/json", **headers})
    assert status == 401 and reason in answer.decode()
    (line,) = refusals(log)
    assert line.startswith("refused 'POST' '/slack/events' from 127.0.0.1: 401 ")
    assert reason in line and "\n" not in line


def test_a_body_that_is_not_utf8_is_not_from_slack(endpoint, log):
    body = b"\xff\xfe" + MARKER.encode()
    status, answer = post(endpoint, body, {"Content-Type": "application/json", **sign(body)})
    assert status == 401 and b"not UTF-8" in answer


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"type": "event_callback", ' + MARKER.encode(), "application/json"),
        (b'["' + MARKER.encode() + b'"]', "application/json"),
        (b'"' + MARKER.encode() + b'"', "application/json"),
        (b"payload=%7Bnot-json" + MARKER.encode(), "application/x-www-form-urlencoded"),
        (b"payload=%5B1%5D&m=" + MARKER.encode(), "application/x-www-form-urlencoded"),
    ],
)
def test_signed_but_malformed_bodies_get_400(endpoint, log, body, content_type):
    status, _ = post(endpoint, body, {"Content-Type": content_type, **sign(body)})
    assert status == 400
    (line,) = refusals(log)
    assert ": 400 signed body" in line


def test_only_post_with_a_length(endpoint, log):
    assert status_of(raw(endpoint, b"GET /slack/events HTTP/1.1\r\nHost: x\r\n\r\n")) == 405
    no_length = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert status_of(raw(endpoint, no_length)) == 411
    assert status_of(raw(endpoint, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")) == 404


def test_a_signed_chunked_event_is_read_and_acked(endpoint, log):
    body = event_body()
    head = "".join(f"{k}: {v}\r\n" for k, v in sign(body).items())
    request = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{head}"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    for i in range(0, len(body), 100):
        piece = body[i : i + 100]
        request += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    assert status_of(raw(endpoint, request + b"0\r\n\r\n")) == 200


def test_a_chunked_body_past_the_limit_is_refused(endpoint, log):
    head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = MARKER.encode() * 4000
    chunks = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * (MAX_BODY // len(chunk) + 2)
    assert status_of(raw(endpoint, head + chunks + b"0\r\n\r\n")) == 413


def test_the_guard_reads_an_unbuffered_chunked_body_no_further_than_the_limit():
    """Under a server that passes chunked bodies through unread (waitress buffers them)."""
    from bot.slack.guard import guard_events

    class Endless:
        def __init__(self) -> None:
            self.read_sizes: list[int] = []

        def read(self, size: int) -> bytes:
            self.read_sizes.append(size)
            return b"x" * size

    stream, seen = Endless(), []
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "wsgi.input": stream,
        "HTTP_TRANSFER_ENCODING": "chunked", "REMOTE_ADDR": "192.0.2.1",
    }  # fmt: skip
    guard_events(None, "secret", max_body=1000)(environ, lambda s, h: seen.append(s))  # type: ignore[arg-type]
    assert seen == ["413 Content Too Large"] and stream.read_sizes == [1001]


HUGE = 100 * 1024 * 1024


@pytest.mark.parametrize(
    "request_bytes, status, reason",
    [
        (  # waitress refuses it from its Content-Length, unread
            f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: {HUGE}\r\n\r\n{MARKER}",
            413,
            f"body of {HUGE} bytes is over the {MAX_BODY}-byte limit",
        ),
        (
            "POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"40000\r\n{MARKER * 16384}\r\n" * 5
            + "0\r\n\r\n",
            413,
            f"chunked body over the {MAX_BODY}-byte limit",
        ),
        (
            f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1e9\r\n\r\n{MARKER}",
            400,
            "Content-Length is invalid",
        ),
        (
            "POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            501,
            "Transfer-Encoding requested is not supported.",
        ),
        (
            f"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Pad: {MARKER * 20000}\r\n\r\n",
            431,
            "headers over the 262144-byte limit",
        ),
    ],
    ids=["length", "chunked", "bad length", "encoding", "headers"],
)
def test_every_refusal_by_the_server_itself_is_one_line(
    endpoint, log, request_bytes, status, reason
):
    """Issue 9, item 7: waitress answered a body over the limit (and anything it cannot
    parse) itself, so those refusals left no log line; now each leaves the guard's."""
    assert status_of(raw(endpoint, request_bytes.encode())) == status
    method, path = ("", "") if status == 431 else ("POST", "/slack/events")
    assert refusals(log) == [f"refused {method!r} {path!r} from 127.0.0.1: {status} {reason}"]


def _expect_continue(url: str, length: int, headers: str = "") -> tuple[socket.socket, bytes]:
    """Send only a request head that asks `Expect: 100-continue` for a body of ``length``;
    the socket and the first thing the server says back."""
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"{headers}Expect: 100-continue\r\nContent-Length: {length}\r\n\r\n"
    )
    parts = urlsplit(url)
    s = socket.create_connection((parts.hostname, parts.port), timeout=10)
    s.sendall(head.encode())
    return s, s.recv(65536)


def test_expect_continue_over_the_limit_gets_413_not_an_invitation(endpoint, log):
    """Issue 9, item 7: `Expect: 100-continue` with 100 MB announced got `100 Continue` —
    go ahead, send it all — from waitress, which answers Expect once the headers are in."""
    s, answer = _expect_continue(endpoint, HUGE)
    with s:
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:40]
        assert b"100 Continue" not in answer
    assert refusals(log) == [
        f"refused 'POST' '/slack/events' from 127.0.0.1: 413 body of {HUGE} bytes is over "
        f"the {MAX_BODY}-byte limit"
    ]


def test_expect_continue_within_the_limit_is_invited_and_served(endpoint, log):
    body = event_body()
    signed = "".join(f"{k}: {v}\r\n" for k, v in sign(body).items())
    s, answer = _expect_continue(endpoint, len(body), signed)
    with s:
        assert answer == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        assert s.recv(65536).startswith(b"HTTP/1.1 200 ")
    assert refusals(log) == []


def test_a_valid_event_still_gets_through(endpoint, log):
    assert send_event(endpoint, json.loads(event_body())) == 200
    assert refusals(log) == []


def _mention(text: str) -> bytes:
    return json.dumps({
        "type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev1",
        "event": {"type": "app_mention", "user": "UALICE", "ts": "1.0", "channel": "C1",
                  "text": text},
    }).encode()  # fmt: skip


def _environ(body: bytes, headers: dict[str, str]) -> dict[str, object]:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1", "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }  # fmt: skip


def _status(wsgi, body: bytes, headers: dict[str, str]) -> int:
    started: list[str] = []
    b"".join(wsgi(_environ(body, headers), lambda status, _headers: started.append(status)))
    return int(started[0][:3])


def test_a_forged_request_never_reaches_a_listener(config, engine, standin, caplog):
    """Bolt's own signature check is off (the guard's is the one check): in its place, Bolt
    refuses every HTTP request that did not come through the guard, signed or not, whichever
    way it was handed in, and never logs its body. Replaces the test that Bolt's second
    check kept bodies out of its log line: there is no second check left to log."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_bolt.request import BoltRequest

    from bot.slack.guard import guard_events

    caplog.set_level(logging.DEBUG)
    app, _ = bot_app(config, engine, standin.url)
    heard: list[str] = []
    app.event("app_mention")(lambda event: heard.append(event["text"]))
    forged = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"}
    body = _mention(MARKER)
    guarded, bolts_own = guard_events(app, SIGNING_SECRET), SlackRequestHandler(app)

    assert _status(guarded, body, forged) == 401  # the door
    assert _status(bolts_own, body, forged) == 401  # Bolt's own adapter, around the door
    assert _status(bolts_own, body, sign(body)) == 401  # even signed: only the guard lets in
    for headers in (forged, sign(body)):  # straight into Bolt
        request = BoltRequest(
            body=body.decode(), headers={"content-type": "application/json", **headers}
        )
        assert app.dispatch(request).status == 401
    time.sleep(0.2)  # a listener Bolt had started would run on its executor by now
    assert heard == [] and MARKER not in caplog.text

    assert _status(guarded, _mention("let in"), sign(_mention("let in"))) == 200
    deadline = time.monotonic() + 10
    while heard != ["let in"]:  # the listener runs after the ack, on Bolt's executor
        assert time.monotonic() < deadline, heard
        time.sleep(0.02)


def test_a_signature_is_verified_once_per_request(config, engine, standin, monkeypatch):
    """The guard verifies; Bolt does not verify the same bytes again."""
    from slack_sdk.signature import SignatureVerifier

    from bot.slack.guard import guard_events

    checks: list[str] = []
    is_valid = SignatureVerifier.is_valid

    def counted(self, body, timestamp, signature):  # type: ignore[no-untyped-def]
        checks.append(signature)
        return is_valid(self, body, timestamp, signature)

    monkeypatch.setattr(SignatureVerifier, "is_valid", counted)
    guarded = guard_events(bot_app(config, engine, standin.url)[0], SIGNING_SECRET)
    body = event_body()
    assert _status(guarded, body, sign(body)) == 200
    assert len(checks) == 1


# --- item 8: many slow or idle clients -------------------------------------------------


def test_health_and_events_are_answered_while_hundreds_of_clients_idle(endpoint, log):
    """300 sockets that never send a byte, 40 that trickle a request head a byte at a time:
    waitress's defaults (100 connections) would leave /healthz and Slack waiting in the
    backlog for as long as they stay open."""
    parts = urlsplit(endpoint)
    address = (parts.hostname, parts.port)
    idle = [socket.create_connection(address, timeout=10) for _ in range(300)]
    slow = [socket.create_connection(address, timeout=10) for _ in range(40)]
    stop = threading.Event()

    def trickle() -> None:
        head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"y" * 10_000
        for byte in head:
            for s in slow:
                s.send(bytes([byte]))
            if stop.wait(0.05):
                return

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        health = raw(endpoint, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=15)
        assert status_of(health) == 200
        body = event_body()
        headers = {"Content-Type": "application/json", **sign(body)}
        assert post(endpoint, body, headers)[0] == 200
        # And again, once every idle socket has certainly been accepted.
        assert status_of(raw(endpoint, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) == 200
    finally:
        stop.set()
        trickler.join()
        for s in idle + slow:
            s.close()


@pytest.mark.parametrize(
    "soft, hard, expect",
    [
        (256, None, "1000 raised to 2200"),  # raised: the hard limit allows it
        (256, 256, "28 fits"),  # cannot be raised: fewer connections, and a line saying so
    ],
)
def test_the_open_file_limit_is_raised_to_fit_the_connections(soft, hard, expect):
    import resource
    import subprocess
    import sys

    if hard is None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY and hard < 2200:
            pytest.skip(f"this machine's hard open-file limit is {hard}")
    script = (
        "import logging, resource\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))\n"
        "logging.basicConfig(format='%(message)s')\n"
        "from bot.slack.server import connection_limit\n"
        "n = connection_limit()\n"
        "now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]\n"
        "print(n, 'raised to', now) if n == 1000 else print(n, 'fits')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expect
    if "fits" in expect:
        assert "raise it (ulimit -n 2200)" in done.stderr


# --- issue 9 review: no header or body makes the door itself fail ----------------------


@pytest.mark.parametrize(
    "signature",
    [b"v0=\xe9", b"v0=" + "é".encode() * 32, b"\xff\xfe", b"v1=" + b"0" * 64, b"v0=\x80abc"],
)
def test_a_signature_that_is_not_ascii_v0_is_a_401_not_a_500(endpoint, log, signature):
    """Through the real server: waitress hands header bytes over as latin-1 text, and a
    non-ASCII signature made slack_sdk's compare_digest raise TypeError (a 500, a traceback)."""
    body = event_body()
    stamp = str(int(time.time())).encode()
    request = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-Slack-Request-Timestamp: " + stamp + b"\r\nX-Slack-Signature: " + signature +
        b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip
    answer = raw(endpoint, request)
    assert status_of(answer) == 401 and b"not a v0= signature" in answer
    (line,) = refusals(log)
    assert line.endswith(": 401 X-Slack-Signature is not a v0= signature")


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Slack-Request-Timestamp: \xb2\xb3\r\nX-Slack-Signature: v0=00\r\n",
        b"X-Slack-Request-Timestamp: NOW\r\nX-Slack-Signature: v0=\xff\x00\r\n",
        b"X-Slack-Request-Timestamp: NOW\xe9\r\nX-Slack-Signature: \xe9\r\n",
        b"X-Slack-Request-Timestamp: NOW\r\nX-Slack-Signature: v0=\xe9\r\nX-Slack-Signature: x\r\n",
        b"X-Slack-Request-Timestamp: NOW\r\nX-Slack-Signature: v0=\xe9\r\nContent-Type: \xff\r\n",
        b"X-Slack-Request-Timestamp: NOW\r\nX-Slack-Signature: v0=\xe9\r\nContent-Length: \xb9\r\n",
    ],
)
def test_raw_header_bytes_never_cost_a_500(endpoint, log, headers):
    """Through the real server, bytes no client library would send: a 400 or a 401."""
    body = event_body()
    request = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
        + headers.replace(b"NOW", str(int(time.time())).encode())
        + (b"" if b"Content-Length" in headers else b"Content-Length: %d\r\n" % len(body))
        + b"\r\n" + body
    )  # fmt: skip
    assert status_of(raw(endpoint, request)) in (400, 401)


_HEADER_TEXT = st.binary(max_size=90).map(lambda b: b.decode("latin-1"))  # as WSGI gives it
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# The envelope's scalar fields. Slack's objects (event, view, actions...) are left out: a
# signed body is Slack's, and what its objects hold is Bolt's to read.
_SLACK_KEYS = st.sampled_from(
    ["type", "payload", "command", "team_id", "token", "challenge", "api_app_id", "ssl_check",
     "enterprise_id", "text", "trigger_id"]
)  # fmt: skip
_BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(_SLACK_KEYS, _JSON, max_size=4).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(_SLACK_KEYS, st.text(max_size=30) | _JSON.map(json.dumps), max_size=4).map(
        lambda v: urlencode(v).encode()
    ),
)


def _mostly(usual: st.SearchStrategy, other: st.SearchStrategy) -> st.SearchStrategy:
    """``usual`` three times in four: most requests get as far as the signature check."""
    return st.integers(0, 3).flatmap(lambda n: usual if n else other)


@st.composite
def slack_requests(draw: st.DrawFn) -> tuple[dict[str, str], bytes]:
    """Anything a client can put in the method, the headers and the body; signed rightly or
    wrongly, with or without a sensible timestamp."""
    body = draw(_BODIES)
    good = sign(body, SIGNING_SECRET)
    names = st.from_regex(r"HTTP_[A-Z_]{1,12}", fullmatch=True)
    headers: dict[str, str | None] = {
        **draw(st.dictionaries(names, _HEADER_TEXT, max_size=3)),
        "REQUEST_METHOD": draw(_mostly(st.just("POST"), st.just("GET") | _HEADER_TEXT)),
        "CONTENT_TYPE": draw(
            st.sampled_from(["application/json", "application/x-www-form-urlencoded"])
            | _HEADER_TEXT
        ),
        "CONTENT_LENGTH": draw(_mostly(st.just(str(len(body))), st.none() | _HEADER_TEXT)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": draw(
            _mostly(st.just(good["X-Slack-Request-Timestamp"]), st.none() | _HEADER_TEXT)
        ),
        "HTTP_X_SLACK_SIGNATURE": draw(
            _mostly(
                st.just(good["X-Slack-Signature"]) | _HEADER_TEXT.map("v0=".__add__) | _HEADER_TEXT,
                st.none(),
            )
        ),
    }  # fmt: skip
    return {k: v for k, v in headers.items() if v is not None}, body


@pytest.fixture(scope="module")
def guarded(config: Config, engine: Engine, standin: SlackStandIn):
    from bot.slack.guard import guard_events

    return guard_events(bot_app(config, engine, standin.url)[0], SIGNING_SECRET)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=slack_requests())
def test_no_request_makes_the_guard_raise_or_answer_500(guarded, request):
    """The WSGI callable itself, over generated methods, headers and bodies."""
    headers, body = request
    environ = {
        **headers, "PATH_INFO": "/slack/events", "QUERY_STRING": "", "REMOTE_ADDR": "192.0.2.1",
        "wsgi.input": io.BytesIO(body),
    }  # fmt: skip
    started: list[str] = []
    answer = b"".join(guarded(environ, lambda status, _headers: started.append(status)))
    (status,) = started
    assert status[:3] in {"200", "400", "401", "404", "405", "411", "413"}, (status, answer)


@pytest.mark.parametrize(
    "body, status",
    [
        # Bolt's own error handling breaks on it: the guard answers for the body's shape.
        (b'{"type": "event_callback", "event": null}', 400),
        # Bolt answers 500 and hands its failure to our error handler, which must log it.
        (b'{"type": "event_callback", "event": "' + MARKER.encode() + b'"}', 500),
    ],
)
def test_a_signed_event_that_is_not_an_object_never_escapes_the_guard(
    guarded, caplog, body, status
):
    """Slack never sends these (only a holder of the signing secret can): whatever Bolt makes
    of them, nothing is raised out through the server, and the body is not logged."""
    caplog.set_level(logging.INFO)
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in sign(body).items()},
    }  # fmt: skip
    started: list[str] = []
    guarded(environ, lambda answer, headers: started.append(answer))
    assert [answer[:3] for answer in started] == [str(status)]
    if status == 400:
        assert refusals(caplog)[-1].endswith(": 400 signed body Bolt cannot read (TypeError)")
    else:
        assert "listener failed on event_callback" in caplog.text
    assert MARKER not in caplog.text
