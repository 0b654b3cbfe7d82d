"""The ``curator`` command: a thin layer over ``bot`` and ``storage``."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy.engine import Engine

from bot.candidate_pool import todays_candidates, why_none
from bot.commands_publish import publish
from bot.config import Config, ConfigError, load_config, write_example
from bot.logs import setup_logging
from bot.outages import explain, slack_api_problem
from bot.runtime import Runtime, SchemaError, build_runtime
from bot.scrubbed_output import scrub_standard_streams
from bot.slack_client import api_url, make_client
from bot.slack_env import MissingSecrets, SlackEnv, slack_env
from bot.terminal import json_safe
from storage import migrate
from storage.controls import escape_controls
from storage.credentials import Scrubber
from storage.db import open_kept, redacted
from storage.gitrepo import GitError
from storage.locks import Busy
from storage.queries import ArticleView, scan_problems
from storage.scan import scan as run_scan

log = logging.getLogger(__name__)


class _Ctx:
    def __init__(self, config_path: Path, scrub: Callable[[str], str] | None = None) -> None:
        self.config_path = config_path
        # The process's scrubber: the logs, the output and what the jobs tell Slack.
        self.scrub = scrub or Scrubber(os.environ)
        self.database_url: str | None = None  # once known, for naming it in an outage

    def config(self) -> Config:
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    def runtime(self) -> Runtime:
        config = self.config()
        self.database_url = config.database_url
        try:
            return build_runtime(config)
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from None


class _Curator(click.Group):
    """Known outages (database, Slack, disk) end every command as one line and exit code 1;
    the traceback is logged at debug, so ``-v`` shows it. Usage errors keep click's code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            obj = ctx.obj if isinstance(ctx.obj, _Ctx) else None
            line = explain(
                exc,
                database_url=obj.database_url if obj else None,
                slack_api_url=api_url(),
            )
            if line is None:
                raise
            log.debug("%s", line, exc_info=True)
            raise click.ClickException(line) from None


@click.group(cls=_Curator)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default="curator.yml",
    envvar="CURATOR_CONFIG",
    show_default=True,
    help="The curator.yml to use (env CURATOR_CONFIG).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, verbose: bool) -> None:
    """Newsroom Curator: editors vote in Slack, the bot publishes to the content repo."""
    # Logs and everything printed go through one scrubber: secrets from the environment,
    # credential shapes, URL userinfo.
    scrub = Scrubber(os.environ)
    scrub_standard_streams(scrub)
    setup_logging(logging.DEBUG if verbose else logging.INFO, scrub)
    ctx.obj = _Ctx(config_path, scrub)


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def init(ctx: _Ctx, force: bool) -> None:
    """Write a commented example curator.yml to edit."""
    try:
        path = write_example(ctx.config_path, force=force)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}: set content.remote and slack.channel, then run 'curator scan'")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(ctx: _Ctx) -> None:
    """Create or upgrade the schema to the newest migration (the Procfile's release step)."""
    url = ctx.database_url = _database_url(ctx)
    engine = open_kept(url)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    click.echo(f"{redacted(url)}: schema {before or 'empty'} -> {after}")


def _database_url(ctx: _Ctx) -> str:
    # The release step runs where curator.yml may not exist; DATABASE_URL alone is enough.
    if not ctx.config_path.exists() and os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return ctx.config().database_url


