"""The CUDA emulator's own tests, through the self-test kernels of csrc/cuda/emu_selftest.cu.

Each kernel isolates one piece of CUDA semantics (barriers, atomics, warp collectives, shared memory,
launch limits, thread coordinates) or one bug checking mode must report (a missing __syncthreads,
barrier divergence, out-of-bounds access, stale shared memory, a host pointer). Every expectation is
written in NumPy from what the kernel computes; a misuse must come back as a Python exception whose
message names the kernel and the problem, never as a crash.

Modes: conftest.py turns checking mode on (with the forward/reverse differential run) for every test;
tests that depend on the schedule pick their own mode through `_options` and the `mode` fixture, over
both fiber backends ('asm' and 'ucontext') and both schedules ('forward', 'reverse').

Inputs are integer-valued floats (|sum| < 2**24), so float32 sums are exact in any order and every
comparison is exact. Inputs also vary from test to test: the bindings copy an *uninitialised* host
array into output buffers, so an output the kernel forgot to write holds stale host bytes, possibly
the previous call's correct answer; distinct inputs keep such a stale answer from matching.
"""
import contextlib
import platform
import re
import zlib

import numpy as np
import pytest

from neurokern import cuda

emu = pytest.importorskip("neurokern._cuda_emu")

BACKENDS = ["asm", "ucontext"]
# name -> set_emulator_options arguments. The schedule applies only when the differential run is off;
# `differential` is inert outside checking mode (the plain modes set it to show that).
MODES = {
    "plain-forward": dict(check=False, differential=True, schedule="forward"),
    "plain-reverse": dict(check=False, differential=True, schedule="reverse"),
    "check-forward": dict(check=True, differential=False, schedule="forward"),
    "check-reverse": dict(check=True, differential=False, schedule="reverse"),
    "check-differential": dict(check=True, differential=True, schedule="forward"),
}


@contextlib.contextmanager
def _options(**kw):
    """Emulator options for the body of a with-statement; the previous ones are restored after."""
    before = cuda.set_emulator_options(**kw)
    try:
        yield
    finally:
        cuda.set_emulator_options(**before)


def _rng(*key):
    """A generator seeded by the test's parameters: each parametrisation gets different inputs."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _check_backend(name):
    if name == "asm" and platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the 'asm' fiber backend exists on x86-64 only")


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Runs the test on one fiber backend (checking mode and the differential run as conftest set them)."""
    _check_backend(request.param)
    with _options(fiber_backend=request.param):
        yield request.param


@pytest.fixture(params=[(b, m) for b in BACKENDS for m in MODES], ids=lambda p: f"{p[0]}-{p[1]}")
def mode(request):
    """Runs the test on one fiber backend in one emulator mode; yields the mode's name."""
    backend_name, name = request.param
    _check_backend(backend_name)
    with _options(fiber_backend=backend_name, **MODES[name]):
        yield name


@pytest.fixture(autouse=True)
def _no_leftovers():
    """Every test leaves no pending launch error and no new live device allocation behind. (At most as
    many as before, not exactly as many: the garbage collector may free an earlier test's tensors meanwhile.)"""
    live = emu.emu_live_allocations()
    yield
    emu.synchronize()  # raises if a failure is still pending (it would poison the next test)
    assert emu.emu_live_allocations() <= live


def _raises(*patterns):
    """pytest.raises(RuntimeError) whose message must contain every regex in `patterns`."""
    return pytest.raises(RuntimeError, match="(?s)" + "".join(f"(?=.*{p})" for p in patterns))


def _drain_pending():
    """Clears the second report of an out-of-bounds write (see test_oob_write_is_reported_once)."""
    with contextlib.suppress(RuntimeError):
        emu.synchronize()


# ------------------------------------------------------------------ shared-memory tree reduction
def _block_sums(x, block):
    pad = -len(x) % block
    return np.concatenate([x, np.zeros(pad, x.dtype)]).astype(np.float64).reshape(-1, block).sum(axis=1)


