"""Settings from the settings file, the environment and per-call values, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from detector.config import SETTINGS_FILE_VARIABLE, get_settings, use_settings_file
from detector.errors import ConfigError
from detector.ingest.live.settings import FeedSettings, JetstreamSettings, MastodonSettings

SOURCES = """
jobs_interval_seconds: 30
sources:
  - {kind: jetstream, name: bluesky}
  - {kind: mastodon, name: mastodon-social, instance: "https://mastodon.social",
     timeline: hashtag, hashtag: outage, token: secret-token}
  - {kind: feed, name: tmc, url: "https://teslamotorsclub.com/tmc/forums/-/index.rss"}
"""


def settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outage-radar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sources_come_from_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTINGS_FILE_VARIABLE, str(settings_file(tmp_path, SOURCES)))
    settings = get_settings()
    bluesky, mastodon, tmc = settings.sources
    assert isinstance(bluesky, JetstreamSettings) and bluesky.collections == ["app.bsky.feed.post"]
    assert isinstance(mastodon, MastodonSettings) and mastodon.hashtag == "outage"
    assert mastodon.token is not None and "secret-token" not in repr(mastodon)  # kept secret
    assert isinstance(tmc, FeedSettings) and tmc.interval_seconds == 300
    assert settings.jobs_interval_seconds == 30


def test_the_environment_wins_over_the_file_and_arguments_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTINGS_FILE_VARIABLE, str(settings_file(tmp_path, SOURCES)))
    monkeypatch.setenv("OUTAGE_RADAR_JOBS_INTERVAL_SECONDS", "5")
    assert get_settings().jobs_interval_seconds == 5
    assert get_settings(jobs_interval_seconds=7).jobs_interval_seconds == 7


def test_use_settings_file_points_later_settings_at_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SETTINGS_FILE_VARIABLE, raising=False)
    use_settings_file(settings_file(tmp_path, SOURCES))
    assert [s.name for s in get_settings().sources] == ["bluesky", "mastodon-social", "tmc"]
    with pytest.raises(ConfigError, match="nowhere.yaml: no such file"):
        use_settings_file(tmp_path / "nowhere.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs_interval: 5\n", "unknown settings: jobs_interval"),
        ("- just\n- a list\n", "expected a mapping"),
        ("sources: [\n", "not valid YAML"),
    ],
)
def test_a_bad_settings_file_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    path = settings_file(tmp_path, text)
    monkeypatch.setenv(SETTINGS_FILE_VARIABLE, str(path))
    with pytest.raises(ConfigError, match=message) as caught:
        get_settings()
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ("[{kind: feed, name: tmc}]", "url"),
        ("[{kind: gopher, name: tmc, url: x}]", "kind"),
        ("[{kind: mastodon, name: m, instance: 'https://x', timeline: hashtag}]", "hashtag"),
        ("[{kind: jetstream, name: a}, {kind: jetstream, name: a}]", "repeated: a"),
        ("[{kind: jetstream, name: 'Has Spaces'}]", "name"),
    ],
)
def test_a_bad_source_entry_is_refused_with_its_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: str, message: str
) -> None:
    monkeypatch.setenv(
        SETTINGS_FILE_VARIABLE, str(settings_file(tmp_path, f"sources: {sources}\n"))
    )
    with pytest.raises(ValidationError, match=message):
        get_settings()
