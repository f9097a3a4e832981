"""Example records as the real APIs and dumps spell them (field names, types and quirks).

Each constant is a fresh-enough literal: tests that mutate one must ``copy.deepcopy`` it first.
"""

from __future__ import annotations

from typing import Any

# --------------------------------------------------------------------------- Twitter API v1.1

_V1_USER = {
    "id": 17919972,
    "id_str": "17919972",
    "name": "Ana",
    "screen_name": "ana_in_sydney",
    "location": "Sydney, NSW",
    "followers_count": 120,
    "verified": False,
}

TWEET_V1: dict[str, Any] = {
    "created_at": "Sat Sep 16 00:35:29 +0000 2017",
    "id": 908829577473720320,
    "id_str": "908829577473720320",
    "text": "@TeslaSupport app down &amp; can't unlock &lt;again&gt; https://t.co/abc",
    "source": '<a href="http://twitter.com/download/iphone">Twitter for iPhone</a>',
    "truncated": False,
    "in_reply_to_status_id": 908829000000000000,
    "in_reply_to_status_id_str": "908829000000000000",
    "in_reply_to_user_id_str": "1",
    "in_reply_to_screen_name": "TeslaSupport",
    "user": _V1_USER,
    "geo": {"type": "Point", "coordinates": [-33.87, 151.2]},  # deprecated, [lat, lon]
    "coordinates": {"type": "Point", "coordinates": [151.2, -33.87]},  # GeoJSON, [lon, lat]
    "place": {
        "id": "0073b76548e5984f",
        "url": "https://api.twitter.com/1.1/geo/id/0073b76548e5984f.json",
        "place_type": "city",
        "name": "Sydney",
        "full_name": "Sydney, New South Wales",
        "country_code": "AU",
        "country": "Australia",
        "bounding_box": {"type": "Polygon", "coordinates": [[[150.5, -34.1], [151.3, -33.5]]]},
    },
    "is_quote_status": False,
    "retweet_count": 0,
    "favorite_count": 2,
    "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    "lang": "en",
    "timestamp_ms": "1505522129000",
}

TWEET_V1_EXTENDED: dict[str, Any] = {
    "created_at": "Fri Nov 19 21:03:12 +0000 2021",
    "id": 1461812345678901248,
    "id_str": "1461812345678901248",
    "text": "Tesla app has been down for an hour now, can't unlock the car in the parking lot, "
    "anyone else seeing 500 errors from the server? This is the second time this… "
    "https://t.co/xyz",
    "truncated": True,
    "extended_tweet": {
        "full_text": "Tesla app has been down for an hour now, can't unlock the car in the "
        "parking lot, anyone else seeing 500 errors from the server? This is the second time "
        "this week &amp; support is not answering #TeslaDown",
        "display_text_range": [0, 220],
        "entities": {"hashtags": [{"text": "TeslaDown", "indices": [202, 212]}]},
    },
    "user": {"id": 42, "id_str": "42", "screen_name": "carl", "location": None},
    "coordinates": None,
    "place": None,
    "lang": "en",
}

TWEET_V1_RETWEET: dict[str, Any] = {
    "created_at": "Fri Nov 19 21:10:00 +0000 2021",
    "id": 1461814000000000000,
    "id_str": "1461814000000000000",
    "text": "RT @carl: Tesla app has been down for an hour now, can't unlock the car in the "
    "parking lot, anyone else seeing 500 errors from…",
    "truncated": False,
    "user": {"id": 7, "id_str": "7", "screen_name": "dora", "location": "Berlin"},
    "retweeted_status": TWEET_V1_EXTENDED,
    "coordinates": None,
    "place": None,
    "lang": "en",
}

TWEET_V1_QUOTE: dict[str, Any] = {
    "created_at": "Fri Nov 19 21:20:00 -0500 2021",  # an offset other than +0000
    "id": 1461816000000000000,
    "id_str": "1461816000000000000",
    "text": "Same here in Toronto https://t.co/q",
    "truncated": False,
    "is_quote_status": True,
    "quoted_status_id": 1461812345678901248,
    "quoted_status_id_str": "1461812345678901248",
    "quoted_status": TWEET_V1_EXTENDED,
    "user": {"id": 9, "id_str": "9", "screen_name": "eve", "location": "Toronto"},
    "coordinates": None,
    "place": None,
    "lang": "und",
}