@cli.command()
@click.option("--full", is_flag=True, help="List the whole tree instead of diffing commits.")
@click.option("--errors", "show_errors", is_flag=True, help="List files that could not be read.")
@click.option("--no-fetch", is_flag=True, help="Scan what was last fetched.")
@click.pass_obj
def scan(ctx: _Ctx, full: bool, show_errors: bool, no_fetch: bool) -> None:
    """Fetch the content repo and bring the database in line with its branch."""
    rt = ctx.runtime()
    if show_errors:
        _print_errors(rt.engine)
        return
    try:
        if not no_fetch:
            rt.repo.fetch()
        with _progress() as progress:
            # No commit: the scan reads the head once it is its turn (scans take turns).
            result = run_scan(
                rt.engine,
                rt.repo,
                rt.config.fields,
                rt.paths,
                full=full,
                progress=progress,
            )
    except Busy as exc:
        click.echo(f"{exc}; try again once it is done")  # not an error: that scan runs
        return
    except GitError as exc:
        raise click.ClickException(str(exc)) from None
    if result.reread:
        click.echo("read every article again: fields: or the way articles are read changed")
    warned = f", {result.warnings} read with a warning" if result.warnings else ""
    click.echo(
        f"scanned {result.scanned} at {result.commit[:12]} ({result.mode}): "
        f"{result.new} new, {result.changed} changed, {result.deleted} deleted, "
        f"{result.unchanged} unchanged, {result.errors} errors{warned}"
    )
    if result.errors or result.warnings:
        click.echo("see them with 'curator scan --errors'")


def _print_errors(engine: Engine) -> None:
    """Files not read (skipped ones too), then files read with a warning; a file name or a
    value may hold ESC sequences or newlines, so every line goes through escape_controls()."""
    with engine.connect() as conn:
        errors = list(scan_problems(conn, "error"))
        warnings = list(scan_problems(conn, "warning"))
    for path, reason in errors:
        click.echo(f"{escape_controls(path)}: {escape_controls(reason)}")
    for path, warning in warnings:
        click.echo(f"{escape_controls(path)}: warning: {escape_controls(warning)}")
    summary = f"{len(errors)} file(s) could not be read"
    if warnings:
        summary += f", {len(warnings)} read with a warning"
    click.echo(summary, err=True)


class _progress:
    """A progress bar on stderr for long scans, silent for short ones and non-terminals."""

    MIN_ITEMS = 2000

    def __enter__(self) -> Any:
        self._bar: Any = None
        return self.update

    def update(self, done: int, total: int) -> None:
        if total < self.MIN_ITEMS or not sys.stderr.isatty():
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="reading", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._bar.pos)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (default per_day).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def candidates(ctx: _Ctx, limit: int | None, as_json: bool) -> None:
    """List what would be posted today, best first; when none qualify, say why."""
    from bot.posting import candidate_rules

    rt = ctx.runtime()
    rules = candidate_rules(rt.config)
    now = datetime.now(UTC)
    with rt.engine.connect() as conn:
        chosen = todays_candidates(conn, rules, now=now, limit=limit)
        why = why_none(conn, rules, now=now) if not chosen else None
    if as_json:
        listed = json.dumps([_as_json(a) for a in chosen], indent=2, ensure_ascii=False)
        click.echo(json_safe(listed))
        if why:
            click.echo(why, err=True)  # stdout stays JSON
        return
    if why:
        click.echo(why)
    for i, a in enumerate(chosen, 1):
        click.echo(_as_line(i, a))


def _as_json(a: ArticleView) -> dict[str, Any]:
    out = {k: getattr(a, k) for k in ArticleView.__dataclass_fields__}
    out["dated"] = a.dated.isoformat() if a.dated else None
    out["first_seen_at"] = a.first_seen_at.isoformat()
    out["added_at"] = a.added_at.isoformat() if a.added_at else None
    out["topics"] = list(a.topics)
    out["related"] = list(a.related)
    return out


def _as_line(i: int, a: ArticleView) -> str:
    quality = f"{a.quality:g}" if a.quality is not None else "unscored"
    topics = ", ".join(a.topics) or "no topics"
    provider = a.provider_name or a.provider_domain or "unknown source"
    lines = [
        f"{i:>2}. [{quality}] {escape_controls(a.title or a.path)}",
        f"    {escape_controls(provider)} · {escape_controls(topics)} · {escape_controls(a.path)}",
    ]
    if a.url:
        lines.append(f"    {escape_controls(a.url)}")
    if a.related:
        lines.append(f"    related: {len(a.related)} link(s)")
    return "\n".join(lines)


