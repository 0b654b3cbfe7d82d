"""Synthetic content repos shaped like the shared sample, for benchmarks.

Articles are not written to disk and ``git add``-ed one by one: the blobs and the commit are
streamed into ``git fast-import`` on a bare repo, so 100,000 articles take seconds. The repo
is deterministic for a given ``seed``.

    remote = generate_repo(tmp, 20_000)          # bare remote with branch main
    changed = change_share(remote, 0.01, seed=1)  # one more commit touching 1% of articles
    checkout(remote, tmp / "work")                # a working tree, for file-based baselines
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

BRANCH = "main"
AUTHOR = "Bench Collector <bench@example.org>"

TOPICS = (
    "AI", "Cities", "Computer Vision", "Climate", "Privacy", "Public Health", "Education",
    "Transportation", "Energy", "Cybersecurity", "Open Data", "Elections", "Housing",
    "Water", "Broadband", "Policing", "Budget", "Procurement", "Accessibility", "Robotics",
    "Cloud", "Digital Identity", "Drones", "Agriculture", "Space", "Biometrics",
    "Smart Grid", "Workforce", "Disaster Response", "Open Source",
)  # fmt: skip

PROVIDERS = (
    ("GCN", "gcn.com"), ("South China Morning Post", "scmp.com"),
    ("The National Law Review", "natlawreview.com"), ("Detroit Free Press", "freep.com"),
    ("The Financial Times", "ft.com"), ("Harvard Medical School", "harvard.edu"),
    ("KRDO", "krdo.com"), ("Seattle Times", "seattletimes.com"),
    ("Biometric Companies", "biometricupdate.com"), ("Route Fifty", "route-fifty.com"),
    ("StateScoop", "statescoop.com"), ("Wired", "wired.com"), ("The Verge", "theverge.com"),
    ("Le Monde", "lemonde.fr"), ("Reuters", "reuters.com"), ("BBC News", "bbc.co.uk"),
    ("Ars Technica", "arstechnica.com"), ("Government Technology", "govtech.com"),
    ("Nextgov", "nextgov.com"), ("Smart Cities Dive", "smartcitiesdive.com"),
)  # fmt: skip

_VOCABULARY = (
    "city council facial recognition police data privacy budget transit climate model "
    "deploy guidance standard vendor contract residents pilot program agency federal state "
    "county broadband network cloud security breach ransomware audit report survey drones "
    "sensor traffic camera housing water grid energy solar wind battery school district "
    "teachers students health hospital vaccine emergency response flood wildfire heat "
    "open source software platform procurement policy lawmakers commissioner watchdog "
    "regulation draft committee backlash enforcement ban moratorium accuracy bias algorithm "
    "machine learning vision identity biometric recognition oversight transparency public "
    "records request lawsuit court ruling café naïve résumé “smart” city’s mayor’s"
)
WORDS = _VOCABULARY.split()

_SLUG = re.compile(r"[^a-z0-9]+")
_START = datetime(2019, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = int((datetime(2026, 6, 30, tzinfo=UTC) - _START).total_seconds())


def _q(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def _when(rng: random.Random) -> datetime:
    return _START + timedelta(seconds=rng.randrange(_SPAN_SECONDS))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:00Z")


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(lo, hi))
    return " ".join(words).capitalize()


def _image(rng: random.Random, domain: str, indent: str) -> str:
    width = rng.choice((500, 760, 1000, 1200, 1426, 1600, 1920))
    height = width * rng.randint(45, 70) // 100
    token = base64.urlsafe_b64encode(rng.randbytes(12)).decode()
    return (
        f'{indent}- url: "https://cdn.{domain}/media/{token}.jpg"\n'
        f"{indent}  width: {width}\n"
        f"{indent}  height: {height}\n"
        f"{indent}  isCached: true\n"
    )


def _related(rng: random.Random) -> str:
    """One entry of ``related:`` with its nested provider and images, like the sample."""
    name, domain = rng.choice(PROVIDERS)
    title = _sentence(rng, 6, 14)
    slug = _SLUG.sub("-", title.lower()).strip("-")[:80]
    url = f"https://www.{domain}/{rng.randint(2019, 2026)}/{slug}"
    lines = [
        f"  - title: {_q(title)}\n",
        f"    excerpt: {_q(_sentence(rng, 20, 45) + '.')}\n",
        f"    publishedDateTime: {_iso(_when(rng))}\n",
        f'    webUrl: "{url}"\n',
    ]
    if rng.random() < 0.6:
        lines.append(f'    ampWebUrl: "{url}?amp=1"\n')
        amp_host = domain.replace(".", "-")
        lines.append(
            f'    cdnAmpWebUrl: "https://{amp_host}.cdn.ampproject.org/c/s/{domain}/{slug}?amp=1"\n'
        )
    lines += [
        "    type: article\n",
        "    provider:\n",
        f"      name: {name}\n",
        f"      domain: {domain}\n",
        f"    quality: {rng.randint(0, 100)}\n",
    ]
    if rng.random() < 0.85:
        lines.append("    images:\n")
        lines.append(_image(rng, domain, "      "))
    return "".join(lines)


class _Writer:
    """Makes article text; related links come from a shared pool, as in a real feed."""

    def __init__(self, rng: random.Random, n: int) -> None:
        self.rng = rng
        self.pool = [_related(rng) for _ in range(max(50, min(n, 5000)))]

    def article(self, index: int, published: bool) -> tuple[str, str]:
        """(path, text) of article ``index``."""
        rng = self.rng
        when = _when(rng)
        title = _sentence(rng, 5, 13)
        slug = _SLUG.sub("-", title.lower()).strip("-")[:60]
        path = f"news/{when:%Y/%m}/{slug}-{index:06d}.md"
        name, domain = rng.choice(PROVIDERS)
        url = f"https://{domain}/articles/{when:%Y/%m/%d}/{slug}.aspx"
        topics = rng.sample(TOPICS, rng.randint(1, 3))
        images = "".join(_image(rng, domain, "  ") for _ in range(rng.randint(0, 2)))
        related = "".join(rng.sample(self.pool, rng.randint(2, 8)))
        secured = base64.b64encode(rng.randbytes(rng.randint(380, 460))).decode()
        secured += ";" + base64.b64encode(rng.randbytes(16)).decode()
        paragraphs = "\n\n".join(
            ". ".join(_sentence(rng, 8, 20) for _ in range(rng.randint(2, 5))) + "."
            for _ in range(rng.randint(2, 5))
        )
        text = (
            "---\n"
            "category: news\n"
            f"title: {_q(title)}\n"
            f"excerpt: {_q(_sentence(rng, 15, 35) + '.')}\n"
            f"publishedDateTime: {_iso(when)}\n"
            f'originalUrl: "{url}"\n'
            f'webUrl: "{url}"\n'
            "type: article\n"
            f"quality: {rng.randint(0, 100)}\n"
            f"heat: {rng.randint(-5, 20)}\n"
            f"published: {'true' if published else 'false'}\n"
            "\n"
            "provider:\n"
            f"  name: {name}\n"
            f"  domain: {domain}\n"
            "\n"
            "topics:\n" + "".join(f"  - {t}\n" for t in topics) + "\n"
            + ("images:\n" + images if images else "images: []\n") + "\n"
            "related:\n" + related + "\n"
            f'secured: "{secured}"\n'
            "---\n"
            "\n"
            f"# {title}\n\n{paragraphs}\n"
        )  # fmt: skip
        return path, text


def _break(text: str, kind: int) -> str:
    """Spoil an article the way real repos get spoiled; each kind fails the safe loader."""
    if kind == 0:  # bad YAML: an unclosed flow sequence in a key every scan reads
        return text.replace("\nquality: ", "\nquality: [", 1)
    if kind == 1:  # no frontmatter at all, just the Markdown
        return text[text.index("\n---\n", 4) + 5 :].lstrip("\n")
    # a pickled-looking Python object: the safe loader must refuse the tag
    return text.replace("\nprovider:\n", "\nprovider: !!python/object:feeds.Provider\n", 1)


def _git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def _data(out: IO[bytes], payload: bytes) -> None:
    out.write(b"data %d\n" % len(payload))
    out.write(payload)
    out.write(b"\n")


class _FastImport:
    """A ``git fast-import`` process fed through a pipe."""

    def __init__(self, git_dir: Path) -> None:
        # Blobs above the threshold are stored whole, without fast-import's delta against the
        # previous blob: that chains unrelated articles 50 deep, and both the import and every
        # later read pay for it. A real repo's pack deltas versions of one file, not neighbours.
        self.proc = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "fast-import",
             "--quiet", "--big-file-threshold=1k", "--done"],
            stdin=subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stdin is not None
        self.out: IO[bytes] = self.proc.stdin

    def commit(self, message: str, parent: str | None, when: int) -> None:
        out = self.out
        out.write(f"commit refs/heads/{BRANCH}\n".encode())
        stamp = f"{AUTHOR} {when} +0000\n".encode()
        out.write(b"author " + stamp + b"committer " + stamp)
        _data(out, message.encode())
        if parent:
            out.write(f"from {parent}\n".encode())

    def finish(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed with exit {self.proc.returncode}")


def generate_repo(
    root: Path,
    n: int,
    *,
    seed: int = 0,
    published_share: float = 0.9,
    broken_share: float = 0.002,
) -> Path:
    """Build a bare remote at ``root/remote.git`` with ``n`` articles on ``main``; return it.

    ``published_share`` of the articles say ``published: true``, the rest ``false``;
    ``broken_share`` of them (at least one when the share is above zero) are broken in turn:
    bad YAML, no frontmatter, a ``!!python/object`` tag.
    """
    rng = random.Random(seed)
    root = Path(root)
    remote = root / "remote.git"
    _git("init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(remote))
    broken_count = min(n, max(1, round(n * broken_share))) if broken_share > 0 else 0
    broken = {i: k % 3 for k, i in enumerate(rng.sample(range(n), broken_count))}
    writer = _Writer(rng, n)
    importer = _FastImport(remote)
    out = importer.out
    paths: list[str] = []
    for i in range(n):
        path, text = writer.article(i, rng.random() < published_share)
        if i in broken:
            text = _break(text, broken[i])
        out.write(b"blob\nmark :%d\n" % (i + 1))
        _data(out, text.encode())
        paths.append(path)
    importer.commit(f"Collect {n} articles", None, 1_700_000_000)
    for i, path in enumerate(paths):
        out.write(b"M 100644 :%d %s\n" % (i + 1, path.encode()))
    out.write(b"\n")
    importer.finish()
    return remote


CACHE_ROOT = Path("/tmp")


def cached_repo(root: Path, n: int, *, seed: int = 0) -> tuple[Path, Path]:
    """``generate_repo``'s remote and a bare clone of it fetched by the bot, at
    ``root/remote.git`` and ``root/clone.git``; returns both.

    Generating a million articles and fetching them takes many minutes, so the pair is built
    once and kept under /tmp, named by n, seed and a digest of this file (a change to the
    generator builds anew): ``curator-bench-repo-<n>-s<seed>-<digest>``. Each run gets copies
    made of hard links (packs are never written in place; refs and config are replaced by
    rename), so what a run commits or fetches never reaches the cache.
    """
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]
    cache = CACHE_ROOT / f"curator-bench-repo-{n}-s{seed}-{digest}"
    if not cache.exists():
        building = Path(tempfile.mkdtemp(prefix=f"{cache.name}.building-", dir=CACHE_ROOT))
        try:
            remote = generate_repo(building, n, seed=seed)
            clone = building / "clone.git"
            _git("init", "--quiet", "--bare", str(clone))
            _git("--git-dir", str(clone), "remote", "add", "origin", str(remote))
            _git(
                "--git-dir", str(clone), "fetch", "--quiet", "--no-tags", "origin",
                f"+refs/heads/{BRANCH}:refs/remotes/origin/{BRANCH}",
            )  # fmt: skip
            building.rename(cache)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    root = Path(root)
    for name in ("remote.git", "clone.git"):
        _link_copy(cache / name, root / name)
    clone = root / "clone.git"
    _git("--git-dir", str(clone), "remote", "set-url", "origin", str(root / "remote.git"))
    return root / "remote.git", clone


def _link_copy(source: Path, dest: Path) -> None:
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another file system
            shutil.copy2(src, dst)

    shutil.copytree(source, dest, copy_function=link)


def _read_blobs(git_dir: Path, shas: list[str]) -> Iterator[bytes]:
    proc = subprocess.Popen(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin and proc.stdout
    try:
        for i in range(0, len(shas), 500):  # small writes: git blocks when its stdout is full
            chunk = shas[i : i + 500]
            proc.stdin.write("".join(s + "\n" for s in chunk).encode())
            proc.stdin.flush()
            for _ in chunk:
                size = int(proc.stdout.readline().split()[2])
                yield proc.stdout.read(size)
                proc.stdout.read(1)
    finally:
        proc.stdin.close()
        proc.wait()


_TOP = {key: re.compile(rb"^%s: *(\S+)$" % key.encode(), re.M) for key in ("heat", "quality")}
_FLAG = re.compile(rb"^published: *(true|false)$", re.M)


def _edit(blob: bytes, rng: random.Random, *, unpublish: bool) -> bytes:
    """What a collector's refresh does: new heat and quality. Now and then a candidate is
    published in the same commit; with ``unpublish``, as many live articles are also taken
    back to drafts (rare in a newsroom, and the costly case for a rescan: a draft is read
    whole)."""
    heat = _TOP["heat"].search(blob)
    if heat is None:  # a broken file without frontmatter: touch the body instead
        return blob + b"\nUpdated.\n"
    bumped = int(heat.group(1)) + 1 if heat.group(1).lstrip(b"-").isdigit() else 0
    blob = blob[: heat.start(1)] + b"%d" % bumped + blob[heat.end(1) :]
    quality = _TOP["quality"].search(blob)
    if quality is not None and quality.group(1).isdigit():
        blob = blob[: quality.start(1)] + b"%d" % rng.randint(0, 100) + blob[quality.end(1) :]
    flag = _FLAG.search(blob)
    if flag is not None and rng.random() < 0.1 and (unpublish or flag.group(1) == b"false"):
        new = b"false" if flag.group(1) == b"true" else b"true"
        blob = blob[: flag.start(1)] + new + blob[flag.end(1) :]
    return blob


def change_share(
    remote: Path, share: float, *, seed: int, unpublish: bool = False, recent: bool = False
) -> int:
    """Add one commit on ``main`` that edits ``share`` of the articles; return how many.

    Only the changed files appear in the commit (``M`` lines ``from`` the current tip).
    ``recent``: a collector refreshing recent months, so four in five of the changed files
    are among the newest 5% of the articles (paths start with the month), the rest anywhere;
    otherwise every article is as likely to change.
    """
    rng = random.Random(seed)
    remote = Path(remote)
    tip = _git("--git-dir", str(remote), "rev-parse", f"refs/heads/{BRANCH}")
    listing = _git("--git-dir", str(remote), "ls-tree", "-r", "-z", "--full-tree", tip)
    entries = []
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        if path.endswith(".md"):
            entries.append((path, meta.split()[2]))
    count = min(len(entries), round(len(entries) * share))
    if recent:
        entries.sort()  # oldest month first
        newest = len(entries) - max(1, len(entries) // 20)
        hot = min(len(entries) - newest, count * 4 // 5)
        picked = rng.sample(entries[newest:], hot) + rng.sample(entries[:newest], count - hot)
        picked.sort()
    else:
        picked = sorted(rng.sample(entries, count))
    blobs = _read_blobs(remote, [sha for _, sha in picked])
    edited = [_edit(blob, rng, unpublish=unpublish) for blob in blobs]
    when = 1_700_000_000 + int(_git("--git-dir", str(remote), "rev-list", "--count", tip)) * 3600
    importer = _FastImport(remote)
    out = importer.out
    importer.commit(f"Refresh {count} articles", tip, when)
    for (path, _), blob in zip(picked, edited, strict=True):
        out.write(b"M 100644 inline %s\n" % path.encode())
        _data(out, blob)
    out.write(b"\n")
    importer.finish()
    return count


def checkout(remote: Path, dest: Path) -> Path:
    """A normal clone with a working tree at ``dest``, as a writer would have it."""
    _git("clone", "--quiet", "--branch", BRANCH, str(remote), str(dest))
    return Path(dest)