DELETE_V1: dict[str, Any] = {
    "delete": {
        "status": {
            "id": 908829577473720320,
            "id_str": "908829577473720320",
            "user_id": 17919972,
            "user_id_str": "17919972",
        },
        "timestamp_ms": "1505522200000",
    }
}

LIMIT_V1: dict[str, Any] = {"limit": {"track": 1234, "timestamp_ms": "1505522200000"}}

# --------------------------------------------------------------------------- Twitter API v2

TWEET_V2_QUOTED: dict[str, Any] = {
    "id": "1593000000000000000",
    "text": "PSN is down again, error WS-116522-7",
    "created_at": "2022-11-16T23:00:00.000Z",
    "author_id": "2244994945",
    "edit_history_tweet_ids": ["1593000000000000000"],
    "lang": "en",
}

TWEET_V2: dict[str, Any] = {
    "id": "1593015346234220544",
    "text": "@AskPlayStation can't sign in &amp; store won't load",
    "created_at": "2022-11-16T23:59:59.000Z",
    "author_id": "783214",
    "edit_history_tweet_ids": ["1593015346234220544"],
    "conversation_id": "1593015346234220544",
    "lang": "en",
    "geo": {
        "place_id": "01a9a39529b27f36",
        "coordinates": {"type": "Point", "coordinates": [-73.99, 40.73]},
    },
    "referenced_tweets": [{"type": "quoted", "id": "1593000000000000000"}],
    "public_metrics": {"retweet_count": 0, "reply_count": 1, "like_count": 3, "quote_count": 0},
}

TWEET_V2_LONG: dict[str, Any] = {
    "id": "1593015999999999999",
    "text": "Long post about the outage, cut at 280 characters…",
    "note_tweet": {"text": "Long post about the outage, with the full text after 280 characters"},
    "created_at": "2022-11-17T00:10:00.000Z",
    "author_id": "783214",
    "edit_history_tweet_ids": ["1593015999999999990", "1593015999999999999"],
    "referenced_tweets": [{"type": "replied_to", "id": "1593015346234220544"}],
}

V2_RESPONSE: dict[str, Any] = {
    "data": [TWEET_V2, TWEET_V2_LONG],
    "includes": {
        "users": [
            {"id": "783214", "name": "Twitter", "username": "Twitter", "location": "everywhere"},
            {"id": "2244994945", "name": "Twitter Dev", "username": "TwitterDev"},
        ],
        "places": [
            {
                "id": "01a9a39529b27f36",
                "full_name": "Manhattan, NY",
                "name": "Manhattan",
                "country_code": "US",
                "place_type": "city",
            }
        ],
        # A reply to a tweet of the same page is included again: it must not come out twice.
        "tweets": [TWEET_V2_QUOTED, TWEET_V2],
    },
    "meta": {
        "newest_id": "1593015999999999999",
        "oldest_id": "1593015346234220544",
        "result_count": 2,
    },
}

V2_STREAM_LINE: dict[str, Any] = {
    "data": {
        "id": "1600000000000000001",
        "text": "RT @TwitterDev: PSN is down again, error WS-116522-7",
        "created_at": "2022-12-06T10:00:00.000Z",
        "author_id": "1",
        "edit_history_tweet_ids": ["1600000000000000001"],
        "referenced_tweets": [{"type": "retweeted", "id": "1593000000000000000"}],
    },
    "includes": {"users": [{"id": "1", "username": "streamer", "name": "S"}]},
    "matching_rules": [{"id": "1599", "tag": "psn outage"}],
}

V2_LOOKUP_NO_EXPANSIONS: dict[str, Any] = {
    "data": {
        "id": "1610000000000000000",
        "text": "is discord down?",
        "created_at": "2023-01-02T03:04:05.000Z",
        "edit_history_tweet_ids": ["1610000000000000000"],
    }
}

