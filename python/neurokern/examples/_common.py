"""Shared bits of the example scripts: the command line, printing, timing."""
import argparse
import time


def parser(name, doc, epochs, seed=0):
    """An ArgumentParser for example `name` with the options every example has."""
    p = argparse.ArgumentParser(prog=f"python -m neurokern.examples.{name}", description=doc.strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(doc.strip().splitlines()[1:]))
    p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    p.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    p.add_argument("--quiet", action="store_true", help="print nothing, just return the metrics")
    return p


class Printer:
    """print() that --quiet silences."""

    def __init__(self, quiet):
        self.quiet = quiet

    def __call__(self, *args, **kwargs):
        if not self.quiet:
            print(*args, **kwargs, flush=True)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
