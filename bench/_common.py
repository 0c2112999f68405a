"""Shared helpers for bench/*.py: side-by-side best-of-N timing, markdown tables, the BLAS report.

Typical use:

    from _common import pin_blas_threads, blas_report, side_by_side, markdown_table, write_result
    pin_blas_threads(2)                      # before NumPy starts its BLAS threads
    best = side_by_side({"neurokern": f, "numpy": g})
    write_result("gemm", markdown_table(headers, rows))

Machine hygiene: OpenBLAS worker threads busy-spin for ~0.1 s after each call, and OpenMP workers spin
briefly too; timing the two libraries in interleaved blocks with a short pause between blocks keeps
one library's spinning threads from stealing the cores the other one is being timed on.
"""
import os
import pathlib
import platform
import time

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def pin_blas_threads(n):
    """Set OPENBLAS_NUM_THREADS (and OMP/MKL equivalents) unless the caller already did.

    Must run before NumPy is imported to affect the BLAS pool size; blas_limit() changes it later.
    """
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))


def blas_limit(n):
    """Context manager limiting NumPy's BLAS to n threads (threadpoolctl), or a no-op without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - bench extra not installed
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def blas_report():
    """One line naming the BLAS NumPy uses: library, version, kernel (corename) and threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (pip install threadpoolctl to report it)"
    import numpy as np
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure the BLAS library is loaded
    parts = []
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            parts.append(f"{info.get('internal_api')} {info.get('version')} "
                         f"kernel={info.get('architecture')} threads={info.get('num_threads')} "
                         f"threading={info.get('threading_layer')}")
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    note = f" (OPENBLAS_CORETYPE={coretype})" if coretype else " (OPENBLAS_CORETYPE not set)"
    return ("BLAS: " + "; ".join(parts) if parts else "BLAS: none found") + note


def cpu_name():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def best_time(fn, reps):
    """Best wall time of `reps` calls of fn (seconds)."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def reps_for(fn, budget=0.15, lo=3, hi=200):
    """How many calls of fn fit in `budget` seconds (after one warm-up call), clamped to [lo, hi]."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    return max(lo, min(hi, int(budget / once)))


def side_by_side(fns, rounds=3, budget=0.15, pause=0.15):
    """{name: best seconds} for each callable, timed in interleaved blocks (see the module doc)."""
    reps = {name: reps_for(fn, budget) for name, fn in fns.items()}
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(pause)
            best[name] = min(best[name], best_time(fn, reps[name]))
    return best


def markdown_table(headers, rows):
    """A GitHub markdown table; numbers are expected pre-formatted as strings."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(name, text):
    """Write bench/results/<name>.md (gitignored) and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path


def require_real_gpu():
    """The real CUDA backend (neurokern._cuda with a GPU), or exit with a message.

    A CUDA benchmark calls this first: timings of the CPU emulator (neurokern._cuda_emu) say nothing about
    a GPU, so they are never printed as GPU figures, whatever NEUROKERN_CUDA_EMULATOR says.
    """
    import sys

    from neurokern import cuda
    if cuda.is_emulated():
        sys.exit("refusing to benchmark: device 'cuda' is the CPU emulator (NEUROKERN_CUDA_EMULATOR / "
                 "use_emulator()); emulated timings are not GPU figures. Run on a machine with a CUDA GPU.")
    if not cuda.is_available():
        sys.exit(f"refusing to benchmark: {cuda._unavailable_reason()}. CUDA benchmarks run only on a real GPU.")
    be = cuda.backend()
    if be.is_emulated():  # belt and braces: the module itself says what it is
        sys.exit("refusing to benchmark: the active CUDA module is the emulator")
    return be