# twarc2 flatten: `author` inlined, `geo` merged with the place, referenced tweets inlined.
TWEET_V2_FLAT: dict[str, Any] = {
    "id": "1620000000000000000",
    "text": "Same, Xbox Live sign-in fails",
    "created_at": "2023-01-30T12:00:00.000Z",
    "author_id": "555",
    "edit_history_tweet_ids": ["1620000000000000000"],
    "author": {"id": "555", "username": "gamer_gal", "name": "G", "location": "Leeds, UK"},
    "geo": {
        "place_id": "315b740b108481f6",
        "id": "315b740b108481f6",
        "full_name": "Leeds, England",
        "name": "Leeds",
        "country_code": "GB",
        "place_type": "city",
    },
    "referenced_tweets": [
        {
            "type": "quoted",
            "id": "1619999999999999999",
            "text": "Xbox Live down? Can't sign in",
            "created_at": "2023-01-30T11:55:00.000Z",
            "author_id": "777",
            "author": {"id": "777", "username": "xfan"},
            "edit_history_tweet_ids": ["1619999999999999999"],
        }
    ],
    "__twarc": {"url": "https://api.twitter.com/2/tweets/search/recent", "version": "2.14.0"},
}

# --------------------------------------------------------------------------- Reddit dumps

REDDIT_SUBMISSION: dict[str, Any] = {
    "id": "qxyz12",
    "name": "t3_qxyz12",
    "created_utc": 1637355792,
    "subreddit": "teslamotors",
    "subreddit_id": "t5_2s3j5",
    "title": "App down &amp; car won't unlock?",
    "selftext": "Getting a 500 error since 9pm.\n\n&gt; Is anyone else seeing this?\n\nEdit: back",
    "author": "model3owner",
    "author_fullname": "t2_abc123",
    "permalink": "/r/teslamotors/comments/qxyz12/app_down_car_wont_unlock/",
    "url": "https://www.reddit.com/r/teslamotors/comments/qxyz12/app_down_car_wont_unlock/",
    "score": 57,
    "num_comments": 3,
    "over_18": False,
}

REDDIT_COMMENT: dict[str, Any] = {
    "id": "hm1abcd",
    "name": "t1_hm1abcd",
    "created_utc": "1637356000",  # older Pushshift dumps store it as a string
    "subreddit": "teslamotors",
    "body": "&gt; car won't unlock?\n\nSame here in Oslo, phone key not working",
    "author": "nordic_ev",
    "author_fullname": "t2_def456",
    "parent_id": "t3_qxyz12",
    "link_id": "t3_qxyz12",
    "permalink": "/r/teslamotors/comments/qxyz12/app_down/hm1abcd/",
    "score": 12,
}

REDDIT_COMMENT_NO_NAME: dict[str, Any] = {  # old comments lack `name`
    "id": "c0ffee1",
    "created_utc": 1262304000.0,
    "subreddit": "xbox360",
    "body": "xbox live is down for me",
    "author": "gamer",
    "parent_id": "t1_beef",
}

REDDIT_REMOVED: dict[str, Any] = {
    "id": "hm1gone",
    "name": "t1_hm1gone",
    "created_utc": 1637356100,
    "subreddit": "teslamotors",
    "body": "[removed]",
    "author": "[deleted]",
    "parent_id": "t3_qxyz12",
}

REDDIT_DELETED: dict[str, Any] = {
    "id": "hm1dele",
    "name": "t1_hm1dele",
    "created_utc": 1637356200,
    "subreddit": "teslamotors",
    "body": "[deleted]",
    "author": "[deleted]",
    "parent_id": "t3_qxyz12",
}

REDDIT_REMOVED_SUBMISSION: dict[str, Any] = {
    "id": "qgone1",
    "name": "t3_qgone1",
    "created_utc": 1637356300,
    "subreddit": "teslamotors",
    "title": "Servers down?",
    "selftext": "[removed]",
    "author": "[deleted]",
    "permalink": "/r/teslamotors/comments/qgone1/servers_down/",
}

