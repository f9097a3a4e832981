"""spaCy components that put what the :class:`~detector.nlp.analyzer.Analyzer` finds on a ``Doc``.

Each calls a matcher the ``Analyzer`` holds (one code path) and maps its character offsets onto
tokens; a mention that no token covers gets no span. The ``Analyzer`` itself stays plain Python:
the cascade must do 20,000 posts/s, about what spaCy's tokenizer alone does (an n-gram lookup
ran at 32k docs/s, the ``entity_ruler`` at 330). Here every post gets every step, and a ``Doc``
knows no conversation, so replies inherit no service; count with ``Analyzer.annotate``.

- ``detector_outage``: ``doc._.outage_probability``; ``pipe()`` classifies a batch in one call.
- ``detector_services``: ``doc.spans["services"]`` (label: the slug) and ``doc._.services``, all
  slugs, with the forum of ``doc._.source_name`` (no offsets, so no span).
- ``detector_symptoms``: ``doc.spans["symptoms"]``: errors labelled ``http``, ``code`` or
  ``message`` (``span.id_``: the normalised error), features by name; ``doc._.symptom_categories``
  and ``doc._.recovered``.
- ``detector_locations``: ``doc.ents`` (``GPE``), with the resolved place in ``span._.place``.

The ``Analyzer`` comes in through ``initialize()`` (a factory's config must stay plain data):
``build_nlp`` hands one to all four; after ``nlp.initialize()`` the first component loads it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from detector.nlp.analyzer import Analyzer
from detector.nlp.classifier import outage_probabilities

if TYPE_CHECKING:
    from spacy.training import Example

    from detector.nlp.locations import LocationMention

__all__ = [
    "COMPONENTS",
    "LocationsComponent",
    "OutageComponent",
    "ServicesComponent",
    "SymptomsComponent",
    "build_nlp",
    "make_locations",
    "make_outage",
    "make_services",
    "make_symptoms",
]

log = logging.getLogger(__name__)

#: The components in pipeline order: the outage probability decides whether an ambiguous
#: service name counts, and the services say where an ambiguous place name ("Georgia") is.
COMPONENTS = ("detector_outage", "detector_services", "detector_symptoms", "detector_locations")
_DOC_EXTENSIONS: dict[str, Any] = {
    "outage_probability": None,
    "source_name": None,
    "services": (),
    "symptom_categories": (),
    "recovered": False,
}
# Every gazetteer place (country, region, city) is a political entity; LOC is for the rest.
_ENT_LABELS = {"country": "GPE", "admin1": "GPE", "city": "GPE"}


def build_nlp(analyzer: Analyzer | None = None, *, lang: str = "xx") -> Language:
    """A blank ``lang`` pipeline with the four components, all sharing one ``Analyzer``.

    Parameters
    ----------
    analyzer
        The loaded analyzer to delegate to; ``None`` loads ``Analyzer.load()`` (about 2 s).
    lang
        The tokenizer's language; ``"xx"`` (multi-language) suits mixed posts.

    Returns
    -------
    Language
        Build it once and reuse it; send batches through ``nlp.pipe``.
    """
    analyzer = analyzer if analyzer is not None else Analyzer.load()
    nlp = spacy.blank(lang)
    for name in COMPONENTS:
        nlp.add_pipe(name)
    for component in _components(nlp):
        component.initialize(nlp=nlp, analyzer=analyzer)
    return nlp


class _AnalyzerComponent:
    """What the components share: a name, and the Analyzer received in ``initialize()``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._analyzer: Analyzer | None = None
        _register_extensions()

    @property
    def analyzer(self) -> Analyzer:
        """The analyzer this component delegates to (set by :meth:`initialize`)."""
        if self._analyzer is None:
            raise RuntimeError(f"{self.name} has no Analyzer: use build_nlp() or nlp.initialize()")
        return self._analyzer

    def __call__(self, doc: Doc) -> Doc:
        raise NotImplementedError

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]] | None = None,  # noqa: ARG002 (spaCy API)
        *,
        nlp: Language | None = None,
        analyzer: Analyzer | None = None,
    ) -> None:
        """Give the component ``analyzer``, else the one another detector component of ``nlp``
        holds, else ``Analyzer.load()``. Rules learn nothing from ``get_examples``."""
        if analyzer is None and nlp is not None:
            held = (c._analyzer for c in _components(nlp) if c._analyzer is not None)
            analyzer = next(held, None)
        if analyzer is None:
            log.info("%s: loading the analyzer", self.name)
            analyzer = Analyzer.load()
        self._analyzer = analyzer


# spaCy checks [initialize] settings against this signature with pydantic, which cannot resolve
# the string annotations that ``from __future__ import annotations`` leaves.
_AnalyzerComponent.initialize.__annotations__["analyzer"] = Analyzer | None


class _SpansComponent(_AnalyzerComponent):
    def __init__(self, name: str, *, spans_key: str) -> None:
        super().__init__(name)
        self.spans_key = spans_key


class OutageComponent(_AnalyzerComponent):
    """Sets ``doc._.outage_probability``; a batch costs one classifier call."""

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 1000) -> Iterator[Doc]:
        """Classify ``stream`` ``batch_size`` docs at a time (``nlp.pipe`` calls this)."""
        docs_in = iter(stream)
        while docs := list(islice(docs_in, batch_size)):
            probabilities = outage_probabilities(self.analyzer.model, [doc.text for doc in docs])
            for doc, probability in zip(docs, probabilities, strict=True):
                doc._.outage_probability = float(probability)
                yield doc


