"""How surprising a count is, given what was expected: negative-binomial tail probabilities.

The expected count of a bucket is itself an estimate (a Gamma posterior over the rate), so the
predictive distribution of the count is negative binomial: Poisson when the estimate rests on
much history, wider when it rests on little (a new service needs a bigger burst to alert).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = ["combined_shape", "score_from_p", "tail_probability"]

#: -log10 of the p-value that maps to score 1.0 (p <= 1e-10 is "certainly a spike").
_LOG10_P_AT_SCORE_ONE = 10.0


def tail_probability(
    observed: ArrayLike, expected: ArrayLike, shape: ArrayLike
) -> NDArray[np.float64]:
    """P(X >= observed) for X ~ NegBin with mean ``expected`` and shape ``shape``.

    ``shape`` is the Gamma shape behind the expectation (about the number of events the estimate
    rests on): variance = expected + expected**2 / shape. ``shape = inf`` gives Poisson.

    Examples
    --------
    >>> float(tail_probability(0, 2.0, 10.0))
    1.0
    >>> round(float(tail_probability(10, 2.0, np.inf)), 6)  # Poisson(2) >= 10
    4.6e-05
    >>> bool(tail_probability(10, 2.0, 1.0) > tail_probability(10, 2.0, 100.0))  # less history
    True
    """
    x = np.asarray(observed, dtype=np.float64)
    mu = np.maximum(np.asarray(expected, dtype=np.float64), 1e-12)
    r = np.asarray(shape, dtype=np.float64)
    k = np.floor(x) - 1.0  # P(X >= x) = P(X > x - 1)
    poisson = np.isinf(r)
    r_finite = np.where(poisson, 1.0, np.maximum(r, 1e-9))
    p = r_finite / (r_finite + mu)
    with np.errstate(invalid="ignore"):
        nb = special.betainc(np.maximum(k, 0.0) + 1.0, r_finite, 1.0 - p)
        po = special.gammainc(np.maximum(k, 0.0) + 1.0, mu)
    out = np.where(poisson, po, nb)
    return np.where(k < 0, 1.0, np.clip(out, 0.0, 1.0))


def combined_shape(
    shape: ArrayLike, dispersion: ArrayLike, expected: ArrayLike
) -> NDArray[np.float64]:
    """The negative-binomial shape of counts that vary ``dispersion`` times more than a
    negative binomial with ``shape`` allows: the result's variance, ``expected +
    expected**2 / result``, is ``dispersion * (expected + expected**2 / shape)``.

    >>> float(combined_shape(50.0, 1.0, 10.0))  # no overdispersion: unchanged
    50.0
    >>> float(combined_shape(np.inf, 3.0, 10.0))  # var = 3 * 10 = 10 + 100 / 5
    5.0
    """
    mu = np.maximum(np.asarray(expected, dtype=np.float64), 1e-12)
    d = np.maximum(np.asarray(dispersion, dtype=np.float64), 1.0)
    with np.errstate(divide="ignore"):
        return np.asarray(1.0 / ((d - 1.0) / mu + d / np.asarray(shape, dtype=np.float64)))


def score_from_p(p_value: ArrayLike) -> NDArray[np.float64]:
    """Map a p-value to a score in [0, 1]: ``-log10(p) / 10``, capped (high = spike).

    >>> [round(float(score_from_p(p)), 2) for p in (1.0, 1e-3, 1e-6, 1e-12)]
    [0.0, 0.3, 0.6, 1.0]
    """
    p = np.clip(np.asarray(p_value, dtype=np.float64), 1e-300, 1.0)
    return np.minimum(1.0, np.abs(np.log10(p)) / _LOG10_P_AT_SCORE_ONE)
