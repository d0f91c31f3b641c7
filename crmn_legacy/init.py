"""Parameter initialisers (Lasagne's ``lasagne.init`` contract).

An initialiser is called with a shape and returns a ``floatX`` NumPy array:
``HeNormal()((16, 3, 3, 3))``.  Random ones draw from
:func:`crmn_legacy.random.get_rng` unless given ``rng=``.

Fan-in convention (as in Lasagne): a dense weight ``(n_in, n_out)`` has
``fan_in = n_in``; a convolution filter bank ``(F, C, kh, kw)`` has
``fan_in = C * kh * kw``.
"""

import math

import numpy as np
import pytensor

from .random import get_rng

__all__ = ["Initializer", "Constant", "Normal", "Uniform", "HeNormal", "Orthogonal", "floatX"]


def floatX(array):
    """floatX(array) -> numpy array cast to ``pytensor.config.floatX``."""
    return np.asarray(array, dtype=pytensor.config.floatX)


def _check_shape(shape):
    shape = tuple(int(s) for s in shape)
    if any(s <= 0 for s in shape):
        raise ValueError(f"cannot initialise a parameter of shape {shape}: all sizes must be > 0")
    return shape


class Initializer:
    """Initializer() -- base class: ``init(shape) -> ndarray``; subclasses implement ``sample``."""

    def __call__(self, shape):
        return self.sample(_check_shape(shape))

    def sample(self, shape):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "rng")
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    """Constant(val=0.0) -- every entry equal to ``val`` (conv/BN biases, LSTM gate biases)."""

    def __init__(self, val=0.0):
        self.val = float(val)

    def sample(self, shape):
        return floatX(np.full(shape, self.val))


class Normal(Initializer):
    """Normal(std=0.01, mean=0.0, rng=None) -- i.i.d. N(mean, std^2) entries."""

    def __init__(self, std=0.01, mean=0.0, rng=None):
        self.std, self.mean, self.rng = float(std), float(mean), rng

    def sample(self, shape):
        rng = self.rng if self.rng is not None else get_rng()
        return floatX(rng.normal(self.mean, self.std, size=shape))


class Uniform(Initializer):
    """Uniform(range=0.01, rng=None) -- i.i.d. U(-range, range) entries."""

    def __init__(self, range=0.01, rng=None):  # noqa: A002 (Lasagne's name)
        self.range, self.rng = float(range), rng

    def sample(self, shape):
        rng = self.rng if self.rng is not None else get_rng()
        return floatX(rng.uniform(-self.range, self.range, size=shape))


class HeNormal(Initializer):
    """HeNormal(gain=sqrt(2), rng=None) -- He et al. (2015) initialisation.

    W ~ N(0, std^2),  std = gain * sqrt(1 / fan_in).

    The default ``gain = sqrt(2)`` is He et al.'s value for ReLU units, i.e.
    std = sqrt(2 / fan_in), as the paper prescribes for every ResNet layer
    ("initialized exactly as proposed in [11] using [12]").  Note: Lasagne's
    ``HeNormal`` defaults to ``gain=1.0`` and needs ``gain='relu'``; ours
    does not.  ``gain`` may also be the string ``"relu"`` (= sqrt(2)).
    """

    def __init__(self, gain=math.sqrt(2.0), rng=None):
        if gain == "relu":
            gain = math.sqrt(2.0)
        self.gain, self.rng = float(gain), rng

    def sample(self, shape):
        if len(shape) < 2:
            raise ValueError(f"HeNormal needs a weight of >= 2 dimensions, got shape {shape}")
        fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
        std = self.gain * math.sqrt(1.0 / fan_in)
        rng = self.rng if self.rng is not None else get_rng()
        return floatX(rng.normal(0.0, std, size=shape))


class Orthogonal(Initializer):
    """Orthogonal(gain=1.0, rng=None) -- Saxe et al. (2013) orthogonal initialisation.

    The weight, viewed as a matrix A of shape (shape[0], prod(shape[1:])), is
    ``gain * Q`` with Q having orthonormal rows or columns (whichever there
    are fewer of): Q is the Q factor of the QR decomposition of a Gaussian
    matrix, with column signs fixed by sign(diag(R)) so that Q is Haar
    distributed.  Used for the LSTM/GRU gate weights W_x* and W_h* (paper,
    section 4).
    """

    def __init__(self, gain=1.0, rng=None):
        if gain == "relu":
            gain = math.sqrt(2.0)
        self.gain, self.rng = float(gain), rng

    def sample(self, shape):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a weight of >= 2 dimensions, got shape {shape}")
        rows, cols = shape[0], int(np.prod(shape[1:]))
        rng = self.rng if self.rng is not None else get_rng()
        tall = rows >= cols
        a = rng.normal(0.0, 1.0, size=(rows, cols) if tall else (cols, rows))
        q, r = np.linalg.qr(a)  # q: (max, min) with orthonormal columns
        q = q * np.sign(np.diag(r))
        if not tall:
            q = q.T
        return floatX(self.gain * q.reshape(shape))
