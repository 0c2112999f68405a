"""The `neurokern` command.

    neurokern info                  version, SIMD path, threads, OpenMP, CUDA
    neurokern list                  the example scripts
    neurokern example NAME [ARGS]   run an example (ARGS go to its own parser; try --help)
"""
import argparse
import importlib
import importlib.util
import sys


def info():
    """What this build runs on, as a dict."""
    import neurokern as nk
    from neurokern import _core, cuda, ops
    gpu = cuda.build_info()
    return {
        "version": nk.__version__,
        "cpu_isa": ops.cpu_isa(),
        "active_isa": ops.get_isa(),
        "available_isas": ops.available_isas(),
        "threads": nk.get_num_threads(),
        "openmp": bool(_core.has_openmp()),
        "module": _core.__file__,
        # CUDA: whether the nvcc module was built, the GPUs it sees, whether the emulator opt-in is on
        "cuda_built": gpu["cuda_built"],
        "cuda_gpus": gpu["gpus"],
        "cuda_emulator": "on" if gpu["emulated"] else ("built, off" if gpu["emulator_built"] else "not built"),
        "default_device": nk.get_default_device(),
    }


def _summary(name):
    """First line of an example's module docstring, read from its source (no import needed)."""
    import ast
    spec = importlib.util.find_spec(f"neurokern.examples.{name}")
    with open(spec.origin, encoding="utf-8") as f:
        doc = ast.get_docstring(ast.parse(f.read())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def main(argv=None):
    from neurokern.examples import EXAMPLES

    parser = argparse.ArgumentParser(prog="neurokern", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print version, SIMD path, threads and OpenMP")
    sub.add_parser("list", help="list the example scripts")
    ex = sub.add_parser("example", help="run an example script", add_help=False)
    ex.add_argument("name", choices=EXAMPLES, metavar="NAME", help=", ".join(EXAMPLES))
    ex.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the example")
    args = parser.parse_args(argv)

    if args.command == "info":
        for key, value in info().items():
            if isinstance(value, list):
                value = ", ".join(value)
            print(f"{key:15s} {value}")
        return 0
    if args.command == "list":
        for name in EXAMPLES:
            print(f"{name:12s} {_summary(name)}")
        return 0
    mod = importlib.import_module(f"neurokern.examples.{args.name}")
    mod.main(args.args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