REDDIT_CROSSPOST: dict[str, Any] = {
    "id": "qcross",
    "name": "t3_qcross",
    "created_utc": 1637357000,
    "subreddit": "electricvehicles",
    "title": "App down &amp; car won't unlock?",
    "selftext": "",
    "author": "xposter",
    "crosspost_parent": "t3_qxyz12",
    "crosspost_parent_list": [{"id": "qxyz12", "subreddit": "teslamotors"}],
    "permalink": "/r/electricvehicles/comments/qcross/app_down/",
}

# --------------------------------------------------------------------------- Mastodon

MASTODON_STATUS: dict[str, Any] = {
    "id": "109372844412345678",
    "created_at": "2022-11-19T21:03:12.000Z",
    "in_reply_to_id": None,
    "sensitive": False,
    "spoiler_text": "",
    "visibility": "public",
    "language": "en",
    "uri": "https://mastodon.social/users/alice/statuses/109372844412345678",
    "url": "https://mastodon.social/@alice/109372844412345678",
    "content": '<p>Is <span class="h-card"><a href="https://mastodon.social/@github" '
    'class="u-url mention">@<span>github</span></a></span> down?</p>'
    "<p>Pushes fail with 503 &amp; the UI is slow<br />since 21:00 UTC</p>",
    "account": {
        "id": "1",
        "username": "alice",
        "acct": "alice",  # local account: no @domain
        "url": "https://mastodon.social/@alice",
    },
    "reblog": None,
    "media_attachments": [],
    "replies_count": 0,
}

MASTODON_REMOTE: dict[str, Any] = {
    "id": "109372844499999999",
    "created_at": "2022-11-19T21:05:00.000Z",
    "spoiler_text": "github outage",
    "language": "de",
    "uri": "https://fosstodon.org/users/bob/statuses/109372800000000000",
    "url": "https://fosstodon.org/@bob/109372800000000000",
    "content": "<p>Bei mir auch, git push hängt</p>",
    "account": {
        "id": "2",
        "username": "bob",
        "acct": "bob@fosstodon.org",  # remote account
        "url": "https://fosstodon.org/@bob",
    },
    "reblog": None,
}

MASTODON_BOOST: dict[str, Any] = {
    "id": "109372899900000000",
    "created_at": "2022-11-19T21:10:00.000Z",
    "spoiler_text": "",
    "language": None,
    "uri": "https://mastodon.social/users/carol/statuses/109372899900000000/activity",
    "url": None,
    "content": "",
    "account": {
        "id": "3",
        "username": "carol",
        "acct": "carol",
        "url": "https://mastodon.social/@carol",
    },
    "reblog": MASTODON_REMOTE,
}

# --------------------------------------------------------------------------- Bluesky

DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
OTHER_DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
QUOTED_URI = f"at://{OTHER_DID}/app.bsky.feed.post/3l3pte3p2e325"

JETSTREAM_POST: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911162329308,
    "kind": "commit",
    "commit": {
        "rev": "3l3qo2vutsw2b",
        "operation": "create",
        "collection": "app.bsky.feed.post",
        "rkey": "3l3qo2vuowo2b",
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-09-09T19:46:02.102Z",
            "langs": ["en"],
            "text": "is bluesky down? feed won't load",
        },
        "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
    },
}

JETSTREAM_REPLY: dict[str, Any] = {
    "did": OTHER_DID,
    "time_us": 1725911170000000,
    "kind": "commit",
    "commit": {
        "rev": "3l3qo3aaaaa2b",
        "operation": "create",
        "collection": "app.bsky.feed.post",
        "rkey": "3l3qo3bbbbb2b",
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-09-09T19:46:10.000Z",
            "text": "same, timeline is empty",
            "reply": {
                "parent": {
                    "cid": "bafyparent",
                    "uri": f"at://{DID}/app.bsky.feed.post/3l3qo2vuowo2b",
                },
                "root": {
                    "cid": "bafyparent",
                    "uri": f"at://{DID}/app.bsky.feed.post/3l3qo2vuowo2b",
                },
            },
        },
        "cid": "bafyreply",
    },
}

