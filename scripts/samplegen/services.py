"""The services people post about, and how they write their names.

``slug`` is the label used in ``labels.jsonl.gz`` and ``truth.csv``.
``names`` are spellings as they appear in running text; ``tags`` are hashtags without ``#``;
``errors`` are ``(label, spellings...)`` tuples for error codes users quote.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SERVICES", "SERVICE_BY_SLUG", "Service"]


@dataclass(frozen=True, slots=True)
class Service:
    """One service: its label, kind, spellings, official accounts and error codes."""

    slug: str
    kind: str
    names: tuple[str, ...]
    handle: str
    support: str | None
    tags: tuple[str, ...]
    weight: float
    errors: tuple[tuple[str, ...], ...] = ()
    product: str = "app"


SERVICES: tuple[Service, ...] = (
    Service(
        "tesla",
        "car",
        (
            "tesla",
            "Tesla",
            "Tesla app",
            "tesla app",
            "the Tesla app",
            "my Tesla app",
            "TESLA",
            "@Tesla",
            "Tesla App",
            "the tesla app",
        ),
        "Tesla",
        "TeslaSupport",
        ("Tesla", "TeslaApp", "TeslaDown", "Model3", "ModelY"),
        24.0,
        (
            (
                "500",
                "500 server error",
                "500 Server Error",
                "error 500",
                "server error 500",
                "500 internal server error",
                "Error 500",
                "500 error",
                "server error (500)",
            ),
            ("401", "error 401", "401 unauthorized"),
        ),
    ),
    Service(
        "netflix",
        "streaming",
        ("netflix", "Netflix", "NETFLIX", "@netflix", "netflix app", "Netflix", "netflx"),
        "netflix",
        "NetflixHelps",
        ("Netflix", "NetflixDown", "netflix"),
        6.0,
        (
            ("NW-2-5", "NW-2-5", "error NW-2-5", "code NW-2-5"),
            ("UI-800-3", "UI-800-3", "error code UI-800-3"),
            ("tvq-st-103", "tvq-st-103", "TVQ-ST-103"),
        ),
        "stream",
    ),
    Service(
        "spotify",
        "streaming",
        ("spotify", "Spotify", "@Spotify", "spotify app", "SPOTIFY", "spotfy"),
        "Spotify",
        "SpotifyCares",
        ("Spotify", "SpotifyDown", "spotifywrapped"),
        5.0,
        (
            ("offline", "you're offline", '"you are offline"'),
            ("something went wrong", '"Something went wrong"', "something went wrong"),
        ),
    ),
    Service(
        "youtube",
        "streaming",
        ("youtube", "YouTube", "yt", "Youtube", "@YouTube", "YT"),
        "YouTube",
        "TeamYouTube",
        ("YouTube", "YouTubeDown"),
        5.0,
        (
            (
                "playback_id",
                '"An error occurred. Please try again later (Playback ID: ...)"',
                "the playback id error",
            ),
        ),
        "stream",
    ),
    Service(
        "instagram",
        "social",
        ("instagram", "Instagram", "insta", "IG", "ig", "@instagram", "Insta"),
        "instagram",
        None,
        ("Instagram", "instagramdown", "InstagramDown"),
        5.0,
        (("couldnt_refresh_feed", '"Couldn\'t refresh feed"', "couldn't refresh feed"),),
    ),
    Service(
        "whatsapp",
        "chat",
        ("whatsapp", "WhatsApp", "Whatsapp", "WA", "whatsap", "@WhatsApp"),
        "WhatsApp",
        None,
        ("WhatsApp", "whatsappdown", "WhatsAppDown"),
        4.0,
    ),
    Service(
        "facebook",
        "social",
        ("facebook", "Facebook", "FB", "fb", "@Facebook", "facebook messenger"),
        "Facebook",
        None,
        ("Facebook", "facebookdown"),
        3.0,
        (("something_went_wrong", '"Sorry, something went wrong"', "sorry something went wrong"),),
    ),
    Service(
        "discord",
        "chat",
        ("discord", "Discord", "@discord", "DISCORD", "dc", "discord app"),
        "discord",
        "discord_support",
        ("Discord", "discorddown", "DiscordDown"),
        4.0,
        (("rtc_connecting", "RTC Connecting", "stuck on RTC connecting", "rtc connecting"),),
    ),
    Service(
        "steam",
        "gaming",
        ("steam", "Steam", "@Steam", "steam store", "STEAM"),
        "Steam",
        None,
        ("Steam", "SteamDown", "SteamSale"),
        3.5,
        (("e502", "error e502 L3", "E502 L3", "e502"), ("e84", "error code e84", "e84")),
        "store",
    ),
    Service(
        "psn",
        "gaming",
        (
            "PSN",
            "psn",
            "PlayStation Network",
            "playstation network",
            "the PlayStation Network",
            "PS Network",
            "PS5",
            "ps4",
        ),
        "PlayStation",
        "AskPlayStation",
        ("PSN", "PSNDown", "PlayStation", "PS5"),
        4.0,
        (
            ("WS-37397-9", "WS-37397-9", "error WS-37397-9", "ws-37397-9"),
            ("NP-40833-8", "NP-40833-8", "np-40833-8"),
            ("WS-116332-6", "WS-116332-6", "error code WS-116332-6"),
        ),
        "console",
    ),
    Service(
        "xbox_live",
        "gaming",
        ("xbox live", "Xbox Live", "xbox", "Xbox", "XBL", "@XboxSupport", "Xbox network"),
        "Xbox",
        "XboxSupport",
        ("Xbox", "XboxLive", "XboxLiveDown"),
        3.0,
        (
            ("0x87DD0006", "0x87DD0006", "0x87dd0006", "error 0x87DD0006"),
            ("0x80a40401", "0x80a40401", "error code 0x80a40401"),
        ),
        "console",
    ),
    Service(
        "verizon",
        "telecom",
        ("verizon", "Verizon", "@Verizon", "VZW", "verizon wireless", "Verizon Wireless"),
        "Verizon",
        "VerizonSupport",
        ("Verizon", "VerizonDown", "verizonoutage"),
        3.0,
    ),
    Service(
        "att",
        "telecom",
        ("AT&T", "at&t", "ATT", "att", "@ATT", "AT&T wireless"),
        "ATT",
        "ATTHelp",
        ("ATT", "ATTDown", "attoutage"),
        2.5,
    ),
    Service(
        "tmobile",
        "telecom",
        ("T-Mobile", "t-mobile", "tmobile", "T Mobile", "@TMobile", "TMO"),
        "TMobile",
        "TMobileHelp",
        ("TMobile", "TMobileDown"),
        2.5,
    ),
    Service(
        "xfinity",
        "telecom",
        ("xfinity", "Xfinity", "comcast", "Comcast", "@Xfinity", "XFINITY", "comcast xfinity"),
        "Xfinity",
        "XfinitySupport",
        ("Xfinity", "XfinityDown", "Comcast", "comcastsucks"),
        3.0,
    ),
    Service(
        "paypal",
        "finance",
        ("paypal", "PayPal", "Paypal", "@PayPal", "PAYPAL"),
        "PayPal",
        "AskPayPal",
        ("PayPal", "PayPalDown"),
        2.0,
        (
            (
                "something_went_wrong",
                '"Things don\'t appear to be working at the moment"',
                "things don't appear to be working at the moment",
            ),
        ),
    ),
    Service(
        "venmo",
        "finance",
        ("venmo", "Venmo", "@Venmo", "VENMO"),
        "Venmo",
        "VenmoSupport",
        ("Venmo", "VenmoDown"),
        1.5,
    ),
    Service(
        "chase",
        "finance",
        ("chase", "Chase", "Chase app", "chase app", "@Chase", "Chase Bank", "chase mobile"),
        "Chase",
        "ChaseSupport",
        ("Chase", "ChaseDown"),
        1.5,
    ),
    Service(
        "coinbase",
        "finance",
        ("coinbase", "Coinbase", "@coinbase", "CB", "coinbase app", "COINBASE", "Coinbase Pro"),
        "coinbase",
        "CoinbaseSupport",
        ("Coinbase", "CoinbaseDown", "crypto", "Bitcoin"),
        2.5,
        (("500", "error 500", "500 error"), ("2fa", "2FA code not arriving", "2fa not sending")),
    ),
    Service(
        "aws",
        "cloud",
        ("AWS", "aws", "us-east-1", "Amazon Web Services", "@awscloud", "AWS console"),
        "awscloud",
        "AWSSupport",
        ("AWS", "awsoutage", "AWSdown", "DevOps"),
        1.5,
        (
            ("503", "503 Service Unavailable", "503s", "HTTP 503"),
            ("502", "502 bad gateway", "502s"),
        ),
        "console",
    ),
    Service(
        "slack",
        "chat",
        ("slack", "Slack", "@SlackHQ", "SLACK"),
        "SlackHQ",
        "SlackStatus",
        ("Slack", "slackdown"),
        1.5,
    ),
    Service(
        "zoom",
        "chat",
        ("zoom", "Zoom", "@zoom_us", "zoom app"),
        "zoom_us",
        None,
        ("Zoom", "zoomdown"),
        1.5,
        (("5003", "error code 5003", "error 5003"),),
    ),
    Service(
        "uber",
        "ride",
        ("uber", "Uber", "@Uber", "uber app", "uber eats", "Uber Eats", "UberEats"),
        "Uber",
        "Uber_Support",
        ("Uber", "UberEats", "uberdown"),
        2.5,
    ),
    Service(
        "roblox",
        "gaming",
        ("roblox", "Roblox", "ROBLOX", "@Roblox", "roblx"),
        "Roblox",
        None,
        ("Roblox", "RobloxDown", "robloxdev"),
        3.0,
        (
            ("279", "error code 279", "error 279", "Error Code: 279"),
            ("529", "error 529", "Error Code: 529"),
        ),
    ),
    Service(
        "fortnite",
        "gaming",
        ("fortnite", "Fortnite", "FORTNITE", "fn", "@FortniteGame", "fort"),
        "FortniteGame",
        "FortniteStatus",
        ("Fortnite", "FortniteDown", "FortniteChapter3"),
        3.0,
        (("lightswitch", '"servers not responding"', "servers not responding"),),
    ),
    Service(
        "gmail",
        "email",
        ("gmail", "Gmail", "GMAIL", "google mail", "@gmail"),
        "gmail",
        None,
        ("Gmail", "gmaildown", "Google"),
        1.5,
        (("temporary_error", '"Temporary Error (500)"', "temporary error 500"),),
    ),
    Service(
        "twitch",
        "streaming",
        ("twitch", "Twitch", "@Twitch", "TWITCH", "twitch.tv"),
        "Twitch",
        "TwitchSupport",
        ("Twitch", "TwitchDown", "twitchstreamer"),
        3.0,
        (("2000", "error #2000", "network error #2000", "error 2000"),),
        "stream",
    ),
    Service(
        "pge",
        "utility",
        ("PG&E", "pge", "PGE", "pg&e", "@PGE4Me"),
        "PGE4Me",
        None,
        ("PGE", "poweroutage", "PowerOutage"),
        1.0,
    ),
)

SERVICE_BY_SLUG: dict[str, Service] = {s.slug: s for s in SERVICES}
