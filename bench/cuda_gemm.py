"""SGEMM on a CUDA GPU: neurokern's gemm (device 'cuda') vs cuBLAS through CuPy when it is installed.

    python bench/cuda_gemm.py            # writes bench/results/cuda_gemm.md
    python bench/cuda_gemm.py --quick

Runs only on a real GPU (require_real_gpu): on the CPU emulator, or without a GPU, it exits without timing
anything, because emulated timings are not GPU figures. Each call is followed by a device synchronize, so
a time covers the kernel, not just its launch; the result is checked against NumPy before timing.
"""
import argparse
import sys

from _common import best_time, markdown_table, require_real_gpu, write_result

SHAPES = [  # (label, M, K, N): C[M,N] = A[M,K] @ B[K,N]
    ("square", 512, 512, 512),
    ("square", 1024, 1024, 1024),
    ("square", 2048, 2048, 2048),
    ("MLP fwd X.W", 64, 784, 512),
    ("odd", 257, 33, 1031),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="first two shapes, fewer repetitions")
    args = parser.parse_args(argv)
    be = require_real_gpu()  # before any timing; exits on the emulator

    import numpy as np

    import neurokern as nk
    from neurokern import cuda, ops
    try:
        import cupy
    except ImportError:
        cupy = None

    rng = np.random.default_rng(0)
    rows = []
    for label, m, k, n in SHAPES[:2] if args.quick else SHAPES:
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
        at, bt, ct = nk.tensor(a, device="cuda"), nk.tensor(b, device="cuda"), nk.empty((m, n), device="cuda")

        def run_nk():
            ops.gemm(ct, at, bt)
            cuda.synchronize()

        run_nk()
        err = np.max(np.abs(ct.numpy() - a @ b)) / max(1.0, float(np.max(np.abs(a @ b))))
        if err > 1e-4:
            sys.exit(f"neurokern's CUDA gemm disagrees with NumPy on {m}x{k}x{n} (relative error {err:.2e})")
        reps = 5 if args.quick else 20
        flops = 2.0 * m * k * n
        t_nk = best_time(run_nk, reps)
        row = [label, f"{m}x{k}x{n}", f"{flops / t_nk / 1e9:.0f}"]
        if cupy is not None:
            ac, bc = cupy.asarray(a), cupy.asarray(b)
            cc = cupy.empty((m, n), dtype=cupy.float32)

            def run_cublas():
                cupy.matmul(ac, bc, out=cc)
                cupy.cuda.Device().synchronize()

            run_cublas()
            row.append(f"{flops / best_time(run_cublas, reps) / 1e9:.0f}")
        else:
            row.append("(cupy not installed)")
        rows.append(row)
    headers = ["case", "MxKxN", "neurokern GFLOP/s", "cuBLAS (CuPy) GFLOP/s"]
    text = f"GPU: {be.device_name() if hasattr(be, 'device_name') else 'CUDA device 0'}\n\n"
    text += markdown_table(headers, rows)
    print(text)
    print(f"wrote {write_result('cuda_gemm', text)}")


if __name__ == "__main__":
    main()
