"""Build ``data/training/examples.jsonl``, the outage-complaint classifier's training set.

Standard library only and deterministic: the same inputs and ``--seed`` give the same bytes.

Stages (see ``data/training/README.md``):

1. seeds: hand-written examples in ``data/training/seeds/<lang>.jsonl``;
2. weak: short posts composed from hand-written fragments in ``seeds/weak_fragments.json``;
   the label comes from the fragment's pattern (a programmatic, "weak" label);
3. variants: perturbations of seeds (service swap within a category, typos, casing, emoji,
   hashtags, mentions, URLs, retweet prefixes, truncation) that keep the seed's label;
4. review: ``seeds/review.jsonl`` records the hand review (verdicts and corrections).

Every example belongs to a group (a seed and its variants; a weak pattern and its
realisations) and the train/dev/test split is a hash of the group, so no group straddles splits.

Usage::

    python scripts/build_training_set.py [--out DIR] [--seed N] [--review-sample N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "data" / "training"
SEEDS = TRAINING / "seeds"

POSITIVE_KINDS = frozenset(
    "down_unavailable login_auth error_message app_crash connectivity_network slow_degraded "
    "payments feature_broken power".split()
)
NEGATIVE_KINDS = frozenset(
    "customer_service price_billing delivery_goods policy question_no_problem praise joke_slang "
    "ad_promo news_report stock_finance resolved_back_up hypothetical_or_past other".split()
)
CJK = frozenset({"ja", "ko"})
#: weak examples per language; variants per seed by (language, label)
WEAK_PER_LANG = {"en": 1000, "de": 45, "es": 45, "fr": 55, "pt": 50, "it": 55, "ja": 55, "ko": 60}
VARIANTS = {"en": (3.0, 0.5), "default": (2.0, 1.0)}  # expected count (for label 0, label 1)
#: topical seed files (``<lang>_<topic>.jsonl``) override VARIANTS: everyday chatter is many
#: seeds and gets few variants, reply-style reports get more (keeps the label balance)
TOPIC_VARIANTS = {"chatter": (0.15, 1.0), "replies": (0.15, 2.0)}
WEAK_NEGATIVE_SHARE = {"en": 0.7}  # others 0.5
EMOJI = ["😭", "🙄", "😡", "💀", "🤦", "😩", "🙃", "😤", "😂", "👀", "😑", "🥲", "🤬", "🔥", "‼️"]
FRIENDS = [
    "@jess_k92",
    "@mikeyyy",
    "@thatguy_ron",
    "@sarah__b",
    "@dani_lp",
    "@k8_writes",
    "@0xnoor",
]
FILLERS = {"en": ["ugh", "lol", "omg", "bruh", "ok so", "fr", "ngl", "tbh", "welp", "yo"]}
#: label-neutral personal sentences: real posts mix a report with life ("good thing I had my
#: key card"); added to both labels alike so that "my", "I" and such asides carry no label
ASIDES = {
    "en": [
        "good thing i had my key card in my wallet",
        "i have a meeting in 10 minutes",
        "my kids are asleep so i'm whispering this",
        "just got home from work",
        "i love my phone but come on",
        "my coffee is getting cold",
        "i was in the middle of something",
        "had plans tonight",
        "i'm on my lunch break",
        "my dog is staring at me",
        "i just wanted to relax",
        "good thing i checked first",
    ],
    "de": ["ich hab gleich ein meeting", "mein kaffee wird kalt"],
    "es": ["tengo una reunión en 10 minutos", "mi café se enfría"],
    "fr": ["j'ai une réunion dans 10 minutes", "mon café refroidit"],
    "pt": ["tenho reunião em 10 minutos", "meu café tá esfriando"],
    "it": ["ho una riunione tra 10 minuti", "il mio caffè si raffredda"],
}
_TEMPORAL = re.compile(
    r"again|\brn\b|now|since|today|this morning|schon|seit|otra vez|desde|encore|depuis|de novo|"
    r"di nuovo|stamattina|また|또"
)
_WORD = re.compile(r"[A-Za-z]{4,}")


def norm_key(text: str) -> str:
    """Case-, whitespace- and punctuation-insensitive key used for de-duplication."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def text_id(text: str) -> str:
    """Stable id of a text (first 16 hex digits of the SHA-1 of its key)."""
    return hashlib.sha1(norm_key(text).encode()).hexdigest()[:16]


