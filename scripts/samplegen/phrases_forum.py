"""Phrase banks for Teslamotorsclub-style forum posts: the outage threads and background threads.

Forum posts are longer and more complete than tweets. Background threads map an intent to the
sentences that may make up a post of that intent.
"""

from __future__ import annotations

__all__ = ["BACKGROUND_THREADS", "FORUM_HANDLES", "OUTAGE_FORUM"]

FORUM_HANDLES: tuple[str, ...] = (
    "Model3Dave",
    "NorCalEV",
    "jsmith",
    "FrozenNorway",
    "SoCal_Sparky",
    "TexasTesla",
    "KiwiDriver",
    "EVdad",
    "Plaid_Pete",
    "gtaModelY",
    "Bjorn_EV",
    "voltage_vic",
    "MidwestM3",
    "Jeff_in_Denver",
    "HollandEV",
    "SeoulTesla",
    "AussieM3",
    "aerodynamic",
    "Rob_UK_M3",
    "lightning_lisa",
    "ChargedUp",
    "Dutch_Driver",
    "OsloEV",
    "PNW_Y",
    "BayAreaBob",
    "Sunny_FL",
    "mcintyre",
    "SkiRacks",
    "Harvey_M",
    "quiet_wheels",
    "ModelX_Mom",
    "CanuckEV",
    "MelbourneY",
    "berliner_ev",
    "trip_planner",
    "regen_rick",
    "JerseyY",
    "Atl_Tesla",
    "nuttyprof",
    "Lurker42",
    "FSDhopeful",
    "BatteryBrain",
    "tireguy",
    "VinnyV",
    "SolarSam",
    "Polestar_curious",
    "eric_k",
    "MontrealM3",
    "Busan_EV",
    "GlasgowGreen",
)

OUTAGE_FORUM: dict[str, tuple[str, ...]] = {
    "opener": (
        "Is anyone else getting a 500 server error in the app?",
        "Tesla app down for anyone else?",
        "Just me or is the app completely broken right now?",
        "Phone key stopped working about 10 minutes ago.",
    ),
    "complaint": (
        "Same here. {clause_cap}.",
        "Same. {clause_cap}.",
        "{clause_cap}. {ctx_cap}.",
        "{clause_cap} here in {city}. {ctx_cap}.",
        "+1, {clause}. {ctx_cap}.",
        "Yep, {city} too. {clause_cap}.",
        "{clause_cap}. Tried logging out and back in and now I can't log in at all.",
        "Confirmed down in {city}. {clause_cap}.",
        "{clause_cap}. Bluetooth unlock seems to work if you're already paired, but anything "
        "that goes through the servers is dead.",
        "{clause_cap}. {ctx_cap}. Glad I'm not the only one.",
        "Add {city} to the list. {clause_cap}.",
        "{clause_cap} and {clause2}. Great.",
    ),
    "tips": (
        "PSA: carry your key card. Phone key over Bluetooth still works for some people if the "
        "phone was already connected, but don't count on it.",
        "If you're locked out, the key card on the B pillar works fine, the car itself isn't "
        "affected.",
        "Don't log out of the app! People who logged out can't get back in.",
        "Looks like it's on Tesla's end, the API is returning 500 for everything.",
        "Downdetector is showing thousands of reports, it's not just us.",
    ),
    "elon": (
        "Elon tweeted 'Checking...' so at least they know.",
        "Elon just replied on Twitter that they're checking.",
        "Elon says it should be back online now, something about network verbosity.",
        "Elon says it's fixed. It is not fixed for me.",
    ),
    "still": (
        "Still not working for me in {city}.",
        "Still getting the 500 error here.",
        "Not back for me yet, {ctx}.",
        "Elon says it's back but my app still shows the car offline.",
        "Still down in {city}. Phone key still not working.",
    ),
    "recovered": (
        "Working again for me.",
        "App is back here in {city}.",
        "Back up for me, phone key works again.",
        "Mine just came back. Took a couple of app restarts.",
        "Working now. What a mess.",
        "Finally back. That was a fun evening.",
    ),
    "joke": (
        "Someone at Tesla is having a very bad Friday night.",
        '"Network verbosity" is going on my list of excuses for everything.',
        "Guess I'll just live in the car now.",
    ),
}

