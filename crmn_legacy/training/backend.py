"""backend_mode(backend) / input_variables(backend, ...) -- which PyTensor linker runs training: C or JAX.

Two backends compile the *same* symbolic graph
(:func:`crmn_legacy.training.step.training_step`); only the linker differs:

``"c"`` (default)
    Our default mode (:func:`crmn_legacy.runtime.compile.get_mode`): PyTensor's C
    virtual machine running our C Ops (OpenBLAS, OpenMP) on the CPU.  Any
    input shape.
``"jax"``
    ``mode="JAX"``: PyTensor's JAX linker, ``jax.jit`` of the whole step; our
    Ops dispatch to ``jax.lax`` (:mod:`crmn_legacy.ops.jax.conv` and its
    siblings).  Runs on JAX's default device: the first GPU when JAX sees one
    (a CUDA ``jaxlib``), else the CPU.

JAX traces with concrete shapes, so under ``"jax"`` every input has a fixed
shape: :func:`input_variables` gives the images a static ``(B, C, H, W)``
type, which lets every shape in the graph (the option-A shortcut's zero
maps, the pooling reshapes, the LSTM's padding) fold to a constant.  The
trainer keeps batches of exactly ``batch_size`` images (it drops the last
partial training batch under both backends) and evaluation pads its last
batch (:func:`crmn_legacy.training.step.evaluate_batches`).

Parameters, velocities and BatchNorm statistics are ordinary PyTensor shared
variables under both backends, so checkpoints do not depend on the backend: a
run started with one resumes, and is evaluated, with the other.
"""

import importlib.util

import pytensor
import pytensor.tensor as pt

__all__ = ["BACKENDS", "BackendUnavailable", "add_backend_option", "check_backend", "backend_mode",
           "input_variables", "jax_devices"]

#: Backend names accepted by ``--backend``.
BACKENDS = ("c", "jax")

JAX_REMEDY = "pip install -e '.[jax]' (on a GPU also a CUDA jaxlib, e.g. pip install 'jax[cuda12]')"


def add_backend_option(parser, default=None, more_help=""):
    """add_backend_option(parser, default=None, more_help="") -> the ``--backend c|jax`` option of every command line.

    ``parser`` is an ``argparse`` parser or argument group; ``default`` None
    leaves the parser's own default (``train`` suppresses unset options so
    that a resumed run keeps its recorded ones); ``more_help`` is appended to
    the shared help text (what the default means there).
    """
    extra = {} if default is None else {"default": default}  # else the parser's own (train's: SUPPRESS)
    return parser.add_argument(
        "--backend", choices=BACKENDS, **extra,
        help="c: our C Ops on the CPU; jax: PyTensor's JAX backend, on a GPU when JAX sees one "
             "(pip install -e '.[jax]' plus a CUDA jaxlib), else the CPU. " + more_help)


class BackendUnavailable(ValueError):
    """The chosen backend cannot run here (JAX is not installed)."""


def check_backend(backend):
    """check_backend(backend) -> str: ``backend`` if it is known and runnable here.

    Raises ``ValueError`` for an unknown name and :class:`BackendUnavailable`
    for ``"jax"`` without JAX.
    """
    if backend not in BACKENDS:
        raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "jax" and importlib.util.find_spec("jax") is None:
        raise BackendUnavailable(f"--backend jax needs JAX, which is not installed: {JAX_REMEDY}")
    return backend


def backend_mode(backend):
    """backend_mode(backend) -> mode for :func:`crmn_legacy.runtime.compile.function`: None (our C default) or ``"JAX"``."""
    check_backend(backend)
    if backend == "jax":
        from .. import ops  # noqa: F401  (registers the JAX implementations of our Ops)

        return "JAX"
    return None


def input_variables(backend, batch_size, image_shape, prefix=""):
    """input_variables(backend, batch_size, image_shape, prefix="") -> (images, targets)

    Symbolic inputs of a training or evaluation function: float
    ``(N, C, H, W)`` images and int32 ``(N,)`` targets.  Under ``"c"`` N is
    free; under ``"jax"`` the types are static, ``(batch_size, *image_shape)``
    and ``(batch_size,)``.
    """
    check_backend(backend)
    names = (f"{prefix}inputs", f"{prefix}targets")
    if backend == "c":
        return pt.tensor4(names[0]), pt.ivector(names[1])
    shape = (int(batch_size),) + tuple(int(s) for s in image_shape)
    return (pt.tensor(names[0], dtype=pytensor.config.floatX, shape=shape),
            pt.tensor(names[1], dtype="int32", shape=shape[:1]))


def jax_devices():
    """jax_devices() -> list of str ("gpu:0 NVIDIA H100", "cpu:0 cpu"), or None when JAX is not installed.

    The devices JAX sees; the ``"jax"`` backend runs on the first (JAX's
    default device).
    """
    if importlib.util.find_spec("jax") is None:
        return None
    import jax

    return [f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".rstrip() for d in jax.devices()]
