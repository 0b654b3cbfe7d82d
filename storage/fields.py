"""Which frontmatter keys hold which article facts (configurable per newsroom)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FlagStyle = Literal["published", "draft"]

#: What editors vote on (storage.fingerprint): the field map's names of what a card shows,
#: and ``body``, the Markdown after the frontmatter. Not ``flag``, ``quality`` or ``heat``: a
#: collector rescoring, or the bot's own publish commit, changes nothing editors read.
FINGERPRINT_KEYS = (
    "title", "excerpt", "url", "date", "provider", "images", "related", "topics", "body",
)  # fmt: skip


@dataclass(frozen=True)
class FieldMap:
    """Names of the frontmatter keys the bot reads; defaults follow the shared sample.

    ``flag`` is the key that says whether an article is live. With ``flag_style="published"``
    (the sample's convention) ``true`` means live; with ``"draft"`` (Hugo/Jekyll) ``true``
    means not live, so publishing sets it to ``false``.
    """

    flag: str = "published"
    flag_style: FlagStyle = "published"
    title: str = "title"
    excerpt: str = "excerpt"
    quality: str = "quality"
    heat: str = "heat"
    topics: str = "topics"
    url: str = "webUrl"
    date: str = "publishedDateTime"
    provider: str = "provider"
    images: str = "images"
    related: str = "related"

    def keys(self) -> frozenset[str]:
        """Every frontmatter key the bot reads."""
        return frozenset(
            (self.flag, self.title, self.excerpt, self.quality, self.heat, self.topics,
             self.url, self.date, self.provider, self.images, self.related)
        )  # fmt: skip

    def published_value(self) -> bool:
        """The flag value that marks an article as published."""
        return self.flag_style == "published"
