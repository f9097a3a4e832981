"""The read cache: replays, shares and refreshes answers, and never serves what it must not."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.cache import ReadCache

pytestmark = pytest.mark.filterwarnings("error")


class Origin:
    """A stand-in application: answers ``{path}#{n}`` (n counts its calls per path), with the
    status it is told, after an optional pause (a slow query)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.status = 200
        self.pause = 0.0
        self.headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, scope: Scope, _receive: Receive, send: Send) -> None:
        path = scope["path"]
        self.calls[path] += 1
        body = f"{path}#{self.calls[path]}".encode()
        if self.pause:
            await asyncio.sleep(self.pause)
        headers = [(b"content-type", b"text/plain"), *self.headers]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A ``ReadCache`` over an ``Origin``, with a hand-moved clock and write generation."""

    def __init__(self, **options: object) -> None:
        self.origin = Origin()
        self.clock = Clock()
        self.generation = 0
        self.results: Counter[str] = Counter()
        defaults: dict[str, object] = {
            "seconds": 1.0,
            "prefixes": ("/v1/incidents", "/v1/services"),
            "stale_seconds": 30.0,
        }
        defaults.update(options)
        self.cache = ReadCache(
            self.origin,
            generation=lambda: self.generation,
            record=lambda result: self.results.update([result]),
            monotonic=self.clock,
            **defaults,  # type: ignore[arg-type]
        )

    def run(
        self, requests: Callable[[httpx.AsyncClient], Awaitable[list[httpx.Response]]]
    ) -> list[httpx.Response]:
        async def go() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=self.cache)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await requests(client)

        return asyncio.run(go())

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        async def one(client: httpx.AsyncClient) -> list[httpx.Response]:
            return [await client.get(path, **kwargs)]  # type: ignore[arg-type]

        return self.run(one)[0]


def test_a_repeated_read_is_answered_from_memory_until_it_expires() -> None:
    harness = Harness()
    first = harness.get("/v1/incidents?status=open")
    second = harness.get("/v1/incidents?status=open")
    assert first.text == second.text == "/v1/incidents#1"
    assert harness.origin.calls["/v1/incidents"] == 1
    assert second.headers["cache-control"] == "public, max-age=1"
    assert second.headers["etag"] == first.headers["etag"]

    harness.clock.now += 1.5  # expired: this request recomputes it
    assert harness.get("/v1/incidents?status=open").text == "/v1/incidents#2"
    assert harness.results == {"miss": 2, "hit": 1}


def test_the_query_string_is_part_of_what_is_cached() -> None:
    harness = Harness()
    harness.get("/v1/incidents?status=open")
    harness.get("/v1/incidents?status=resolved")
    assert harness.origin.calls["/v1/incidents"] == 2


def test_a_write_by_this_process_is_visible_on_the_next_read() -> None:
    harness = Harness()
    harness.get("/v1/incidents")
    harness.generation += 1  # a commit through the store
    assert harness.get("/v1/incidents").text == "/v1/incidents#2"


def test_concurrent_misses_share_one_computation() -> None:
    harness = Harness()
    harness.origin.pause = 0.05

    async def crowd(client: httpx.AsyncClient) -> list[httpx.Response]:
        return list(await asyncio.gather(*(client.get("/v1/incidents") for _ in range(20))))

    answers = harness.run(crowd)
    assert {answer.text for answer in answers} == {"/v1/incidents#1"}
    assert harness.origin.calls["/v1/incidents"] == 1
    assert harness.results == {"miss": 1, "wait": 19}


def test_an_expired_answer_is_served_while_one_request_refreshes_it() -> None:
    harness = Harness()
    harness.get("/v1/services/tesla/timeseries")
    harness.clock.now += 5.0
    harness.origin.pause = 0.05

    async def crowd(client: httpx.AsyncClient) -> list[httpx.Response]:
        refresh = asyncio.ensure_future(client.get("/v1/services/tesla/timeseries"))
        await asyncio.sleep(0.01)  # the refresh is under way
        others = await asyncio.gather(
            *(client.get("/v1/services/tesla/timeseries") for _ in range(5))
        )
        return [await refresh, *others]

    refreshed, *others = harness.run(crowd)
    assert refreshed.text == "/v1/services/tesla/timeseries#2"
    assert {answer.text for answer in others} == {"/v1/services/tesla/timeseries#1"}
    assert harness.results["stale"] == 5


def test_an_answer_too_old_even_to_be_stale_is_waited_for() -> None:
    harness = Harness(stale_seconds=2.0)
    harness.get("/v1/incidents")
    harness.clock.now += 10.0
    harness.origin.pause = 0.05

    async def pair(client: httpx.AsyncClient) -> list[httpx.Response]:
        return list(await asyncio.gather(client.get("/v1/incidents"), client.get("/v1/incidents")))

    assert {answer.text for answer in harness.run(pair)} == {"/v1/incidents#2"}


def test_errors_are_never_cached() -> None:
    harness = Harness()
    harness.origin.status = 404
    assert harness.get("/v1/incidents/nope").status_code == 404
    assert harness.get("/v1/incidents/nope").status_code == 404
    assert harness.origin.calls["/v1/incidents/nope"] == 2


def test_a_shared_error_makes_each_waiting_request_ask_for_itself() -> None:
    harness = Harness()
    harness.origin.status = 503
    harness.origin.pause = 0.05

    async def pair(client: httpx.AsyncClient) -> list[httpx.Response]:
        return list(await asyncio.gather(client.get("/v1/incidents"), client.get("/v1/incidents")))

    assert [answer.status_code for answer in harness.run(pair)] == [503, 503]
    assert harness.origin.calls["/v1/incidents"] == 2


def test_answers_marked_no_store_or_setting_cookies_are_not_cached() -> None:
    for header in ((b"cache-control", b"no-store"), (b"set-cookie", b"a=b")):
        harness = Harness()
        harness.origin.headers = [header]
        harness.get("/v1/incidents")
        harness.get("/v1/incidents")
        assert harness.origin.calls["/v1/incidents"] == 2


def test_only_gets_under_the_prefixes_are_cached() -> None:
    harness = Harness()
    for _ in range(2):
        harness.get("/v1/webhooks")
        harness.get("/health")

    async def posts(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.post("/v1/incidents", content=b"{}") for _ in range(2)]

    harness.run(posts)
    assert harness.origin.calls == {"/v1/webhooks": 2, "/health": 2, "/v1/incidents": 2}
    assert not harness.results


def test_zero_seconds_turns_the_cache_off() -> None:
    harness = Harness(seconds=0.0)
    harness.get("/v1/incidents")
    harness.get("/v1/incidents")
    assert harness.origin.calls["/v1/incidents"] == 2


def test_a_client_holding_the_current_etag_gets_304_without_a_body() -> None:
    harness = Harness()
    etag = harness.get("/v1/incidents").headers["etag"]
    again = harness.get("/v1/incidents", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = harness.get("/v1/incidents", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_keyed_reads_are_cached_per_key_and_private() -> None:
    harness = Harness(keyed=True)
    alice = {"Authorization": "Bearer alice"}
    harness.get("/v1/incidents", headers=alice)
    cached = harness.get("/v1/incidents", headers=alice)
    harness.get("/v1/incidents", headers={"Authorization": "Bearer mallory"})
    harness.get("/v1/incidents")
    assert harness.origin.calls["/v1/incidents"] == 3  # alice once, mallory, no key
    assert cached.headers["cache-control"] == "private, max-age=1"


def test_the_least_recently_used_answer_goes_first_when_full() -> None:
    harness = Harness(max_entries=2)
    for path in ("/v1/services/a", "/v1/services/b", "/v1/services/a", "/v1/services/c"):
        harness.get(path)
    harness.get("/v1/services/a")  # kept: used more recently than b
    harness.get("/v1/services/b")  # evicted by c: asked again
    assert harness.origin.calls == {"/v1/services/a": 1, "/v1/services/b": 2, "/v1/services/c": 1}


def test_bodies_over_the_limit_are_not_cached() -> None:
    harness = Harness(max_body_bytes=5)
    harness.get("/v1/incidents")
    harness.get("/v1/incidents")
    assert harness.origin.calls["/v1/incidents"] == 2
