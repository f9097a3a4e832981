"""Symptoms in a post: what kind of fault, which error codes and messages, which broken feature.

:class:`SymptomRules` compiles the vocabulary of ``data/symptoms.yaml`` once;
:meth:`SymptomRules.extract` turns one text into a :class:`SymptomReport`: the symptom
categories (see :data:`~detector.nlp.symptom_rules.SYMPTOM_CATEGORIES`), the error codes and
messages, the features said to be broken, and whether the post says the service works again.
Everything is plain ``re``; a text costs three scans (phrases, features, error codes).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from detector.errors import ConfigError
from detector.nlp.symptom_rules import (
    SYMPTOM_CATEGORIES,
    PhraseScanner,
    RuleFile,
    default_symptoms_path,
    read_rules,
)
from detector.pickling import fast_pickling

__all__ = ["ErrorMention", "FeatureMention", "SymptomReport", "SymptomRules"]

ErrorKind = Literal["http", "code", "message"]

_HTTP_NAMES = {
    400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found",
    408: "request timeout", 429: "too many requests", 500: "server error", 502: "bad gateway",
    503: "service unavailable", 504: "gateway timeout",
}  # fmt: skip
_REASON = (
    r"(?:internal\s+)?server\s+error|bad\s+gateway|service\s+(?:temporarily\s+)?unavailable"
    r"|gateway\s+time-?\s?out|not\s+found|forbidden|unauthori[sz]ed|too\s+many\s+requests"
    r"|bad\s+request|request\s+time-?\s?out|errors?\b(?!-)|err\b|fehler|erreur|errore|erro\b"
)
_ERROR_WORD = (
    r"error\s*code|err(?:or)?(?:\s+del?\s+servidor)?|erreur|code\s+d['’]erreur|errore?"
    r"|c[oó]digo\s+de\s+erro[r]?|codice\s+(?:di\s+)?errore"
)
_CODE_WORD = r"c[oó]digo|codice|code|status(?:\s+code)?|http(?:/\d(?:\.\d)?)?(?:\s+status)?"
_SEP = r"\s*(?:[:#=：]|n[º°o]\.?)?\s*"
_END = r"(?![A-Za-z0-9_]|[.,:/]\d)"
_ERROR_RE = re.compile(
    # Most characters cannot start a match; one class test skips them.
    r"(?=[0-9A-Zcefhsエ오에错])(?:"
    # error word + code: "error 503", "error code: BLZBNTBGS000003F8", "Serverfehler 500"
    rf"(?:(?<![^\W\d_])(?i:{_ERROR_WORD})|(?i:fehler(?:code)?)"
    r"|エラー(?:コード)?|오류(?:\s*코드)?|에러(?:\s*코드)?|错误(?:代码|码)?)"
    rf"{_SEP}(?P<a>(?=[\w-]*\d)[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]){_END}"
    rf"(?:\s*[-:]?\s*(?i:{_REASON}))?"
    # bare code word + number: "code 771", "HTTP 503", "status: 0x80070005"
    rf"|(?<![^\W\d_])(?P<kw>(?i:{_CODE_WORD})){_SEP}"
    rf"(?P<b>0[xX][0-9A-Fa-f]{{6,8}}|\d{{3,}}(?:-\d+)*){_END}(?:\s*[-:]?\s*(?i:{_REASON}))?"
    # status + reason: "500 server error", "502 bad gateway", "500エラー"
    rf"|(?<![A-Za-z0-9$€£¥#@/.,:+_-])(?P<c>[45]\d\d)\s*[-:]?\s*"
    rf"(?:(?i:{_REASON})|サーバーエラー|エラー|에러|오류)"
    # console and app codes: "E-1234", "CE-34878-0", "0x80070005"
    r"|(?<![\w-])(?P<d>[A-Z]{1,4}-(?:\d{4,7}(?:-\d{1,3})?|\d{3}-\d{1,3}))(?![\w-])"
    r"|(?<!\w)(?P<e>0[xX][0-9A-Fa-f]{6,8})(?!\w))"
)
_PREFIXED = re.compile(r"[A-Z]{1,4}-\d+(?:-\d+)?")
_NOT_ERRORS = frozenset({"CVE", "COVID", "ISO", "RFC", "UTF", "SHA", "SARS", "MERS"})
_NOT_AFTER = re.compile(
    r"(?i)(?:promo|coupon|discount|referral|invite|zip|postal|area|country|redeem|gift|voucher"
    r"|verification|security|confirmation|access|tracking|otp|pin|qr|source)\s*$"
)
_DIGIT = re.compile(r"\d")


@fast_pickling
@dataclass(frozen=True, slots=True)
class ErrorMention:
    """An error code or message in a text.

    ``normalized`` is the key to count by: ``"500 server error"``, ``"503 service unavailable"``
    and ``"error 507"`` for HTTP statuses, ``"code 771"``, ``"E-1234"`` or ``"0x80070005"`` for
    app codes, the English message (``"session expired"``) for messages in any language.
    ``text[start:end] == surface``.
    """

    kind: ErrorKind
    normalized: str
    start: int
    end: int
    surface: str


@fast_pickling
@dataclass(frozen=True, slots=True)
class FeatureMention:
    """A feature named in a text (``"unlock"``, ``"charging"``): where and how it is written."""

    feature: str
    start: int
    end: int
    surface: str


@fast_pickling
@dataclass(frozen=True, slots=True)
class SymptomReport:
    """What a text says is wrong.

    ``categories`` come in the order they first appear. ``recovered`` is true when the text says
    the service works again ("back up", "wieder da", "復旧"); recovery phrases never count as
    symptoms, but other symptoms in the same text still do.
    """

    categories: tuple[str, ...] = ()
    errors: tuple[ErrorMention, ...] = ()
    features: tuple[FeatureMention, ...] = ()
    recovered: bool = False


class _Hit(NamedTuple):
    categories: tuple[str, ...]  # what the phrase means by itself
    breakage: bool  # a feature_broken cue: means that next to a feature
    message: str | None
    recovery: bool


class SymptomRules:
    """The compiled symptom vocabulary; build it once and call :meth:`extract` per text.

    Parameters
    ----------
    rules
        A checked symptoms file (see :func:`~detector.nlp.symptom_rules.read_rules`).

    Raises
    ------
    ConfigError
        When one phrase is both a cue and an ignored phrase.

    Examples
    --------
    >>> rules = SymptomRules.load()
    >>> report = rules.extract("@TeslaSupport app says 500 server error, can't unlock my model 3")
    >>> report.categories
    ('error_message', 'feature_broken')
    >>> [(e.normalized, e.surface) for e in report.errors]
    [('500 server error', '500 server error')]
    >>> [f.feature for f in report.features]
    ['unlock']
    >>> rules.extract("Tesla app is back up, unlocked fine").recovered
    True
    """

    def __init__(self, rules: RuleFile) -> None:
        self.source = rules.source
        self.window = rules.feature_window
        # Tags of each phrase: one phrase may be listed under several categories.
        tags: dict[str, set[tuple[str, str]]] = {}
        for kind, entries in (("category", rules.categories), ("message", rules.messages)):
            for entry in entries:
                extra = ("error_message", *entry.categories) if kind == "message" else ()
                for cue in entry.cues:
                    found = tags.setdefault(cue, set())
                    found.add((kind, entry.name))
                    found.update(("category", category) for category in extra)
        for kind in ("recovery", "ignore"):
            for cue in getattr(rules, kind):
                tags.setdefault(cue, set()).add((kind, ""))
        merged: dict[str, set[tuple[str, str]]] = {}
        for cue, found in tags.items():
            merged.setdefault(PhraseScanner.key(cue), set()).update(found)
        for cue in rules.ignore:
            if len(merged[PhraseScanner.key(cue)]) > 1:
                raise ConfigError(f"{self.source}: section 'ignore': {cue!r} is also a cue")
        phrases = {cue: _hit(merged[PhraseScanner.key(cue)]) for cue in tags}
        patterns = {p: _hit({("category", e.name)}) for e in rules.categories for p in e.patterns}
        self._phrases = PhraseScanner(phrases, patterns)
        # What a breakage cue next to the feature means: login -> login_auth, else feature_broken.
        self._feature_categories = {
            e.name: e.categories[0] if e.categories else "feature_broken" for e in rules.features
        }
        features: dict[str, str | None] = {}
        for entry in rules.features:
            features.update(dict.fromkeys(entry.cues, entry.name))
        features.update(dict.fromkeys(rules.ignore_features))
        self._features = PhraseScanner(features)

    @classmethod
    def load(cls, path: Path | str | None = None) -> SymptomRules:
        """Read and compile the rules at ``path``, or the bundled ``data/symptoms.yaml``.

        Raises
        ------
        SourceNotFound
            When the file does not exist.
        ConfigError
            When it breaks a rule; the message names the file, the entry and the field.
        """
        return cls(read_rules(default_symptoms_path() if path is None else path))

    def extract(self, text: str) -> SymptomReport:
        """Find the symptoms, errors and features in ``text``.

        Examples
        --------
        >>> rules = SymptomRules.load()
        >>> rules.extract("Störung bei der Telekom, kein Internet").categories
        ('down_unavailable', 'connectivity_network')
        >>> report = rules.extract("エラー500で解錠できない")
        >>> [e.normalized for e in report.errors], report.categories
        (['500 server error'], ('error_message', 'feature_broken'))
        >>> rules.extract("Paid $500 at 5:00 in 2021 on iOS 15.1").errors
        ()
        """
        if not text:
            return SymptomReport()
        low = text.lower()
        first: dict[str, int] = {}
        messages: list[ErrorMention] = []
        breakages: list[tuple[int, int, tuple[str, ...]]] = []
        recovered = False
        for start, end, surface, hit in self._phrases.scan(text, low):
            if hit.recovery:
                recovered = True
            if hit.message:
                messages.append(ErrorMention("message", hit.message, start, end, surface))
            if hit.breakage:
                breakages.append((start, end, hit.categories))
                continue
            for category in hit.categories:
                first.setdefault(category, start)
        features = [
            FeatureMention(name, start, end, surface)
            for start, end, surface, name in self._features.scan(text, low)
            if name is not None
        ]
        owners = [self._feature_categories[f.feature] for f in features]
        starts = [f.start for f in features]
        for start, end, categories in breakages:
            index = bisect_left(starts, start)
            if index < len(features) and features[index].start - end <= self.window:
                categories = (owners[index],)
            elif index and start - features[index - 1].end <= self.window:
                categories = (owners[index - 1],)
            for category in categories:
                if first.get(category, start + 1) > start:
                    first[category] = start
        errors = _codes(text) if _DIGIT.search(text) else []
        if errors:
            spans = [(e.start, e.end) for e in errors]
            messages = [m for m in messages if not _overlaps(spans, m.start, m.end)]
            if first.get("error_message", errors[0].start + 1) > errors[0].start:
                first["error_message"] = errors[0].start
            errors = sorted(errors + messages, key=lambda e: e.start)
        else:
            errors = messages  # a message already counted as error_message
        order = sorted(first, key=lambda c: (first[c], SYMPTOM_CATEGORIES.index(c)))
        return SymptomReport(tuple(order), tuple(errors), tuple(features), recovered)


def _hit(tags: set[tuple[str, str]]) -> _Hit:
    meaning = tuple(c for c in SYMPTOM_CATEGORIES if ("category", c) in tags)
    message = next((value for kind, value in sorted(tags) if kind == "message"), None)
    broken = "feature_broken" in meaning
    meaning = tuple(c for c in meaning if c != "feature_broken")
    return _Hit(meaning, broken, message, ("recovery", "") in tags)


def _codes(text: str) -> list[ErrorMention]:
    """HTTP statuses and app error codes, in text order."""
    found = []
    for match in _ERROR_RE.finditer(text):
        group = match.lastgroup
        token = match[group or "a"]
        if group == "b":
            before = text[max(0, match.start() - 24) : match.start()]
            if match["kw"].lower() == "code" and _NOT_AFTER.search(before):
                continue
        if group == "d" and token.split("-", 1)[0] in _NOT_ERRORS:
            continue
        found.append(ErrorMention(*_normalize(token), match.start(), match.end(), match[0]))
    return found


def _normalize(token: str) -> tuple[ErrorKind, str]:
    """Name an error code the same way however it was written."""
    status = token[:3]
    if token[3:] in ("", "s", "S") and status.isdigit() and 400 <= int(status) <= 599:
        name = _HTTP_NAMES.get(int(status))
        return "http", f"{status} {name}" if name else f"error {status}"
    if token[:2] in ("0x", "0X") and len(token) > 2:
        return "code", "0x" + token[2:].upper()
    if _PREFIXED.fullmatch(token.upper()) and not token[0].isdigit():
        return "code", token.upper()
    return "code", "code " + token.upper()


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    index = bisect_left(spans, (end, -1))
    return index > 0 and spans[index - 1][1] > start
