"""The outage-complaint classifier: P(the writer reports that something is not working now).

A scikit-learn pipeline: word and character n-grams (TF-IDF) into a logistic regression, whose
probabilities are usable as they are. Text is normalised first so that what varies from post
to post without changing its meaning (links, who is mentioned, letter case, repeated letters)
does not have to be learned again for every variant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

__all__ = ["make_pipeline", "normalise", "normalise_all", "outage_probabilities"]

_URL_RE = re.compile(r"https?://\S+|www\.\S+")
_MENTION_RE = re.compile(r"@\w{1,30}")
_ELONGATED_RE = re.compile(r"(\w)\1{2,}")
# Japanese and Chinese are written without spaces: each character becomes a word of its own.
_HAN_KANA_RE = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f])")
_SPACES_RE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Return ``text`` as the classifier sees it.

    Examples
    --------
    >>> normalise("@TeslaSupport app DOWNNNN https://t.co/x 障害")
    '@user app downn httpurl 障 害'
    """
    text = _URL_RE.sub(" httpurl ", text.casefold())
    text = _MENTION_RE.sub(" @user ", text)
    text = _ELONGATED_RE.sub(r"\1\1", text)
    text = _HAN_KANA_RE.sub(r" \1 ", text)
    return _SPACES_RE.sub(" ", text).strip()


def normalise_all(texts: Sequence[str]) -> list[str]:
    """``normalise`` over a batch (the pipeline's first step)."""
    return [normalise(text) for text in texts]


def make_pipeline(
    *,
    word_ngrams: tuple[int, int] = (1, 2),
    char_ngrams: tuple[int, int] | None = (3, 4),
    min_df: int = 2,
    c: float = 4.0,
    seed: int = 0,
) -> Pipeline:
    """Build an untrained classifier pipeline.

    Parameters
    ----------
    word_ngrams, char_ngrams
        N-gram ranges of the word and the character (within word boundaries) features;
        ``char_ngrams=None`` leaves the character features out (faster, less robust to typos).
    min_df
        Features seen in fewer training texts are dropped.
    c
        Inverse regularisation strength of the logistic regression.
    seed
        Seeds the solver, so that training twice gives the same model.

    Examples
    --------
    >>> texts = ["instagram is down", "cant log in to my bank app", "love this song",
    ...          "netflix error 500 again", "great pizza tonight", "new phone who dis"]
    >>> model = make_pipeline(min_df=1).fit(texts, [1, 1, 0, 1, 0, 0])
    >>> bool(outage_probabilities(model, ["is instagram down?"])[0] > 0.5)
    True
    """
    features: list[tuple[str, Any]] = [
        (
            "word",
            TfidfVectorizer(
                lowercase=False,
                token_pattern=r"(?u)@?\b\w+\b|[!?]",
                ngram_range=word_ngrams,
                min_df=min_df,
                sublinear_tf=True,
                dtype=np.float32,
            ),
        )
    ]
    if char_ngrams is not None:
        features.append(
            (
                "char",
                TfidfVectorizer(
                    lowercase=False,
                    analyzer="char_wb",
                    ngram_range=char_ngrams,
                    min_df=min_df,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            )
        )
    classifier = LogisticRegression(
        C=c, class_weight="balanced", max_iter=5000, solver="liblinear", random_state=seed
    )
    return Pipeline(
        [
            # Normalised once for both feature sets (it is a fifth of the prediction time).
            ("normalise", FunctionTransformer(normalise_all)),
            ("features", FeatureUnion(features)),
            ("classifier", classifier),
        ]
    )


def outage_probabilities(model: Pipeline, texts: Sequence[str]) -> np.ndarray[Any, Any]:
    """Return P(outage report) for each text (a float array in [0, 1])."""
    if not texts:
        return np.zeros(0, dtype=np.float64)
    proba: np.ndarray[Any, Any] = model.predict_proba(list(texts))
    positive = list(model.classes_).index(1)
    return proba[:, positive]