def _slack(need: tuple[str, ...]) -> SlackEnv:
    try:
        return slack_env(need=need)
    except MissingSecrets as exc:
        raise click.ClickException(str(exc)) from None


def _slack_error(exc: Exception) -> str:
    """One line an operator can act on; `curator doctor` checks the rest."""
    if isinstance(exc, SlackApiError):
        return slack_api_problem(exc)
    return str(exc)


def _app(rt: Runtime, env: SlackEnv, client: WebClient, auth: SlackResponse) -> App:
    from bot.app import build_app

    return build_app(
        rt.config, rt.engine, token=env.bot_token, signing_secret=env.signing_secret,
        api_url=env.api_url, client=client, auth_test=auth,
    )  # fmt: skip


@contextmanager
def _starting() -> Iterator[None]:
    """Slack refusing a token is the operator's one line, and exit 1."""
    from bot.slack_startup import SlackRefused

    try:
        yield
    except SlackRefused as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.pass_obj
def run(ctx: _Ctx) -> None:
    """Run the bot over Socket Mode (the Procfile's worker): no public URL needed."""
    env = _slack(("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"))
    rt = ctx.runtime()
    from bot.slack_startup import connect_socket_mode, reach_slack

    # SIGTERM (a deploy, a scale-down) unwinds like Ctrl-C, so the lease is handed back
    # at once instead of another replica waiting it out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with _starting():
        client, auth = reach_slack(env)
        handler = connect_socket_mode(_app(rt, env, client, auth), client, env)
    try:
        with _scheduler(rt, client, auth["user_id"], ctx.scrub):
            log.info("connected to Slack over Socket Mode; channel %s", rt.config.slack.channel)
            threading.Event().wait()  # the work runs on Socket Mode's threads; wait for a signal
    finally:
        handler.close()


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", type=int, default=3000, envvar="PORT", show_default=True)
@click.option("--threads", type=int, default=8, show_default=True)
@click.pass_obj
def serve(ctx: _Ctx, host: str, port: int, threads: int) -> None:
    """Serve Slack's events over HTTP at /slack/events (the Procfile's web), plus /healthz."""
    env = _slack(("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"))
    rt = ctx.runtime()
    from bot.health import DatabaseHealth, Health, SlackHealth
    from bot.server import make_server, make_wsgi_app
    from bot.slack_client import single_try
    from bot.slack_startup import reach_slack

    slack = SlackHealth()
    with _starting():
        client, auth = reach_slack(env, slack)
    health = Health(DatabaseHealth(rt.engine), slack, recheck=single_try(client).auth_test)
    wsgi = make_wsgi_app(_app(rt, env, client, auth), env.signing_secret or "", health)
    server = make_server(wsgi, host, port, threads)
    with _scheduler(rt, client, auth["user_id"], ctx.scrub):
        log.info("listening on http://%s:%s/slack/events", host, server.port)
        signal.signal(signal.SIGTERM, lambda *_: server.close())
        server.run()


