"""The demo's content: sixteen generated articles with varied topics, quality and sources,
the part each plays in the replayed days, and one broken draft."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Story:
    """A generated article; ``role`` is the part it plays in the replayed days."""

    slug: str
    title: str
    excerpt: str
    topics: tuple[str, ...]
    quality: int
    heat: int
    provider: tuple[str, str]
    hours_old: int
    related: int = 1
    role: str = "candidate"  # candidate | live | waiting | approved | rejected | published


STORIES = (
    Story("city-ai-procurement", "Cities write the first rules for buying AI systems",
          "Procurement officers in 14 cities agreed on shared clauses for auditing algorithms "
          "before contracts are signed.", ("AI", "Procurement"), 91, 12,
          ("Route Fifty", "route-fifty.com"), 5, related=3),
    Story("heat-pumps-public-housing", "Heat pumps cut public housing bills by a third",
          "A two-winter pilot in 1,200 flats shows savings that survive the spring price rise.",
          ("Climate", "Housing", "Energy"), 86, 30, ("The Guardian", "theguardian.com"), 9,
          related=2),
    Story("transit-fare-capping", "Transit agencies move to fare capping & tap-to-pay",
          "Riders stop paying once a weekly cap is reached; three agencies report fewer "
          "disputes and faster boarding.", ("Transportation", "Cities"), 78, 4,
          ("StateScoop", "statescoop.com"), 20),
    Story("hospital-ransomware-drill", "Hospitals rehearse a week without computers",
          "After last year's ransomware wave, regional hospitals run paper-only drills to keep "
          "emergency rooms open.", ("Cybersecurity", "Public Health"), 74, 18,
          ("Government Technology", "govtech.com"), 27, related=2),
    Story("ai-model-weather", "An AI weather model beats the old forecasts on floods",
          "National forecasters published a year of side-by-side results for river floods.",
          ("AI", "Climate"), 69, 25, ("Ars Technica", "arstechnica.com"), 33),
    Story("election-audit-open-data", "Counties publish ballot audit data as open data",
          "Risk-limiting audit results are now downloadable <CSV> files in four states.",
          ("Elections", "Open Data"), 58, 2, ("Nextgov", "nextgov.com"), 41, related=0),
    Story("school-broadband-map", "A broadband map shows which students still study offline",
          "The map joins school surveys with provider filings, street by street.",
          ("Broadband", "Education"), 44, -3, ("Smart Cities Dive", "smartcitiesdive.com"), 50),
    Story("drone-delivery-noise", "Residents measure drone delivery noise themselves",
          "A neighbourhood group logged 3,000 flights with phone microphones.",
          ("Drones", "Cities"), 31, 7, ("KRDO", "krdo.com"), 60, related=0),
    Story("police-face-search-audit", "Auditors count every police face search for a year",
          "The watchdog found 40% of searches lacked a recorded case number.",
          ("AI", "Policing", "Privacy"), 83, 40, ("Reuters", "reuters.com"), 30,
          role="approved"),
    Story("smart-meter-privacy", "Smart meters tell more about homes than utilities admit",
          "Researchers inferred occupancy and appliance use from 15-minute readings.",
          ("Privacy", "Energy"), 37, -8, ("Wired", "wired.com"), 34, role="rejected"),
    Story("open-source-city-apps", "Three cities share one open-source permit app",
          "Code, hosting costs and the bug tracker are shared between the cities.",
          ("Open Source", "Cities"), 72, 9, ("Le Monde", "lemonde.fr"), 52, role="published"),
    Story("budget-dashboard", "A budget dashboard residents actually use",
          "Page views tripled after the city dropped PDFs for searchable tables.",
          ("Budget", "Open Data"), 63, 1, ("BBC News", "bbc.co.uk"), 58, role="waiting"),
    Story("biometric-airport-gates", "Airports expand face-scan boarding gates",
          "Two more terminals adopt biometric gates; opt-out lanes stay open.",
          ("Biometrics", "Privacy"), 88, 35, ("The Verge", "theverge.com"), 80, role="live"),
    Story("wildfire-sensors", "Wildfire sensors on power poles go county-wide",
          "The utility reports detections 20 minutes before the first call to 911.",
          ("Climate", "Disaster Response"), 80, 22, ("Seattle Times", "seattletimes.com"), 90,
          role="live"),
)  # fmt: skip

# Awaiting votes since yesterday; modelled on the newsroom's shared sample
# (shared/samples/nlc-facial-recognition.md) but generated, not copied: the file lies outside
# the repo and holds other publishers' text, and an installed demo reads nothing beyond its own
# folder, so every user sees the same demo.
SAMPLE = Story(
    "nlc-facial-recognition",
    "What cities must do to responsibly deploy facial recognition solutions",
    "The National League of Cities has published recommendations for guiding "
    "conversations around how facial recognition technology is being implemented.",
    ("Computer Vision", "AI"), 39, -1, ("GCN", "gcn.com"), 48, related=3,
)  # fmt: skip
SAMPLE_NAME = f"{SAMPLE.slug}.md"

BROKEN = """---
title: "A draft the collector cut short
quality: 40
published: false
---
"""


def write_articles(folder: Path, now: datetime) -> None:
    """The generated stories, the sample-shaped one among them, and a broken draft."""
    for story in (SAMPLE, *STORIES):
        (folder / f"{story.slug}.md").write_text(markdown(story, now), encoding="utf-8")
    (folder / "broken-draft.md").write_text(BROKEN, encoding="utf-8")


def markdown(story: Story, now: datetime) -> str:
    """Frontmatter shaped like the shared sample."""
    name, domain = story.provider
    dated = now - timedelta(hours=story.hours_old)
    url = f"https://www.{domain}/{dated:%Y/%m}/{story.slug}"
    lines = [
        "---",
        "category: news",
        f"title: {json.dumps(story.title)}",
        f"excerpt: {json.dumps(story.excerpt)}",
        f"publishedDateTime: {dated:%Y-%m-%dT%H:%M:00Z}",
        f'webUrl: "{url}"',
        "type: article",
        f"quality: {story.quality}",
        f"heat: {story.heat}",
        f"published: {'true' if story.role == 'live' else 'false'}",
        "",
        "provider:",
        f"  name: {name}",
        f"  domain: {domain}",
        "",
        "topics:",
        *[f"  - {t}" for t in story.topics],
        "",
        "images:",
        f'  - url: "https://cdn.{domain}/media/{story.slug}.jpg"',
        "    width: 1200",
        "    height: 630",
        "",
        "related:" if story.related else "related: []",
    ]
    topic = story.topics[0]
    headlines = (f"Background: {topic} explained", f"Opinion: what {topic} means for cities",
                 f"Timeline: {topic} since 2020")  # fmt: skip
    for i in range(story.related):
        other, other_domain = ("Reuters", "reuters.com") if i % 2 else ("Wired", "wired.com")
        lines += [
            f"  - title: {json.dumps(headlines[i % 3])}",
            f'    webUrl: "https://www.{other_domain}/{story.slug}-{i + 1}"',
            "    provider:",
            f"      name: {other}",
            f"      domain: {other_domain}",
            f"    quality: {max(10, story.quality - 7 * (i + 1))}",
        ]
    lines += ["---", "", f"{story.excerpt}", ""]
    return "\n".join(lines)
