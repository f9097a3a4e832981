"""Faster pickling of frozen slotted dataclasses (posts and annotations in checkpoints).

``@dataclass(frozen=True, slots=True)`` pickles through ``__getstate__``/``__setstate__`` that
call ``dataclasses.fields()`` for every object; reading an analysis checkpoint spent most of its
time there. These replacements keep the same state (the field values, in order), so files
written either way load either way, and look the names up once per class.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

__all__ = ["fast_pickling"]

_T = TypeVar("_T")


def fast_pickling(cls: type[_T]) -> type[_T]:
    """Class decorator (above ``@dataclass``) giving ``cls`` cheap pickle state methods.

    Examples
    --------
    >>> import pickle
    >>> from detector.models import GeoPoint  # decorated with it
    >>> pickle.loads(pickle.dumps(GeoPoint(lat=37.5, lon=127.0)))
    GeoPoint(lat=37.5, lon=127.0)
    """
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, name) for name in names]

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)  # the class is frozen

    setattr(cls, "__getstate__", __getstate__)  # noqa: B010 (mypy rejects the plain assignment)
    setattr(cls, "__setstate__", __setstate__)  # noqa: B010
    return cls