JETSTREAM_QUOTE: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911180000000,
    "kind": "commit",
    "commit": {
        "operation": "create",
        "collection": "app.bsky.feed.post",
        "rkey": "3l3qo4ccccc2b",
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-09-09T19:46:20.000Z",
            "text": "down for me too",
            "embed": {
                "$type": "app.bsky.embed.record",
                "record": {"cid": "bafyquoted", "uri": QUOTED_URI},
            },
        },
    },
}

JETSTREAM_QUOTE_WITH_MEDIA: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911190000000,
    "kind": "commit",
    "commit": {
        "operation": "create",
        "collection": "app.bsky.feed.post",
        "rkey": "3l3qo5ddddd2b",
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-09-09T19:46:30.000Z",
            "text": "screenshot of the error",
            "embed": {
                "$type": "app.bsky.embed.recordWithMedia",
                "media": {"$type": "app.bsky.embed.images", "images": []},
                "record": {
                    "$type": "app.bsky.embed.record",
                    "record": {"cid": "bafyquoted", "uri": QUOTED_URI},
                },
            },
        },
    },
}

JETSTREAM_NO_CREATED_AT: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911200000000,
    "kind": "commit",
    "commit": {
        "operation": "create",
        "collection": "app.bsky.feed.post",
        "rkey": "3l3qo6eeeee2b",
        "record": {"$type": "app.bsky.feed.post", "text": "no createdAt here"},
    },
}

JETSTREAM_DELETE: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911300000000,
    "kind": "commit",
    "commit": {
        "rev": "3l3qo7",
        "operation": "delete",
        "collection": "app.bsky.feed.post",
        "rkey": "3l3qo2vuowo2b",
    },
}

JETSTREAM_LIKE: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911400000000,
    "kind": "commit",
    "commit": {
        "operation": "create",
        "collection": "app.bsky.feed.like",
        "rkey": "3l3qo8",
        "record": {
            "$type": "app.bsky.feed.like",
            "createdAt": "2024-09-09T19:48:00.000Z",
            "subject": {"cid": "bafyquoted", "uri": QUOTED_URI},
        },
    },
}

JETSTREAM_IDENTITY: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911500000000,
    "kind": "identity",
    "identity": {
        "did": DID,
        "handle": "bsky.app",
        "seq": 1409752997,
        "time": "2024-09-09T19:48:10.000Z",
    },
}

JETSTREAM_ACCOUNT: dict[str, Any] = {
    "did": DID,
    "time_us": 1725911600000000,
    "kind": "account",
    "account": {"active": True, "did": DID, "seq": 1409753013, "time": "2024-09-09T19:48:20.000Z"},
}

BSKY_POST_VIEW: dict[str, Any] = {
    "uri": f"at://{DID}/app.bsky.feed.post/3kabc",
    "cid": "bafyview",
    "author": {"did": DID, "handle": "bsky.app", "displayName": "Bluesky"},
    "record": {
        "$type": "app.bsky.feed.post",
        "createdAt": "2024-02-01T10:00:00.000Z",
        "langs": ["en", "ja"],
        "text": "We're investigating an outage affecting feeds",
        "embed": {
            "$type": "app.bsky.embed.record",
            "record": {"cid": "bafyquoted", "uri": QUOTED_URI},
        },
    },
    "embed": {
        "$type": "app.bsky.embed.record#view",
        "record": {
            "$type": "app.bsky.embed.record#viewRecord",
            "uri": QUOTED_URI,
            "cid": "bafyquoted",
            "author": {"did": OTHER_DID, "handle": "jay.bsky.team"},
            "value": {
                "$type": "app.bsky.feed.post",
                "createdAt": "2024-02-01T09:55:00.000Z",
                "text": "feeds are not loading for me",
            },
            "indexedAt": "2024-02-01T09:55:01.000Z",
        },
    },
    "replyCount": 4,
    "repostCount": 1,
    "likeCount": 20,
    "indexedAt": "2024-02-01T10:00:01.000Z",
}

