"""How live sources are configured: one entry per source in the settings file's ``sources`` list.

Each entry names its ``kind`` (``jetstream``, ``mastodon``, ``reddit``, ``feed``); the fields
common to every kind are in :class:`SourceSettingsBase`. Example (YAML settings file)::

    sources:
      - {kind: jetstream, name: bluesky}
      - {kind: mastodon, name: mastodon-social, instance: https://mastodon.social,
         timeline: hashtag, hashtag: outage}
      - {kind: reddit, name: reddit-tech, subreddits: [teslamotors, sysadmin]}
      - {kind: feed, name: tmc, url: https://teslamotorsclub.com/tmc/forums/-/index.rss}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = [
    "FeedSettings",
    "JetstreamSettings",
    "MastodonSettings",
    "RedditSettings",
    "SourceSettings",
    "SourceSettingsBase",
]

DEFAULT_USER_AGENT = "outage-radar/0.1 (self-hosted outage detector)"


class SourceSettingsBase(BaseModel):
    """Settings every live source has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$",
        description="Unique name of this source (health, checkpoints, metrics).",
    )
    enabled: bool = Field(True, description="Start this source with the server / listener.")
    source_name: str | None = Field(
        None, description="Overrides the source name its posts carry (e.g. a forum's name)."
    )
    silent_after_seconds: float = Field(
        900.0,
        gt=0,
        description="No post for this long flags the source silent (its counts are not trusted).",
    )
    failing_after_errors: int = Field(
        3, ge=1, description="This many failed connections or polls in a row flag it failing."
    )
    backoff_seconds: float = Field(
        1.0, gt=0, description="First wait before reconnecting after a failure (doubles)."
    )
    max_backoff_seconds: float = Field(
        60.0, gt=0, description="Longest wait between reconnection attempts."
    )
    timeout_seconds: float = Field(
        30.0, gt=0, description="Connect and read timeout of one request or stream."
    )
    user_agent: str = Field(DEFAULT_USER_AGENT, description="User-Agent header sent.")


class JetstreamSettings(SourceSettingsBase):
    """Bluesky's Jetstream firehose over a WebSocket."""

    kind: Literal["jetstream"] = "jetstream"
    url: str = Field(
        "wss://jetstream2.us-east.bsky.network/subscribe",
        description="Jetstream subscribe endpoint (ws:// or wss://).",
    )
    collections: list[str] = Field(
        default_factory=lambda: ["app.bsky.feed.post"],
        description="wantedCollections filter sent to Jetstream.",
    )
    rewind_seconds: float = Field(
        5.0,
        ge=0,
        description="Resume this far before the stored cursor (Jetstream's advice for no gaps;"
        " the events replayed twice are dropped).",
    )


class MastodonSettings(SourceSettingsBase):
    """A Mastodon instance's streaming API (server-sent events)."""

    kind: Literal["mastodon"] = "mastodon"
    instance: str = Field(description="Base URL of the instance, e.g. https://mastodon.social.")
    timeline: Literal["public", "public:local", "public:remote", "hashtag", "hashtag:local"] = (
        Field("public", description="Which streaming timeline to follow.")
    )
    hashtag: str | None = Field(None, description="The tag, for hashtag timelines (no #).")
    token: SecretStr | None = Field(
        None, description="Access token (many instances require one for the streaming API)."
    )

    @model_validator(mode="after")
    def _hashtag_given(self) -> MastodonSettings:
        if self.timeline.startswith("hashtag") and not self.hashtag:
            raise ValueError(f"timeline {self.timeline!r} needs a hashtag")
        return self


class RedditSettings(SourceSettingsBase):
    """New submissions (and comments) of subreddits, polled through the public JSON listings."""

    kind: Literal["reddit"] = "reddit"
    subreddits: list[str] = Field(min_length=1, description="Subreddit names, without r/.")
    comments: bool = Field(True, description="Poll new comments as well as new submissions.")
    base_url: str = Field("https://www.reddit.com", description="Where the listings are served.")
    interval_seconds: float = Field(60.0, gt=0, description="Time between polls of a listing.")
    limit: int = Field(100, ge=1, le=100, description="Items asked for per listing request.")


class FeedSettings(SourceSettingsBase):
    """An RSS/Atom feed or a Discourse forum's ``latest.json``, polled conditionally."""

    kind: Literal["feed"] = "feed"
    url: str = Field(description="Feed URL (RSS, Atom, or a Discourse /latest.json).")
    format: Literal["auto", "rss", "atom", "discourse"] = Field(
        "auto", description="Feed format; auto decides from the answer's content."
    )
    interval_seconds: float = Field(300.0, gt=0, description="Time between polls.")


SourceSettings = Annotated[
    JetstreamSettings | MastodonSettings | RedditSettings | FeedSettings,
    Field(discriminator="kind"),
]
