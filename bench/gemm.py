"""SGEMM: neurokern vs NumPy (OpenBLAS) vs the measured FMA peak, side by side in one process.

    python bench/gemm.py                 # 2 threads, then 1 thread; writes bench/results/gemm.md
    python bench/gemm.py --threads 2 --quick
    python bench/gemm.py --isa avx2      # the AVX2 kernel (and its ymm peak) on this machine

Both libraries get the same thread count (neurokern via set_num_threads, OpenBLAS via
OPENBLAS_NUM_THREADS / threadpoolctl) and preallocated outputs; each shape is timed best-of-N in
interleaved blocks. The peak is measured here, on this machine, by _core.gemm_peak_gflops
(independent FMA chains of the widest vectors): threads x the best per-core probe, so "% peak" is
against what the cores deliver now (a probe on all cores at once is printed too; on a shared machine
it comes out low).
"""
import argparse
import sys

from _common import (blas_limit, blas_report, cpu_name, markdown_table, pin_blas_threads,
                     side_by_side, write_result)

pin_blas_threads(2)  # before NumPy loads OpenBLAS; the 1-thread table narrows it with threadpoolctl

import numpy as np  # noqa: E402

import neurokern as nk  # noqa: E402
from neurokern import _core, ops  # noqa: E402

# (label, M, K, N, transpose_a, transpose_b): C[M,N] = op(A)[M,K] @ op(B)[K,N]
SHAPES = [
    ("square", 256, 256, 256, False, False),
    ("square", 512, 512, 512, False, False),
    ("square", 1024, 1024, 1024, False, False),
    ("square", 2048, 2048, 2048, False, False),
    ("MLP fwd X.W", 64, 784, 512, False, False),
    ("MLP dX = dY.W^T", 64, 512, 784, False, True),
    ("MLP dW = X^T.dY", 784, 64, 512, True, False),
    ("MLP fwd X.W", 64, 512, 784, False, False),
    ("MLP out fwd", 64, 512, 10, False, False),
    ("LeNet fc1 fwd", 32, 400, 120, False, False),
    ("LeNet fc1 dW", 400, 32, 120, True, False),
    ("LeNet fc2 fwd", 32, 120, 84, False, False),
    # im2col-style conv GEMMs (batch 64): pixels x (C*KH*KW) x OC, short K and narrow N
    ("LeNet conv1 im2col", 36864, 25, 6, False, False),
    ("LeNet conv2 im2col", 4096, 150, 16, False, False),
]


def make_case(m, k, n, ta, tb, rng):
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    a_op = a.T if ta else a  # NumPy passes the transpose flag to BLAS: no copy
    b_op = b.T if tb else b
    c_np = np.empty((m, n), np.float32)
    at, bt, ct = nk.tensor(a), nk.tensor(b), nk.empty((m, n))

    def run_nk():
        _core.gemm(ct, at, bt, ta, tb, 1.0, 0.0, "auto")

    def run_np():
        np.matmul(a_op, b_op, out=c_np)

    run_nk(), run_np()
    err = np.max(np.abs(ct.numpy() - c_np)) / max(1.0, np.max(np.abs(c_np)))
    assert err < 1e-4, f"neurokern and NumPy disagree on {m}x{k}x{n}: {err}"
    return run_nk, run_np


def table_for(threads, shapes, rounds):
    nk.set_num_threads(threads)
    # Peak = threads x the per-core probe (best of short runs before and after the table). On a
    # shared machine a probe on all cores at once is pulled down by whatever else runs, so it is
    # only reported.
    def probe(t, n):
        return max(_core.gemm_peak_gflops(ops.get_isa(), t, 0.1) for _ in range(n))
    per_core, all_cores = probe(1, 5), probe(threads, 3)
    rng = np.random.default_rng(0)
    rows = []
    with blas_limit(threads):
        report = blas_report()
        for label, m, k, n, ta, tb in shapes:
            run_nk, run_np = make_case(m, k, n, ta, tb, rng)
            best = side_by_side({"nk": run_nk, "np": run_np}, rounds=rounds)
            flop = 2.0 * m * n * k
            g_nk, g_np = flop / best["nk"] * 1e-9, flop / best["np"] * 1e-9
            op = ("A^T" if ta else "A") + "." + ("B^T" if tb else "B")
            rows.append([label, f"{m}x{k}x{n}", op, f"{best['nk'] * 1e6:.1f}", f"{g_nk:.1f}",
                         f"{g_np:.1f}", f"**{g_nk / g_np:.2f}**", "", ""])
            print(f"  {threads}T {m}x{k}x{n} {op}: nk {g_nk:.1f}  numpy {g_np:.1f}  ratio {g_nk / g_np:.2f}",
                  flush=True)
    per_core, all_cores = max(per_core, probe(1, 5)), max(all_cores, probe(threads, 3))
    peak = threads * per_core
    for row in rows:  # % of peak, now that the peak is known
        row[7], row[8] = (f"{100 * float(row[c]) / peak:.0f}%" for c in (4, 5))
    headers = ["shape", "MxKxN", "op", "nk us", "nk GFLOPS", "OpenBLAS GFLOPS", "nk / OpenBLAS",
               "nk % peak", "OpenBLAS % peak"]
    title = (f"### {threads} thread{'s' if threads > 1 else ''}: FMA peak {peak:.0f} GFLOPS "
             f"= {threads} x {per_core:.0f} measured per core ({ops.get_isa()} FMA chains; "
             f"{threads} cores probed together gave {all_cores:.0f})\n\n{report}\n\n")
    return title + markdown_table(headers, rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="2,1", help="comma-separated thread counts (default 2,1)")
    p.add_argument("--quick", action="store_true", help="skip 2048^3 and use fewer rounds")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per shape")
    p.add_argument("--isa", default=None, help="force a SIMD path (scalar, avx2, avx512) for neurokern")
    args = p.parse_args(argv)
    if args.isa:
        ops.set_isa(args.isa)
    shapes = [s for s in SHAPES if not (args.quick and s[1] >= 2048 and s[2] >= 2048)]  # 2048^3 only
    rounds = 2 if args.quick else args.rounds
    parts = [
        "## SGEMM: neurokern vs NumPy/OpenBLAS\n",
        f"CPU: {cpu_name()}; neurokern {nk.__version__}, ISA {ops.get_isa()} "
        f"(auto dispatch -> `{_core.gemm_dispatch(1024, 1024, 1024)}`, narrow N -> "
        f"`{_core.gemm_dispatch(64, 10, 512)}`); NumPy {np.__version__}. "
        "float32, row-major, preallocated outputs, best of interleaved blocks. GFLOPS = 2*M*N*K / time.\n",
    ]
    for t in [int(x) for x in args.threads.split(",")]:
        print(f"timing with {t} thread(s) ...", flush=True)
        parts.append(table_for(t, shapes, rounds) + "\n")
    text = "\n".join(parts)
    path = write_result("gemm" if not args.isa else f"gemm_{args.isa}", text)
    print("\n" + text)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