def split_of(group: str) -> str:
    """Deterministic 80/10/10 split from a group id."""
    bucket = int(hashlib.sha1(f"split:{group}".encode()).hexdigest(), 16) % 10
    return "train" if bucket < 8 else ("dev" if bucket == 8 else "test")


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_seeds(seed_dir: Path) -> list[dict[str, Any]]:
    """Seeds of ``<lang>.jsonl``, then of the topical files ``<lang|xx>_<topic>.jsonl``.

    A topical file's rows carry ``lang`` themselves when the file is ``xx_*`` (several
    languages); its ``topic`` is kept in the row (for per-topic variant counts). Topical
    files are read after the per-language ones so adding one leaves earlier output unchanged.
    """
    rows = []
    paths = sorted(seed_dir.glob("*.jsonl"), key=lambda p: ("_" in p.stem, p.name))
    for path in paths:
        if path.stem == "review":
            continue
        lang, _, topic = path.stem.partition("_")
        for row in load_jsonl(path):
            rows.append({**row, "lang": row.get("lang") or lang, "topic": topic})
    return rows


class Services:
    """Aliases, handles and categories of the services in ``seeds/services.json``."""

    def __init__(self, table: dict[str, dict[str, Any]]) -> None:
        self.table = table
        self.by_category: dict[str, list[str]] = {}
        for slug in sorted(table):
            self.by_category.setdefault(table[slug]["category"], []).append(slug)
        self._patterns = {
            slug: re.compile(
                r"(?<!\w)("
                + "|".join(re.escape(a) for a in sorted(e["aliases"], key=len)[::-1])
                + r")(?!\w)",
                re.IGNORECASE,
            )
            for slug, e in table.items()
        }

    def find(self, slug: str, text: str) -> re.Match[str] | None:
        return self._patterns[slug].search(text)

    def alias(self, slug: str, rng: random.Random) -> str:
        return rng.choice(self.table[slug]["aliases"])


# --- variants ------------------------------------------------------------------------------


def _swap_service(row: dict[str, Any], rng: random.Random, svc: Services) -> dict[str, Any] | None:
    slug = row["service"]
    if not slug or slug not in svc.table:
        return None
    match = svc.find(slug, row["text"])
    peers = [s for s in svc.by_category[svc.table[slug]["category"]] if s != slug]
    if match is None or not peers:
        return None
    new = rng.choice(peers)
    text = row["text"][: match.start()] + svc.alias(new, rng) + row["text"][match.end() :]
    return {**row, "text": text, "service": new}


def _typo(row: dict[str, Any], rng: random.Random, _svc: Services) -> dict[str, Any] | None:
    text = row["text"]
    words = [m for m in _WORD.finditer(text) if text[max(0, m.start() - 1)] not in "@#/"]
    if row["lang"] in CJK or not words:
        return None
    m = rng.choice(words)
    w = m.group()
    i = rng.randrange(1, len(w) - 1)
    op = rng.choice(["drop", "double", "swap"])
    if op == "drop":
        w2 = w[:i] + w[i + 1 :]
    elif op == "double":
        w2 = w[:i] + w[i] + w[i:]
    else:
        w2 = w[: i - 1] + w[i] + w[i - 1] + w[i + 1 :]
    return {**row, "text": text[: m.start()] + w2 + text[m.end() :]}


def _hashtag(row: dict[str, Any], rng: random.Random, svc: Services) -> dict[str, Any] | None:
    if not row["service"]:
        return None
    tag = "#" + re.sub(r"\W", "", svc.alias(row["service"], rng))
    return {**row, "text": f"{row['text']} {tag}"}


def _mention(row: dict[str, Any], rng: random.Random, svc: Services) -> dict[str, Any] | None:
    handles = svc.table[row["service"]]["handles"] if row["service"] else []
    who = rng.choice(handles) if handles and rng.random() < 0.7 else rng.choice(FRIENDS)
    if row["text"].startswith("@"):
        return None
    return {**row, "text": f"{who} {row['text']}"}


