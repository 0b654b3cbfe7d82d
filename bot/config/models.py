"""The shape of curator.yml as pydantic models: one per section, unknown keys refused.

Each setting says what it expects in its ``description`` (or, for integers, in its bounds),
which is what an error about it says; ``bot.config.explain`` puts pydantic's errors in those
words. The loader (``bot.config.loading``) turns a valid file into the settings the bot runs on.
"""

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.config.cron import Cron
from bot.config.errors import expected, problem
from bot.config.settings import DEFAULT_GRACE, REVOTE_DEFAULT
from bot.config.timing import Quiet, RemindBefore
from bot.config.values import (
    AUTHOR_FORMAT,
    CHANNEL,
    DESK_NAME,
    Text,
    branch_name,
    checked,
    commit_url_template,
    database_url,
    desk_name,
    emoji_name,
    git_author,
    git_remote,
    local_path,
    optional_channel,
    publish_template,
    slack_channel,
    slack_group_id,
    slack_user_id,
    slash_command,
    texts,
    time_zone_name,
)
from bot.rules.reminders import DURATION_FORMAT, QUIET_FORMAT
from storage.fields import FINGERPRINT_KEYS, FieldMap

MAX_PER_DAY = 50  # one Slack message per candidate: more than this floods the channel
DEFAULT_AUTHOR = "Newsroom Curator <curator@localhost>"
SECTION = "a mapping of settings"


def setting(default: Any = ..., *, what: str | None = None, each: str | None = None) -> Any:
    """A field that says what it expects (``each``: what each item or key of it is)."""
    return Field(default, description=what, json_schema_extra={"each": each} if each else None)


class Section(BaseModel):
    # strict: YAML's types are the file's types; "2" is not a number, 1 is not true.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _not_the_flag_key(key: str, info: ValidationInfo) -> str:
    """A ``set_on_publish`` key other than the publish flag (the loader gives its name)."""
    if key == (info.context or {}).get("flag", FieldMap().flag):
        raise problem(
            "the publish flag is set by the bot itself; remove this key",
            at=f"content.set_on_publish.{key}",
        )
    return key


class ContentSection(Section):
    remote: checked(git_remote) = setting(what="the content repo's git URL or local path")
    branch: checked(branch_name) = setting("main", what="a git branch name")
    # None: the default clone beside the config
    checkout: checked(local_path) | None = setting(None, what="a directory path")
    include: texts() = setting(("**/*.md",), what="a list of glob patterns", each="a glob pattern")
    exclude: texts() = setting((), what="a list of glob patterns", each="a glob pattern")
    author: checked(git_author) = setting(DEFAULT_AUTHOR, what=AUTHOR_FORMAT)
    commit_url: checked(commit_url_template) | None = setting(None, what="a URL containing {sha}")
    set_on_publish: Annotated[
        dict[
            Annotated[Text, AfterValidator(_not_the_flag_key)],
            Annotated[str, BeforeValidator(publish_template)],
        ],
        BeforeValidator(lambda v: {} if v is None else v),
    ] = setting({}, what="a mapping of frontmatter key to text", each="frontmatter key names")

    @field_validator("include")
    @classmethod
    def _some_included(cls, include: tuple[str, ...]) -> tuple[str, ...]:
        if not include:
            raise problem("expected at least one glob pattern, e.g. '**/*.md'")
        return include


def _some_emoji(publish: tuple[str, ...]) -> tuple[str, ...]:
    if not publish:
        raise problem("expected at least one emoji name, e.g. 'white_check_mark'")
    return publish


# The publish votes: one emoji at least, or nothing could ever be approved.
PublishEmoji = Annotated[texts(checked(emoji_name)), AfterValidator(_some_emoji)]
_EMOJI = "a list of emoji names like 'white_check_mark'"


class SlackSection(Section):
    """Votes count from ``editors`` (user IDs) and members of ``editor_group``."""

    # Required without desks (desk_problems says so); with them, failing jobs are told in
    # the first desk's channel unless this names another.
    channel: Annotated[str | None, BeforeValidator(optional_channel)] = setting(None, what=CHANNEL)
    editors: texts(checked(slack_user_id)) = setting(
        (), what="a list of Slack user IDs like 'U0123ABCD'", each="a Slack user ID"
    )
    editor_group: checked(slack_group_id) | None = setting(
        None, what="a user group ID like 'S0123ABCD'"
    )
    command: checked(slash_command) = setting("/digest", what="a slash command like '/digest'")
    summary_channel: Annotated[str | None, BeforeValidator(optional_channel)] = setting(
        None, what=CHANNEL
    )


