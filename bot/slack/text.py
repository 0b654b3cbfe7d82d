"""Article text made safe for Slack: shown as typed, never as markup, and within a budget.

Everything a message shows from an article (titles, excerpts, sources, topics, related
links, hold reasons) goes through these functions; nothing else puts article text in mrkdwn.

1. ``clean``: HTML entities from the source are decoded, at most two rounds, so a feed's
   double escaping (``&amp;#46;``) ends as the character (``.``) while text that merely
   talks about entities (``&amp;amp;amp;``) is not unwound without end. Only ``&name;``
   and ``&#number;`` forms count. Then control characters, bidi controls (U+202E) and
   zero-width characters are removed, and line breaks and runs of spaces become one space.
   Last, credential shapes (``storage.credentials.scrub``) are hidden as ``***``, as in the
   logs: only now does the text read as a reader would see it, so a token spelled with an
   entity (``xoxb&#45;…``) or split by a zero-width space is hidden too.
2. ``mrkdwn``: Slack has no escape for its formatting characters, and an invisible
   character beside one is not enough (a zero-width space counts as a word break and
   *enables* formatting). So ``* _ ~ ` `` become look-alikes Slack does not parse
   (∗ ˍ ∼ ˋ, the replacements jsx-slack uses), a colon that would open an emoji
   shortcode (``:x:``) becomes ∶ (U+2236), and a leading ``>`` gets a soft hyphen before it
   so it cannot start a quote. Then ``& < >`` are escaped: nothing can mention, link or
   format. Where no link is needed, ``plain`` text (a ``plain_text`` object with
   ``emoji: false``) shows the text exactly as typed.
3. Budgets are measured after escaping (``&`` costs five), in UTF-16 code units like
   ``bot.slack.limits.length``, and a cut never splits an entity, a ``<url|label>``, a
   surrogate pair or a character from its combining marks, emoji modifiers or joiners.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Sequence

from bot.slack.limits import IMAGE_URL_MAX, length
from storage.credentials import scrub

ELLIPSIS = "…"
DECODE_ROUNDS = 2
# The longest URL the bot links. Slack documents no limit for a link inside mrkdwn other
# than its text's 3,000; 2,000 is the web's practical limit (and leaves room for a label).
# A longer URL, or one that is not http(s), shows its label as text instead.
LINK_URL_MAX = 2_000
MIN_LABEL = 12  # a link whose label would be shorter than this is shown as text instead

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Removed outright: bidi embeddings, overrides, isolates and marks; zero-width spaces and
# joiners that are not part of an emoji; BOM; soft hyphen (we add our own, see above).
_DROP = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
)
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_PLAIN_SIZE = {ch: len(entity) for ch, entity in _ESCAPES.items()}  # plain text, as Slack keeps it
_LOOKALIKES = {
    "*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb",
    "\uff0a": "\ufe61", "\uff3f": "\u02cd", "\uff40": "\u02cb", "\uff5e": "\u223c",
}  # fmt: skip
RATIO = "\u2236"  # ∶ in place of a colon that would open :shortcode:
SOFT_HYPHEN = "\u00ad"
# A colon followed by an emoji name and another colon: the one to neutralise.
_SHORTCODE_OPEN = re.compile(r":(?=[\w+'\-]+:)")


def escape(text: str) -> str:
    """``& < >`` as entities: for the bot's own words (a command name, a channel)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def decode_entities(text: str) -> str:
    for _ in range(DECODE_ROUNDS):
        decoded = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if decoded == text:
            break
        text = decoded
    return text


# Anything ``clean`` would change: entities, controls, characters it drops, any whitespace
# but a plain space, lone surrogates. Most text has none and is returned as it is.
_UNCLEAN = re.compile(
    "[&\x00-\x1f\x7f-\xa0\u00ad\u061c\u1680\u180e\u2000-\u200f\u2028-\u202f"
    "\u205f-\u2064\u2066-\u2069\u3000\ufeff\ud800-\udfff]|  |^ | $"
)
# Anything ``mrkdwn`` would change once text is clean.
_UNSAFE = re.compile("[&<>*_~`|:\uff0a\uff1e\uff3f\uff40\uff5e]")


def clean(text: str | None) -> str:
    """Article text as one line of what a reader should see (see the module's step 1)."""
    if not text:
        return ""
    return _clean(str(text))


