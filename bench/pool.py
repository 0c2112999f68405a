"""Pooling and batch-norm throughput: neurokern vs PyTorch CPU, in one process, same thread count.

    python bench/pool.py                 # 2 threads, the shapes below
    python bench/pool.py --threads 1 2

Cases (NHWC float32; each timed as forward + backward, outputs preallocated):
  max_pool 2x2  on 64x28x28x6   (LeNet-sized activations)
  max_pool 2x2  on 32x56x56x64  (a ResNet stage-1 activation)
  batch_norm    on 32x56x56x64  (training: batch statistics, moving update, full backward)
PyTorch gets the same data as a channels_last tensor (NHWC in memory, the layout neurokern uses) and
is called through its aten kernels (max_pool2d_with_indices[_backward], native_batch_norm[_backward])
so neither side pays for autograd. Times are the best of interleaved blocks (bench/_common.py).
"ratio" = torch time / neurokern time: > 1 means neurokern is faster.
"""
import argparse
import os

import numpy as np

import neurokern as nk
from neurokern import ops

from _common import cpu_name, markdown_table, side_by_side, write_result

CASES = [("max_pool2d 2x2", (64, 28, 28, 6)), ("max_pool2d 2x2", (32, 56, 56, 64)), ("batch_norm", (32, 56, 56, 64))]


def neurokern_case(name, shape, variant="auto"):
    rng = np.random.default_rng(0)
    x = nk.tensor(rng.standard_normal(shape).astype(np.float32))
    c = shape[-1]
    dx = nk.empty(shape)
    if name.startswith("max_pool2d"):
        oshape = ops.pool2d_output_shape(shape, 2, 2, "valid")
        y, dy = nk.empty(oshape), nk.tensor(rng.standard_normal(oshape).astype(np.float32))

        def run():
            ops.max_pool2d(x, 2, 2, "valid", out=y, variant=variant)
            ops.max_pool2d_backward(dy, x, 2, 2, "valid", out=dx, variant=variant)
        return run
    gamma, beta = nk.tensor(np.ones(c, np.float32)), nk.tensor(np.zeros(c, np.float32))
    mm, mv = nk.zeros((c,)), nk.tensor(np.ones(c, np.float32))
    dgamma, dbeta = nk.zeros((c,)), nk.zeros((c,))
    y, dy = nk.empty(shape), nk.tensor(rng.standard_normal(shape).astype(np.float32))

    def run():
        _, mean, invstd = ops.batch_norm_forward(x, gamma, beta, mm, mv, True, out=y, variant=variant)
        ops.batch_norm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, variant=variant)
    return run


def torch_case(name, shape):
    import torch
    rng = np.random.default_rng(0)
    nchw = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2)  # channels_last view of NHWC data
    x = nchw(rng.standard_normal(shape).astype(np.float32))
    aten = torch.ops.aten
    if name.startswith("max_pool2d"):
        y, idx = aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
        dy = nchw(rng.standard_normal((shape[0], shape[1] // 2, shape[2] // 2, shape[3])).astype(np.float32))

        def run():
            y, idx = aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
            aten.max_pool2d_with_indices_backward(dy, x, [2, 2], [2, 2], [0, 0], [1, 1], False, idx)
        return run
    c = shape[-1]
    w, b = torch.ones(c), torch.zeros(c)
    rm, rv = torch.zeros(c), torch.ones(c)
    dy = nchw(rng.standard_normal(shape).astype(np.float32))

    def run():
        y, mean, invstd = aten.native_batch_norm(x, w, b, rm, rv, True, 0.01, 1e-3)
        aten.native_batch_norm_backward(dy, x, w, rm, rv, mean, invstd, True, 1e-3, [True, True, True])
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    headers = ["op (fwd+bwd)", "shape NHWC", "threads", "neurokern ms", "neurokern naive ms", "torch ms", "ratio"]
    rows = []
    for threads in args.threads:
        nk.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
        for name, shape in CASES:
            fns = {"nk": neurokern_case(name, shape), "naive": neurokern_case(name, shape, "naive")}
            if torch is not None:
                fns["torch"] = torch_case(name, shape)
            best = side_by_side(fns, rounds=3, budget=0.3)
            t_torch = best.get("torch")
            rows.append([name, "x".join(map(str, shape)), threads, f"{best['nk'] * 1e3:.3f}",
                         f"{best['naive'] * 1e3:.3f}", f"{t_torch * 1e3:.3f}" if t_torch else "n/a",
                         f"{t_torch / best['nk']:.2f}" if t_torch else "n/a"])
    table = markdown_table(headers, rows)
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    head = (f"# bench/pool.py\n\n{cpu_name()}, neurokern {nk.__version__} (ISA {ops.get_isa()}), "
            f"load average {load} at the end (2 cores shared: above ~2 the 2-thread rows measure waiting), "
            f"torch {torch.__version__ if torch else 'not installed'} (channels_last, aten kernels).\n"
            "ratio = torch / neurokern (> 1: neurokern faster).\n\n")
    print(table)
    print(f"wrote {write_result('pool', head + table)}")


if __name__ == "__main__":
    main()
