"""python -m crmn_legacy bench {conv | [model options]} -- benchmarks.

* ``bench conv [--json] [--batch-size 128] [--repeats N]``: the convolution
  Ops on the ResNet layer shapes (:mod:`crmn_legacy.bench.conv`).
* ``bench [--model crmn] [--depth 32] [--width 1] [--batch-size 128] [--json]``:
  the whole model's training step (:mod:`crmn_legacy.bench.model`).
"""

import importlib
import sys

__all__ = ["main"]

# First argument -> benchmark module; anything else goes to the model benchmark.
SUBCOMMANDS = {"conv": "crmn_legacy.bench.conv"}
# The whole-model benchmark, reached by ``bench`` with no sub-command or with
# option flags (``bench --model crmn``).
MODEL_BENCHMARK = "crmn_legacy.bench.model"


def main(argv=None):
    """main(argv=None) -> int: dispatch ``bench conv ...`` or the model benchmark."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return int(importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:]) or 0)
    if argv and argv[0] in ("-h", "--help") and len(argv) == 1:
        print(__doc__)
    return int(importlib.import_module(MODEL_BENCHMARK).main(argv) or 0)