class ServicesComponent(_SpansComponent):
    """Puts ``ServiceMatcher.find`` results in ``doc.spans[spans_key]`` and ``doc._.services``."""

    def __call__(self, doc: Doc) -> Doc:
        analyzer = self.analyzer
        probability = doc._.outage_probability
        mentions = analyzer.services.find(
            doc.text,
            source_name=doc._.source_name,
            complaint=probability is not None and probability >= analyzer.threshold,
        )
        doc._.services = tuple(m.slug for m in mentions)
        doc.spans[self.spans_key] = _spans(doc, [(m.start, m.end, m.slug, "") for m in mentions])
        return doc


class SymptomsComponent(_SpansComponent):
    """Puts ``SymptomRules.extract`` results in ``doc.spans[spans_key]`` and ``doc._``."""

    def __call__(self, doc: Doc) -> Doc:
        report = self.analyzer.symptoms.extract(doc.text)
        doc._.symptom_categories = report.categories
        doc._.recovered = report.recovered
        errors = ((e.start, e.end, e.kind, e.normalized) for e in report.errors)
        features = ((f.start, f.end, f.feature, "") for f in report.features)
        doc.spans[self.spans_key] = _spans(doc, sorted([*errors, *features]))
        return doc


class LocationsComponent(_AnalyzerComponent):
    """Adds the places ``LocationExtractor.from_text`` finds to ``doc.ents``."""

    def __call__(self, doc: Doc) -> Doc:
        analyzer = self.analyzer
        # As the Analyzer does: an ambiguous name is read as the place where the services work.
        countries = analyzer.service_countries(doc._.services)
        spans: list[Span] = []
        places: dict[tuple[int, int, str], LocationMention] = {}
        for mention in analyzer.places.from_text(doc.text, countries=countries):
            if mention.start is not None and mention.end is not None:
                label = _ENT_LABELS.get(mention.type, "LOC")
                span = doc.char_span(mention.start, mention.end, label, alignment_mode="expand")
                if span is not None:
                    spans.append(span)
                    places.setdefault((span.start_char, span.end_char, label), mention)
        doc.ents = filter_spans([*doc.ents, *spans])
        for ent in doc.ents:  # span extensions are keyed by offsets: set them on the kept spans
            if (key := (ent.start_char, ent.end_char, ent.label_)) in places:
                ent._.place = places[key]
        return doc


@Language.factory("detector_outage", assigns=["doc._.outage_probability"])
def make_outage(nlp: Language, name: str) -> OutageComponent:  # noqa: ARG001 (spaCy API)
    """Build the ``detector_outage`` component (``nlp.add_pipe("detector_outage")``)."""
    return OutageComponent(name)


@Language.factory(
    "detector_services",
    default_config={"spans_key": "services"},
    assigns=["doc.spans", "doc._.services"],
)
def make_services(nlp: Language, name: str, spans_key: str) -> ServicesComponent:  # noqa: ARG001
    """Build the ``detector_services`` component; its spans go to ``doc.spans[spans_key]``.

    Examples
    --------
    >>> nlp = spacy.blank("xx")
    >>> nlp.add_pipe("detector_services", config={"spans_key": "brands"}).spans_key
    'brands'
    >>> nlp("Tesla app down")
    Traceback (most recent call last):
    ...
    RuntimeError: detector_services has no Analyzer: use build_nlp() or nlp.initialize()
    """
    return ServicesComponent(name, spans_key=spans_key)


@Language.factory(
    "detector_symptoms",
    default_config={"spans_key": "symptoms"},
    assigns=["doc.spans", "doc._.symptom_categories", "doc._.recovered"],
)
def make_symptoms(nlp: Language, name: str, spans_key: str) -> SymptomsComponent:  # noqa: ARG001
    """Build the ``detector_symptoms`` component; its spans go to ``doc.spans[spans_key]``."""
    return SymptomsComponent(name, spans_key=spans_key)


@Language.factory("detector_locations", assigns=["doc.ents", "span._.place"])
def make_locations(nlp: Language, name: str) -> LocationsComponent:  # noqa: ARG001 (spaCy API)
    """Build the ``detector_locations`` component (``nlp.add_pipe("detector_locations")``)."""
    return LocationsComponent(name)


def _components(nlp: Language) -> list[_AnalyzerComponent]:
    return [pipe for _, pipe in nlp.pipeline if isinstance(pipe, _AnalyzerComponent)]


def _register_extensions() -> None:
    """Declare the ``._`` attributes once; components built later find them in place."""
    for name, default in _DOC_EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
    if not Span.has_extension("place"):
        Span.set_extension("place", default=None)


def _spans(doc: Doc, found: Iterable[tuple[int, int, str, str]]) -> list[Span]:
    """Spans for (start, end, label, id) where tokens cover the offsets; zero-width ones have
    none (a forum, a parent post)."""
    spans = []
    for start, end, label, span_id in found:
        if end > start:
            span = doc.char_span(start, end, label, alignment_mode="expand", span_id=span_id)
            if span is not None:
                spans.append(span)
    return spans
