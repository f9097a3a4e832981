"""English phrase banks: shared slots, outage clauses by service kind, and the other intents.

Outage clauses are ``(template, feature)`` pairs keyed by service kind and symptom. The other
intents are lists of templates, generic ones (``{svc}`` filled with any service) and
service-specific ones. ``{LINK}`` marks where a link goes; the record builder fills it.
"""

from __future__ import annotations

__all__ = [
    "AD",
    "BOT_SPAM",
    "COMMON",
    "ELABORATE",
    "NEWS",
    "NEWS_OUTLETS",
    "OUTAGE",
    "OUTAGE_FRAMES",
    "OUTAGE_QUESTIONS",
    "OTHER",
    "REPLY_CHATTER",
    "SPECIFIC",
]

COMMON: dict[str, tuple[str, ...]] = {
    "ugh": (
        "ugh",
        "ffs",
        "bruh",
        "smh",
        "omg",
        "great.",
        "lovely.",
        "cool cool cool",
        "wtf",
        "seriously?",
        "of course",
        "not again",
        "fantastic.",
        "bro",
        "oh come on",
        "welp",
        "yikes",
        "jfc",
        "ok so",
        "uhh",
        "lmao",
        "sigh",
        "perfect timing",
        "amazing.",
    ),
    "anyone": (
        "anyone else?",
        "is it just me?",
        "anyone else having issues?",
        "just me?",
        "is it down for everyone?",
        "anyone??",
        "pls tell me it's not just me",
        "is this happening to anyone else",
        "same for y'all?",
        "anyone else or just me",
        "@ me if it's just me",
        "y'all seeing this too?",
    ),
    "context": (
        "been like this for 20 min",
        "restarted everything twice",
        "reinstalled, still nothing",
        "wifi is fine, everything else works",
        "tried on my phone and laptop, same thing",
        "logged out and back in, nope",
        "cleared cache, didn't help",
        "paying for this btw",
        "of all nights",
        "right when I sat down",
        "literally just renewed too",
        "it was fine an hour ago",
        "my internet is fine so it's not me",
        "checked downdetector and it's spiking",
        "rebooted the router for nothing",
        "third time this month",
        "every single time I need it",
        "at the worst possible time",
    ),
    "tail": (
        "smh",
        "lol",
        "ngl",
        "rn",
        "fr",
        "wtf",
        "ffs",
        "bruh",
        "lmao",
        "pls",
        "😭",
        "🙄",
        "😡",
        "🤬",
        "💀",
        "😤",
        "🥲",
        "😩",
        "🤦‍♂️",
        "🤦‍♀️",
        "🙃",
        "😑",
        "!!",
        "??",
        "...",
        "lol help",
        "pls fix",
        "fix it",
        "fix your servers",
        "do better",
        "🙄🙄",
        "😭😭😭",
        "💀💀",
    ),
    "happy": ("🙌", "🔥", "❤️", "😍", "💯", "👏", "🥳", "✨", "😎", "⚡", "🚗⚡", "🎉", ""),
    "laugh": ("😂", "🤣", "💀", "😭", "lmao", "lol", "lmfao", "😂😂", "haha", "💀💀💀"),
    "device": (
        "tv",
        "phone",
        "iphone",
        "android",
        "ps5",
        "firestick",
        "roku",
        "laptop",
        "ipad",
        "xbox",
        "apple tv",
        "chromecast",
        "smart tv",
    ),
    "duration": (
        "2 hours",
        "45 minutes",
        "an hour and a half",
        "3 hours",
        "90 min",
        "over an hour",
        "2.5 hrs",
        "forever",
    ),
    "show": (
        "Arcane",
        "Cowboy Bebop",
        "Red Notice",
        "Tick, Tick... Boom!",
        "Squid Game",
        "Narcos",
        "You",
        "Money Heist",
        "the Great British Bake Off",
        "Love Is Blind",
        "Big Mouth",
        "The Witcher",
        "Stranger Things",
        "Seinfeld",
        "Sex Education",
    ),
    "game": (
        "Halo Infinite",
        "Forza Horizon 5",
        "Battlefield 2042",
        "CoD Vanguard",
        "Pokémon BDSP",
        "Warzone",
        "Apex",
        "FIFA 22",
        "Minecraft",
        "GTA Online",
        "Valorant",
        "Destiny 2",
    ),
    "money": ("$15", "$40", "$12.99", "$9.99", "$120", "$60", "$200", "$35"),
    "pct": ("3%", "4.2%", "5%", "6%", "2.8%", "7%", "3.5%"),
    "model": ("Model 3", "Model Y", "M3", "MY", "Model S", "Model X", "model 3", "model y"),
    "rel": ("my wife", "my husband", "my gf", "my bf", "my roommate", "my mom", "my kid", "my dad"),
    "night": (
        "on a friday night",
        "on a saturday",
        "at 2am",
        "during lunch",
        "before work",
        "right before my meeting",
        "during the game",
        "in the middle of a match",
        "",
    ),
}