# A card or a digest line cleans the same title several times (link label, fallback text),
# and the same articles are shown again and again (cards, /digest, the summary).
@functools.lru_cache(maxsize=4096)
def _clean(text: str) -> str:
    if _UNCLEAN.search(text):
        kept = []
        for ch in decode_entities(text):
            if ch in _DROP:
                continue
            if "\ud800" <= ch <= "\udfff":  # a lone surrogate cannot be sent as JSON text
                kept.append("\ufffd")
            elif ch.isspace():
                kept.append(" ")
            elif unicodedata.category(ch) != "Cc":
                kept.append(ch)
        text = " ".join("".join(kept).split())
    # A token an article holds is no more welcome in Slack than in a log. Hidden last, once
    # it reads as the reader would see it (``xoxb&#45;…``, ``ghp_\u200b…`` are tokens too),
    # and before ``mrkdwn`` neutralises it, which would change its shape (``ghp_`` → ``ghpˍ``).
    return scrub(text)


def mrkdwn(text: str | None, budget: int, *, in_link: bool = False) -> str:
    """Article text for a mrkdwn object: inert, escaped, at most ``budget`` long."""
    shown = _clean_enough(text, budget)
    if not _UNSAFE.search(shown) and length(shown) <= budget:
        return shown  # nothing to neutralise or cut: most titles
    return _fit(shown, _mrkdwn_atoms(shown, in_link=in_link), budget)


def plain(text: str | None, budget: int) -> str:
    """Article text for a ``plain_text`` object (not escaped: Slack escapes plain_text
    itself); measured as if escaped, so it fits however Slack counts it."""
    shown = _clean_enough(text, budget)
    atoms = list(shown)
    return _fit(shown, atoms, budget, measure=[_PLAIN_SIZE.get(a, 0) or length(a) for a in atoms])


def link_target(url: str | None) -> str | None:
    """The URL as it goes inside ``<…|label>``, or None when it must not be linked."""
    url = _web_url(url, ("https://", "http://"), LINK_URL_MAX)
    if url is None:
        return None
    target = escape(url).replace("|", "%7C")  # a "|" would end the URL early
    return target if length(target) <= LINK_URL_MAX else None


def image_target(url: str | None) -> str | None:
    """The URL for an image block, or None when the card shows no image: ``link_target``'s
    checks (https only: Slack fetches it). A URL that holds a credential is not shown at all,
    not even hidden: Slack could not fetch ``?k=***`` and would refuse the whole card."""
    shown = _web_url(url, ("https://",), IMAGE_URL_MAX)
    return shown if shown is not None and shown == url else None


def link(url: str | None, label: str | None, budget: int, *, label_max: int | None = None) -> str:
    """``<url|label>`` within ``budget``; the label alone (as text) when the URL is not a
    web URL, is too long, or would leave the label too little room. Never cut inside."""
    label = label if _clean_enough(label, 0) else url
    limit = budget if label_max is None else min(budget, label_max)
    target = link_target(url)
    if target is not None:
        room = min(limit, budget - length(target) - 3)
        if room >= MIN_LABEL:
            shown = mrkdwn(label, room, in_link=True)
            if shown:
                return f"<{target}|{shown}>"
    return mrkdwn(label, limit)


def join_fitting(
    parts: Sequence[str],
    budget: int,
    *,
    sep: str = ", ",
    more: Callable[[int], str] = lambda n: f"and {n} more",
    total: int | None = None,
) -> str:
    """As many ``parts`` as fit in ``budget`` (in order), then "and N more" for the rest;
    ``total`` counts parts not even offered (a list cut short before). Parts are whole:
    a link is shown entirely or not at all."""
    total = len(parts) if total is None else total
    shown: list[str] = []
    used = 0
    for i, part in enumerate(parts):
        rest = total - i - 1
        tail = length(sep + more(rest)) if rest > 0 else 0
        add = length(part) + (length(sep) if shown else 0)
        if used + add + tail > budget:
            break
        shown.append(part)
        used += add
    text = sep.join(shown)
    hidden = total - len(shown)
    if hidden > 0:
        text += (sep if shown else "") + more(hidden)
    return text