def _url(row: dict[str, Any], rng: random.Random, _svc: Services) -> dict[str, Any] | None:
    code = "".join(
        rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10)
    )
    return {**row, "text": f"{row['text']} https://t.co/{code}"}


def _retweet(row: dict[str, Any], rng: random.Random, _svc: Services) -> dict[str, Any] | None:
    return {**row, "text": f"RT {rng.choice(FRIENDS)}: {row['text']}"}


def _filler(row: dict[str, Any], rng: random.Random, _svc: Services) -> dict[str, Any] | None:
    fillers = FILLERS.get(row["lang"])
    if not fillers:
        return None
    return {**row, "text": f"{rng.choice(fillers)} {row['text']}"}


def _aside(row: dict[str, Any], rng: random.Random, _svc: Services) -> dict[str, Any] | None:
    asides = ASIDES.get(row["lang"])
    if not asides:
        return None
    aside = rng.choice(asides)
    if rng.random() < 0.5:
        return {**row, "text": f"{row['text'].rstrip()} {aside}"}
    return {**row, "text": f"{aside[0].upper()}{aside[1:]}. {row['text']}"}


def _truncate(row: dict[str, Any], rng: random.Random, _svc: Services) -> dict[str, Any] | None:
    words = row["text"].split()
    if len(words) < 14:
        return None
    keep = rng.randint(int(len(words) * 0.8), len(words) - 1)
    return {**row, "text": " ".join(words[:keep]) + "…"}


CONTENT_OPS = [
    _swap_service,
    _swap_service,
    _typo,
    _typo,
    _hashtag,
    _mention,
    _url,
    _retweet,
    _filler,
    _truncate,
    _aside,
    _aside,
]


def _decorate(text: str, rng: random.Random, lang: str) -> str:
    """Label-neutral surface changes: casing, emoji, trailing punctuation."""
    r = rng.random()
    if lang not in CJK and r < 0.25:
        text = text.lower()
    elif lang not in CJK and r < 0.32 and len(text) < 90:
        text = text.upper()
    if rng.random() < 0.3:
        text = f"{text} {rng.choice(EMOJI)}" + (rng.choice(EMOJI) if rng.random() < 0.3 else "")
    if rng.random() < 0.1:
        text = text.rstrip(".!?") + rng.choice(["??", "!!", "...", "?!"])
    return text


def make_variant(row: dict[str, Any], rng: random.Random, svc: Services) -> dict[str, Any] | None:
    """One perturbation of a seed: one or two content operations plus decoration."""
    out: dict[str, Any] | None = None
    for _ in range(rng.choice([1, 1, 2])):
        for _attempt in range(6):
            got = rng.choice(CONTENT_OPS)(out or row, rng, svc)
            if got is not None:
                out = got
                break
    if out is None:
        return None
    return {**out, "text": _decorate(out["text"], rng, row["lang"]), "source": "variant"}


# --- weak ----------------------------------------------------------------------------------


def make_weak(fragments: dict[str, Any], svc: Services, rng: random.Random) -> list[dict[str, Any]]:
    """Compose short posts from fragment banks; label and kind come from the pattern."""
    rows = []
    for lang in sorted(fragments):
        spec = fragments[lang]
        pool = spec.get("services") or sorted(svc.table)
        names = spec.get("names", {})
        for _ in range(WEAK_PER_LANG.get(lang, 0)):
            want = int(rng.random() >= WEAK_NEGATIVE_SHARE.get(lang, 0.5))
            idx = rng.choice([i for i, p in enumerate(spec["patterns"]) if p[0] == want])
            label, kind, cats, pattern = spec["patterns"][idx]
            fits = [s for s in pool if cats == "any" or svc.table[s]["category"] in cats.split()]
            if not fits:
                fits = [s for c in cats.split() for s in svc.by_category.get(c, [])]
            slug = rng.choice(fits)
            name = names.get(slug) or svc.alias(slug, rng)
            # a "since this morning" tail would contradict "back up" or "last week"
            tails = (
                spec["tails"] if label else [t for t in spec["tails"] if not _TEMPORAL.search(t)]
            )
            text = rng.choice(spec["openers"]) + pattern.format(svc=name) + rng.choice(tails)
            text = _decorate(text.strip(), rng, lang)
            rows.append(
                {
                    "text": text,
                    "label": label,
                    "lang": lang,
                    "kind": kind,
                    "service": slug,
                    "source": "weak",
                    "group": f"w-{lang}-{idx}",
                }
            )
    return rows


