"""The ``Analyzer``: turns posts into what the detector counts, cheapest step first.

Every post gets an outage probability from the classifier (batched). Only likely complaints go
on to service, symptom and location extraction, which cost more and matter only for posts that
will be counted; ``locations="all"`` extracts places for every post (analysts mapping a whole
conversation).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from detector.models import Post
from detector.nlp.catalog import Catalog, load_catalog
from detector.nlp.classifier import outage_probabilities
from detector.nlp.gazetteer import Gazetteer
from detector.nlp.locations import LocationExtractor, LocationMention
from detector.nlp.persist import latest_model_dir, load_model
from detector.nlp.services import ServiceMatcher, ServiceMention
from detector.nlp.symptoms import ErrorMention, FeatureMention, SymptomReport, SymptomRules
from detector.nlp.training import MODEL_NAME
from detector.pickling import fast_pickling

__all__ = ["Analyzer", "Annotation", "PostLookup", "writer_location"]

#: How posts are fetched by id for conversation context (``Store.get_posts`` fits).
PostLookup = Callable[[Collection[str]], Mapping[str, Post]]
_CONVERSATION_HOPS = 3
_SOURCE_RANK = {"coordinates": 0, "place": 1, "text": 2, "profile": 3}
_NO_SYMPTOMS = SymptomReport(categories=(), errors=(), features=(), recovered=False)


@fast_pickling
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
            "services": [_fields(m) for m in self.services],
            "symptoms": list(self.symptoms.categories),
            "errors": [_fields(e) for e in self.symptoms.errors],
            "features": [_fields(f) for f in self.symptoms.features],
            "recovered": self.symptoms.recovered,
            "locations": [_fields(m) for m in self.locations],
            "country": self.country,
        }


def _fields(
    mention: ServiceMention | ErrorMention | FeatureMention | LocationMention,
) -> dict[str, Any]:
    """A mention's fields as a dict: ``dataclasses.asdict`` without its deep copy, which the
    mentions' plain values do not need (it was most of the cost of storing annotations)."""
    return {name: getattr(mention, name) for name in _FIELD_NAMES[type(mention)]}


_FIELD_NAMES = {
    cls: tuple(f.name for f in fields(cls))
    for cls in (ServiceMention, ErrorMention, FeatureMention, LocationMention)
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
    identity
        Names the model (its folder, for a loaded one), so results can say what made them.
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
        identity: str = "unnamed",
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
        self.identity = identity

    @classmethod
    def load(cls, *, models_dir: Path | None = None, **options: Any) -> Analyzer:
        """Load the newest trained classifier and the shipped catalog, gazetteer and rules."""
        saved = load_model(latest_model_dir(MODEL_NAME, models_dir))
        return cls(
            model=saved.model,
            catalog=load_catalog(),
            gazetteer=Gazetteer.load(),
            symptoms=SymptomRules.load(),
            identity=saved.path.name,
            **options,
        )

    def annotate(
        self, posts: Sequence[Post], *, parents: PostLookup | None = None
    ) -> list[Annotation]:
        """Annotate a batch of posts (one classifier call for the whole batch).

        A likely complaint that names no service ("same here", "can't unlock my car") takes the
        services of the post it replies to or quotes: found in the batch, else through
        ``parents`` (e.g. ``store.get_posts``), up to three posts up the conversation.
        """
        probabilities = outage_probabilities(self.model, [p.text for p in posts])
        services: list[list[ServiceMention]] = []
        for post, probability in zip(posts, probabilities, strict=True):
            found: list[ServiceMention] = []
            if probability >= self.extract_below:
                found = self.services.find(
                    post.text, source_name=post.source_name, complaint=probability >= self.threshold
                )
            services.append(found)
        orphans = [
            i
            for i, post in enumerate(posts)
            if probabilities[i] >= self.extract_below
            and not services[i]
            and (post.reply_to or post.quote_of)
        ]
        if orphans:
            context = self._conversation_services([posts[i] for i in orphans], posts, parents)
            for i in orphans:
                services[i] = context.get(posts[i].id, [])
        return [
            self._one(post, float(p), found)
            for post, p, found in zip(posts, probabilities, services, strict=True)
        ]

    def _conversation_services(
        self, orphans: Sequence[Post], batch: Sequence[Post], parents: PostLookup | None
    ) -> dict[str, list[ServiceMention]]:
        """Services for each orphan, taken from the nearest post above it that names one."""
        known = {post.id: post for post in batch}
        inherited: dict[str, list[ServiceMention]] = {}
        named: dict[str, list[ServiceMention]] = {}  # by parent id: many answer one post
        # (orphan, how it answers: "reply" or "quote", the post looked at on this hop)
        pending: list[tuple[Post, str, str | None]] = []
        for post in orphans:
            parent_id, link = _parent(post)
            pending.append((post, link, parent_id))
        for _hop in range(_CONVERSATION_HOPS):
            wanted = {parent for _, _, parent in pending if parent and parent not in known}
            if wanted and parents is not None:
                known.update(parents(wanted))
            still: list[tuple[Post, str, str | None]] = []
            for orphan, link, parent_id in pending:
                parent = known.get(parent_id) if parent_id else None
                if parent is None:
                    continue
                if parent.id not in named:
                    named[parent.id] = self.services.find(
                        parent.text, source_name=parent.source_name
                    )
                if found := named[parent.id]:
                    inherited[orphan.id] = [
                        ServiceMention(m.slug, m.surface, 0, 0, link) for m in found
                    ]
                else:
                    still.append((orphan, link, _parent(parent)[0]))
            pending = still
        return inherited

    def _one(self, post: Post, probability: float, services: list[ServiceMention]) -> Annotation:
        likely = probability >= self.extract_below
        symptoms = self.symptoms.extract(post.text) if likely else _NO_SYMPTOMS
        places: list[LocationMention] = []
        if likely or self.locations == "all":
            places = self.places.locate(
                post, countries=self.service_countries(m.slug for m in services)
            )
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

    def service_countries(self, slugs: Iterable[str]) -> frozenset[str]:
        """The countries the named services mainly operate in (a hint for ambiguous places:
        "Georgia" next to a US utility is the state)."""
        countries: set[str] = set()
        for slug in slugs:
            if not slug.startswith("unknown:"):
                countries.update(self.catalog.by_slug(slug).countries)
        return frozenset(countries)


def _parent(post: Post) -> tuple[str | None, str]:
    """The post this one answers, and how: a reply, else a quote."""
    if post.reply_to:
        return post.reply_to, "reply"
    return post.quote_of, "quote"
