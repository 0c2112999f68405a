"""Inverted dropout with a counter-based RNG (csrc/cpu/dropout.cpp).

The mask for element i depends only on (seed, i) (Philox4x32-10), so backward recomputes it
instead of storing it, and results do not depend on the thread count or ISA:

    y  = ops.dropout(x, rate=0.5, seed=s)            # kept units scaled by 1 / (1 - rate)
    dx = ops.dropout_backward(dy, rate=0.5, seed=s)  # same mask
"""
import numbers

from neurokern import _core
from neurokern.ops._util import as_input, as_output, backend, new_output

_SEED_MASK = (1 << 64) - 1


def _check(rate, seed):
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"dropout rate must be a number in [0, 1). Received: rate={rate!r}")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"dropout seed must be an int. Received: seed={seed!r}")
    return float(rate), int(seed) & _SEED_MASK  # negative seeds wrap like uint64


def _check_offset(offset):
    if not isinstance(offset, numbers.Integral) or isinstance(offset, bool) or offset < 0 or offset % 4:
        raise ValueError(f"dropout offset must be a non-negative multiple of 4. Received: offset={offset!r}")
    return int(offset)


def dropout(x, rate, seed, out=None, offset=0):
    """Inverted dropout: x / (1 - rate) where kept, 0 where dropped. `out` may be x.

    `offset` (a multiple of 4) is the index of x's first element in a larger logical tensor, so a
    tensor processed in pieces gets the same mask as in one call.
    """
    rate, seed = _check(rate, seed)
    x_t, as_np = as_input(x)
    y = new_output(out, x_t.shape, x_t)
    backend(x_t).dropout_forward(y, x_t, rate, seed, _check_offset(offset))
    return as_output(y, as_np)


def dropout_backward(dy, rate, seed, out=None, offset=0):
    """dx = dy / (1 - rate) where the forward with the same (rate, seed, offset) kept the unit, else 0."""
    rate, seed = _check(rate, seed)
    dy_t, as_np = as_input(dy)
    dx = new_output(out, dy_t.shape, dy_t)
    backend(dy_t).dropout_backward(dx, dy_t, rate, seed, _check_offset(offset))
    return as_output(dx, as_np)


def philox4x32_10(counter, key):
    """The four uint32 outputs of Philox4x32-10 (Random123) for counter (4 words) and key (2 words)."""
    return _core.philox4x32_10(list(counter), list(key))
