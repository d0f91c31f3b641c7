"""python -m crmn_legacy SUBCOMMAND [options] -- the project's command line.

Subcommands (each has ``--help``):

  doctor     check the installation: versions, compile mode, C compiler, BLAS, caches, datasets
  fetch      download a dataset from its official site and verify it
  train      train a ResNet or CRMN with the paper's protocol
  evaluate   evaluate a checkpoint on a test split
  export     write a checkpoint's weights only (no velocities) to a new file
  bench      benchmarks: ``bench conv`` (convolution Ops), ``bench`` (whole model)
  tour       a guided tour of symbolic autodiff through the CRMN graph
"""

import importlib
import sys

# subcommand -> (module, function, one-line help)
COMMANDS = {
    "doctor": ("crmn_legacy.doctor", "main", "check the installation and report problems"),
    "fetch": ("crmn_legacy.datasets.fetch", "main", "download and verify a dataset"),
    "train": ("crmn_legacy.training.cli", "main_train", "train a model (paper protocol)"),
    "evaluate": ("crmn_legacy.training.cli", "main_evaluate", "evaluate a checkpoint"),
    "export": ("crmn_legacy.training.cli", "main_export", "write a checkpoint's weights only"),
    "bench": ("crmn_legacy.bench", "main", "benchmarks (bench conv | bench --model ...)"),
    "tour": ("crmn_legacy.tour", "main", "guided tour of symbolic autodiff"),
}


def _usage():
    lines = ["usage: python -m crmn_legacy {" + ",".join(COMMANDS) + "} [options]", ""]
    lines += [f"  {name:<9} {helptext}" for name, (_, _, helptext) in COMMANDS.items()]
    lines += ["", "Run 'python -m crmn_legacy SUBCOMMAND --help' for the options of each."]
    return "\n".join(lines)


def main(argv=None):
    """main(argv=None) -> int: :func:`crmn_legacy.configure` the process, then dispatch ``argv[0]`` to its subcommand."""
    from . import configure

    configure()  # a program of ours: float32, OpenMP, OpenBLAS threads, allocator (before anything compiles)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"crmn_legacy: unknown subcommand {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("crmn_legacy"):
            print(f"crmn_legacy: subcommand {name!r} is not available in this build ({exc})", file=sys.stderr)
            return 2
        raise
    result = getattr(mod, func)(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