def _unsynced_forward(x, block):
    """What block_reduce_kernel without the loop's __syncthreads returns when threads run in order
    0, 1, 2, ...: after the first barrier thread 0 runs its whole loop before any other thread adds
    anything, so it sums s[0] with the *original* s[stride] for stride = block/2, ..., 2, 1."""
    pad = -len(x) % block
    s = np.concatenate([x, np.zeros(pad, x.dtype)]).astype(np.float64).reshape(-1, block)
    strides = [1 << k for k in range(block.bit_length() - 1)]
    return s[:, 0] + s[:, strides].sum(axis=1)


@pytest.mark.parametrize("block", [1, 32, 256, 1024])
def test_block_reduce_with_sync_is_correct_in_every_mode(mode, block):
    n = 3 * block + 7  # a partial last block
    x = _rng("reduce", mode, block).integers(-50, 51, n).astype(np.float32)
    partial = emu.selftest_block_reduce(x, block, True)
    assert partial.shape == (-(-n // block),) and partial.dtype == np.float32
    np.testing.assert_array_equal(partial, _block_sums(x, block))


@pytest.mark.parametrize("block", [32, 256])
def test_block_reduce_without_sync(mode, block):
    """The issue's acceptance test: a reduction that is wrong without __syncthreads must fail under
    checking mode. The differential run raises; one schedule alone either shows a wrong sum (forward)
    or hides the race completely (reverse: every s[t + stride] is final before thread t reads it)."""
    n = 4 * block + 5
    x = _rng("unsynced", mode, block).integers(1, 51, n).astype(np.float32)  # > 0: a wrong sum differs
    if mode.endswith("differential"):
        with _raises("block_reduce_kernel", r"forward vs reverse", r"missing __syncthreads"):
            emu.selftest_block_reduce(x, block, False)
        return
    partial = emu.selftest_block_reduce(x, block, False)
    if mode.endswith("forward"):
        np.testing.assert_array_equal(partial, _unsynced_forward(x, block))
        assert np.all(partial < _block_sums(x, block))
    else:
        np.testing.assert_array_equal(partial, _block_sums(x, block))


def test_differential_run_is_off_outside_checking_mode():
    with _options(check=False, differential=True, schedule="forward"):
        assert cuda.get_emulator_options()["differential"] is True
        x = np.arange(1, 65, dtype=np.float32)
        np.testing.assert_array_equal(emu.selftest_block_reduce(x, 32, False), _unsynced_forward(x, 32))


def test_differential_run_compares_int_outputs_exactly_next_to_float_atomics(backend):
    """The atomics self-test does float atomicAdds (so the forward/reverse comparison allows float rounding)
    and also writes each thread's atomicAdd return value to an int buffer, which legitimately differs
    between the two orders. Those ints read as floats are subnormal: they must be compared exactly, so
    the differential run reports them instead of waving them through as rounding."""
    vals = np.ones(256, np.int32)
    with _options(check=True, differential=True):
        with pytest.raises(RuntimeError, match=r"forward run but .* after the reverse run"):
            emu.selftest_atomics(vals, 128)
    _drain_pending()


# ----------------------------------------------------------------------------- atomics, contention
# The differential run is off here: which thread gets which atomicAdd return value, and which
# atomicExch lands last, depend on the order by design, so forward and reverse runs differ legitimately.
@pytest.mark.parametrize("schedule", ["forward", "reverse"])
@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("n, block", [(1, 32), (1000, 128), (4099, 1024)])
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_atomics_under_contention(backend_name, check, schedule, n, block):
    _check_backend(backend_name)
    vals = _rng("atomics", backend_name, check, schedule, n).integers(-1000, 1001, n).astype(np.int32)
    with _options(fiber_backend=backend_name, check=check, differential=False, schedule=schedule):
        counters, old, fsum, dsum, fmax = emu.selftest_atomics(vals, block)
    assert counters.shape == (5,) and old.shape == (n,) and old.dtype == np.int32
    assert fsum.dtype == np.float32 and dsum.dtype == np.float64 and fmax.dtype == np.float32
    # every thread hit the same five words: no update may be lost
    assert counters[0] == n
    assert counters[1] == vals.sum()
    assert counters[2] == vals.max() and counters[3] == vals.min()
    np.testing.assert_array_equal(np.sort(old), np.arange(n))  # atomicAdd returned each old value once
    assert fsum[0] == vals.sum() and dsum[0] == vals.sum()
    assert fmax[0] == vals.max()  # the atomicCAS loop
    # The emulator is deterministic: threads take the counter in schedule order, the last one wins Exch.
    first_to_last = np.arange(n) if schedule == "forward" else np.arange(n)[::-1]
    np.testing.assert_array_equal(old[first_to_last], np.arange(n))
    assert counters[4] == first_to_last[-1]


# ------------------------------------------------------------------------------- warp collectives
SHFL_IDX, SHFL_UP, SHFL_DOWN, SHFL_XOR, BALLOT, ANY, ALL, SYNCWARP = range(8)


def _warp_reference(values, op, param, width, mask):
    """The CUDA Programming Guide's rules, lane by lane. Lanes outside `mask` write -1 without calling."""
    out = np.empty_like(values)
    for t, v in enumerate(values):
        lane, warp = t % 32, t - t % 32
        if not mask >> lane & 1:
            out[t] = -1
            continue
        seg = lane - lane % width  # the caller's group of `width` lanes
        members = [warp + q for q in range(32) if mask >> q & 1 and warp + q < len(values)]
        if op == SHFL_IDX:
            src = seg + param % width  # srcLane outside [0, width) wraps within the group
        elif op == SHFL_UP:
            src = lane - param if lane - param >= seg else lane  # before the group: own value
        elif op == SHFL_DOWN:
            src = lane + param if lane + param < seg + width else lane  # past the group: own value
        elif op == SHFL_XOR:
            src = lane ^ param if lane ^ param < seg + width else lane  # later groups: own value
        if op in (SHFL_IDX, SHFL_UP, SHFL_DOWN, SHFL_XOR):
            out[t] = values[warp + src]
        elif op == BALLOT:
            out[t] = np.uint32(sum(1 << (q - warp) for q in members if values[q] != 0)).view(np.int32)
        elif op == ANY:
            out[t] = any(values[q] != 0 for q in members)
        elif op == ALL:
            out[t] = all(values[q] != 0 for q in members)
        else:
            out[t] = 1
    return out


WARP_CASES = [  # (op, param, width, mask, threads)
    (SHFL_IDX, 0, 32, 0xFFFFFFFF, 64),
    (SHFL_IDX, 5, 8, 0xFFFFFFFF, 96),
    (SHFL_IDX, 37, 16, 0xFFFFFFFF, 32),  # srcLane >= width: srcLane % width
    (SHFL_IDX, 3, 32, 0xFFFFFFFF, 40),   # a partial last warp
    (SHFL_UP, 1, 32, 0xFFFFFFFF, 64),
    (SHFL_UP, 3, 8, 0xFFFFFFFF, 32),
    (SHFL_UP, 0, 4, 0xFFFFFFFF, 32),
    (SHFL_DOWN, 1, 32, 0xFFFFFFFF, 64),
    (SHFL_DOWN, 5, 16, 0xFFFFFFFF, 32),
    (SHFL_DOWN, 2, 2, 0xFFFFFFFF, 32),   # delta >= width: every lane keeps its own value
    (SHFL_XOR, 1, 32, 0xFFFFFFFF, 64),
    (SHFL_XOR, 16, 32, 0xFFFFFFFF, 32),
    (SHFL_XOR, 5, 8, 0xFFFFFFFF, 32),
    (SHFL_DOWN, 1, 1, 0xFFFFFFFF, 32),   # width 1: every lane is a group of its own
    (SHFL_XOR, 1, 16, 0x0000FFFF, 32),   # partial mask: only lanes 0..15 take part
    (SHFL_DOWN, 1, 16, 0x0000FFFF, 32),
    (SHFL_IDX, 2, 4, 0x00000F0F, 32),
    (BALLOT, 0, 32, 0xFFFFFFFF, 64),
    (BALLOT, 0, 32, 0xF0F0F0F0, 32),
    (BALLOT, 0, 32, 0xFFFFFFFF, 40),
    (ANY, 0, 32, 0xFFFFFFFF, 64),
    (ANY, 0, 32, 0x0000FF00, 32),
    (ALL, 0, 32, 0xFFFFFFFF, 64),
    (ALL, 0, 32, 0x00FF0000, 32),
    (SYNCWARP, 0, 32, 0xFFFFFFFF, 64),
    (SYNCWARP, 0, 32, 0x80000001, 32),
]


def _warp_values(op, threads, key):
    rng = _rng("warp", *key)
    if op in (BALLOT, ANY, ALL):
        # sparse and dense predicates, non-zero values other than 1, and whole warps of one answer
        v = rng.integers(-3, 4, threads).astype(np.int32) * (rng.random(threads) < 0.5)
        if threads >= 64:
            v[32:64] = 0 if op == ANY else 7  # any() of zeros and all() of non-zeros
        return v.astype(np.int32)
    return rng.permutation(10 * threads)[:threads].astype(np.int32) + 1  # distinct, so sources show


@pytest.mark.parametrize("op, param, width, mask, threads", WARP_CASES)
def test_warp_collectives(mode, op, param, width, mask, threads):
    values = _warp_values(op, threads, (mode, op, param, width, mask, threads))
    out = emu.selftest_warp(values, op, param, width, mask)
    assert out.shape == (threads,) and out.dtype == np.int32
    np.testing.assert_array_equal(out, _warp_reference(values, op, param, width, mask))


def test_shfl_xor_reads_earlier_groups(backend):
    values = np.arange(100, 132, dtype=np.int32)
    out = emu.selftest_warp(values, SHFL_XOR, 8, 8)  # lane 8 ^ 8 = lane 0, in the group before lane 8's
    np.testing.assert_array_equal(out, _warp_reference(values, SHFL_XOR, 8, 8, 0xFFFFFFFF))


@pytest.mark.parametrize("lane_mask", [1, 7, 16, 31])
def test_shuffle_double_keeps_bit_patterns(backend, lane_mask):
    special = np.array([np.pi, -0.0, np.inf, -np.inf, 1e-310, 1e300], dtype=np.float64)  # 1e-310: subnormal
    nan_payload = np.array([0x7FF8_0000_DEAD_BEEF], dtype=np.uint64).view(np.float64)
    values = np.concatenate([special, nan_payload, _rng("dbl", backend, lane_mask).standard_normal(57)])
    out = emu.selftest_shuffle_double(values, lane_mask)
    assert out.shape == (64,) and out.dtype == np.float64
    src = np.arange(64) ^ lane_mask
    np.testing.assert_array_equal(out.view(np.uint64), values[src].view(np.uint64))


@pytest.mark.parametrize("all_call, op, param, width, mask, threads, patterns", [
    # a lane outside the mask calls anyway (all_call): CUDA requires the caller to be named in the mask
    (True, SHFL_IDX, 0, 32, 0x0000FFFF, 32, [r"__shfl_sync", r"calling lane 16 is not in mask 0x0000ffff"]),
    (True, BALLOT, 0, 32, 0x0000FFFF, 32, [r"__ballot_sync", r"calling lane 16 is not in mask"]),
    # reading a lane that is not in the mask / does not exist: undefined on a GPU, an error here
    (False, SHFL_IDX, 20, 32, 0x0000FFFF, 32, [r"lane 0 reads lane 20", r"not named in the mask"]),
    (False, SHFL_DOWN, 4, 32, 0xFFFFFFFF, 40, [r"__shfl_down_sync", r"reads lane 8",
                                               r"does not exist \(partial last warp\)"]),
    # width must be a power of two in [1, 32]
    (False, SHFL_XOR, 1, 3, 0xFFFFFFFF, 32, [r"width 3 is not a power of two"]),
    (False, SHFL_UP, 1, 64, 0xFFFFFFFF, 32, [r"width 64 is not a power of two"]),
])
def test_warp_misuse_is_an_error(backend, all_call, op, param, width, mask, threads, patterns):
    values = np.arange(1, threads + 1, dtype=np.int32)
    with _raises("warp_kernel", *patterns):
        emu.selftest_warp(values, op, param, width, mask, all_call)


# ------------------------------------------------------------------ __syncthreads_count / and / or
@pytest.mark.parametrize("block, n_live", [(32, 32), (64, 64), (64, 5), (64, 1), (1024, 1000)])
def test_sync_reductions(mode, block, n_live):
    n = 2 * block + 13
    rng = _rng("syncred", mode, block, n_live)
    pred = (rng.integers(-2, 3, n) * (rng.random(n) < 0.3)).astype(np.int32)  # any non-zero counts
    pred[:block] = np.where(np.arange(block) < n_live, 9, pred[:block])  # block 0: all live threads true
    out = emu.selftest_sync_reductions(pred, block, n_live)
    assert out.shape == (-(-n // block), 3) and out.dtype == np.int32
    p = np.concatenate([pred, np.zeros(-n % block, np.int32)]).reshape(-1, block)[:, :n_live] != 0
    expected = np.stack([p.sum(axis=1), p.all(axis=1), p.any(axis=1)], axis=1)  # exited threads don't count
    np.testing.assert_array_equal(out, expected)
    assert out[0, 1] == 1  # the and over block 0 is true: a constant 0 would not pass


# ------------------------------------------------------------------------ broken barrier patterns
def test_barrier_divergence_two_sites(backend):
    with _raises("divergence_kernel", r"barrier divergence", r"waits at __syncthreads emu_selftest\.cu:\d+",
                 r"while thread \(32,0,0\) waits at __syncthreads emu_selftest\.cu:\d+"):
        emu.selftest_divergence(0, 64)


def test_barrier_divergence_needs_checking_mode_for_same_kind_barriers():
    """Two different __syncthreads call sites are compared only in checking mode (strict barrier sites)."""
    with _options(check=False):
        np.testing.assert_array_equal(emu.selftest_divergence(0, 64), np.ones(64, np.int32))


@pytest.mark.parametrize("check", [False, True])
def test_barrier_divergence_different_kinds(backend, check):
    with _options(check=check):
        with _raises("divergence_kernel", r"barrier divergence", r"__syncthreads .* __syncthreads_count"):
            emu.selftest_divergence(2, 64)


@pytest.mark.parametrize("check", [False, True])
def test_barrier_against_warp_shuffle_is_a_deadlock_not_a_hang(backend, check):
    """With 32 threads both halves are one warp: the shuffle waits for lanes stuck at the barrier."""
    with _options(check=check):
        with _raises("divergence_kernel", r"deadlock", r"a GPU would hang", r"waits at __syncthreads"):
            emu.selftest_divergence(1, 32)


def test_one_thread_block_has_no_divergence(backend):
    np.testing.assert_array_equal(emu.selftest_divergence(0, 1), [1])


# ---------------------------------------------------------------------------- out-of-bounds access
def _x10():
    return np.arange(1, 11, dtype=np.float32)  # 40 bytes: the allocation's end is 16-byte aligned + 8


@pytest.mark.parametrize("index", [0, 9])
def test_in_bounds_access(backend, index):
    x = _x10()
    _, out = emu.selftest_oob(x, index, False)
    assert out[0] == x[index]
    y, _ = emu.selftest_oob(x, index, True)
    expected = x.copy()
    expected[index] = 42.0
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("index, patterns", [
    (12, [r"8 byte\(s\) past the end of a 40-byte device allocation"]),  # first byte of the guard page
    (1024, [r"4056 byte\(s\) past the end of a 40-byte device allocation"]),  # still in the guard page
])
@pytest.mark.parametrize("write", [False, True])
def test_oob_access_faults_into_an_error(backend, index, write, patterns):
    with _raises("oob_kernel", r"block \(0,0,0\) thread \(0,0,0\)", r"out-of-bounds memory access at 0x",
                 *patterns):
        emu.selftest_oob(_x10(), index, write)


@pytest.mark.parametrize("index, where", [(10, "byte 0 past the end"), (11, "byte 4 past the end"),
                                          (-1, "byte 4 before the start"), (-4, "byte 16 before the start")])
def test_oob_write_near_the_allocation_hits_a_canary(backend, index, where):
    """Writes into the few bytes between the allocation and its guard page (or just before it) do not
    fault; the canary bytes there are checked after the launch."""
    try:
        with _raises("oob_kernel", r"out-of-bounds write: " + where + r" of a 40-byte device allocation"):
            emu.selftest_oob(_x10(), index, True)
    finally:
        _drain_pending()


def test_oob_write_is_reported_once(backend):
    try:
        with _raises("oob_kernel", r"out-of-bounds write"):
            emu.selftest_oob(_x10(), 10, True)
        emu.synchronize()  # must not raise: the error was reported already
    finally:
        _drain_pending()


def test_launches_work_after_a_fault(backend):
    with _raises("oob_kernel", r"out-of-bounds memory access"):
        emu.selftest_oob(_x10(), 12, False)
    x = np.arange(1, 65, dtype=np.float32)
    np.testing.assert_array_equal(emu.selftest_block_reduce(x, 64, True), [x.sum()])


# ------------------------------------------------------------------------- dynamic shared memory
def _reverse_within_blocks(x, block):
    pad = -len(x) % block
    padded = np.concatenate([x, np.zeros(pad, x.dtype)]).reshape(-1, block)
    return padded[:, ::-1].reshape(-1)[: len(x)]


@pytest.mark.parametrize("block", [1, 8, 128, 1024])
@pytest.mark.parametrize("extra_floats", [0, 1, 5])
def test_dynamic_shared_memory(mode, block, extra_floats):
    n = 2 * block + 3
    x = _rng("dyn", mode, block, extra_floats).integers(-1000, 1000, n).astype(np.float32)
    y = emu.selftest_dyn_smem_reverse(x, block, extra_floats)
    assert y.shape == (n,) and y.dtype == np.float32
    # with extra_floats the kernel adds (*flag - 7) from the int stored after the floats: 0 if it was read back
    np.testing.assert_array_equal(y, _reverse_within_blocks(x, block))


@pytest.mark.parametrize("block", [8, 1024])
def test_dynamic_shared_memory_overflow_faults(backend, block):
    x = np.ones(block, np.float32)
    with _raises("dyn_smem_reverse_kernel", r"out-of-bounds memory access",
                 rf"past the end of the {4 * block}-byte dynamic shared memory"):
        emu.selftest_dyn_smem_reverse(x, block, 0, True)


# ------------------------------------------------------------------------------- launch validation
def test_launch_limits_through_other_kernels(backend):
    """Zero-sized grids and blocks, too many threads and too much shared memory, via kernels whose
    configuration follows their inputs (selftest_launch_config is unusable: see test_launch_config)."""
    with _raises("block_reduce_kernel", r"invalid launch configuration: grid \(0,1,1\) has a zero dimension"):
        emu.selftest_block_reduce(np.zeros(0, np.float32), 32)
    with _raises("warp_kernel", r"invalid launch configuration: block \(0,1,1\) has a zero dimension"):
        emu.selftest_warp(np.zeros(0, np.int32), SYNCWARP)
    with _raises("warp_kernel", r"block \(1025,1,1\) has 1025 threads; the limit is 1024"):
        emu.selftest_warp(np.zeros(1025, np.int32), SYNCWARP)
    np.testing.assert_array_equal(emu.selftest_warp(np.zeros(1024, np.int32), SYNCWARP), np.ones(1024))
    limit_floats = 48 * 1024 // 4
    x = np.arange(8, dtype=np.float32)
    np.testing.assert_array_equal(emu.selftest_dyn_smem_reverse(x, 8, limit_floats - 8), x[::-1])
    with _raises("dyn_smem_reverse_kernel", r"dynamic shared memory of 49156 bytes exceeds the default limit"):
        emu.selftest_dyn_smem_reverse(x, 8, limit_floats - 7)


@pytest.mark.parametrize("grid, block, smem, error", [
    ((1, 1, 1), (1, 1, 1), 0, None),
    ((2, 3, 4), (1024, 1, 1), 0, None),
    ((1, 1, 1), (4, 4, 64), 0, None),
    ((1, 65535, 1), (1, 1, 1), 0, None),
    ((1, 1, 1), (1, 1, 1), 48 * 1024, None),
    ((1, 1, 1), (1025, 1, 1), 0, r"block \(1025,1,1\) has 1025 threads; the limit is 1024"),
    ((1, 1, 1), (32, 32, 2), 0, r"block \(32,32,2\) has 2048 threads"),
    ((1, 1, 1), (1, 1, 65), 0, r"block \(1,1,65\) exceeds the per-dimension limits"),
    ((0, 1, 1), (32, 1, 1), 0, r"grid \(0,1,1\) has a zero dimension"),
    ((1, 1, 0), (32, 1, 1), 0, r"grid \(1,1,0\) has a zero dimension"),
    ((1, 1, 1), (1, 0, 1), 0, r"block \(1,0,1\) has a zero dimension"),
    ((1, 65536, 1), (1, 1, 1), 0, r"grid \(1,65536,1\) exceeds the limits"),
    ((1, 1, 1), (1, 1, 1), 48 * 1024 + 1, r"dynamic shared memory of 49153 bytes exceeds"),
])
def test_launch_config(grid, block, smem, error):
    if error is None:
        np.testing.assert_array_equal(emu.selftest_launch_config(list(grid), list(block), smem), [1])
    else:
        with _raises("launch_config_kernel", r"invalid launch configuration: " + error):
            emu.selftest_launch_config(list(grid), list(block), smem)


# ----------------------------------------------------------------- thread and block coordinates
@pytest.mark.parametrize("grid, block", [
    ((5, 1, 1), (7, 1, 1)),      # 1D
    ((3, 2, 1), (4, 3, 1)),      # 2D
    ((2, 3, 2), (3, 2, 4)),      # 3D
    ((1, 1, 1), (1, 1, 1)),
    ((2, 1, 3), (1, 5, 1)),      # unit dimensions in between
])
def test_coords(backend, grid, block):
    """Both linearisations of (blockIdx, threadIdx) must give every thread its own id, x fastest:
    out == out2 == 0..total-1 (the binding fills both with -1, so a missed thread shows)."""
    out, out2 = emu.selftest_coords(list(grid), list(block))
    total = int(np.prod(grid) * np.prod(block))
    np.testing.assert_array_equal(out, np.arange(total))
    np.testing.assert_array_equal(out2, np.arange(total))


# -------------------------------------------------------------------------- stale shared memory
def test_stale_shared_memory_is_reported(backend):
    with _raises("stale_shared_kernel", r"forward vs reverse", r"shared memory read before it is written"):
        emu.selftest_stale_shared(5)


@pytest.mark.parametrize("schedule", ["forward", "reverse"])
def test_stale_shared_memory_depends_on_block_order(backend, schedule):
    """Without the differential run the bug is invisible in one order: each block reads the block
    that ran before it (block 0 writes -1). In reverse order that is block b + 1; block 4 reads
    whatever an earlier launch left behind (__shared__ is one static instance per kernel)."""
    with _options(check=False, schedule=schedule):
        out = emu.selftest_stale_shared(5)
    if schedule == "forward":
        np.testing.assert_array_equal(out, [-1, 0, 1, 2, 3])
    else:
        np.testing.assert_array_equal(out[:4], [-1, 2, 3, 4])


# ------------------------------------------------------------------------------ host pointers
def test_host_pointer_is_rejected_in_checking_mode(backend):
    with _raises("host_pointer_kernel", r"pointer argument 0x[0-9a-f]+ is not device memory"):
        emu.selftest_host_pointer()


def test_host_pointer_is_not_checked_outside_checking_mode():
    with _options(check=False):
        np.testing.assert_array_equal(emu.selftest_host_pointer(), [5])


# ------------------------------------------------------------------------------ fresh memory, options
def test_fresh_device_memory_is_nan_in_checking_mode():
    a = emu.numpy(emu.empty([7], "float32"))  # never written: every byte is the 0xFF poison
    assert a.shape == (7,) and np.all(np.isnan(a))
    np.testing.assert_array_equal(a.view(np.uint32), np.full(7, 0xFFFFFFFF, np.uint32))


def test_emulator_options_round_trip_and_validation():
    start = cuda.get_emulator_options()
    assert set(start) == {"check", "differential", "schedule", "fiber_backend"}
    with _options(check=False, differential=False, schedule="reverse", fiber_backend="ucontext"):
        assert cuda.get_emulator_options() == {"check": False, "differential": False, "schedule": "reverse",
                                               "fiber_backend": "ucontext"}
        with pytest.raises(ValueError, match=re.escape("Received: order=sideways")):
            cuda.set_emulator_options(schedule="sideways")
        with pytest.raises(ValueError, match=re.escape("Received: name=threads")):
            cuda.set_emulator_options(fiber_backend="threads")
        assert cuda.get_emulator_options()["schedule"] == "reverse"  # a rejected value changes nothing
    assert cuda.get_emulator_options() == start
