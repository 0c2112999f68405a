"""CUDA dropout (csrc/cuda/dropout.cu) on the emulator: the device Philox4x32-10 passes the Random123
known answers, and the mask is the CPU kernel's bit for bit (same seed, offset, rate -> same output),
forward and backward, in place, with the 64-bit block counter crossing 2^32; bad rates and offsets."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import cuda

from test_dropout import PHILOX_KAT

LENGTHS = [1, 3, 4, 7, 33, 257, 1000, 4099]


def dev(a):
    return nk.tensor(np.array(a), device="cuda")  # np.array: a C-contiguous copy that keeps 0-d shapes


def nan_dev(shape):
    return dev(np.full(shape, np.nan, np.float32))


def cpu_dropout(x, rate, seed, offset=0, backward=False):
    y = nk.tensor(np.full(x.shape, np.nan, np.float32))
    fn = nk._core.dropout_backward if backward else nk._core.dropout_forward
    fn(y, nk.tensor(x), rate, seed, offset)
    return y.numpy()


@pytest.mark.parametrize("ctr,key,expected", PHILOX_KAT)
def test_device_philox_known_answers(ctr, key, expected):
    assert cuda.backend().philox4x32_10(ctr, key) == expected


def test_device_philox_equals_cpu_on_random_inputs(rng):
    for _ in range(20):
        ctr = tuple(int(v) for v in rng.integers(0, 2 ** 32, 4))
        key = tuple(int(v) for v in rng.integers(0, 2 ** 32, 2))
        assert cuda.backend().philox4x32_10(ctr, key) == nk._core.philox4x32_10(ctr, key)


def test_threshold_is_the_cpu_one():
    for rate in [0.0, 0.1, 0.3, 0.5, 0.999]:
        assert cuda.backend().dropout_threshold(rate) == nk._core.dropout_threshold(rate)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("rate,seed", [(0.3, 0x1234_5678_9abc), (0.5, 0), (0.9, 2 ** 64 - 1)])
def test_mask_and_values_equal_the_cpu_kernel(rng, n, rate, seed):
    x = rng.standard_normal(n).astype(np.float32)
    x[x == 0] = 1.0  # so a zero in y means "dropped"
    y = nan_dev(n)
    cuda.backend().dropout_forward(y, dev(x), rate, seed)
    want = cpu_dropout(x, rate, seed)
    got = y.numpy()
    np.testing.assert_array_equal(got == 0, want == 0)  # the same mask ...
    np.testing.assert_array_equal(got, want)             # ... and the same float32 values
    if n >= 1000:  # the mask is not degenerate: about `rate` of the units dropped
        assert abs(np.mean(got == 0) - rate) < 0.06


@pytest.mark.parametrize("offset", [0, 4, 36, 2 ** 34 - 40, 3 * 2 ** 34 - 4 * 37])
def test_offsets_and_counter_carry_equal_the_cpu(rng, offset):
    """offset picks the element's place in a larger tensor; near 2^34 the block counter (i / 4) crosses
    2^32 inside the call and must carry into the high counter word as on the CPU."""
    x = rng.standard_normal(300).astype(np.float32)
    y = nan_dev(300)
    cuda.backend().dropout_forward(y, dev(x), 0.4, 77, offset)
    np.testing.assert_array_equal(y.numpy(), cpu_dropout(x, 0.4, 77, offset))


def test_pieces_with_offsets_equal_one_call(rng):
    x = rng.standard_normal(103).astype(np.float32)
    whole = nan_dev(103)
    cuda.backend().dropout_forward(whole, dev(x), 0.25, 9)
    first, second = nan_dev(40), nan_dev(63)
    cuda.backend().dropout_forward(first, dev(x[:40]), 0.25, 9, 0)
    cuda.backend().dropout_forward(second, dev(x[40:]), 0.25, 9, 40)
    np.testing.assert_array_equal(np.concatenate([first.numpy(), second.numpy()]), whole.numpy())


def test_backward_uses_the_forward_mask_and_in_place(rng):
    be = cuda.backend()
    x = rng.standard_normal(257).astype(np.float32) + 5.0  # nonzero
    dy = rng.standard_normal(257).astype(np.float32)
    y, dx = nan_dev(257), nan_dev(257)
    be.dropout_forward(y, dev(x), 0.3, 123)
    be.dropout_backward(dx, dev(dy), 0.3, 123)
    keep = y.numpy() != 0
    np.testing.assert_array_equal(dx.numpy(), np.where(keep, dy * np.float32(1 / np.float32(0.7)), 0))
    np.testing.assert_array_equal(dx.numpy(), cpu_dropout(dy, 0.3, 123, backward=True))
    t = dev(x)
    be.dropout_forward(t, t, 0.3, 123)  # y is x
    np.testing.assert_array_equal(t.numpy(), y.numpy())


def test_rate_zero_copies(rng):
    x = rng.standard_normal(33).astype(np.float32)
    y = nan_dev(33)
    cuda.backend().dropout_forward(y, dev(x), 0.0, 5)
    np.testing.assert_array_equal(y.numpy(), x)


def test_bad_input_raises():
    be = cuda.backend()
    x = dev(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\)"):
        be.dropout_forward(x, x, 1.0, 0)
    with pytest.raises(ValueError, match="rate must be"):
        be.dropout_forward(x, x, -0.1, 0)
    with pytest.raises(ValueError, match="multiple of 4"):
        be.dropout_forward(x, x, 0.5, 0, 2)
    with pytest.raises(ValueError, match="shape"):
        be.dropout_forward(dev(np.zeros(7, np.float32)), x, 0.5, 0)
    with pytest.raises(ValueError, match="cuda"):  # a CPU tensor given to the CUDA kernel
        be.dropout_backward(x, nk.tensor(np.zeros(8, np.float32)), 0.5, 0)
    with pytest.raises(TypeError, match="float32"):
        be.dropout_forward(x, dev(np.zeros(8, np.int32)), 0.5, 0)


def test_mask_under_checking_mode(rng, checking):
    x = rng.standard_normal(1001).astype(np.float32)
    y = nan_dev(1001)
    cuda.backend().dropout_forward(y, dev(x), 0.5, 42, 8)
    np.testing.assert_array_equal(y.numpy(), cpu_dropout(x, 0.5, 42, 8))


def test_ops_dropout_gives_the_cpu_mask(rng):
    x = rng.standard_normal((7, 33)).astype(np.float32)
    on_gpu = nk.ops.dropout(dev(x), 0.3, 2024)
    assert on_gpu.device == "cuda"
    np.testing.assert_array_equal(on_gpu.numpy(), nk.ops.dropout(x, 0.3, 2024))
