"""get_rng() / set_rng(seed_or_generator) -- the one seeded source of randomness.

Every initialiser in :mod:`crmn_legacy.init` draws from :func:`get_rng` unless
it is given its own generator, so ``set_rng(1234)`` before building a model
makes its initial parameters reproducible (Lasagne's
``lasagne.random.set_rng`` plays the same role).
"""

import numpy as np

__all__ = ["get_rng", "set_rng", "DEFAULT_SEED"]

DEFAULT_SEED = 1234

_rng = np.random.default_rng(DEFAULT_SEED)


def get_rng():
    """get_rng() -> numpy.random.Generator

    The package-wide generator used by the initialisers.
    """
    return _rng


def set_rng(new_rng):
    """set_rng(new_rng) -> None

    Parameters
    ----------
    new_rng : numpy.random.Generator or int
        A generator to use from now on, or an integer seed for a fresh
        ``numpy.random.default_rng(seed)``.
    """
    global _rng
    if isinstance(new_rng, np.random.Generator):
        _rng = new_rng
    elif isinstance(new_rng, (int, np.integer)) and not isinstance(new_rng, bool):
        _rng = np.random.default_rng(int(new_rng))
    else:
        raise TypeError(
            f"set_rng expects a numpy.random.Generator or an int seed, got {type(new_rng).__name__}"
        )
