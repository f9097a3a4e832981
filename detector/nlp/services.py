"""Find the services a post is about: catalog names, handles, hashtags, domains, the forum it
was posted in, and names outside the catalog from patterns such as "X is down".

Pure Python over a dictionary of token n-grams: it runs on every post, and a dictionary lookup
per n-gram is several times faster than tokenising with spaCy first.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from detector.nlp.catalog import Catalog, Term

__all__ = ["ServiceMatcher", "ServiceMention"]

_TOKEN_RE = re.compile(r"[@#]?\w+(?:[.'’&+-]\w+)*")
_MAX_WORDS = 4
# Scripts written without spaces between words: their names are found as substrings.
_UNSPACED_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Ambiguous names ("steam", "chase", "model 3") count only near words like these.
_OUTAGE_CUES = frozenset(
    "down app apps outage outages error errors server servers login log sign crash crashing "
    "crashed working work offline online issue issues problem problems broken bug glitch "
    "service support status unavailable connect connection loading load fix".split()
)
_CUE_DISTANCE = 4
_HASHTAG_SUFFIXES = (
    "appdown",
    "isdown",
    "down",
    "outage",
    "outages",
    "fail",
    "issues",
    "problems",
    "app",
    "servers",
)
# "X is down", "is X down", "X not working", "X outage": X may be a service outside the catalog.
_UNKNOWN_RES = (
    re.compile(r"\b(?i:is|are)\s+(?P<name>[A-Z][\w.&+-]{1,30}(?:\s[A-Z][\w.&+-]{1,30})?)\s+down\b"),
    re.compile(
        r"\b(?P<name>[A-Z][\w.&+-]{1,30}(?:\s[A-Z][\w.&+-]{1,30})?)\s+"
        r"(?:is|are|keeps?|seems?)?\s*(?:down|not\s+working|outage|crashing)\b"
    ),
    re.compile(r"(?P<name>@\w{2,15})\s+(?:your|ur|the)\s+(?:app|site|servers?|website)\b", re.I),
)
_NOT_NAMES = frozenset(
    "i it it's its my mine the this that these everything something everyone anyone someone "
    "nobody internet wifi app site server website phone power is are was still again now so "
    "really just also literally wtf lol omg why what today tonight ok okay yes no".split()
)


@dataclass(frozen=True, slots=True)
class ServiceMention:
    """A place in a post that names a service.

    ``kind`` says how: ``alias``, ``app``, ``handle``, ``hashtag``, ``domain``, ``forum`` (the
    post was written in the service's forum; no offsets) or ``pattern`` (a name outside the
    catalog, with slug ``unknown:<name>``).
    """

    slug: str
    surface: str
    start: int
    end: int
    kind: str
    ambiguous: bool = False


class ServiceMatcher:
    """Matches a catalog's names in text; build it once and reuse it.

    Examples
    --------
    >>> from detector.nlp.catalog import load_catalog
    >>> matcher = ServiceMatcher(load_catalog())
    >>> [m.slug for m in matcher.find("@TeslaSupport the tesla app says 500 server error")]
    ['tesla']
    >>> [m.slug for m in matcher.find("Is Frobnicator down for anyone?")]
    ['unknown:frobnicator']
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._terms: dict[tuple[str, ...], list[Term]] = defaultdict(list)
        self._unspaced: dict[str, list[Term]] = defaultdict(list)
        # "#ModelY", "#TeslaApp": hashtags run a multi-word name together.
        self._joined: dict[str, list[Term]] = defaultdict(list)
        aliases = {(t.slug, t.text.casefold()) for t in catalog.terms() if t.kind == "alias"}
        for term in catalog.terms():
            key = term.text.casefold()
            if term.kind == "app" and (term.slug, key) not in aliases:
                # App store names are often plain words ("Shop", "Home", "Wallet").
                term = term._replace(ambiguous=True)
            if _UNSPACED_RE.search(key):
                self._unspaced[key].append(term)
            else:
                words = tuple(m.group() for m in _TOKEN_RE.finditer(key))
                if words:
                    self._terms[words].append(term)
                    if term.kind in ("alias", "app"):
                        self._joined["".join(words)].append(term._replace(kind="hashtag"))
        pattern = "|".join(re.escape(k) for k in sorted(self._unspaced, key=len, reverse=True))
        self._unspaced_re = re.compile(pattern) if pattern else None

    def find(self, text: str, *, source_name: str | None = None) -> list[ServiceMention]:
        """Return the services ``text`` names, each once (its first mention), in text order.

        An ambiguous name is kept only when the same service is also named unambiguously or an
        outage word is near it.
        """
        tokens = [(m.group().casefold(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
        found = self._catalog_mentions(text, tokens)
        found.extend(self._unspaced_mentions(text))
        sure = {m.slug for m in found if not m.ambiguous}
        cue_positions = [i for i, (word, _, _) in enumerate(tokens) if word in _OUTAGE_CUES]
        kept = [
            m
            for m in found
            if not m.ambiguous or m.slug in sure or _near(m.start, tokens, cue_positions)
        ]
        if source_name is not None and (forum := self.catalog.for_source(source_name)):
            kept.append(ServiceMention(forum.slug, source_name, 0, 0, "forum"))
        if not kept:
            kept = self._unknown_mentions(text)
        first: dict[str, ServiceMention] = {}
        for mention in sorted(kept, key=lambda m: (m.start, m.kind == "forum")):
            first.setdefault(mention.slug, mention)
        return list(first.values())

    def _catalog_mentions(
        self, text: str, tokens: list[tuple[str, int, int]]
    ) -> list[ServiceMention]:
        found: list[ServiceMention] = []
        i = 0
        while i < len(tokens):
            for size in range(min(_MAX_WORDS, len(tokens) - i), 0, -1):
                words = tuple(t[0] for t in tokens[i : i + size])
                terms = self._terms.get(words) or self._hashtag_terms(words)
                if terms:
                    start, end = tokens[i][1], tokens[i + size - 1][2]
                    found.extend(
                        ServiceMention(t.slug, text[start:end], start, end, t.kind, t.ambiguous)
                        for t in terms
                    )
                    i += size - 1
                    break
            i += 1
        return found

    def _hashtag_terms(self, words: tuple[str, ...]) -> list[Term] | None:
        # "#InstagramDown" names Instagram: try the tag without its outage suffix.
        if len(words) != 1 or not words[0].startswith("#"):
            return None
        tag = words[0][1:]
        if tag in self._joined:
            return self._joined[tag]
        for suffix in _HASHTAG_SUFFIXES:
            if tag.endswith(suffix) and tag[: -len(suffix)] in self._joined:
                return self._joined[tag[: -len(suffix)]]
        return None

    def _unspaced_mentions(self, text: str) -> list[ServiceMention]:
        if self._unspaced_re is None or not _UNSPACED_RE.search(text):
            return []
        return [
            ServiceMention(t.slug, m.group(), m.start(), m.end(), t.kind, t.ambiguous)
            for m in self._unspaced_re.finditer(text.casefold())
            for t in self._unspaced[m.group()]
        ]

    def _unknown_mentions(self, text: str) -> list[ServiceMention]:
        for pattern in _UNKNOWN_RES:
            for match in pattern.finditer(text):
                name = match.group("name").strip()
                key = name.removeprefix("@").casefold()
                if key.split()[0] in _NOT_NAMES:
                    continue
                start, end = match.span("name")
                return [ServiceMention(f"unknown:{key}", name, start, end, "pattern")]
        return []


def _near(start: int, tokens: list[tuple[str, int, int]], cues: list[int]) -> bool:
    index = next((i for i, t in enumerate(tokens) if t[1] == start), None)
    return index is not None and any(abs(index - c) <= _CUE_DISTANCE for c in cues)
