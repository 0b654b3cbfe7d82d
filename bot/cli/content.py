"""``curator scan`` and ``curator candidates``: the content repo and what it offers today."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.engine import Engine

from bot.candidate_pool import candidates_by_desk, on_no_desk
from bot.cli.context import Context, chosen_desks, desk_option
from bot.cli.terminal import json_safe
from storage.articles import ArticleView, scan_problems
from storage.controls import escape_controls
from storage.db import reading
from storage.git_command import GitError
from storage.locks import Busy
from storage.scan import scan as run_scan

if TYPE_CHECKING:
    from bot.config import Desk


@click.command()
@click.option("--full", is_flag=True, help="List the whole tree instead of diffing commits.")
@click.option("--errors", "show_errors", is_flag=True, help="List files that could not be read.")
@click.option("--no-fetch", is_flag=True, help="Scan what was last fetched.")
@click.pass_obj
def scan(ctx: Context, full: bool, show_errors: bool, no_fetch: bool) -> None:
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
    _revote(rt, result.commit)
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


def _revote(rt: Any, commit: str) -> None:
    """Cards whose article changed after the votes go back to a vote; with SLACK_BOT_TOKEN
    set their cards follow, as when the schedule scans."""
    from bot.slack.client import make_client
    from bot.slack.env import api_url
    from bot.slack.revote import revote_changed

    token = os.environ.get("SLACK_BOT_TOKEN")
    client = make_client(token, api_url()) if token else None
    now = datetime.now(UTC)
    moved = revote_changed(rt.engine, rt.config, commit=commit, now=now, client=client)
    if moved:
        click.echo(f"{len(moved)} card(s) changed since the votes: back to a vote")


def _print_errors(engine: Engine) -> None:
    """Files not read (skipped ones too), then files read with a warning; a file name or a
    value may hold ESC sequences or newlines, so every line goes through escape_controls()."""
    with reading(engine) as conn:
        errors = list(scan_problems(conn, kind="error"))
        warnings = list(scan_problems(conn, kind="warning"))
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
        self._bar.length = total  # the scan counts what it must read as git lists the tree
        self._bar.update(done - self._bar.pos)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


@click.command()
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (default per_day).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@desk_option()
@click.pass_obj
def candidates(ctx: Context, limit: int | None, as_json: bool, desk_name: str | None) -> None:
    """List what would be posted today, best first; when none qualify, say why. With desks,
    each desk's under its name (--desk NAME: that desk's only)."""
    from bot.house_rules import candidate_rules, routes

    rt = ctx.runtime()
    config = rt.config
    desks = chosen_desks(config, desk_name)
    every = desk_name is None and not config.desks[0].implicit  # each desk under its name
    now = datetime.now(UTC)
    found: list[tuple[Desk, list[ArticleView], str | None]] = []
    with reading(rt.engine) as conn:
        rules = [candidate_rules(config, desk) for desk in desks]
        for desk, (chosen, why) in zip(
            desks, candidates_by_desk(conn, rules, now=now, limit=limit), strict=True
        ):
            found.append((desk, chosen, why))
        # Every desk asked for, of a config with desks: say what no desk takes as well.
        nowhere = on_no_desk(conn, routes(config)) if every else 0
    if not every:
        _one_desk(*found[0], as_json=as_json)
        return
    if as_json:
        listed = {desk.name: [_as_json(a) for a in chosen] for desk, chosen, _ in found}
        click.echo(json_safe(json.dumps(listed, indent=2, ensure_ascii=False)))
    for desk, chosen, why in found:
        if as_json:
            if why:
                click.echo(f"{desk.name}: {why}", err=True)  # stdout stays JSON
            continue
        click.echo(f"{desk.name} ({desk.channel}):")
        if why:
            click.echo(f"    {why}")
        for i, a in enumerate(chosen, 1):
            click.echo(_as_line(i, a))
    are = "article is" if nowhere == 1 else "articles are"
    click.echo(f"{nowhere:,} unpublished {are} on no desk's topics", err=as_json)


def _one_desk(desk: Desk, chosen: list[ArticleView], why: str | None, *, as_json: bool) -> None:
    """One desk's candidates, as a config without desks has always shown them."""
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