def shown_items(
    items: Sequence[str | None],
    render: Callable[[str | None], str],
    budget: int,
    *,
    sep: str = ", ",
) -> str:
    """``join_fitting`` over rendered ``items`` (empty ones left out), rendering only as
    many as could possibly fit: each shown item costs at least one character and ``sep``."""
    offered = items[: budget // (1 + length(sep)) + 1]
    parts = [p for p in (render(item) for item in offered) if p]
    return join_fitting(parts, budget, sep=sep, total=len(parts) + len(items) - len(offered))


_TOKEN = re.compile(r"&[#A-Za-z0-9]{1,32};|<[^<>]*>|.", re.DOTALL)


def cut(built: str, budget: int) -> str:
    """Shorten mrkdwn the bot built (links, entities, its own markup) to ``budget``: a last
    resort for a line that should already fit, cut between whole entities and links."""
    if length(built) <= budget:
        return built
    tokens = _TOKEN.findall(built)
    return _fit(built, tokens, budget, text_of_atoms=True)


# --------------------------------------------------------------------------- internals


def _web_url(url: str | None, schemes: tuple[str, ...], longest: int) -> str | None:
    """``url`` with its credentials hidden, or None when it is not one to follow: another
    scheme, empty after it, longer than ``longest``, or holding a space, a control, bidi or
    invisible character (which could make it read as another URL)."""
    if not isinstance(url, str) or not url.lower().startswith(schemes):
        return None
    url = scrub(url)  # a password in the URL is not linked (nor shown)
    if len(url) <= len("https://") or length(url) > longest:
        return None
    if not url.isascii() or not url.isprintable():  # the common URL passes in one step
        if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in url):
            return None
    elif " " in url:
        return None
    return url


_SLACK = 64  # raw characters beyond the cut that cleaning may still need (an entity)


def _clean_enough(text: str | None, budget: int) -> str:
    """``clean(text)``, or enough of its start to fill ``budget`` and show it was cut: a
    megabyte excerpt costs what its first few thousand characters cost."""
    window = 2 * budget + _SLACK
    while text and len(text) > window:
        head = clean(text[:window])
        if len(head) > budget + _SLACK:  # every character costs at least one: cut well before
            return head
        window *= 4  # mostly what cleaning removes: look further
    return clean(text)


def _mrkdwn_atoms(text: str, *, in_link: bool) -> list[str]:
    """What each character of cleaned text becomes in mrkdwn (one atom per character, so a
    cut between atoms never splits an entity)."""
    opens = {m.start() for m in _SHORTCODE_OPEN.finditer(text)}
    atoms = []
    for i, ch in enumerate(text):
        if ch in _ESCAPES:
            atoms.append(_ESCAPES[ch])
        elif ch in _LOOKALIKES:
            atoms.append(_LOOKALIKES[ch])
        elif i in opens:
            atoms.append(RATIO)
        elif ch == "|" and in_link:
            atoms.append("¦")  # a "|" in a link's label would end it early
        else:
            atoms.append(ch)
    if text[:1] in (">", "\uff1e"):  # "&gt;" at the start of a line would start a quote
        atoms[0] = SOFT_HYPHEN + atoms[0]
    return atoms


def _fit(
    text: str,
    atoms: Sequence[str],
    budget: int,
    *,
    measure: Sequence[int] | None = None,
    text_of_atoms: bool = False,
) -> str:
    """The atoms joined, or as many as fit with an ellipsis, cut at a character boundary.

    ``text`` is what the atoms stand for, one character each (or, with ``text_of_atoms``,
    the atoms are tokens of ``text`` and each token's first character stands for it).
    """
    used = 0
    for i, atom in enumerate(atoms):
        used += measure[i] if measure is not None else length(atom)
        if used > budget:
            break
    else:
        return "".join(atoms)
    room = budget - length(ELLIPSIS)
    if room < 0:
        return ""
    k, used = 0, 0
    while k < len(atoms):
        size = measure[k] if measure is not None else length(atoms[k])
        if used + size > room:
            break
        used += size
        k += 1
    chars = [a[0] for a in atoms] if text_of_atoms else list(text)
    while 0 < k < len(chars) and _joins(chars, k):
        k -= 1
    while k > 0 and chars[k - 1] == " ":
        k -= 1
    return "".join(atoms[:k]) + ELLIPSIS


_RI = range(0x1F1E6, 0x1F200)  # regional indicators: two make a flag


def _joins(chars: Sequence[str], k: int) -> bool:
    """Whether cutting before ``chars[k]`` would split what a reader sees as one character."""
    nxt, prev = chars[k], chars[k - 1]
    cp = ord(nxt)
    if unicodedata.category(nxt) in ("Mn", "Mc", "Me") or prev == "\u200d" or nxt == "\u200d":
        return True
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:  # variation selectors
        return True
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:  # skin tones, tag sequences
        return True
    if cp in _RI and ord(prev) in _RI:
        run = 0
        while k - 1 - run >= 0 and ord(chars[k - 1 - run]) in _RI:
            run += 1
        return run % 2 == 1
    return False