BACKGROUND_THREADS: tuple[dict[str, object], ...] = (
    {
        "title": "FSD Beta 10.4 experiences",
        "thread_id": "241877",
        "first_post": 1412,
        "per_day": 12,
        "question": (
            "Has anyone gotten 10.5 yet?",
            "Is the safety score still required to get in?",
            "Does it handle unprotected lefts any better for you?",
        ),
        "smalltalk": (
            "Drove 40 miles on city streets today with two disengagements.",
            "Took the kids to school on FSD this morning, they were not impressed.",
            "Roundabouts are still a bit hesitant but much better than 10.3.",
        ),
        "other_complaint": (
            "Phantom braking under overpasses is back for me on this build.",
            "It still tries to take the turn lane every single time on my commute.",
            "Paid $10k for this and it still can't handle my street.",
        ),
        "praise": (
            "Honestly the smoothest release yet for my area.",
            "It nailed a tricky four-way stop today, very impressed.",
        ),
    },
    {
        "title": "Winter range loss - what are you seeing?",
        "thread_id": "244310",
        "first_post": 1,
        "per_day": 10,
        "question": (
            "Is 30% loss normal at 20F?",
            "Do you precondition before every trip?",
            "Does the heat pump in the Y really make a difference?",
        ),
        "smalltalk": (
            "First cold week here, lost about 25% on my commute.",
            "Preconditioning while plugged in makes a big difference for me.",
            "Seat heaters only and I keep the cabin at 64, works fine.",
        ),
        "other_complaint": (
            "The estimated range is a fantasy in winter.",
            "Regen is limited every morning until the battery warms up, annoying.",
        ),
        "praise": ("The heat pump is a game changer compared to my old Model 3.",),
    },
    {
        "title": "Model Y delivery wait times - November 2021",
        "thread_id": "243955",
        "first_post": 388,
        "per_day": 14,
        "question": (
            "Anyone in Texas get a VIN yet for a late September order?",
            "Did your delivery date move after you got the VIN?",
            "How long from VIN to delivery for you?",
        ),
        "smalltalk": (
            "Ordered Sept 28, MYLR white, still no VIN.",
            "Got my VIN today! Delivery scheduled for the 30th.",
            "Picked up yesterday in Fremont, delivery took 20 minutes.",
        ),
        "other_complaint": (
            "My date got pushed to January with no explanation.",
            "Delivery center won't answer the phone at all.",
            "Found a paint chip and a misaligned trunk at delivery.",
        ),
        "praise": ("Smooth delivery, no issues at all on mine.",),
    },
    {
        "title": "Best winter tires for Model 3?",
        "thread_id": "238402",
        "first_post": 241,
        "per_day": 6,
        "question": (
            "X-Ice Snow or Hakkapeliitta R5?",
            "18s or 19s for winter?",
            "Do I need new TPMS sensors for a second set of wheels?",
        ),
        "smalltalk": (
            "Running Nokian R5 on 18s, very happy in Minnesota.",
            "Had the tire shop swap them this week, 3 hours wait.",
        ),
        "other_complaint": ("Tire shop damaged one of my aero covers.",),
        "praise": ("X-Ice Snows have been great for two winters now.",),
    },
    {
        "title": "Holiday update 2021.44.25 leaks",
        "thread_id": "245010",
        "first_post": 1,
        "per_day": 9,
        "question": (
            "Any word on when it starts rolling out?",
            "Is the light show on Model 3 too?",
        ),
        "smalltalk": (
            "Looks like a light show for all models this time.",
            "Blind spot camera on the turn signal would be great.",
        ),
        "other_complaint": ("Still no Spotify fix in the release notes?",),
        "praise": ("Tesla still doing free feature updates is why I'll keep buying.",),
    },
    {
        "title": "Norway: charging in the cold",
        "thread_id": "240118",
        "first_post": 97,
        "per_day": 4,
        "question": ("Are the Supercharger queues in Oslo bad already?",),
        "smalltalk": (
            "-12 this morning in Trondheim, charging was slow until the battery warmed up.",
            "Winter tires on since October here.",
        ),
        "other_complaint": ("Charging prices at Supercharger went up again.",),
        "praise": ("Heat pump keeps the cabin warm even at -15, impressive.",),
    },
    {
        "title": "Home charger install - NEMA 14-50 vs Wall Connector",
        "thread_id": "244702",
        "first_post": 12,
        "per_day": 5,
        "question": (
            "Is a 14-50 enough for a daily 60 mile commute?",
            "How much did your electrician charge?",
        ),
        "smalltalk": (
            "Went with the Wall Connector on a 60A breaker.",
            "14-50 has been fine for two years.",
        ),
        "other_complaint": ("Permit took six weeks in my city, ridiculous.",),
        "praise": ("Wall Connector power sharing works great for two cars.",),
    },
)