# Extra sentences that make some posts long (the source of >140-character tweets).
ELABORATE: dict[str, tuple[str, ...]] = {
    "negative": (
        "I've been a customer for 6 years and this is how they treat people.",
        "Honestly thinking about switching at this point.",
        "Not sure what I'm even paying for anymore.",
        "And of course support says it's something on my end.",
        "Tried calling, 45 minutes on hold, gave up.",
        "This keeps happening and nobody ever explains why.",
        "I just want the thing I pay for to work, is that too much to ask?",
        "Already restarted my phone, logged out, reinstalled. Nothing.",
        "Checked the status page and it says everything is fine, which is a lie.",
        "Had plans tonight that depended on this working.",
    ),
    "positive": (
        "Honestly didn't expect it to be this good.",
        "10/10 would recommend to anyone.",
        "Been telling everyone at work about it.",
        "Small things like this make a difference.",
        "Took me a while to come around but I'm a fan now.",
    ),
    "neutral": (
        "Anyway that's my day so far.",
        "Curious what everyone else thinks.",
        "Not sure if this is normal or just me.",
        "Let me know if you've had the same thing.",
        "Probably overthinking it but still.",
        "Would love some advice from people who know.",
    ),
}

# (template, feature) pairs per service kind and symptom.
OUTAGE: dict[str, dict[str, tuple[tuple[str, str | None], ...]]] = {
    "car": {
        "down_unavailable": (
            ("{svc} not working again", "mobile_app"),
            ("{svc} won't load at all", "mobile_app"),
            ("{svc} is down??", "mobile_app"),
            ("{svc} just keeps spinning", "mobile_app"),
        ),
        "error_message": (
            ("{svc} giving me {err}", "mobile_app"),
            ("getting {err} in {svc}", "mobile_app"),
        ),
        "connectivity_network": (
            ("{svc} says my car is offline but it's sitting right here", "vehicle_connection"),
            ("can't connect to my car through the app", "vehicle_connection"),
            ("app stuck on 'waking up' for 10 minutes", "vehicle_connection"),
        ),
        "feature_broken": (
            ("phone key not working again, had to use the card", "phone_key"),
            ("phone as key randomly stopped working", "phone_key"),
            ("climate won't turn on from {svc}", "climate"),
        ),
        "login_auth": (
            ("{svc} logged me out and won't let me back in", "login"),
            ("can't log into {svc}, keeps saying try again later", "login"),
        ),
        "app_crash": (("{svc} crashes on launch since the update", "mobile_app"),),
        "slow_degraded": (("{svc} taking forever to connect to the car", "vehicle_connection"),),
    },
    "streaming": {
        "down_unavailable": (
            ("{svc} is down", None),
            ("{svc} won't load", None),
            ("{svc} not working", None),
            ("{svc} just stopped working mid episode", "playback"),
            ("{svc} is dead rn", None),
            ("{svc} decided to take the night off", None),
            ("{svc} down again", None),
        ),
        "error_message": (
            ("{svc} keeps giving me {err}", "playback"),
            ("{err} on {svc} again", "playback"),
            ("every video on {svc} says {err}", "playback"),
        ),
        "app_crash": (
            ("{svc} keeps crashing on my {device}", "mobile_app"),
            ("{svc} crashes every time I open it", "mobile_app"),
        ),
        "slow_degraded": (
            ("{svc} buffering every 10 seconds", "playback"),
            ("{svc} stuck at 480p", "playback"),
            ("{svc} is sooo slow rn", None),
            ("{svc} keeps pausing to load", "playback"),
        ),
        "login_auth": (("{svc} logged me out and won't take my password", "login"),),
        "feature_broken": (
            ("{svc} search isn't working at all", "search"),
            ("can't download anything on {svc}", "downloads"),
        ),
    },
    "social": {
        "down_unavailable": (
            ("{svc} is down", None),
            ("{svc} not loading", None),
            ("{svc} down again", None),
            ("{svc} is broken rn", None),
            ("{svc} won't open", None),
        ),
        "feature_broken": (
            ("can't post anything on {svc}", "posting"),
            ("{svc} DMs not loading", "messages"),
            ("stories won't load on {svc}", "stories"),
            ("{svc} feed won't refresh", "feed"),
            ("can't upload to {svc}, it just fails", "posting"),
        ),
        "error_message": (("{svc} keeps saying {err}", "feed"),),
        "login_auth": (("{svc} logged me out and now says my password is wrong", "login"),),
        "app_crash": (("{svc} keeps crashing", "mobile_app"),),
        "slow_degraded": (("{svc} is so slow today", None),),
    },
    "chat": {
        "down_unavailable": (
            ("{svc} is down", None),
            ("{svc} not working", None),
            ("{svc} down?", None),
            ("{svc} died", None),
        ),
        "feature_broken": (
            ("can't send messages on {svc}", "messages"),
            ("messages stuck on one tick", "messages"),
            ("{svc} messages not sending", "messages"),
            ("can't join voice on {svc}", "voice"),
            ("can't share screen on {svc}", "screen_share"),
        ),
        "connectivity_network": (
            ("{svc} stuck on connecting", "connection"),
            ("{svc} keeps reconnecting every minute", "connection"),
        ),
        "error_message": (("{svc} stuck on {err}", "voice"), ("{svc} gave me {err}", None)),
        "login_auth": (("{svc} won't let me log in", "login"),),
        "app_crash": (("{svc} keeps crashing on my laptop", "desktop_app"),),
    },
    "gaming": {
        "down_unavailable": (
            ("{svc} down", None),
            ("{svc} servers are down again", "servers"),
            ("{svc} is dead", None),
        ),
        "login_auth": (
            ("can't sign in to {svc}", "sign_in"),
            ("{svc} won't let me log in", "sign_in"),
            ("{svc} sign in keeps failing", "sign_in"),
            ("{svc} keeps kicking me back to the sign in screen", "sign_in"),
        ),
        "connectivity_network": (
            ("can't connect to {svc} servers", "servers"),
            ("{svc} keeps disconnecting me", "servers"),
        ),
        "error_message": (("{svc} keeps throwing {err}", None), ("{err} on {svc} again", None)),
        "slow_degraded": (
            ("{svc} lag is insane rn", "servers"),
            ("{svc} downloads crawling at 50kb/s", "downloads"),
        ),
        "payments": (
            ("can't buy anything on {svc}, payment keeps failing", "store"),
            ("{svc} store won't take my card", "store"),
        ),
    },
    "telecom": {
        "connectivity_network": (
            ("no service on {svc}", "mobile_network"),
            ("{svc} phone just says SOS only", "mobile_network"),
            ("{svc} internet down", "internet"),
            ("no signal at all on {svc}", "mobile_network"),
            ("can't make calls on {svc}", "calls"),
            ("{svc} data not working", "mobile_data"),
            ("{svc} wifi keeps dropping", "internet"),
        ),
        "down_unavailable": (("{svc} outage?", None), ("{svc} down", None)),
        "slow_degraded": (
            ("{svc} internet crawling tonight", "internet"),
            ("{svc} speeds are garbage rn", "internet"),
        ),
    },
    "finance": {
        "payments": (
            ("{svc} payment keeps failing", "payments"),
            ("can't send money on {svc}", "transfers"),
            ("card declined through {svc} for no reason", "payments"),
            ("{svc} transfers stuck on pending", "transfers"),
        ),
        "login_auth": (
            ("can't log into {svc}", "login"),
            ("{svc} 2fa code never arrives", "login"),
        ),
        "error_message": (("{svc} {err}", None), ("{svc} keeps giving me {err}", None)),
        "app_crash": (("{svc} crashes every time I open it", "mobile_app"),),
        "down_unavailable": (("{svc} is down?", None), ("{svc} won't load", None)),
    },
    "cloud": {
        "down_unavailable": (
            ("{svc} is having a moment", None),
            ("{svc} console won't load", "console"),
        ),
        "error_message": (("getting {err} from {svc}", "api"), ("{svc} throwing {err}", "api")),
        "slow_degraded": (
            ("S3 slow af right now", "storage"),
            ("{svc} api latency through the roof", "api"),
        ),
    },
    "ride": {
        "feature_broken": (
            ("{svc} won't let me request a ride", "rides"),
            ("{svc} can't find drivers, map just spins", "rides"),
        ),
        "app_crash": (("{svc} keeps crashing", "mobile_app"),),
        "payments": (("{svc} payment failed 3 times", "payments"),),
        "down_unavailable": (("{svc} down?", None), ("{svc} not working at all", "mobile_app")),
    },
    "email": {
        "down_unavailable": (("{svc} not loading", None), ("{svc} down", None)),
        "feature_broken": (
            ("emails not coming through on {svc}", "email_delivery"),
            ("can't send anything from {svc}", "email_delivery"),
        ),
        "error_message": (("{svc} showing {err}", None),),
    },
    "utility": {
        "power": (
            ("power out again", "power"),
            ("{svc} cut our power again", "power"),
            ("no power in {city} for 2 hours now", "power"),
            ("lights just went out", "power"),
        ),
    },
}

