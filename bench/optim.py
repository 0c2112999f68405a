"""Optimizer-update throughput: neurokern's fused kernels vs NumPy vs torch.optim, in one process.

    python bench/optim.py                  # Adam and SGD-momentum over 1M and 10M parameters
    python bench/optim.py --sizes 1e6 --repeat 50 --threads 1 2

Each update streams the parameter, its gradient and its state through memory once:
  Adam          reads w, m, v, g and writes w, m, v: 28 bytes per parameter
  SGD-momentum  reads w, v, g and writes w, v:       20 bytes per parameter
GB/s = those bytes / time of one update (median of --repeat runs after a warm-up). The NumPy
version is the same Keras formulas written with in-place ufuncs (out=) and two scratch buffers,
about the best plain NumPy does. torch.optim runs single-tensor Adam/SGD (foreach and fused
variants make no difference for one tensor) if torch is importable.
"""
import argparse
import math
import statistics
import time

import numpy as np

import neurokern as nk
from neurokern import ops

LR, B1, B2, EPS, MOM = 1e-3, 0.9, 0.999, 1e-7, 0.9
BYTES = {"adam": 28, "sgd_momentum": 20}


def timeit(fn, repeat):
    fn()  # warm-up: page faults, thread pool start
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---- the contenders -------------------------------------------------------------------------------

def neurokern_adam(n, rng):
    w, m, v = nk.tensor(rng.standard_normal(n, np.float32)), nk.zeros((n,)), nk.zeros((n,))
    g = nk.tensor(rng.standard_normal(n, np.float32))
    step = [0]

    def run():
        step[0] += 1
        ops.adam_update(w, m, v, None, g, LR, B1, B2, EPS, step[0])
    return run


def numpy_adam(n, rng):
    w, g = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
    t1, t2 = np.empty(n, np.float32), np.empty(n, np.float32)
    step = [0]

    def run():
        step[0] += 1
        alpha = LR * math.sqrt(1 - B2 ** step[0]) / (1 - B1 ** step[0])
        np.subtract(g, m, out=t1); np.multiply(t1, 1 - B1, out=t1); np.add(m, t1, out=m)  # m += (g-m)(1-b1)
        np.multiply(g, g, out=t1); np.subtract(t1, v, out=t1)
        np.multiply(t1, 1 - B2, out=t1); np.add(v, t1, out=v)                            # v += (g^2-v)(1-b2)
        np.sqrt(v, out=t2); np.add(t2, EPS, out=t2)                                      # sqrt(v) + eps
        np.multiply(m, alpha, out=t1); np.divide(t1, t2, out=t1); np.subtract(w, t1, out=w)
    return run


def neurokern_sgd(n, rng):
    w, v = nk.tensor(rng.standard_normal(n, np.float32)), nk.zeros((n,))
    g = nk.tensor(rng.standard_normal(n, np.float32))
    return lambda: ops.sgd_update(w, v, g, LR, MOM, False)


def numpy_sgd(n, rng):
    w, g, v = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32), np.zeros(n, np.float32)
    t = np.empty(n, np.float32)

    def run():
        np.multiply(v, MOM, out=v); np.multiply(g, LR, out=t)
        np.subtract(v, t, out=v); np.add(w, v, out=w)                # v = mom v - lr g; w += v
    return run


def torch_opt(kind, n, rng):
    import torch
    w = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n, np.float32)))
    w.grad = torch.from_numpy(rng.standard_normal(n, np.float32))
    opt = (torch.optim.Adam([w], lr=LR, betas=(B1, B2), eps=EPS) if kind == "adam"
           else torch.optim.SGD([w], lr=LR, momentum=MOM))
    return opt.step


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, nargs="+", default=None,
                    help="neurokern thread counts to try (default: the current one)")
    args = ap.parse_args()
    try:
        import torch
        torch.set_num_threads(nk.get_num_threads())
        have_torch = True
    except ImportError:
        have_torch = False
    rng = np.random.default_rng(0)
    print(f"neurokern {nk.__version__}  isa={ops.get_isa()}  threads={nk.get_num_threads()}  "
          f"torch={'yes' if have_torch else 'not installed'}")
    print(f"{'update':<14}{'params':>10}  {'contender':<24}{'ms':>9}{'GB/s':>8}{'vs numpy':>10}")
    contenders = [("adam", neurokern_adam, numpy_adam), ("sgd_momentum", neurokern_sgd, numpy_sgd)]
    for kind, nk_fn, np_fn in contenders:
        for size in args.sizes:
            n = int(size)
            rows = []
            prev_isa, prev_threads = ops.get_isa(), nk.get_num_threads()
            for threads in args.threads or [prev_threads]:
                nk.set_num_threads(threads)
                for isa in ops.available_isas():
                    ops.set_isa(isa)
                    rows.append((f"neurokern[{isa},{threads}t]", timeit(nk_fn(n, rng), args.repeat)))
            ops.set_isa(prev_isa)
            nk.set_num_threads(prev_threads)
            t_np = timeit(np_fn(n, rng), args.repeat)
            rows.append(("numpy", t_np))
            if have_torch:
                rows.append(("torch.optim", timeit(torch_opt(kind, n, rng), args.repeat)))
            for name, t in rows:
                gbs = BYTES[kind] * n / t / 1e9
                print(f"{kind:<14}{n:>10}  {name:<24}{t * 1e3:>9.3f}{gbs:>8.1f}{t_np / t:>9.2f}x")


if __name__ == "__main__":
    main()
