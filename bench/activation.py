"""Elementwise-op throughput: neurokern (each ISA path) vs NumPy vs PyTorch, in one process.

    python bench/activation.py                       # relu, sigmoid, tanh, softmax, bias_add, dropout
    python bench/activation.py --ops tanh softmax --repeat 50 --threads 1 2

Shapes: 64x512 (a Dense layer's batch activation, below the OpenMP grain) and 1024x1024 (~1M).
Every op reads x once and writes y once: GB/s = 8 bytes per element / time (median, or --stat min,
of --repeat calls after a warm-up; outputs are preallocated for every contender, so no allocation
is timed). On a shared machine a 2-thread call waits whenever the second core is busy elsewhere
(a whole scheduler slice, ~8 ms here): use --stat min there.
NumPy versions are the usual stable formulas with out= ufuncs; torch (if importable) uses its
out= functions with the same thread count. "vs numpy" > 1 means neurokern is faster.
"""
import argparse
import statistics
import time

import numpy as np

import neurokern as nk
from neurokern import ops

SHAPES = [(64, 512), (1024, 1024)]
RATE, SEED = 0.5, 1234


STAT = statistics.median  # --stat min: best case, when other processes share the cores


def timeit(fn, repeat):
    fn()  # warm-up: page faults, thread pool start
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return STAT(times)


# ---- contenders: each returns a zero-argument callable over preallocated buffers ---------------

def neurokern_op(name, x, b):
    xt, bt, y = nk.tensor(x), nk.tensor(b), nk.empty(x.shape)
    if name == "bias_add":
        return lambda: ops.bias_add(xt, bt, out=y)
    if name == "dropout":
        return lambda: ops.dropout(xt, RATE, SEED, out=y)
    return lambda: ops.activation(xt, name, out=y)


def numpy_op(name, x, b):
    y, t = np.empty_like(x), np.empty_like(x)
    rng = np.random.default_rng(SEED)

    def sigmoid():  # 1 / (1 + exp(-x)); overflow warnings off for very negative x
        np.negative(x, out=t); np.exp(t, out=t); np.add(t, 1, out=t); np.reciprocal(t, out=y)

    def softmax():
        m = x.max(axis=-1, keepdims=True)
        np.subtract(x, m, out=y); np.exp(y, out=y); np.divide(y, y.sum(axis=-1, keepdims=True), out=y)

    def dropout():  # mask from NumPy's generator, scale by 1 / (1 - rate)
        keep = rng.random(x.shape, dtype=np.float32) >= RATE
        np.multiply(x, keep, out=y); np.multiply(y, 1 / (1 - RATE), out=y)

    fns = {"relu": lambda: np.maximum(x, 0, out=y), "sigmoid": sigmoid, "tanh": lambda: np.tanh(x, out=y),
           "softmax": softmax, "bias_add": lambda: np.add(x, b, out=y), "dropout": dropout}
    return fns[name]


def torch_op(name, x, b):
    import torch
    xt, bt, y = torch.from_numpy(x), torch.from_numpy(b), torch.empty(x.shape)
    fns = {"relu": lambda: torch.clamp_min(xt, 0, out=y), "sigmoid": lambda: torch.sigmoid(xt, out=y),
           "tanh": lambda: torch.tanh(xt, out=y), "softmax": lambda: torch.softmax(xt, -1, out=y),
           "bias_add": lambda: torch.add(xt, bt, out=y),
           "dropout": lambda: torch.nn.functional.dropout(xt, RATE, training=True)}
    return fns[name]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ops", nargs="+", default=["relu", "sigmoid", "tanh", "softmax", "bias_add", "dropout"])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--threads", type=int, nargs="+", default=None,
                    help="neurokern thread counts to try (default: the current one)")
    ap.add_argument("--stat", choices=["median", "min"], default="median",
                    help="summary of the --repeat timings (min is robust to a busy machine)")
    args = ap.parse_args()
    global STAT
    STAT = min if args.stat == "min" else statistics.median
    try:
        import torch
        torch.set_num_threads(nk.get_num_threads())
        have_torch = True
    except ImportError:
        have_torch = False
    rng = np.random.default_rng(0)
    print(f"neurokern {nk.__version__}  cpu_isa={ops.cpu_isa()}  threads={nk.get_num_threads()}  "
          f"torch={'yes' if have_torch else 'not installed'}  stat={args.stat} of {args.repeat}")
    print(f"{'op':<10}{'shape':>12}  {'contender':<22}{'us':>10}{'GB/s':>8}{'vs numpy':>10}")
    np.seterr(over="ignore")
    for name in args.ops:
        for shape in SHAPES:
            x = (rng.standard_normal(shape) * 4).astype(np.float32)
            b = rng.standard_normal(shape[-1]).astype(np.float32)
            rows = []
            prev_isa, prev_threads = ops.get_isa(), nk.get_num_threads()
            try:
                for threads in args.threads or [prev_threads]:
                    nk.set_num_threads(threads)
                    for isa in ops.available_isas():
                        ops.set_isa(isa)
                        rows.append((f"neurokern[{isa},{threads}t]", timeit(neurokern_op(name, x, b), args.repeat)))
            finally:
                ops.set_isa(prev_isa)
                nk.set_num_threads(prev_threads)
            t_np = timeit(numpy_op(name, x, b), args.repeat)
            rows.append(("numpy", t_np))
            if have_torch:
                rows.append(("torch", timeit(torch_op(name, x, b), args.repeat)))
            for who, t in rows:
                gbs = 8 * x.size / t / 1e9
                print(f"{name:<10}{'x'.join(map(str, shape)):>12}  {who:<22}{t * 1e6:>10.1f}{gbs:>8.1f}"
                      f"{t_np / t:>9.2f}x")


if __name__ == "__main__":
    main()
