"""LSTM layer speed: neurokern (ops.lstm_forward / ops.lstm_backward) vs torch.nn.LSTM on CPU, in one
process, both with the same thread count (default 2).

    python bench/lstm.py                     # the two default shapes
    python bench/lstm.py --threads 1 --rounds 5

Shapes (batch, timesteps, features, units): (64, 50, 32, 128) and (32, 200, 64, 256).
"forward" is one inference pass over the sequence (torch under no_grad, neurokern with
training=False: neither saves anything for a backward); "fwd+bwd" is a forward that keeps what
the backward needs plus the backward to every weight and the input, with upstream gradient on the whole output sequence. Best of interleaved
blocks (bench/_common.side_by_side). "ratio" = torch time / neurokern time: > 1 means neurokern is
faster; the target is >= 0.8. Writes bench/results/lstm.md.

--clock process times with time.process_time (CPU seconds of this process) instead of wall time:
on a machine shared with other jobs, wall times of runs longer than a scheduler slice measure the
queue, not the code. Process time is only comparable at --threads 1 (with 2 threads it adds both
threads' CPU, spin-waiting included).
"""
import time
import argparse
import sys

from _common import cpu_name, markdown_table, pin_blas_threads, side_by_side, write_result

pin_blas_threads(2)

import numpy as np  # noqa: E402

import neurokern as nk  # noqa: E402
from neurokern import ops  # noqa: E402

SHAPES = [(64, 50, 32, 128), (32, 200, 64, 256)]


def neurokern_fns(N, T, F, U, rng):
    x = nk.tensor(rng.uniform(-1, 1, (N, T, F)).astype(np.float32))
    W = nk.tensor(rng.uniform(-0.1, 0.1, (F, 4 * U)).astype(np.float32))
    Wh = nk.tensor(rng.uniform(-0.1, 0.1, (U, 4 * U)).astype(np.float32))
    b = nk.tensor(np.zeros(4 * U, np.float32))
    h0, c0 = nk.zeros((N, U)), nk.zeros((N, U))
    dy = nk.tensor(rng.standard_normal((N, T, U)).astype(np.float32))
    dW, dWh, db = nk.zeros((F, 4 * U)), nk.zeros((U, 4 * U)), nk.zeros((4 * U,))

    def fwd():
        return ops.lstm_forward(x, h0, c0, W, Wh, b, training=False)

    def fwd_bwd():
        h_seq, _, _, gates, c_seq = ops.lstm_forward(x, h0, c0, W, Wh, b)
        ops.lstm_backward(dW, dWh, db, dy, None, None, gates, c_seq, h_seq, x, h0, c0, W, Wh)
    return fwd, fwd_bwd


def torch_fns(torch, N, T, F, U, rng):
    lstm = torch.nn.LSTM(F, U, batch_first=True)
    x = torch.from_numpy(rng.uniform(-1, 1, (N, T, F)).astype(np.float32))
    xg = x.clone().requires_grad_()
    dy = torch.from_numpy(rng.standard_normal((N, T, U)).astype(np.float32))

    def fwd():
        with torch.no_grad():
            return lstm(x)

    def fwd_bwd():
        out, _ = lstm(xg)
        out.backward(dy)
    return fwd, fwd_bwd


def process_best(fns, rounds, reps=3):
    """{name: best CPU seconds of one call}, contenders interleaved per round."""
    best = {name: float("inf") for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(reps):
                t0 = time.process_time()
                fn()
                best[name] = min(best[name], time.process_time() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clock", choices=["wall", "process"], default="wall")
    args = ap.parse_args(argv)
    nk.set_num_threads(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("torch not importable: timing neurokern only", file=sys.stderr)
    rng = np.random.default_rng(0)
    rows = []
    for N, T, F, U in SHAPES:
        nf, nfb = neurokern_fns(N, T, F, U, rng)
        for what, nfn, tidx in (("forward", nf, 0), ("fwd+bwd", nfb, 1)):
            fns = {"neurokern": nfn}
            if torch is not None:
                fns["torch"] = torch_fns(torch, N, T, F, U, rng)[tidx]
            best = side_by_side(fns, rounds=args.rounds, budget=0.3) if args.clock == "wall" else \
                process_best(fns, args.rounds)
            tn = best["neurokern"] * 1e3
            tt = best.get("torch", float("nan")) * 1e3
            ratio = tt / tn if torch is not None else float("nan")
            rows.append([f"({N}, {T}, {F}, {U})", what, f"{tn:.2f}", f"{tt:.2f}", f"{ratio:.2f}"])
            print(" | ".join(rows[-1]), flush=True)
    header = (f"# LSTM: neurokern vs torch.nn.LSTM (CPU, {args.threads} threads)\n\n"
              f"{cpu_name()}; neurokern ISA {ops.get_isa()}; torch "
              f"{torch.__version__ if torch is not None else 'not installed'}. {args.clock} clock, best of "
              f"{args.rounds} interleaved blocks; ratio = torch ms / neurokern ms (> 1: neurokern faster; target >= 0.8).\n\n")
    table = markdown_table(["(batch, timesteps, features, units)", "pass", "neurokern ms", "torch ms", "ratio"],
                           rows)
    print(f"wrote {write_result('lstm', header + table)}")


if __name__ == "__main__":
    main()
