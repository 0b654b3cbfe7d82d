"""A local stand-in for Slack's Web API, over real HTTP, that records every call.

It keeps just enough state (messages, reactions, users, user groups) for the bot to work
against it, and can be told to answer a method with HTTP 429 or 500 for a while.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = "UCURATOR"
DEFAULT_SCOPES = (
    "chat:write,reactions:read,reactions:write,channels:history,usergroups:read,channels:read,"
    "users:read,im:write,"
    "commands"
)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Failure:
    method: str
    status: int
    retry_after: int | None
    skip: int  # let this many calls through first
    times: int
    error: str = "ratelimited"


@dataclass
class SlackStandIn:
    users: dict[str, str] = field(default_factory=dict)  # id -> display name
    deactivated: set[str] = field(default_factory=set)  # user ids users.info calls deleted
    # id -> name of the channels conversations.list shows; the bot is in every channel but
    # those in ``outside``.
    channels: dict[str, str] = field(default_factory=lambda: {"CCURATION": "curation"})
    outside: set[str] = field(default_factory=set)
    groups: dict[str, list[str]] = field(default_factory=dict)
    scopes: str = DEFAULT_SCOPES
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    reactions: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    # Messages posted to a slash command's response_url (``/response/<id>``), by id.
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Messages to refuse as Slack refuses a message for what it holds: (test, error).
    refusals: list[tuple[Any, str]] = field(default_factory=list)
    port: int = 0  # a fixed port: a Slack that comes up where the bot was told to look
    # (status, HTML) to answer every Web API call with: a server that is not Slack's Web API
    # (a wrong SLACK_API_URL). Calls are still recorded.
    page: tuple[int, bytes] | None = None
    # Home tab views published (views.publish), by user, in order.
    views: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    connections: int = 0  # TCP connections accepted

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()  # connections not yet closed
        self._ts = itertools.count(1)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, a kept connection would
            # wait out the client's delayed ACK (40 ms) before the body, as no real server does.
            disable_nagle_algorithm = True

            def setup(self) -> None:  # once per connection, however many requests it carries
                super().setup()
                with standin._lock:
                    standin.connections += 1
                    standin._open.add(self.connection)

            def finish(self) -> None:
                with standin._lock:
                    standin._open.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/response/"):
                    standin._respond(self.path.removeprefix("/response/"), body)
                    self._send(200, "text/plain", b"ok")  # what Slack's response_url answers
                    return
                method = self.path.rsplit("/", 1)[-1]
                if standin.page is not None:
                    standin.calls.append(Call(method, {}, dict(self.headers)))
                    self._send(standin.page[0], "text/html", standin.page[1])
                    return
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(body or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                status, headers, payload = standin._answer(method, params, dict(self.headers))
                self._send(status, "application/json", json.dumps(payload).encode(), headers)

            def _send(
                self, status: int, kind: str, out: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- test controls ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> SlackStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, skip: int = 0,
        times: int = 1, error: str = "ratelimited",
    ) -> None:  # fmt: skip
        """Answer ``method`` with ``status`` and ``{"ok": false, "error": error}`` ``times``
        times, after letting ``skip`` through."""
        self.failures.append(Failure(method, status, retry_after, skip, times, error))

    def refuse(self, test: Any, error: str = "invalid_blocks") -> None:
        """Answer chat.postMessage with ``error`` for each message ``test(params)`` picks."""
        self.refusals.append((test, error))

    def response_url(self, key: str) -> str:
        """A slash command's response_url; what is posted to it lands in ``responses[key]``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/response/{key}"

    def _respond(self, key: str, body: bytes) -> None:
        with self._lock:
            self.responses.setdefault(key, []).append(json.loads(body or b"{}"))

    def close_idle(self) -> None:
        """Close every open connection, as a server does with those idle too long."""
        with self._lock:
            for sock in self._open:
                sock.shutdown(socket.SHUT_RDWR)

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def react(self, channel: str, ts: str, name: str, user: str) -> None:
        """A reaction made in Slack (what reactions.get will report)."""
        users = self.reactions.setdefault((channel, ts), {}).setdefault(name, [])
        if user not in users:
            users.append(user)

    def unreact(self, channel: str, ts: str, name: str, user: str) -> None:
        users = self.reactions.get((channel, ts), {}).get(name, [])
        if user in users:
            users.remove(user)

    # --- the API ----------------------------------------------------------------------

    def _answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(method, params, headers))
            for failure in self.failures:
                if failure.method == method and failure.times > 0:
                    if failure.skip > 0:
                        failure.skip -= 1
                        break
                    failure.times -= 1
                    extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                    return failure.status, extra, {"ok": False, "error": failure.error}
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            payload = handler(params)
            extra = {"X-OAuth-Scopes": self.scopes} if method == "auth.test" else {}
            return 200, extra, payload

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True, "url": "https://newsroom.slack.com/", "team": "Newsroom", "team_id": "T1",
            "user": "curator", "user_id": BOT_USER, "bot_id": "BCURATOR",
        }  # fmt: skip

    def _chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        message = {"user": BOT_USER, **p}
        if isinstance(message.get("blocks"), str):
            message["blocks"] = json.loads(message["blocks"])
        for test, error in self.refusals:
            if test(message):
                return {"ok": False, "error": error}
        if over_limits(message):
            return {"ok": False, "error": "invalid_blocks", "errors": over_limits(message)}
        if too_much_text(message):
            return {"ok": False, "error": "msg_blocks_too_long"}
        ts = f"{1_800_000_000 + next(self._ts)}.000100"
        message["ts"] = ts
        self.messages[(p["channel"], ts)] = message
        return {"ok": True, "channel": p["channel"], "ts": ts, "message": message}

    def _chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        key = (p["channel"], p["ts"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        update = dict(p)
        if isinstance(update.get("blocks"), str):
            update["blocks"] = json.loads(update["blocks"])
        if over_limits(update):
            return {"ok": False, "error": "invalid_blocks", "errors": over_limits(update)}
        if too_much_text(update):
            return {"ok": False, "error": "msg_blocks_too_long"}
        self.messages[key].update(update)
        return {"ok": True, "channel": p["channel"], "ts": p["ts"]}

    def _chat_getPermalink(self, p: dict[str, Any]) -> dict[str, Any]:
        ts = str(p["message_ts"]).replace(".", "")
        return {
            "ok": True,
            "permalink": f"https://newsroom.slack.com/archives/{p['channel']}/p{ts}",
        }

    def _reactions_add(self, p: dict[str, Any]) -> dict[str, Any]:
        users = self.reactions.setdefault((p["channel"], p["timestamp"]), {}).setdefault(
            p["name"], []
        )
        if BOT_USER in users:
            return {"ok": False, "error": "already_reacted"}
        users.append(BOT_USER)
        return {"ok": True}

    def _reactions_get(self, p: dict[str, Any]) -> dict[str, Any]:
        key = (p["channel"], p["timestamp"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        reactions = [
            {"name": n, "users": list(u), "count": len(u)}
            for n, u in self.reactions.get(key, {}).items()
            if u
        ]
        return {"ok": True, "type": "message", "message": {"ts": key[1], "reactions": reactions}}

    def _views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        view = p["view"]
        if isinstance(view, str):
            view = json.loads(view)
        if len(json.dumps(view).encode()) > 250_000:
            return {"ok": False, "error": "view_too_large"}
        if view.get("type") != "home" or over_limits(view, blocks_max=100):
            return {"ok": False, "error": "invalid_arguments"}
        self.views.setdefault(p["user_id"], []).append(view)
        return {"ok": True, "view": {"id": "V1", "type": "home", **view}}

    def _usergroups_users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        if p["usergroup"] not in self.groups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.groups[p["usergroup"]]}

    def _users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        uid = p["user"]
        if uid not in self.users:
            return {"ok": False, "error": "user_not_found"}
        name = self.users[uid]
        return {"ok": True, "user": {"id": uid, "name": name.lower(), "real_name": name,
                                     "deleted": uid in self.deactivated,
                                     "profile": {"display_name": name}}}  # fmt: skip

    def _conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        found = [m for (ch, _), m in self.messages.items() if ch == p["channel"]]
        oldest = float(p.get("oldest") or 0)
        found = [m for m in found if float(m["ts"]) >= oldest]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        return {"ok": True, "messages": found, "has_more": False}

    def _conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        """A direct message with one user: its channel is ``D`` + the user's ID."""
        users = str(p.get("users") or "")
        if not users or "," in users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": f"D{users}"}}

    def dms(self, user: str) -> list[dict[str, Any]]:
        """The messages the bot sent ``user`` directly, oldest first."""
        found = [m for (ch, _), m in self.messages.items() if ch == f"D{user}"]
        return sorted(found, key=lambda m: float(m["ts"]))

    def _conversations_list(self, p: dict[str, Any]) -> dict[str, Any]:
        listed = [{"id": cid, "name": name} for cid, name in self.channels.items()]
        return {"ok": True, "channels": listed}

    def _conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        cid = p["channel"]
        name = self.channels.get(cid, "curation")
        return {
            "ok": True,
            "channel": {"id": cid, "name": name, "is_member": cid not in self.outside},
        }


def too_much_text(message: dict[str, Any]) -> bool:
    """chat.postMessage and chat.update refuse blocks with too much text in all; Slack
    does not document the limit, messages were refused from about 11,300 characters
    (slackapi/bolt-js#2509, #2867). The stand-in refuses from 11,000."""

    def texts(value: Any) -> int:
        if isinstance(value, dict):
            own = value.get("text")
            if value.get("type") in ("plain_text", "mrkdwn") and isinstance(own, str):
                return len(own)
            return sum(texts(v) for v in value.values())
        return sum(texts(v) for v in value) if isinstance(value, list) else 0

    return texts(message.get("blocks") or []) > 11_000


def over_limits(message: dict[str, Any], *, blocks_max: int = 50) -> list[str]:
    """Where a message breaks Slack's documented Block Kit limits, as Slack would refuse it.

    Written apart from ``bot.slack.limits`` (the bot's own checker), from the Block Kit
    reference: 50 blocks (a Home tab view 100); actions 1 to 25 buttons of 75 characters;
    section text 3,000, fields 10 of 2,000; header 150; context 10
    elements of 3,000; image_url 3,000 and alt_text 2,000; any text object 1 to 3,000.
    """
    found = []
    blocks = message.get("blocks") or []
    if len(blocks) > blocks_max:
        found.append(f"more than {blocks_max} blocks")

    def text(obj: Any, limit: int, where: str) -> None:
        value = obj.get("text") if isinstance(obj, dict) else None
        if not isinstance(value, str) or not 1 <= len(value) <= limit:
            found.append(f"{where}: text of {len(value or '')} characters, limit {limit}")

    def image(obj: dict[str, Any], where: str) -> None:
        if (
            len(obj.get("image_url") or "") > 3000
            or not 1 <= len(obj.get("alt_text") or "") <= 2000
        ):
            found.append(f"{where}: image_url or alt_text too long")

    for i, b in enumerate(blocks):
        where = f"blocks[{i}]"
        if b.get("type") == "section":
            if "text" in b:
                text(b["text"], 3000, where)
            if len(b.get("fields") or []) > 10:
                found.append(f"{where}: more than 10 fields")
            for f in b.get("fields") or []:
                text(f, 2000, where + ".fields")
            if (b.get("accessory") or {}).get("type") == "image":
                image(b["accessory"], where + ".accessory")
        elif b.get("type") == "header":
            text(b.get("text"), 150, where)
        elif b.get("type") == "context":
            if not 1 <= len(b.get("elements") or []) <= 10:
                found.append(f"{where}: 1 to 10 elements")
            for e in b.get("elements") or []:
                if e.get("type") == "image":
                    image(e, where)
                else:
                    text(e, 3000, where)
        elif b.get("type") == "actions":
            if not 1 <= len(b.get("elements") or []) <= 25:
                found.append(f"{where}: 1 to 25 elements")
            for e in b.get("elements") or []:
                text(e.get("text"), 75, where + ".button")
    return found


def not_slack(status: int) -> SlackStandIn:
    """A web server at SLACK_API_URL that is not Slack's Web API: every call gets ``status``
    and an HTML page."""
    return SlackStandIn(page=(status, b"<html><body>Our intranet</body></html>"))