# --- assembly ------------------------------------------------------------------------------


def build(*, seed_dir: Path = SEEDS, seed: int = 13) -> list[dict[str, Any]]:
    """Return the full, de-duplicated, reviewed and split example list."""
    rng = random.Random(seed)
    svc = Services(json.loads((seed_dir / "services.json").read_text(encoding="utf-8")))
    fragments = json.loads((seed_dir / "weak_fragments.json").read_text(encoding="utf-8"))
    review_path = seed_dir / "review.jsonl"
    review = {r["id"]: r for r in load_jsonl(review_path)} if review_path.exists() else {}

    seen: set[str] = set()
    out: list[dict[str, Any]] = []

    def add(row: dict[str, Any]) -> bool:
        key = norm_key(row["text"])
        if not key or key in seen:
            return False
        seen.add(key)
        out.append(row)
        return True

    seeds = load_seeds(seed_dir)
    for row in seeds:
        add({**row, "source": "seed", "group": "s-" + text_id(row["lang"] + " " + row["text"])})
    for row in make_weak(fragments, svc, rng):
        add(row)
    for row in seeds:
        group = "s-" + text_id(row["lang"] + " " + row["text"])
        table = TOPIC_VARIANTS.get(row["topic"]) or VARIANTS.get(row["lang"], VARIANTS["default"])
        expected = table[row["label"]]
        wanted = int(expected) + (rng.random() < expected - int(expected))
        made = 0
        for _ in range(4 * wanted):
            if made == wanted:
                break
            var = make_variant({**row, "source": "seed", "group": group}, rng, svc)
            if var is not None and add(var):
                made += 1

    final = []
    for row in out:
        rid = text_id(row["text"])
        verdict = review.get(rid)
        if verdict and verdict.get("verdict") == "drop":
            continue
        if verdict and verdict.get("verdict") == "fix":
            row = {**row, "label": verdict["label"], "kind": verdict["kind"]}
        final.append(
            {
                "id": rid,
                "text": row["text"],
                "label": row["label"],
                "lang": row["lang"],
                "kind": row["kind"],
                "service": row["service"],
                "source": row["source"],
                "reviewed": verdict is not None,
                "group": row["group"],
                "split": split_of(row["group"]),
            }
        )
    return final


def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per source, label, kind, language and split (as written to ``stats.json``)."""

    def count(field: str) -> dict[str, int]:
        return dict(sorted(Counter(str(r[field]) for r in rows).items()))

    return {
        "total": len(rows),
        **{f"by_{f}": count(f) for f in ("source", "label", "kind", "lang", "split", "reviewed")},
        "label_by_split": {
            s: dict(sorted(Counter(str(r["label"]) for r in rows if r["split"] == s).items()))
            for s in ("train", "dev", "test")
        },
        "groups": len({r["group"] for r in rows}),
    }


def write(rows: list[dict[str, Any]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "examples.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
    (out_dir / "stats.json").write_text(json.dumps(stats(rows), indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TRAINING)
    parser.add_argument("--seed-dir", type=Path, default=SEEDS)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--review-sample",
        type=int,
        default=0,
        help="print N random examples for hand review instead of writing",
    )
    args = parser.parse_args(argv)
    rows = build(seed_dir=args.seed_dir, seed=args.seed)
    if args.review_sample:
        for row in random.Random(2024).sample(rows, args.review_sample):
            print(
                json.dumps({k: row[k] for k in ("id", "label", "kind", "text")}, ensure_ascii=False)
            )
        return 0
    write(rows, args.out)
    print(json.dumps(stats(rows), indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
