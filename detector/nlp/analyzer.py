"""The ``Analyzer``: turns posts into what the detector counts, cheapest step first.

Every post gets an outage probability from the classifier (batched). Only likely complaints go
on to service, symptom and location extraction, which cost more and matter only for posts that
will be counted; ``locations="all"`` extracts places for every post (analysts mapping a whole
conversation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from detector.models import Post
from detector.nlp.catalog import Catalog, load_catalog
from detector.nlp.classifier import outage_probabilities
from detector.nlp.gazetteer import Gazetteer
from detector.nlp.locations import LocationExtractor, LocationMention
from detector.nlp.persist import latest_model_dir, load_model
from detector.nlp.services import ServiceMatcher, ServiceMention
from detector.nlp.symptoms import SymptomReport, SymptomRules
from detector.nlp.training import MODEL_NAME

__all__ = ["Analyzer", "Annotation", "writer_location"]

_SOURCE_RANK = {"coordinates": 0, "place": 1, "text": 2, "profile": 3}
_NO_SYMPTOMS = SymptomReport(categories=(), errors=(), features=(), recovered=False)


@dataclass(frozen=True, slots=True)
class Annotation:
    """What the analyzer found in one post."""

    post_id: str
    outage_probability: float
    is_outage: bool
    services: tuple[ServiceMention, ...]
    symptoms: SymptomReport
    locations: tuple[LocationMention, ...]
    country: str | None

    def as_dict(self) -> dict[str, Any]:
        """The annotation as JSON-able data (one line of ``outage-radar annotate``)."""
        return {
            "id": self.post_id,
            "outage_probability": round(self.outage_probability, 4),
            "is_outage": self.is_outage,
            "services": [asdict(m) for m in self.services],
            "symptoms": list(self.symptoms.categories),
            "errors": [asdict(e) for e in self.symptoms.errors],
            "features": [asdict(f) for f in self.symptoms.features],
            "recovered": self.symptoms.recovered,
            "locations": [asdict(m) for m in self.locations],
            "country": self.country,
        }


def writer_location(mentions: Sequence[LocationMention]) -> LocationMention | None:
    """The place that best says where the writer is: a geotag, then "here in X" in the text,
    then the profile; places only named in the text do not count."""
    candidates = [m for m in mentions if m.writer]
    return min(
        candidates, key=lambda m: (_SOURCE_RANK.get(m.source, 9), -m.confidence), default=None
    )


class Analyzer:
    """Annotates posts in batches; build it once (``Analyzer.load()``) and reuse it.

    Parameters
    ----------
    model
        A fitted classifier pipeline (see ``detector.nlp.classifier``).
    threshold
        Probability from which a post counts as an outage report.
    extract_below
        Posts under this probability skip the extraction steps (the cascade).
    locations
        ``"likely"`` (only posts that go on to extraction) or ``"all"``.
    """

    def __init__(
        self,
        *,
        model: Any,
        catalog: Catalog,
        gazetteer: Gazetteer,
        symptoms: SymptomRules,
        threshold: float = 0.5,
        extract_below: float = 0.3,
        locations: Literal["likely", "all"] = "likely",
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got: {threshold}")
        if not 0.0 <= extract_below <= threshold:
            raise ValueError(f"extract_below must be in [0, threshold], got: {extract_below}")
        self.model = model
        self.catalog = catalog
        self.services = ServiceMatcher(catalog)
        self.places = LocationExtractor(gazetteer)
        self.symptoms = symptoms
        self.threshold = threshold
        self.extract_below = extract_below
        self.locations = locations

    @classmethod
    def load(cls, *, models_dir: Path | None = None, **options: Any) -> Analyzer:
        """Load the newest trained classifier and the shipped catalog, gazetteer and rules."""
        saved = load_model(latest_model_dir(MODEL_NAME, models_dir))
        return cls(
            model=saved.model,
            catalog=load_catalog(),
            gazetteer=Gazetteer.load(),
            symptoms=SymptomRules.load(),
            **options,
        )

    def annotate(self, posts: Sequence[Post]) -> list[Annotation]:
        """Annotate a batch of posts (one classifier call for the whole batch)."""
        probabilities = outage_probabilities(self.model, [p.text for p in posts])
        return [self._one(post, float(p)) for post, p in zip(posts, probabilities, strict=True)]

    def _one(self, post: Post, probability: float) -> Annotation:
        likely = probability >= self.extract_below
        services: list[ServiceMention] = []
        symptoms = _NO_SYMPTOMS
        if likely:
            services = self.services.find(post.text, source_name=post.source_name)
            symptoms = self.symptoms.extract(post.text)
        places: list[LocationMention] = []
        if likely or self.locations == "all":
            places = self.places.locate(post, countries=self._service_countries(services))
        where = writer_location(places)
        return Annotation(
            post_id=post.id,
            outage_probability=probability,
            is_outage=probability >= self.threshold,
            services=tuple(services),
            symptoms=symptoms,
            locations=tuple(places),
            country=where.country if where else None,
        )

    def _service_countries(self, services: Sequence[ServiceMention]) -> frozenset[str]:
        countries: set[str] = set()
        for mention in services:
            if not mention.slug.startswith("unknown:"):
                countries.update(self.catalog.by_slug(mention.slug).countries)
        return frozenset(countries)
