"""Language side of outage-radar: which services a post is about, where its writer is, and
(next) whether it reports a fault.

``catalog`` holds the service catalog (``data/services.yaml``): names, aliases, handles, hashtags,
apps, domains and the forums whose posts are about one service. ``gazetteer`` holds the
GeoNames-based places (``data/gazetteer/``): countries, first-level regions and cities.
"""

from __future__ import annotations

from detector.nlp.catalog import (
    CATEGORIES,
    Catalog,
    Service,
    Term,
    default_catalog_path,
    load_catalog,
)
from detector.nlp.gazetteer import Gazetteer, default_gazetteer_dir
from detector.nlp.locations import LocationExtractor, LocationMention
from detector.nlp.services import ServiceMatcher, ServiceMention
from detector.nlp.symptoms import ErrorMention, FeatureMention, SymptomReport, SymptomRules

__all__ = [
    "CATEGORIES",
    "Catalog",
    "ErrorMention",
    "FeatureMention",
    "Gazetteer",
    "LocationExtractor",
    "LocationMention",
    "Service",
    "ServiceMatcher",
    "ServiceMention",
    "SymptomReport",
    "SymptomRules",
    "Term",
    "default_catalog_path",
    "default_gazetteer_dir",
    "load_catalog",
]
