"""Slot-filling grammar and the noise people add when they type fast.

A template is text with ``{slot}`` holes. A slot's value is a string or a sequence of alternatives;
alternatives may contain further slots, so small banks combine into many distinct sentences.
Unknown slots (such as ``{LINK}``) are left in place for the record builder.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "Slots",
    "add_noise",
    "expand",
    "pick",
    "tidy",
]

Slots = Mapping[str, str | Sequence[str]]

_SLOT_RE = re.compile(r"\{(\w+)\}")
_SPACES_RE = re.compile(r"[ \t]{2,}")
_SPACE_PUNCT_RE = re.compile(r" +([,.!?;:…])")
_DOUBLE_DOT_RE = re.compile(r"(?<!\.)\.\.(?!\.)")
_WORD_RE = re.compile(r"\S+")
_PROTECTED = ("@", "#", "http", "{")
_VOWELS = "aeiouy"
_KEYBOARD_NEIGHBOURS = {
    "a": "qs",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "q": "w",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "w": "qe",
    "x": "zc",
    "y": "tu",
    "z": "x",
}
_ELONGATE = ("so", "why", "please", "pls", "no", "ugh", "come on", "omg", "bro", "lol", "yes")


def pick(rng: random.Random, options: Sequence[str]) -> str:
    """Return one of ``options`` (a thin wrapper so call sites read as grammar)."""
    return options[rng.randrange(len(options))]


def expand(template: str, slots: Slots, rng: random.Random, depth: int = 0) -> str:
    """Fill every known ``{slot}`` in ``template``, recursively, left to right.

    Examples
    --------
    >>> expand("{a} {b}", {"a": "x", "b": ["{a}{a}"]}, random.Random(1))
    'x xx'
    """

    def fill(match: re.Match[str]) -> str:
        value = slots.get(match.group(1))
        if value is None:
            return match.group(0)
        choice = value if isinstance(value, str) else pick(rng, value)
        return expand(choice, slots, rng, depth + 1) if depth < 6 else choice

    return _SLOT_RE.sub(fill, template)


def tidy(text: str) -> str:
    """Collapse doubled spaces, drop spaces before punctuation and trim each line."""
    lines = [
        _DOUBLE_DOT_RE.sub(".", _SPACE_PUNCT_RE.sub(r"\1", _SPACES_RE.sub(" ", line))).strip()
        for line in text.split("\n")
    ]
    return "\n".join(lines).strip()


def _typo(word: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(word) if ch.isalpha() and ch.isascii()]
    if len(letters) < 4:
        return word
    i = letters[rng.randrange(1, len(letters))]
    kind = rng.random()
    if kind < 0.3:  # dropped letter
        return word[:i] + word[i + 1 :]
    if kind < 0.55 and i + 1 < len(word) and word[i + 1].isalpha():  # swapped pair
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.8:  # doubled letter
        return word[:i] + word[i] + word[i:]
    near = _KEYBOARD_NEIGHBOURS.get(word[i].lower())
    if not near:
        return word
    return word[:i] + pick(rng, near) + word[i + 1 :]


def _elongate(word: str, rng: random.Random) -> str:
    core = word.rstrip(".,!?")
    tail = word[len(core) :]
    if not core or not core[-1].isalpha():
        return word
    last = core[-1]
    if last.lower() in _VOWELS or last.lower() in "hg":
        return core + last * rng.randint(2, 5) + tail
    for j in range(len(core) - 1, -1, -1):
        if core[j].lower() in _VOWELS:
            return core[: j + 1] + core[j] * rng.randint(2, 4) + core[j + 1 :] + tail
    return word


def add_noise(
    text: str,
    rng: random.Random,
    *,
    typo_rate: float = 0.015,
    lower_p: float = 0.35,
    caps_p: float = 0.02,
    elongate_p: float = 0.08,
    latin: bool = True,
) -> str:
    """Return ``text`` with the slips of fast typing: typos, case changes, elongations.

    Mentions, hashtags, links and unfilled slots are never altered. Non-Latin scripts only get
    the case-independent treatment (nothing, in practice).
    """
    if not latin:
        return text
    words = text.split(" ")
    for n, word in enumerate(words):
        if not word or word.startswith(_PROTECTED):
            continue
        if rng.random() < typo_rate:
            words[n] = _typo(word, rng)
    out = " ".join(words)
    if rng.random() < elongate_p:
        candidates = [
            m for m in _WORD_RE.finditer(out) if m.group(0).lower().strip(".,!?") in _ELONGATE
        ]
        if candidates:
            m = candidates[rng.randrange(len(candidates))]
            out = out[: m.start()] + _elongate(m.group(0), rng) + out[m.end() :]
    roll = rng.random()
    if roll < caps_p:
        out = _map_unprotected(out, str.upper)
    elif roll < caps_p + lower_p:
        out = _map_unprotected(out, str.lower)
    return out


def _map_unprotected(text: str, fn: Callable[[str], str]) -> str:
    parts = text.split(" ")
    mapped = [p if p.startswith(_PROTECTED) else fn(p) for p in parts]
    return " ".join(mapped)
