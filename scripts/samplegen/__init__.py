"""Building blocks of the synthetic sample-data generator (``scripts/generate_samples.py``).

Modules
-------
grammar
    The slot-filling engine and the noise applied to informal posts (typos, case, elongation).
services
    The services people write about: names as written, handles, error codes, kinds.
geo
    Regions, cities, free-text profile locations and Twitter place objects.
phrases_en, phrases_intl, phrases_incident
    Phrase banks: English background intents, other languages, and incident-specific text.
compose
    Turns (intent, service, writer, time) into a labelled draft post.
users
    The synthetic author pool.
twitter
    Twitter API v1.1 record building: ids, entities, truncation, retweets, quotes, notices.
plan
    When posts happen: daily seasonality and the injected incident curves.
forum
    Teslamotorsclub-style threads in the project's forum schema.
"""