OUTAGE_FRAMES: tuple[str, ...] = (
    "{clause}",
    "{clause}",
    "{ugh} {clause}",
    "{clause} {anyone}",
    "{clause}. {context}",
    "{ugh} {clause}. {context}",
    "{clause} {tail}",
    "{clause} {night} {tail}",
    "{clause}, {context} {tail}",
    "{clause}?? {anyone}",
    "{clause} again. {ugh}",
    "{ugh} {clause} {tail}",
    "{clause} {tag}",
    "{clause} {anyone} {tag}",
)

OUTAGE_QUESTIONS: tuple[str, ...] = (
    "is {svc} down?",
    "is {svc} down for anyone else?",
    "{svc} down?",
    "anyone else's {svc} not working?",
    "is {svc} having issues rn?",
    "is it just me or is {svc} not working",
    "yo is {svc} down or is it my wifi",
    "{svc} down for y'all too?",
    "is there a {svc} outage right now?",
    "is {svc} down again??",
    "wait is {svc} down",
    "{svc} acting up for anyone else?",
    "{svc} not working for anyone else??",
    "is {svc} broken or is it me",
)

# Non-outage intents with generic templates. ``{svc}`` is the service as written.
OTHER: dict[str, tuple[str, ...]] = {
    "other_complaint": (
        "{svc} customer service is a joke. {duration} on hold and they hung up on me",
        "why does {svc} keep raising prices every year",
        "{svc} charged me twice this month and support keeps sending me in circles",
        "got billed by {svc} after I cancelled. cool. {tail}",
        "the new {svc} update is awful, who asked for this",
        "{svc} support chat is just bots talking to bots",
        "{svc} price went up AGAIN and nothing got better",
        "spent {duration} with {svc} support to get a {money} refund",
        "{svc} really said 'we value your feedback' and then did nothing",
        "dear {svc}, stop emailing me 5 times a day",
        "cancelled {svc} today. not paying more for less",
    ),
    "question": (
        "how do I cancel {svc}?",
        "does {svc} have a student discount?",
        "is {svc} worth it?",
        "what's the best alternative to {svc}",
        "anyone know how to change the email on {svc}?",
        "how do you get a real person at {svc} support",
        "does {svc} work in Canada?",
        "can someone explain the new {svc} plans to me",
        "is there a way to turn off {svc} notifications without muting everything?",
    ),
    "praise": (
        "{svc} is so good",
        "{svc} support fixed my issue in 5 min, honestly impressed",
        "ok {svc} is actually goated",
        "{svc} just works {happy}",
        "shoutout to {svc}, refund came through same day",
        "{svc} never lets me down {happy}",
        "not gonna lie {svc} has been really solid lately",
    ),
    "smalltalk": (
        "anyway back to scrolling {svc} instead of sleeping",
        "{svc} and a blanket kind of night",
        "just realised I've had {svc} for 8 years lol",
        "{rel} keeps changing my settings on {svc}",
        "me and {svc} at 3am",
        "ok one more hour on {svc} then bed",
    ),
    "joke": (
        "{svc} when I need it vs {svc} when I don't: {laugh}",
        "my relationship with {svc} is complicated",
        "{svc} has trust issues and so do I",
    ),
}