@contextmanager
def _scheduler(
    rt: Runtime, client: WebClient, bot_user: str, scrub: Callable[[str], str]
) -> Iterator[None]:
    """Run the scheduled jobs beside the listeners; the lease picks one replica to run them."""

    from bot.jobs import build_clockwork
    from bot.scheduler import start_scheduler

    clockwork = build_clockwork(rt, client, bot_user=bot_user, scrub=scrub)
    scheduler = start_scheduler(clockwork)
    try:
        yield
    finally:
        # Let a running job finish and record its outcome before the lease is handed on;
        # otherwise another replica could start the same work beside it.
        scheduler.shutdown(wait=True)
        clockwork.stop()


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the Block Kit JSON; send nothing.")
@click.pass_obj
def post(ctx: _Ctx, dry_run: bool) -> None:
    """Post today's candidates to the channel (once a day; a rerun resumes)."""
    from bot import posting

    rt = ctx.runtime()
    now = datetime.now(UTC)
    if dry_run:
        cards = posting.dry_run(rt.engine, rt.config, now)
        click.echo(json.dumps(cards, indent=2))
        if not cards:
            click.echo(posting.why_none_today(rt.engine, rt.config, now), err=True)
        return
    env = _slack(("SLACK_BOT_TOKEN",))
    try:
        report = posting.post_day(
            rt.engine, make_client(env.bot_token, env.api_url), rt.config, now
        )
    except (SlackApiError, LookupError) as exc:
        raise click.ClickException(_slack_error(exc)) from None
    skipped = f", {report.skipped} skipped (see curator status)" if report.skipped else ""
    click.echo(
        f"{report.day}: {report.planned} candidates, {report.posted} posted now, "
        f"{report.already} already posted, {report.remaining} left{skipped}"
    )
    if report.why_none:
        click.echo(report.why_none)
    if report.error:  # one line naming the fix; a rerun resumes where this one stopped
        raise click.ClickException(report.error)


@cli.command()
@click.pass_obj
def reconcile(ctx: _Ctx) -> None:
    """Re-read reactions on open cards, so votes cast while the bot was down count."""
    from bot.editors import Editors
    from bot.voting import reconcile as run_reconcile

    rt = ctx.runtime()
    env = _slack(("SLACK_BOT_TOKEN",))
    client = make_client(env.bot_token, env.api_url)
    try:
        bot_user = client.auth_test()["user_id"]
    except SlackApiError as exc:
        raise click.ClickException(_slack_error(exc)) from None
    editors = Editors(rt.config.slack.editors, rt.config.slack.editor_group)
    report = run_reconcile(
        rt.engine, client, rt.config, datetime.now(UTC), bot_user=bot_user, editors=editors
    )
    click.echo(f"checked {report.checked} posts: {report.changed} changed, {report.failed} failed")


@cli.command()
@click.pass_obj
def status(ctx: _Ctx) -> None:
    """Each job's last and next run, the scheduler's leader, the last commit, open posts."""
    from bot.status import status_lines

    rt = ctx.runtime()
    for line in status_lines(rt.engine, rt.config, datetime.now(UTC)):
        click.echo(escape_controls(line))  # titles, paths and job details come from others


@cli.command()
@click.option("--url", help="Public base URL for HTTP mode, e.g. https://curator.example.org")
@click.pass_obj
def manifest(ctx: _Ctx, url: str | None) -> None:
    """Print the Slack app manifest, with your slash command and request URL filled in."""
    from bot.manifest import render_manifest

    command = ctx.config().slack.command if ctx.config_path.exists() else "/digest"
    click.echo(render_manifest(command=command, base_url=url), nl=False)


@cli.command()
@click.pass_obj
def doctor(ctx: _Ctx) -> None:
    """Check config, database, content repo and Slack; each line is ok or a fix to apply."""
    from bot.doctor import run_checks

    ok = True
    for check in run_checks(ctx.config_path):
        ok &= check.ok
        mark = click.style("ok  ", fg="green") if check.ok else click.style("FIX ", fg="red")
        if check.ok and check.warn:
            mark = click.style("warn", fg="yellow")
        click.echo(f"{mark} {check.name}: {escape_controls(check.detail)}")
    if not ok:
        raise SystemExit(1)


from bot.commands_views import demo as _demo_command  # noqa: E402
from bot.commands_views import digest as _digest_command  # noqa: E402
from bot.commands_views import summary as _summary_command  # noqa: E402

cli.add_command(_digest_command)
cli.add_command(_summary_command)
cli.add_command(_demo_command)


cli.add_command(publish)


def main() -> None:
    cli(prog_name="curator")
