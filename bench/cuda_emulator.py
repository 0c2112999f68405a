"""Cost of the CPU CUDA emulator (neurokern._cuda_emu) per block, for its two fiber backends.

    python bench/cuda_emulator.py                 # blocks of 32, 256 and 1024 threads
    python bench/cuda_emulator.py --rounds 5 --blocks 128

These are timings of the *emulator on this CPU*, not GPU figures: they say how long the tests of a
kernel take, and nothing about how fast the kernel runs on a GPU (bench/_common.require_real_gpu keeps
the GPU benchmarks from ever printing emulated numbers).

The kernel is the shared-memory tree reduction of csrc/cuda/emu_selftest.cu (selftest_block_reduce):
each thread loads one float, then the block halves the active threads log2(block) times. With
sync=True a thread passes 1 + log2(block) __syncthreads (9 for 256 threads), and every barrier switches
each of the block's fibers out to the scheduler and back in; with sync=False only the first barrier
is left (the race does not matter for timing, checking mode is off). So

    us/block       best time of one launch over --blocks blocks, divided by the number of blocks
                   (the binding's device allocation and copies are included, spread over the blocks)
    ns/switch      (sync - no sync) / (blocks * threads * (log2(block)) barriers): the price of one
                   thread reaching one __syncthreads (switch to the scheduler, release, switch back)

Rows "checking" repeat the 256-thread launch in checking mode with the differential run (forward and
reverse runs plus memory snapshots, as the tests in tests/cuda run every kernel).
Writes bench/results/cuda_emulator.md.
"""
import argparse
import platform

import numpy as np

from _common import best_time, cpu_name, markdown_table, reps_for, write_result
from neurokern import cuda

BLOCKS = [32, 256, 1024]
BACKENDS = ["asm", "ucontext"]


def available_backends():
    return BACKENDS if platform.machine() in ("x86_64", "AMD64") else ["ucontext"]


def time_launch(emu, x, block, sync, rounds):
    """Best seconds of one selftest_block_reduce launch (reps sized to ~0.2 s per round)."""
    def fn():
        return emu.selftest_block_reduce(x, block, sync)

    reps = reps_for(fn, budget=0.2, lo=3, hi=100)
    return min(best_time(fn, reps) for _ in range(rounds))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--blocks", type=int, default=64, help="blocks per launch (default 64)")
    args = ap.parse_args(argv)
    emu = cuda._require_emu()
    saved = cuda.get_emulator_options()
    rows = []
    try:
        for backend in available_backends():
            for check in (False, True):
                for block in (BLOCKS if not check else [256]):
                    cuda.set_emulator_options(fiber_backend=backend, check=check, differential=True,
                                              schedule="forward")
                    x = np.ones(args.blocks * block, np.float32)
                    barriers = block.bit_length() - 1  # the loop's __syncthreads, log2(block)
                    t_sync = time_launch(emu, x, block, True, args.rounds)
                    t_nosync = time_launch(emu, x, block, False, args.rounds) if not check else float("nan")
                    us_block = t_sync / args.blocks * 1e6
                    ns_switch = (t_sync - t_nosync) / (args.blocks * block * barriers) * 1e9
                    rows.append([backend, "checking" if check else "normal", str(block), str(1 + barriers),
                                 f"{us_block:.1f}", "-" if check else f"{t_nosync / args.blocks * 1e6:.1f}",
                                 "-" if check else f"{ns_switch:.0f}"])
                    print(" | ".join(rows[-1]), flush=True)
    finally:
        cuda.set_emulator_options(**saved)
    header = ("# CUDA emulator: cost per block of the two fiber backends\n\n"
              "**CPU emulator timings, not GPU figures.** They measure neurokern._cuda_emu running "
              "selftest_block_reduce on this CPU (one OS thread, one fiber per CUDA thread).\n\n"
              f"{cpu_name()}; {args.blocks} blocks per launch; best of {args.rounds} rounds. "
              "us/block: with the loop's __syncthreads (sync) and without (no sync); "
              "ns/switch: extra cost of one thread passing one __syncthreads. "
              "'checking' = checking mode with the forward/reverse differential run.\n\n")
    table = markdown_table(["backend", "mode", "threads/block", "__syncthreads", "us/block (sync)",
                            "us/block (no sync)", "ns/switch"], rows)
    print(f"wrote {write_result('cuda_emulator', header + table)}")


if __name__ == "__main__":
    main()