# Service-specific lines per intent, mixed in with the generic ones.
SPECIFIC: dict[str, dict[str, tuple[str, ...]]] = {
    "tesla": {
        "other_complaint": (
            "{model} delivery pushed back AGAIN. third time now",
            "tesla service center wait is 3 weeks lol",
            "paint on my new {model} has scratches straight from delivery",
            "phantom braking on the highway again, scared the hell out of me",
            "$199/mo for FSD and it still can't handle a roundabout",
            "Tesla raised the Model Y price again. it's $7k more than when I ordered",
            "panel gaps on my new M3 are wild {tail}",
            "range drops like 30% in this cold and nobody warned me",
            "service center replaced my windshield and now there's a rattle",
            "the mobile service tech cancelled on me twice this week",
            "wipers on auto are still useless in light rain. tesla pls",
            "tesla stock is down {pct} and my portfolio is crying",
            "my delivery date just changed from Nov 23 to 'Dec - Jan' {ugh}",
            "tesla insurance quote doubled at renewal, no claims",
        ),
        "question": (
            "is FSD beta worth it at this point?",
            "how long is the {model} delivery wait rn?",
            "do I need winter tires on a model 3 in Denver?",
            "best way to precondition the battery when it's freezing?",
            "anyone tried the new light show on the holiday update yet?",
            "what's everyone's winter range on the Model Y LR?",
            "can you add a second phone key without the owner's account?",
            "is the tesla app supposed to show the car's location with a delay?",
            "does anyone actually use the tesla app's summon feature?",
            "how do I get into the FSD beta, my safety score is 98",
        ),
        "praise": (
            "FSD beta handled a 4-way stop perfectly today {happy}",
            "took the {model} on a road trip, supercharging was painless",
            "the tesla app is so good. preheated the car from bed ❄️",
            "sentry mode caught someone keying my neighbor's car",
            "one year with my {model}: zero regrets {happy}",
            "tesla mobile service came to my office and fixed the door handle in 20 min",
            "dog mode is genius, coffee run with the pup {happy}",
            "the acceleration never gets old lmao",
        ),
        "smalltalk": (
            "finally got my {model}!! {happy}",
            "tesla stock is down {pct} today, buying the dip",
            "TSLA down again, guess Elon's selling more shares",
            "washing the car before the rain tomorrow, genius move",
            "tesla is up {pct} lol",
            "first snow drive in the {model} today",
            "my kid calls the Tesla 'the spaceship'",
            "saw three cybertrucks in my dreams last night",
            "named my car Sparky, no I will not be taking questions",
            "Supercharger at the mall is packed today",
        ),
        "joke": (
            "my tesla has more updates than my phone {laugh}",
            "tesla owners when someone parks at the supercharger in an ICE car: 😤",
            "tesla stock down bad, like me {laugh}",
            "the tesla fart mode is the only feature my kids care about",
            "I didn't buy a tesla, I bought a very expensive iPad with wheels {laugh}",
        ),
    },
    "netflix": {
        "other_complaint": (
            "my netflix price went up again",
            "netflix cancelled another show I actually liked",
            "netflix removing good stuff every month and adding reality shows",
            "why does netflix autoplay trailers with SOUND",
        ),
        "question": (
            "what should I watch on netflix tonight",
            "anyone watched {show} yet?",
            "is {show} worth it or nah",
        ),
        "praise": (
            "{show} is a masterpiece",
            "{show} on netflix 😭😭 I wasn't ready",
            "netflix actually cooked with {show}",
        ),
        "smalltalk": (
            "watching {show} on netflix with the cat",
            "rewatching {show} for the 4th time",
            "netflix and a pizza, that's the plan",
        ),
        "joke": (
            "me: I'll sleep early. netflix: are you still watching?",
            "netflix asking 'are you still watching' like it's judging me {laugh}",
        ),
    },
    "spotify": {
        "other_complaint": (
            "spotify shuffle plays the same 10 songs every time",
            "spotify premium price hike in my country, cool",
            "spotify keeps adding podcasts to my home screen, I don't want them",
        ),
        "question": ("when does spotify wrapped come out?", "spotify or apple music?"),
        "praise": ("spotify discover weekly knows me too well", "spotify dj playlists slap"),
        "smalltalk": (
            "new spotify playlist slaps",
            "listening to the same album on spotify on repeat",
            "spotify wrapped is going to expose me",
        ),
        "joke": (
            "the new spotify UI is down bad lol",
            "my spotify wrapped is going to be a cry for help {laugh}",
        ),
    },
    "youtube": {
        "other_complaint": (
            "youtube unskippable ads are out of control",
            "removing the dislike count on youtube was a bad move",
            "youtube recommending me the same video 40 times",
        ),
        "smalltalk": (
            "fell into a youtube rabbit hole about submarines again",
            "youtube at 2am is a different place",
        ),
        "joke": ("youtube: 2 ads. me: fine. youtube: 2 more ads {laugh}",),
    },
    "instagram": {
        "other_complaint": (
            "instagram is all reels now, I just want to see my friends' posts",
            "instagram keeps showing me ads for stuff I already bought",
        ),
        "smalltalk": ("posting this on insta later", "deleting instagram for a week, wish me luck"),
    },
    "facebook": {
        "other_complaint": (
            "facebook marketplace is full of scammers",
            "facebook keeps suggesting people I went to kindergarten with",
        ),
        "smalltalk": (
            "it's called Meta now lol",
            "my aunt shared 14 minion memes on facebook today",
        ),
    },
    "discord": {
        "other_complaint": (
            "discord nitro price is a scam",
            "discord keeps auto-updating mid call",
        ),
        "smalltalk": (
            "discord call with the boys tonight",
            "started a discord server for our dnd group",
        ),
    },
    "steam": {
        "other_complaint": (
            "steam refund denied because I played 2.1 hours",
            "steam download stuck at 99% every time",
        ),
        "question": (
            "when is the steam autumn sale?",
            "is the steam deck actually shipping in december?",
        ),
        "smalltalk": (
            "bought 4 games on steam I will never play",
            "steam wishlist is 200 games deep",
        ),
        "joke": ("my bank account after the steam sale {laugh}",),
    },
    "psn": {
        "other_complaint": (
            "PS Plus games this month are mid",
            "still can't find a PS5 anywhere",
            "PSN charged me for a PS Plus renewal I turned off",
        ),
        "smalltalk": (
            "finally playing {game} on the PS5",
            "PS5 restock at target sold out in 2 minutes lol",
        ),
    },
    "xbox_live": {
        "other_complaint": ("game pass is removing games I was literally in the middle of",),
        "smalltalk": (
            "{game} on game pass is so good",
            "halo infinite multiplayer is free and actually fun??",
        ),
        "question": ("game pass or ps plus, which one?",),
    },
    "verizon": {
        "other_complaint": (
            "verizon raised my bill $10 with no explanation",
            "verizon store rep tried to sell me 3 lines I don't need",
        ),
    },
    "att": {
        "other_complaint": (
            "at&t customer service transferred me 6 times",
            "AT&T fiber install got rescheduled again",
        )
    },
    "tmobile": {
        "other_complaint": (
            "ever since the t-mobile data breach I get spam calls all day",
            "t-mobile 'unlimited' but they throttle me at 50GB",
        )
    },
    "xfinity": {
        "other_complaint": (
            "comcast data cap is a scam",
            "xfinity tech no-showed again, took a day off for nothing",
            "xfinity bill went up $15 'promotional period ended'",
        )
    },
    "paypal": {
        "other_complaint": (
            "paypal held my funds for 21 days",
            "paypal froze my account for no reason and support won't say why",
        )
    },
    "venmo": {
        "other_complaint": ("venmo fees for instant transfer are robbery",),
        "joke": ("venmo request for $3.50 from my roommate with the 🍕 emoji {laugh}",),
    },
    "chase": {
        "other_complaint": (
            "chase overdraft fees smh",
            "chase flagged my own rent payment as fraud",
        )
    },
    "coinbase": {
        "other_complaint": ("coinbase fees are insane", "coinbase support took 3 weeks to answer"),
        "smalltalk": ("bitcoin down bad today", "ETH pumping and I'm asleep as usual"),
        "question": ("how do I withdraw from coinbase to my bank?",),
    },
    "aws": {
        "other_complaint": ("aws bill this month made me cry", "who designed the aws console"),
        "joke": ("aws us-east-1 is load bearing for the entire internet lol",),
    },
    "slack": {"joke": ("slack huddles auto-joined me in a meeting in my pajamas {laugh}",)},
    "zoom": {
        "joke": ("another zoom meeting that could've been an email",),
        "smalltalk": ("zoom meeting at 8am on a saturday??",),
    },
    "uber": {
        "other_complaint": (
            "uber surge pricing at 2am is criminal",
            "uber eats order arrived cold and missing half",
            "uber driver cancelled 3 times in a row",
        ),
        "joke": ("is uber down or is it just friday night surge pricing",),
        "question": ("uber or lyft tonight?",),
    },
    "roblox": {"other_complaint": ("my kid spent $80 on robux without asking",)},
    "fortnite": {
        "other_complaint": ("sbmm in fortnite is ridiculous",),
        "smalltalk": ("playing fortnite with the boys", "fortnite live event when"),
    },
    "gmail": {"other_complaint": ("gmail spam filter put my job offer in spam",)},
    "twitch": {
        "other_complaint": ("twitch ads mid-stream every 10 min",),
        "smalltalk": ("going live on twitch in 10 {happy}", "chill stream tonight, come hang"),
    },
    "pge": {"other_complaint": ("pg&e bill doubled this month", "PG&E rates went up again")},
}