BSKY_SEARCH_RESPONSE: dict[str, Any] = {
    "posts": [
        BSKY_POST_VIEW,
        {
            "uri": f"at://{OTHER_DID}/app.bsky.feed.post/3kdef",
            "cid": "bafyview2",
            "author": {"did": OTHER_DID, "handle": "jay.bsky.team"},
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "fixed now",
                "createdAt": "2024-02-01T11:00:00.000Z",
            },
            "indexedAt": "2024-02-01T11:00:01.000Z",
        },
    ],
    "cursor": "25",
    "hitsTotal": 2,
}

# --------------------------------------------------------------------------- Forums

FORUM_POST: dict[str, Any] = {
    "forum": "teslamotorsclub",
    "thread_id": "245678",
    "thread_title": "App down again?",
    "post_number": 3,
    "post_id": "6543210",
    "author": "TMC_user",
    "author_id": "99",
    "author_location": "Oslo, Norway",
    "timestamp": "2021-11-19T22:10:00+01:00",
    "body": "bob said:\nis the app down for anyone else?\nClick to expand...\n"
    "Yes, 500 error here since 21:00",
    "url": "https://teslamotorsclub.com/tmc/posts/6543210/",
    "lang": "en",
    "reply_to_post_id": "6543200",
    "likes": 4,
}

FORUM_POST_BBCODE: dict[str, Any] = {
    "forum": "teslamotorsclub",
    "thread_id": "245678",
    "post_number": 4,
    "author": "other",
    "timestamp": "1637360000",
    "body": '[QUOTE="TMC_user, post: 6543210, member: 99"]Yes, 500 error here'
    '[quote="bob"]is the app down?[/quote] nested[/QUOTE]\nStill down in Bergen',
}

DISCOURSE_TOPIC: dict[str, Any] = {
    "id": 1234,
    "title": "Login broken after update",
    "slug": "login-broken-after-update",
    "posts_count": 5,
    "post_stream": {
        "posts": [
            {
                "id": 9001,
                "username": "maria",
                "user_id": 11,
                "created_at": "2023-05-01T10:00:00.000Z",
                "cooked": "<p>Since this morning login fails with <code>error 502</code>.</p>\n"
                "<p>Anyone else?</p>",
                "post_number": 1,
                "post_type": 1,
                "reply_to_post_number": None,
                "topic_id": 1234,
                "topic_slug": "login-broken-after-update",
                "user_deleted": False,
            },
            {
                "id": 9002,
                "username": "sam",
                "user_id": 12,
                "created_at": "2023-05-01T10:05:00.000Z",
                "cooked": '<aside class="quote no-group" data-username="maria" data-post="1" '
                'data-topic="1234">\n<div class="title">\n<div class="quote-controls"></div>\n'
                '<img alt="" width="24" height="24" src="/avatar.png" class="avatar"> maria:</div>'
                "\n<blockquote>\n<p>Since this morning login fails</p>\n</blockquote>\n</aside>\n"
                "<p>Same here, 502 from Frankfurt</p>",
                "post_number": 2,
                "post_type": 1,
                "reply_to_post_number": 1,
                "topic_id": 1234,
                "topic_slug": "login-broken-after-update",
                "user_deleted": False,
            },
            {
                "id": 9003,
                "username": "admin",
                "user_id": 1,
                "created_at": "2023-05-01T12:00:00.000Z",
                "cooked": "",
                "post_number": 3,
                "post_type": 3,
                "action_code": "closed.enabled",
                "topic_id": 1234,
                "topic_slug": "login-broken-after-update",
            },
            {
                "id": 9004,
                "username": "gone",
                "user_id": 13,
                "created_at": "2023-05-01T12:30:00.000Z",
                "cooked": "<p>(post deleted by author)</p>",
                "post_number": 4,
                "post_type": 1,
                "topic_id": 1234,
                "topic_slug": "login-broken-after-update",
                "user_deleted": True,
            },
        ],
        "stream": [9001, 9002, 9003, 9004],
    },
}
