"""Reading and compiling the symptom vocabulary (``data/symptoms.yaml``, format in its header).

:func:`read_rules` checks the file; :class:`PhraseScanner` compiles phrases into one trie-shaped
regular expression, so a text is scanned once whatever the number of phrases, and the longest
phrase wins where two start at the same character.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, NoReturn, TypeVar

import yaml

from detector.errors import ConfigError, SourceNotFound
from detector.paths import project_path
from detector.yamlio import load_yaml

__all__ = ["SYMPTOM_CATEGORIES", "PhraseScanner", "RuleFile", "default_symptoms_path", "read_rules"]

SYMPTOM_CATEGORIES: tuple[str, ...] = tuple(
    "down_unavailable login_auth error_message app_crash connectivity_network slow_degraded"
    " payments feature_broken power".split()
)
"""Symptom categories, in the order reports list ties."""

L = TypeVar("L")

_RELATIVE = Path("data") / "symptoms.yaml"
_NAME = re.compile(r"[a-z0-9][a-z0-9_ '/-]*")
_CUE = re.compile(r"\*?[^\s*](?:[^\s*]| (?=[^\s*]))*\*?")
# Scripts written without spaces between words: a cue in them needs no word boundary.
_UNSPACED = re.compile(
    "[\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
)
# Spaces in a matched phrase: a run counts as one, and none count next to unspaced scripts.
_SPACES = re.compile(rf"(?<={_UNSPACED.pattern})\s+|\s+(?={_UNSPACED.pattern})|['\u2019]|(\s+)")
_CUE_SECTIONS = ("recovery", "ignore", "ignore_features")


@dataclass(frozen=True, slots=True)
class Entry:
    """One named entry of a section: its cues (all languages) and regex patterns."""

    name: str
    cues: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleFile:
    """The checked content of a symptoms file."""

    source: str
    feature_window: int
    categories: tuple[Entry, ...]
    messages: tuple[Entry, ...]
    features: tuple[Entry, ...]
    recovery: tuple[str, ...]
    ignore: tuple[str, ...]
    ignore_features: tuple[str, ...]


class PhraseScanner(Generic[L]):
    """Find phrases (and optional regex patterns) in text, each mapped to a label.

    Cues are lowercase; ``*`` at either end lifts the word boundary on that side (``störung*``
    finds ``Störungen``), a space matches any run of spaces (or none between CJK characters), an
    apostrophe is optional and may be curly. Cues in unspaced scripts match inside words.

    Examples
    --------
    >>> scanner = PhraseScanner({"down": "D", "can't log in": "L", "障害": "J"})
    >>> [(text, label) for _, _, text, label in scanner.scan("Cant log in, APP DOWN, 障害発生")]
    [('Cant log in', 'L'), ('DOWN', 'D'), ('障害', 'J')]
    """

    def __init__(self, phrases: Mapping[str, L], patterns: Mapping[str, L] | None = None) -> None:
        self._labels: dict[str, L] = {}
        bounded: dict[str, Any] = {}
        open_left: dict[str, Any] = {}
        for cue, label in phrases.items():
            body = cue.strip("*")
            self._labels[self.key(body)] = self._labels[body] = label  # body: the common case
            # Words in unspaced scripts have no boundaries, nor does punctuation.
            left, right = (c.isalnum() and not _UNSPACED.match(c) for c in (body[0], body[-1]))
            trie = open_left if cue.startswith("*") or not left else bounded
            _insert(trie, body, right and not cue.endswith("*"))
        # A first-character class lets the engine skip most positions without trying the trie.
        branches = []
        if bounded:
            branches.append(r"(?<!\w)" + _first_chars(bounded) + _node_regex(bounded))
        if open_left:
            branches.append(_first_chars(open_left) + _node_regex(open_left))
        alternatives = [f"(?P<t>{'|'.join(branches) or '(?!)'})"]
        self._patterns: dict[str, L] = {}
        for index, (pattern, label) in enumerate((patterns or {}).items()):
            self._patterns[f"p{index}"] = label
            alternatives.append(f"(?P<p{index}>{pattern})")
        source = "|".join(alternatives)
        # Lowercasing first lets the case-sensitive (faster) form run; the other one serves the
        # rare text whose lowercase form has a different length, so offsets stay right.
        self._lower = re.compile(source)
        self._icase = re.compile(source, re.IGNORECASE)

    @staticmethod
    def key(phrase: str) -> str:
        """Return the lookup key of a cue or matched phrase: lowercase, without apostrophes.

        Examples
        --------
        >>> PhraseScanner.key("Can’t  Log in*"), PhraseScanner.key("서버  오류")
        ('cant log in', '서버오류')
        """
        return _SPACES.sub(lambda m: " " if m[1] else "", phrase.strip("*").lower())

    def scan(self, text: str, low: str | None = None) -> Iterator[tuple[int, int, str, L]]:
        """Yield ``(start, end, surface, label)`` per phrase, left to right (``low``: lowered)."""
        low = text.lower() if low is None else low
        regex, haystack = (self._lower, low) if len(low) == len(text) else (self._icase, text)
        labels, patterns = self._labels, self._patterns
        for match in regex.finditer(haystack):
            start, end = match.span()
            group = match.lastgroup
            if group != "t":
                label = patterns[group or ""]
            else:  # a phrase: its text is mostly a cue as written, else look up its key
                label = labels[found] if (found := match[0]) in labels else labels[self.key(found)]
            yield start, end, text[start:end], label


def _first_chars(trie: dict[str, Any]) -> str:
    """A lookahead for the characters a trie can start with (none if one starts with a space)."""
    chars = [re.sub(r"\\(.)", r"\1", piece) for piece in trie]
    if any(len(char) != 1 for char in chars):
        return ""
    return "(?=[" + "".join(re.escape(char) for char in sorted(chars)) + "])"


def _insert(trie: dict[str, Any], body: str, right: bool) -> None:
    node = trie
    for index, char in enumerate(body):
        if char == " ":
            unspaced = _UNSPACED.match(body[index - 1]) or _UNSPACED.match(body[index + 1])
            piece = r"\s*" if unspaced else r"\s+"
        elif char in "'\u2019":
            piece = "['\u2019]?"
        else:
            piece = re.escape(char)
        node = node.setdefault(piece, {})
    # An end without a boundary also covers one with it.
    node[""] = "" if not right or node.get("") == "" else r"(?!\w)"


def _node_regex(node: dict[str, Any]) -> str:
    # Children before the end marker: the regex tries the longer phrase first.
    parts = [piece + _node_regex(child) for piece, child in node.items() if piece]
    if "" in node:
        parts.append(node[""])
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def read_rules(path: Path | str) -> RuleFile:
    """Read and check a symptoms file.

    Raises
    ------
    SourceNotFound
        When the file does not exist.
    ConfigError
        When the file breaks a rule; the message names the file, the entry and the field.

    Examples
    --------
    >>> rules = read_rules(default_symptoms_path())
    >>> [entry.name for entry in rules.categories] == list(SYMPTOM_CATEGORIES)
    True
    """
    path = Path(path)
    if not path.is_file():
        raise SourceNotFound(path)
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: must be a mapping of sections, got: {type(raw).__name__}")
    known = ("version", "feature_window", "categories", "messages", "features", *_CUE_SECTIONS)
    unknown = sorted(str(key) for key in raw if key not in known)
    if unknown:
        raise ConfigError(f"{path}: unknown section {unknown[0]!r}")
    window = raw.get("feature_window", 40)
    if type(window) is not int or window < 0:
        raise ConfigError(f"{path}: field 'feature_window': must be an int >= 0, got: {window!r}")
    categories = _entries(path, raw, "categories")
    missing = [name for name in SYMPTOM_CATEGORIES if name not in {e.name for e in categories}]
    if missing:
        raise ConfigError(f"{path}: section 'categories': missing entry {missing[0]!r}")
    cues = {name: _cues(raw.get(name), "", f"{path}: section {name!r}") for name in _CUE_SECTIONS}
    return RuleFile(
        source=str(path),
        feature_window=window,
        categories=categories,
        messages=_entries(path, raw, "messages"),
        features=_entries(path, raw, "features"),
        **cues,
    )


def _fail(where: str, field: str, message: str) -> NoReturn:
    raise ConfigError(f"{where}, field {field!r}: {message}")


def _entries(path: Path, raw: Mapping[str, Any], section: str) -> tuple[Entry, ...]:
    items = raw.get(section) or []
    if not isinstance(items, list):
        raise ConfigError(f"{path}: section {section!r}: must be a list of entries")
    allowed = {"name", "cues"} | ({"patterns"} if section == "categories" else {"category"})
    entries: list[Entry] = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, Mapping) else None
        where = f"{path}: {section} entry {index} ({name!r})"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: must be a mapping, got: {type(item).__name__}")
        for key in item:
            if key not in allowed:
                _fail(where, str(key), "unknown field")
        if section == "categories" and name not in SYMPTOM_CATEGORIES:
            _fail(where, "name", f"must be one of {', '.join(SYMPTOM_CATEGORIES)}, got: {name!r}")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            _fail(where, "name", f"must be a lowercase name, got: {name!r}")
        if name in {e.name for e in entries}:
            _fail(where, "name", "already used by an earlier entry")
        if (category := item.get("category")) is not None and category not in SYMPTOM_CATEGORIES:
            _fail(where, "category", f"must be one of {', '.join(SYMPTOM_CATEGORIES)}")
        patterns = _patterns(item.get("patterns") or [], where)
        cues = _cues(item.get("cues"), "cues", where)
        if not cues and not patterns:
            _fail(where, "cues", "must list at least one cue")
        entries.append(Entry(name, cues, patterns, (category,) if category else ()))
    return tuple(entries)


def _cues(value: Any, field: str, where: str) -> tuple[str, ...]:
    """Check a ``{language: [cue, ...]}`` mapping and return all cues in file order."""
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        _fail(where, field, f"must map language codes to lists of cues, got: {value!r}")
    cues: list[str] = []
    for lang, items in value.items():
        here = f"{field}.{lang}".lstrip(".")
        if not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2,3}", lang):
            _fail(where, here, "language must be a lowercase ISO 639 code like 'en'")
        if not isinstance(items, list):
            _fail(where, here, f"must be a list of cues, got: {items!r}")
        for number, cue in enumerate(items):
            if not isinstance(cue, str) or not _CUE.fullmatch(cue) or cue != cue.lower():
                _fail(where, here, f"needs lowercase, single spaces, '*' only at ends: {cue!r}")
            if cue in items[:number]:
                _fail(where, here, f"lists {cue!r} twice")
            cues.append(cue)
    return tuple(cues)


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        _fail(where, "patterns", f"must be a list of regular expressions, got: {value!r}")
    for index, pattern in enumerate(value):
        field = f"patterns[{index}]"
        try:
            compiled = re.compile(pattern) if isinstance(pattern, str) and pattern else None
        except re.error as exc:
            _fail(where, field, f"invalid regular expression {pattern!r}: {exc}")
        literal = re.sub(r"\\.", "", pattern) if compiled else ""  # escapes such as \S stay
        if not compiled or compiled.groupindex or literal != literal.lower():
            _fail(where, field, f"must be a lowercase regex without named groups, got: {pattern!r}")
    return tuple(value)


def default_symptoms_path(start: Path | None = None) -> Path:
    """Return ``data/symptoms.yaml``: next to the installed package, or under ``start``.

    Raises
    ------
    SourceNotFound
        When neither the checkout nor ``start`` (default: the working directory) has it.

    Examples
    --------
    >>> default_symptoms_path().name
    'symptoms.yaml'
    """
    return project_path(_RELATIVE, start=start)