REPLY_CHATTER: tuple[str, ...] = (
    "lol same",
    "this is the way",
    "facts",
    "😂😂",
    "congrats!! enjoy it",
    "wait really?",
    "no way",
    "agreed 100%",
    "thanks for the tip",
    "where did you get that?",
    "welcome to the club",
    "hahaha",
    "ratio",
    "big if true",
    "this 👆",
    "exactly what I was thinking",
    "W",
    "L take",
    "pls keep us posted",
    "same thing happened to me last week",
    "lmaooo",
    "🔥🔥",
    "ok but why",
    "you're not wrong",
    "literally me",
    "can confirm",
    "respectfully, no",
    "good to know",
)

NEWS_OUTLETS: tuple[tuple[str, str], ...] = (
    ("electrek.co", "2021/11/{d}/{slug}"),
    ("www.teslarati.com", "{slug}"),
    ("www.theverge.com", "2021/11/{d}/{n}/{slug}"),
    ("techcrunch.com", "2021/11/{d}/{slug}"),
    ("www.cnbc.com", "2021/11/{d}/{slug}.html"),
    ("www.reuters.com", "technology/{slug}-2021-11-{d}"),
    ("www.engadget.com", "{slug}-{n}.html"),
    ("www.ign.com", "articles/{slug}"),
    ("www.coindesk.com", "markets/2021/11/{d}/{slug}"),
    ("variety.com", "2021/tv/news/{slug}-{n}"),
)

