"""Augmentation resampling throughput: ops.affine_transform2d (each ISA path) vs PyTorch, in one process.

    python bench/image.py                    # batch 32 of 150x150x3 (cats_dogs_cnn) and 8 of 224x224x3
    python bench/image.py --threads 1 2 --repeat 20

One random rotation+zoom per image, bilinear, the fill modes 'reflect' (Keras' default) and 'constant'.
PyTorch (if importable) runs affine_grid + grid_sample on the same images in NCHW with its matching
padding modes ('reflection', 'zeros'); its coordinates use align_corners=True, so the work is the same
though the sampling grids differ slightly. Reported: megapixels (output) per second, median of --repeat
calls after a warm-up; "vs torch" > 1 means neurokern is faster.
"""
import argparse
import statistics
import time

import numpy as np

import neurokern as nk
from neurokern import ops

SHAPES = [(32, 150, 150, 3), (8, 224, 224, 3)]


def timeit(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def transforms(n, h, w, rng):
    a = rng.uniform(-0.3, 0.3, n)
    z = rng.uniform(0.8, 1.2, n)
    c, s = np.cos(a) * z, np.sin(a) * z
    return np.stack([c, -s, ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2, s, c,
                     ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2], 1).astype(np.float32)


def main():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[nk.get_num_threads()])
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    print(f"{'shape':>18} {'fill':>9} {'thr':>3} " + " ".join(f"{i:>9}" for i in ops.available_isas())
          + (f" {'torch':>9} {'vs torch':>8}" if torch else "") + "   (Mpixel/s)")
    for shape in SHAPES:
        n, h, w, c = shape
        x = nk.tensor(rng.uniform(0, 255, shape).astype(np.float32))
        t = transforms(n, h, w, rng)
        y = nk.empty(shape)
        mpix = n * h * w / 1e6
        for fill in ("reflect", "constant"):
            for threads in args.threads:
                nk.set_num_threads(threads)
                rates = {}
                prev = ops.get_isa()
                for isa in ops.available_isas():
                    ops.set_isa(isa)
                    rates[isa] = mpix / timeit(lambda: ops.affine_transform2d(x, t, "bilinear", fill, out=y),
                                               args.repeat)
                ops.set_isa(prev)
                line = f"{str(shape):>18} {fill:>9} {threads:>3} " + " ".join(f"{r:9.1f}" for r in rates.values())
                if torch is not None:
                    torch.set_num_threads(threads)
                    xt = torch.from_numpy(x.numpy().transpose(0, 3, 1, 2).copy())
                    # torch's theta maps normalised output coords to normalised input coords
                    theta = torch.zeros(n, 2, 3)
                    for k in range(n):
                        m = np.array([[t[k, 0], t[k, 1], t[k, 2]], [t[k, 3], t[k, 4], t[k, 5]], [0, 0, 1]])
                        sx, sy = (w - 1) / 2, (h - 1) / 2
                        norm = np.array([[sx, 0, sx], [0, sy, sy], [0, 0, 1]])
                        theta[k] = torch.from_numpy((np.linalg.inv(norm) @ m @ norm)[:2]).float()
                    grid = torch.nn.functional.affine_grid(theta, list(xt.shape), align_corners=True)
                    mode = "reflection" if fill == "reflect" else "zeros"
                    tr = mpix / timeit(lambda: torch.nn.functional.grid_sample(
                        xt, grid, "bilinear", mode, align_corners=True), args.repeat)
                    best = max(rates.values())
                    line += f" {tr:9.1f} {best / tr:8.2f}"
                print(line, flush=True)


if __name__ == "__main__":
    main()
