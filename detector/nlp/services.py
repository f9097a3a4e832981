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
from detector.pickling import fast_pickling

__all__ = ["ServiceMatcher", "ServiceMention"]

# Scripts written without spaces between words: their names are found as substrings.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")
# A word of a spaced script; it ends where an unspaced script starts ("PSNエラー" -> "PSN").
_LETTERS = f"[^\\W{_UNSPACED}]+"
_TOKEN_RE = re.compile(f"[@#]?{_LETTERS}(?:[.'’&+-]{_LETTERS})*")
_POSSESSIVE_RE = re.compile(r"['’]s$")
_MAX_WORDS = 4
# Misspelt names ("verizonn", "dsicord") are matched one edit away, only for names this long.
_FUZZY_MIN_LENGTH = 6
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


@fast_pickling
@dataclass(frozen=True, slots=True)
class ServiceMention:
    """A place in a post that names a service.

    ``kind`` says how: ``alias``, ``app``, ``handle``, ``hashtag``, ``domain``, ``fuzzy`` (a
    name misspelt by one letter), ``forum`` (the post was written in the service's forum; no
    offsets), ``reply`` or ``quote`` (named by the post this one answers; no offsets; the surface
    is the name as that post wrote it) or ``pattern`` (a name outside the catalog, with slug
    ``unknown:<name>``).
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
        # One edit away from a long, unambiguous one-word name ("verizonn" -> verizon).
        self._fuzzy: dict[str, list[Term]] = defaultdict(list)
        aliases = {(t.slug, t.text.casefold()) for t in catalog.terms() if t.kind == "alias"}
        for term in catalog.terms():
            key = term.text.casefold()
            if term.kind == "app" and (term.slug, key) not in aliases:
                # App store names are often plain words ("Shop", "Home", "Wallet").
                term = term._replace(ambiguous=True)
            if _UNSPACED_RE.search(key):
                self._unspaced[key].append(term)
                continue
            words = tuple(_POSSESSIVE_RE.sub("", m.group()) for m in _TOKEN_RE.finditer(key))
            if not words:
                continue
            self._terms[words].append(term)
            if term.kind in ("alias", "app"):
                self._joined["".join(words)].append(term._replace(kind="hashtag"))
            if _fuzzy_candidate(words, term):
                for variant in (words[0], *_deletions(words[0])):
                    self._fuzzy[variant].append(term._replace(kind="fuzzy", ambiguous=True))
        # Hyphenated words are split ("Twitch-appen", "Telekom-Störung") unless a name starts so.
        self._first_words = frozenset(words[0] for words in self._terms)
        pattern = "|".join(re.escape(k) for k in sorted(self._unspaced, key=len, reverse=True))
        self._unspaced_re = re.compile(pattern) if pattern else None

    def find(
        self, text: str, *, source_name: str | None = None, complaint: bool = False
    ) -> list[ServiceMention]:
        """Return the services ``text`` names, each once (its first mention), in text order.

        An ambiguous name (an ordinary word, or a misspelling one edit away from a name) is kept
        only when the same service is also named unambiguously, an outage word is near it, or
        ``complaint`` says the post is a likely outage report that names no other service.
        """
        tokens = self._tokens(text)
        found = self._catalog_mentions(text, tokens)
        found.extend(self._unspaced_mentions(text))
        found.extend(self._fuzzy_mentions(text, tokens, found))
        sure = {m.slug for m in found if not m.ambiguous}
        cue_positions = [i for i, (word, _, _) in enumerate(tokens) if word in _OUTAGE_CUES]
        kept = [
            m
            for m in found
            if not m.ambiguous
            or m.slug in sure
            or (complaint and not sure)
            or _near(m.start, tokens, cue_positions)
        ]
        if source_name is not None and (forum := self.catalog.for_source(source_name)):
            kept.append(ServiceMention(forum.slug, source_name, 0, 0, "forum"))
        if not kept:
            kept = self._unknown_mentions(text)
        first: dict[str, ServiceMention] = {}
        for mention in sorted(kept, key=lambda m: (m.start, m.kind == "forum")):
            first.setdefault(mention.slug, mention)
        return list(first.values())

    def _tokens(self, text: str) -> list[tuple[str, int, int]]:
        """Casefolded words with their offsets; "Tesla's" -> "tesla", "Twitch-appen" -> two."""
        tokens = []
        for match in _TOKEN_RE.finditer(text):
            word, start, end = match.group().casefold(), match.start(), match.end()
            if possessive := _POSSESSIVE_RE.search(word):
                word, end = word[: possessive.start()], end - len(possessive.group())
            if "-" in word and word not in self._first_words:
                offset = start
                for part in word.split("-"):
                    if part:
                        tokens.append((part, offset, offset + len(part)))
                    offset += len(part) + 1
                continue
            tokens.append((word, start, end))
        return tokens

    def _fuzzy_mentions(
        self, text: str, tokens: list[tuple[str, int, int]], found: list[ServiceMention]
    ) -> list[ServiceMention]:
        covered = {m.start for m in found}
        mentions: list[ServiceMention] = []
        for word, start, end in tokens:
            if start in covered or len(word) < _FUZZY_MIN_LENGTH - 1 or not word.isalpha():
                continue
            terms = {
                t for variant in (word, *_deletions(word)) for t in self._fuzzy.get(variant, ())
            }
            mentions.extend(
                ServiceMention(t.slug, text[start:end], start, end, t.kind, True)
                for t in sorted(terms)
                if _one_edit(word, t.text.casefold())
            )
        return mentions

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


def _fuzzy_candidate(words: tuple[str, ...], term: Term) -> bool:
    return (
        len(words) == 1
        and len(words[0]) >= _FUZZY_MIN_LENGTH
        and words[0].isascii()
        and words[0].isalpha()
        and term.kind in ("alias", "app")
        and not term.ambiguous
    )


def _deletions(word: str) -> list[str]:
    """``word`` with one letter left out, each way (the index behind one-edit matching)."""
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def _one_edit(typed: str, name: str) -> bool:
    """True when ``typed`` is ``name`` with one letter added, dropped, changed or two swapped,
    keeping the first letter (people rarely mistype it, and "switch" is not "twitch").

    >>> [_one_edit(w, "verizon") for w in ("verizonn", "veizon", "verizom", "vreizon", "horizon")]
    [True, True, True, True, False]
    """
    if typed == name or typed[:1] != name[:1] or abs(len(typed) - len(name)) > 1:
        return False
    if len(typed) == len(name):
        diffs = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
        return len(diffs) == 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and typed[diffs[0]] == name[diffs[1]]
            and typed[diffs[1]] == name[diffs[0]]
        )
    short, long = sorted((typed, name), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