NEWS: dict[str, tuple[str, ...]] = {
    "tesla": (
        "Tesla shares slide as Musk sells another $1 billion in stock",
        "Tesla opens some Superchargers to non-Tesla EVs in the Netherlands",
        "Tesla FSD Beta 10.5 rolling out to more testers",
        "Tesla holiday update leaks: light show, new Sentry Mode view and more",
        "Rivian valuation passes Ford and GM in early trading",
        "Tesla Model Y wait times stretch into 2022 in the US",
        "Giga Berlin awaits final approval as Tesla readies production",
    ),
    "netflix": (
        "Netflix's 'Arcane' tops charts in dozens of countries",
        "Netflix launches mobile games for iOS users",
        "'Cowboy Bebop' live-action series premieres on Netflix",
    ),
    "spotify": (
        "Spotify tests new TikTok-style discovery feed",
        "Spotify shares rise after podcast ad growth",
    ),
    "youtube": ("YouTube hides dislike counts on all videos",),
    "instagram": ("Instagram tests 'Take a Break' feature for teens",),
    "facebook": ("Meta delays encrypted messaging on Instagram and Messenger to 2023",),
    "discord": ("Discord rolls out server subscriptions to more creators",),
    "steam": (
        "Steam Deck delayed to February 2022",
        "Steam Autumn Sale dates leak ahead of Black Friday",
    ),
    "psn": (
        "PlayStation Plus December games revealed early",
        "PS5 restock: where to buy this week",
    ),
    "xbox_live": (
        "Halo Infinite multiplayer launches early as free-to-play",
        "Forza Horizon 5 hits 10 million players",
    ),
    "tmobile": ("T-Mobile to shut down Sprint's LTE network in June 2022",),
    "coinbase": (
        "Bitcoin slips below $57,000 as crypto market cools",
        "Coinbase adds new tokens ahead of holiday season",
    ),
    "aws": ("AWS re:Invent 2021 kicks off in Las Vegas next week",),
    "uber": ("Uber Eats to deliver weed in Toronto",),
    "roblox": ("Roblox hits record daily users in third quarter",),
    "fortnite": ("Fortnite Chapter 3 teased ahead of December event",),
    "twitch": ("Twitch streamers push back on new ad rules",),
    "pge": ("PG&E warns of possible power shutoffs as winds pick up",),
}

