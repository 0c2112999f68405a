"""Inverted dropout with Philox4x32-10 (csrc/cpu/dropout*.cpp)."""
import math

import numpy as np
import pytest

import neurokern as nk
from neurokern import ops

from _shapes import LENGTHS
from conftest import assert_close, nan_tensor

# Known-answer vectors of Philox4x32-10 published with Random123 (kat_vectors):
# (counter, key) -> output
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


def test_threshold_definition():
    for rate in [0.0, 0.1, 0.3, 0.5, 0.999]:
        assert nk._core.dropout_threshold(rate) == math.floor(float(np.float32(rate)) * 2 ** 32)


@pytest.mark.parametrize("ctr,key,expected", PHILOX_KAT)
def test_philox_known_answers(ctr, key, expected):
    assert ops.philox4x32_10(ctr, key) == expected


def _mask_reference(n, rate, seed, offset=0):
    """keep(offset + i) straight from the definition in csrc/cpu/dropout.h, with the KAT-checked Philox."""
    thr = math.floor(float(np.float32(rate)) * 2 ** 32)  # the kernel takes rate as float32
    keep = np.zeros(n, bool)
    for k in range((n + 3) // 4):
        blk = (offset >> 2) + k
        words = ops.philox4x32_10((blk & 0xffffffff, blk >> 32, 0, 0), (seed & 0xffffffff, seed >> 32))
        for j in range(4):
            if 4 * k + j < n:
                keep[4 * k + j] = words[j] >= thr
    return keep


@pytest.mark.parametrize("n", LENGTHS[:-1] + [4099])
def test_forward_matches_definition(isa, rng, n):
    x = rng.standard_normal(n).astype(np.float32)
    rate, seed = 0.3, 0x1234_5678_9abc
    y = nan_tensor((n,))
    ops.dropout(nk.tensor(x), rate, seed, out=y)
    keep = _mask_reference(n, rate, seed)
    assert_close(y.numpy(), np.where(keep, x.astype(np.float64) / (1 - rate), 0.0), "elementwise")


@pytest.mark.parametrize("offset", [2 ** 34 - 40, 3 * 2 ** 34 - 4 * 37])
def test_counter_carry_across_32_bits(isa, offset):
    """The 64-bit block counter (i / 4) crosses 2^32 inside a vector: the SIMD paths must carry
    into the high counter word exactly like the scalar reference."""
    n = 300
    x = np.ones(n, np.float32)
    y = ops.dropout(x, 0.5, 77, offset=offset)
    np.testing.assert_array_equal(y != 0, _mask_reference(n, 0.5, 77, offset))
    np.testing.assert_array_equal(ops.dropout_backward(x, 0.5, 77, offset=offset), y)


def test_offset_pieces_match_one_call(isa, rng):
    x = rng.standard_normal(4096).astype(np.float32)
    whole = ops.dropout(x, 0.4, 5)
    pieces = np.concatenate([ops.dropout(x[:1028], 0.4, 5), ops.dropout(x[1028:], 0.4, 5, offset=1028)])
    np.testing.assert_array_equal(whole, pieces)
    with pytest.raises(ValueError, match="multiple of 4"):
        ops.dropout(x, 0.4, 5, offset=2)


@pytest.mark.parametrize("n", LENGTHS)
def test_backward_uses_forward_mask(isa, rng, n):
    x = rng.standard_normal(n).astype(np.float32) + 3.0  # never 0, so y == 0 marks a dropped unit
    dy = rng.standard_normal(n).astype(np.float32)
    y = ops.dropout(x, 0.5, 7)
    dx = nan_tensor((n,))
    ops.dropout_backward(nk.tensor(dy), 0.5, 7, out=dx)
    assert_close(dx.numpy(), np.where(y != 0, dy.astype(np.float64) * 2.0, 0.0), "elementwise")


def test_same_mask_on_every_isa_and_thread_count(rng):
    x = np.ones(70001, np.float32)
    prev_isa, prev_threads = ops.get_isa(), nk.get_num_threads()
    outs = []
    try:
        for isa in ops.available_isas():
            ops.set_isa(isa)
            for t in (1, 2):
                nk.set_num_threads(t)
                outs.append(ops.dropout(x, 0.25, 99))
    finally:
        ops.set_isa(prev_isa)
        nk.set_num_threads(prev_threads)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_seeds(isa):
    x = np.ones(4096, np.float32)
    a, b = ops.dropout(x, 0.5, 1), ops.dropout(x, 0.5, 1)
    np.testing.assert_array_equal(a, b)
    c = ops.dropout(x, 0.5, 2)
    assert np.mean((a != 0) != (c != 0)) > 0.4  # independent masks differ in ~half the units
    big = ops.dropout(x, 0.5, 2 ** 64 - 1)  # the full 64-bit key is used
    assert np.mean((big != 0) != (ops.dropout(x, 0.5, 2 ** 32 - 1) != 0)) > 0.4


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_kept_fraction(isa, rate):
    n = 200_000
    y = ops.dropout(np.ones(n, np.float32), rate, 12345)
    kept = np.count_nonzero(y)
    p = 1 - rate
    assert abs(kept - n * p) <= 6 * math.sqrt(n * p * (1 - p)) + 1  # binomial, 6 sigma
    assert np.all(y[y != 0] == np.float32(1) / np.float32(1 - np.float32(rate)))
    if rate == 0.0:
        assert kept == n


def test_in_place(isa, rng):
    x = rng.standard_normal(1000).astype(np.float32)
    t = nk.tensor(x.copy())
    ops.dropout(t, 0.5, 3, out=t)
    np.testing.assert_array_equal(t.numpy(), ops.dropout(x, 0.5, 3))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan"), float("inf"), 0.99999999999])
def test_bad_rate_raises(rate):
    with pytest.raises(ValueError, match="rate"):
        ops.dropout(np.ones(4, np.float32), rate, 0)
    with pytest.raises(ValueError, match="rate"):
        ops.dropout_backward(np.ones(4, np.float32), rate, 0)


def test_bad_input_raises():
    with pytest.raises(TypeError, match="seed"):
        ops.dropout(np.ones(4, np.float32), 0.5, 1.5)
    with pytest.raises(TypeError, match="rate"):
        ops.dropout(np.ones(4, np.float32), "half", 1)
    with pytest.raises(ValueError, match="shape"):
        ops.dropout(np.ones(4, np.float32), 0.5, 1, out=nk.zeros((5,)))
    with pytest.raises(TypeError, match="float32"):
        nk._core.dropout_forward(nk.zeros((4,)), nk.tensor(np.ones(4, np.int64)), 0.5, 1)