def _revote_key(value: str) -> str:
    if value not in FINGERPRINT_KEYS:
        raise expected(
            f"one of {', '.join(FINGERPRINT_KEYS)} (quality and heat never count)", value
        )
    return value


class VotesSection(Section):
    """Vote emoji and thresholds; the two emoji sets never overlap."""

    model_config = ConfigDict(validate_default=True)  # a default reject meets publish too

    publish: PublishEmoji = setting(
        ("white_check_mark",), what="a list of emoji names like 'white_check_mark'",
        each="an emoji name",
    )  # fmt: skip
    reject: texts(checked(emoji_name)) = setting(
        ("x",), what="a list of emoji names like 'white_check_mark'", each="an emoji name"
    )
    quorum: Annotated[int, Field(ge=1)] = 2
    window_days: Annotated[int, Field(ge=1)] = 3
    revote_on: texts(checked(_revote_key)) = setting(
        REVOTE_DEFAULT, what="a list of article keys like [title, excerpt, url, body]",
        each="a key from fields: or body",
    )  # fmt: skip
    remind_before: RemindBefore = setting(timedelta(hours=24), what=DURATION_FORMAT)
    quiet_hours: Quiet = setting(None, what=QUIET_FORMAT)

    @field_validator("reject")
    @classmethod
    def _apart(cls, reject: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        both = [name for name in info.data.get("publish", ()) if name in reject]
        if both:
            raise problem(
                f"{', '.join(both)} is in both votes.publish and votes.reject; "
                "one reaction cannot mean both",
                at="votes",
            )
        return reject


class CandidatesSection(Section):
    per_day: Annotated[int, Field(ge=1, le=MAX_PER_DAY)] = 10
    min_quality: Annotated[float, Field(allow_inf_nan=False)] | None = setting(
        None, what="a number or null"
    )
    require_score: bool = setting(False, what="true or false")
    max_age_days: Annotated[int, Field(ge=1)] = 7
    topics: texts() = setting((), what="a list of topic names", each="a topic name")


def _grace_default(name: str) -> Any:
    return Field(DEFAULT_GRACE[name], ge=0)


class GraceSection(Section):
    """Minutes a slot missed while the bot was down may still run, per job."""

    refresh: int = _grace_default("refresh")
    post: int = _grace_default("post")
    publish: int = _grace_default("publish")
    summary: int = _grace_default("summary")
    reconcile: int = _grace_default("reconcile")
    expire: int = _grace_default("expire")
    remind: int = _grace_default("remind")


class ScheduleSection(Section):
    refresh: Cron = "*/15 * * * *"
    post: Cron = "0 9 * * mon-fri"
    publish: Cron = "0 * * * *"
    summary: Cron = "30 8 * * *"
    reconcile: Cron = "*/10 * * * *"
    expire: Cron = "5 0 * * *"
    remind: Cron = "*/15 * * * *"
    grace: Annotated[GraceSection, BeforeValidator(lambda v: {} if v is None else v)] = setting(
        GraceSection(), what="a mapping of job name to minutes"
    )
    lease_seconds: Annotated[int, Field(ge=2)] = 60


def _not_the_flag(name: str) -> Any:
    def check(value: str, info: ValidationInfo) -> str:
        if value == info.data.get("flag"):
            raise problem(
                f"{value!r} is also fields.{name}; the publish flag needs its own key",
                at="fields.flag",
            )
        return value

    return Annotated[Text, AfterValidator(check)]


_KEY = "a frontmatter key name"


class FieldsSection(Section):
    """The frontmatter key names; the flag must not share a key, or publishing would clobber it."""

    model_config = ConfigDict(validate_default=True)

    flag: Text = setting("published", what=_KEY)
    flag_style: Literal["published", "draft"] = setting(
        "published", what="'published' (true means live) or 'draft' (true means not live)"
    )
    title: _not_the_flag("title") = setting("title", what=_KEY)
    excerpt: _not_the_flag("excerpt") = setting("excerpt", what=_KEY)
    quality: _not_the_flag("quality") = setting("quality", what=_KEY)
    heat: _not_the_flag("heat") = setting("heat", what=_KEY)
    topics: _not_the_flag("topics") = setting("topics", what=_KEY)
    url: _not_the_flag("url") = setting("webUrl", what=_KEY)
    date: _not_the_flag("date") = setting("publishedDateTime", what=_KEY)
    provider: _not_the_flag("provider") = setting("provider", what=_KEY)
    images: _not_the_flag("images") = setting("images", what=_KEY)
    related: _not_the_flag("related") = setting("related", what=_KEY)


class DeskSection(Section):
    """One desk. Every key but ``name`` and ``channel`` may be left out: a desk takes what it
    does not set from ``slack:``, ``votes:``, ``candidates:`` and ``schedule.post``."""

    name: checked(desk_name) = setting(what=DESK_NAME)
    channel: Annotated[str, BeforeValidator(slack_channel)] = setting(what=CHANNEL)
    topics: texts() = setting((), what="a list of topic names", each="a topic name")
    # A key left out takes the shared value (``own``); one written must be valid as written:
    # ``quorum: null`` is a mistake, not "the default".
    editors: texts(checked(slack_user_id)) = setting(
        (), what="a list of Slack user IDs like 'U0123ABCD'", each="a Slack user ID"
    )
    editor_group: checked(slack_group_id) | None = setting(
        None, what="a user group ID like 'S0123ABCD'"
    )
    post: Cron = None  # off: this desk never posts
    # votes.* for this desk
    publish: PublishEmoji = setting((), what=_EMOJI, each="an emoji name")
    reject: texts(checked(emoji_name)) = setting((), what=_EMOJI, each="an emoji name")
    quorum: int = Field(None, ge=1)
    window_days: int = Field(None, ge=1)
    remind_before: RemindBefore = setting(None, what=DURATION_FORMAT)
    quiet_hours: Quiet = setting(None, what=QUIET_FORMAT)
    # candidates.* for this desk (``topics`` here routes articles to the desk)
    per_day: int = Field(None, ge=1, le=MAX_PER_DAY)
    min_quality: Annotated[float, Field(allow_inf_nan=False)] | None = setting(
        None, what="a number or null"
    )
    require_score: bool = setting(None, what="true or false")
    max_age_days: int = Field(None, ge=1)

    def own(self, keys: tuple[str, ...]) -> dict[str, Any]:
        """Those of ``keys`` (``VOTE_KEYS``, ``CANDIDATE_KEYS``) this desk sets itself."""
        return {key: getattr(self, key) for key in keys if key in self.model_fields_set}

    def voters(
        self, editors: tuple[str, ...], group: str | None
    ) -> tuple[tuple[str, ...], str | None]:
        """(editors, editor_group) of this desk: its own when it names either, else the
        shared ones given; never a mix, or a shared group's members would vote in every desk."""
        if self.model_fields_set & {"editors", "editor_group"}:
            return self.editors, self.editor_group
        return editors, group


VOTE_KEYS = ("publish", "reject", "quorum", "window_days", "remind_before", "quiet_hours")
CANDIDATE_KEYS = ("per_day", "min_quality", "require_score", "max_age_days")


def _desk_list(value: Any) -> Any:
    """YAML's list, as the tuple a frozen file holds (strict mode takes no list for one)."""
    return () if value is None else tuple(value) if isinstance(value, list) else value


class File(Section):
    """The whole file. Sections left out or empty take their defaults (``content`` and
    ``slack`` then report their required keys)."""

    timezone: Annotated[str, BeforeValidator(time_zone_name)] = "UTC"
    content: ContentSection = setting(what=SECTION)
    slack: SlackSection = setting(what=SECTION)
    votes: VotesSection = setting(VotesSection(), what=SECTION)
    candidates: CandidatesSection = setting(CandidatesSection(), what=SECTION)
    schedule: ScheduleSection = setting(ScheduleSection(), what=SECTION)
    fields: FieldsSection = setting(FieldsSection(), what=SECTION)
    database: Annotated[str | None, BeforeValidator(database_url)] = None
    desks: Annotated[tuple[DeskSection, ...], BeforeValidator(_desk_list)] = setting(
        (), what="a list of desks, each a mapping with at least name and channel"
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        sections = ("content", "slack", "votes", "candidates", "schedule", "fields")
        return data | {name: {} for name in sections if data.get(name) is None}


def schema_keys() -> dict[str, tuple[str, ...]]:
    """Every key the file may hold: "" -> the top-level keys, section -> its keys."""
    keys = {"": tuple(File.model_fields)}
    for name, info in File.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, Section):
            keys[name] = tuple(info.annotation.model_fields)
    return keys
