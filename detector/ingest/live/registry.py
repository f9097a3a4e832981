"""Which class reads which kind of live source."""

from __future__ import annotations

from detector.clock import Clock
from detector.ingest.live.base import Source
from detector.ingest.live.feeds import FeedSource
from detector.ingest.live.jetstream import JetstreamSource
from detector.ingest.live.mastodon import MastodonStreamSource
from detector.ingest.live.reddit import RedditSource
from detector.ingest.live.settings import (
    FeedSettings,
    JetstreamSettings,
    MastodonSettings,
    RedditSettings,
    SourceSettingsBase,
)

__all__ = ["build_source"]


def build_source(settings: SourceSettingsBase, *, clock: Clock | None = None) -> Source:
    """The source reading what ``settings`` (one entry of ``Settings.sources``) describes."""
    if isinstance(settings, JetstreamSettings):
        return JetstreamSource(settings, clock=clock)
    if isinstance(settings, MastodonSettings):
        return MastodonStreamSource(settings, clock=clock)
    if isinstance(settings, RedditSettings):
        return RedditSource(settings, clock=clock)
    if isinstance(settings, FeedSettings):
        return FeedSource(settings, clock=clock)
    raise TypeError(f"no live source reads {type(settings).__name__}")
