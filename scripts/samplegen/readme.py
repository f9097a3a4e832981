"""Render ``data/samples/README.md`` from counts measured on the generated output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from samplegen.plan import INCIDENTS

__all__ = ["render_readme"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _counts(counter: Mapping[str, int]) -> str:
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return _table(("value", "count"), rows)


def render_readme(stats: Mapping[str, Any], seed: int) -> str:
    """Return the README text; ``stats`` comes from ``generate_samples.measure``."""
    files = _table(("file", "bytes", "lines", "what"), stats["files"])
    incidents = _table(
        ("service", "start", "end", "scope", "note"),
        [
            (
                i.service,
                f"{i.start:%Y-%m-%dT%H:%M:%SZ}",
                f"{i.end:%Y-%m-%dT%H:%M:%SZ}",
                i.scope,
                i.note,
            )
            for i in INCIDENTS
        ],
    )
    buckets = _table(
        (
            "15 min from (UTC)",
            "tweet lines",
            "Tesla outage tweets (no RTs)",
            "Tesla outage RTs",
            "forum outage posts",
            "outage posts (tweets + forum)",
        ),
        stats["buckets"],
    )
    malformed = "\n".join(
        f"- line {m['line']}, `{m['kind']}`: tweet id {m['id_str']} "
        f"(timestamp_ms {m['timestamp_ms']}) — {m['what']}"
        for m in stats["malformed"]
    )
    tw = stats["twitter"]
    return f"""# Sample data (synthetic)

Everything in this directory is **synthetic**: it was written by
`scripts/generate_samples.py` from phrase banks and random draws. No real user data was collected
or copied. Account names, profiles, locations and texts are invented; the only real-world pieces
are brand account handles (e.g. `@TeslaSupport`, `@netflix`) used as reply and mention targets, and
the two `@elonmusk` tweets of 2021-11-19 ("Checking..." and "Should be back online now...") that
the reference Tesla outage is modelled on (his public account id is used for that author).

Regenerate (byte-identical output for the same seed; gzip headers carry `mtime=0`):

```
python scripts/generate_samples.py --out data/samples --seed {seed}
```

Seed used for the files here: `{seed}`.

## Files

{files}

### `posts/tweets-2021-11-18_21.jsonl.gz`

Twitter API v1.1 JSON lines as archived from the filtered streaming endpoint, 2021-11-18T00:00Z
to 2021-11-21T23:59Z. Lines are in time order with slight disorder (about 12% of statuses are
displaced by up to 3.5 s, as in real dumps).

- status lines: {tw["statuses"]} (originals {tw["originals"]}, retweets {tw["retweets"]},
  quote tweets {tw["quotes"]}, replies {tw["replies"]})
- `truncated: true` with `extended_tweet.full_text`: {tw["truncated"]}
- with `place`: {tw["place"]}; with `coordinates`: {tw["coordinates"]}
- `delete` notices: {tw["deletes"]}; `limit` notices: {tw["limits"]}
- distinct authors: {tw["authors"]}

Quirks follow the real API: `created_at` like `Fri Nov 19 21:03:12 +0000 2021`; snowflake ids
`((ms - 1288834974657) << 22) | random 22 bits` (so ids increase with time); `timestamp_ms` is a
string; compat-mode truncation of tweets whose weighted length exceeds 140 (CJK and emoji count
2, links 23): `text` ends in `… https://t.co/…` pointing to `twitter.com/i/web/status/<id>`,
the full text and its entities are under `extended_tweet`; retweets have `RT @user: …` text
(cut at 140 with `…`) and the full original, with engagement counts at retweet time, under
`retweeted_status` (originals may predate the window); quote tweets carry `quoted_status_id(_str)`,
`quoted_status` and `quoted_status_permalink`, and their `text` ends with the t.co link to the
quoted tweet; replies start with `@handle` and set `in_reply_to_*` (replies addressed to a brand
without a parent tweet have `in_reply_to_status_id: null`). `coordinates` is GeoJSON
`[lon, lat]`; when present, the legacy `geo` field holds the same point in **`[lat, lon]`** order
(as the real API does); otherwise both are null. `place.bounding_box` is a GeoJSON polygon.
Cashtags such as `$TSLA` appear in `entities.symbols`. Tweet `lang` is what Twitter would detect
(`und` for posts with almost no words); the true language is in the labels.

Deliberately malformed lines (exactly three; they have no label):

{malformed}

Repeated content on purpose: a few spam bots post the same text again and again (fresh t.co links
each time); {stats["duplicates"]} complaints were posted twice by the same author within minutes.

### `posts/teslamotorsclub-2021-11.jsonl.gz`

{stats["forum_posts"]} forum posts in the project's forum schema (`forum`, `thread_id`,
`thread_title`, `post_number`, `post_id`, `author`, `author_id` (missing on
{stats["forum_no_author_id"]} posts), `author_location` (XenForo profile location or null),
`timestamp` (ISO 8601 UTC), `body`, `url`, `lang`), one post per line, grouped by thread in post
order. Threads:

{_table(("thread_id", "title", "posts in file"), stats["threads"])}

About a quarter of replies quote an earlier post, either as XenForo HTML renders to text
(`Name said:\\n<quote>\\nClick to expand...\\n<reply>`) or as BBCode
(`[QUOTE="Name, post: 6543201, member: 1234"]<quote>[/QUOTE]`).

### `truth.csv`

The injected incidents (`service,start,end,scope,note`, ISO 8601 UTC). `start`/`end` bound the
injected report curve (first reports to back-to-baseline). Scope is `global`, an ISO country, or
`US-<state>`.

{incidents}

Background single-user outage complaints exist for every service at a low rate (Tesla: about
{stats["tesla_baseline_per_hour"]:.1f} per hour outside the incident); they are not incidents.

### `labels.jsonl.gz`

Ground truth for every generated post: every status line (including retweets and quote tweets),
every original that appears only nested inside a retweet or quote (`retweeted_status` /
`quoted_status` older than the window), and every forum post. Not labelled: delete/limit notices
and the three malformed lines. Fields: `id` (`twitter:<id_str>` or
`forum:teslamotorsclub:<post_id>`), `intent`, `is_outage`, `service` (slug, see below),
`symptom`, `error` (normalised code, e.g. `500`, `WS-37397-9`), `feature` (what is broken, e.g.
`phone_key`, `vehicle_connection`, `location`, `sign_in`, `messages`), `country` (ISO 3166-1
alpha-2 of the writer; null for brand, news, promo and bot accounts), `lang` (true language).

Conventions: `is_outage` is true when the post reports, first-hand or relayed (retweets, quote
comments such as "same here", outage news headlines, jokes that say the service is down), that
the service is not working now. "Is X down?" posts are `intent: question` with `is_outage: true`.
Retweets carry the label of the original (with the retweeter's country). "It's working again"
posts, the two @elonmusk tweets (`intent: news`), tips ("use the key card") and headlines about
the fix are `is_outage: false`. Hard negatives are deliberately included: "tesla stock is down
5%", "my netflix price went up again", "the new spotify UI is down bad lol", stock-ticker bots,
price/billing/delivery complaints.

Service slugs: {", ".join(f"`{s}`" for s in stats["service_slugs"])}.

Labels per intent:

{_counts(stats["intents"])}

Labels per language:

{_counts(stats["langs"])}

## Tesla outage, 2021-11-19/20, per 15 minutes

{buckets}
"""