AD: tuple[str, ...] = (
    "🔥 Black Friday early deal: 3 months of {svc} for $0.99 👉 {LINK}",
    "Save 20% on {model} accessories this week only {LINK} #Tesla #{model_tag}",
    "Get $10 off your first Uber Eats order with code EATS10 {LINK}",
    "Need a PS5? Restock alerts in our app 👉 {LINK}",
    "All-weather floor mats for Model 3/Y, now back in stock 🚗 {LINK}",
    "Our new ceramic coating protects your Tesla paint all winter ❄️ Book now: {LINK}",
    "Stop overpaying for your phone plan. Switch in 5 minutes {LINK}",
    "Gift cards for {svc} up to 15% off, this weekend only {LINK}",
    "New drop: Cybertruck hoodie 🔥 limited run {LINK}",
    "Charge smarter this winter ⚡ Level 2 chargers from $399 installed {LINK}",
)

BOT_SPAM: tuple[str, ...] = (
    "🚨 FREE {svc} GIFT CARDS 🚨 limited spots, click {LINK} #giveaway #free",
    "Follow + RT to win a Tesla Model 3!!! Winner announced Sunday {LINK} #Tesla #giveaway",
    "Earn $500/day from home with crypto 💰💰 DM me or click {LINK}",
    "🔴 {svc} is trending. Top tweets: {LINK}",
    "Get 10k followers fast 🚀🚀 {LINK}",
    "Free robux no scam!! {LINK} #roblox #robux",
)
