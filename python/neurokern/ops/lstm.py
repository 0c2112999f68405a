"""LSTM over a whole sequence (csrc/cpu/lstm.cpp), Keras layout and gate order i, f, c, o.

    h_seq, h_last, c_last, gates, c_seq = ops.lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias)
    dx, dh0, dc0 = ops.lstm_backward(dkernel, drecurrent_kernel, dbias, dh_seq, dh_last, dc_last,
                                     gates, c_seq, h_seq, x, h0, c0, kernel, recurrent_kernel)

x (N, T, F), kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,) or None, h0 / c0 (N, U) or None
(zeros). `gates` (N, T, 4U: i, f, g, o after activation) and `c_seq` (N, T, U) are what the backward
needs (lstm_forward(..., training=False) saves no gates: inference). mask (N, T) (nonzero = step active, else the state is carried through) may be None.
The backward overwrites dx / dh0 / dc0 (returned; dx is None when need_dx=False) and ACCUMULATES into
the Tensors dkernel, drecurrent_kernel, dbias (dbias may be None). dh_seq, dh_last, dc_last may be
None (zero upstream gradient). activation / recurrent_activation: 'tanh', 'sigmoid', 'relu', 'linear'.
variant: 'auto' (= 'fused') or 'naive' (reference loops, for tests).
"""
from neurokern import _core
from neurokern.ops._util import as_input, as_output, backend, new_output

__all__ = ["lstm_forward", "lstm_backward", "lstm_variants"]


def _opt(t):
    return None if t is None else as_input(t)[0]


def _state(s, n, u, like, name):
    """The initial state as a Tensor: zeros when None."""
    if s is None:
        z = new_output(None, (n, u), like)
        backend(like).fill(z, 0.0)
        return z
    return as_input(s)[0]


def _units(kernel_t, div):
    if kernel_t.ndim != 2 or kernel_t.shape[1] % div:
        raise ValueError(f"kernel must be 2-d (features, {div} * units). Received: kernel of shape "
                         f"{tuple(kernel_t.shape)}")
    return kernel_t.shape[1] // div


def _check_x(x_t, op):
    if x_t.ndim != 3:
        raise ValueError(f"{op} expects x of rank 3 (batch, timesteps, features). Received: x of shape "
                         f"{tuple(x_t.shape)}")


def lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias=None, mask=None, activation="tanh",
                 recurrent_activation="sigmoid", variant="auto", training=True):
    """(h_seq (N,T,U), h_last (N,U), c_last (N,U), gates (N,T,4U), c_seq (N,T,U)).

    training=False is inference: no backward will follow, so the gates are not saved (returned as None)."""
    x_t, as_np = as_input(x)
    _check_x(x_t, "lstm")
    k_t = as_input(kernel)[0]
    n, t, u = x_t.shape[0], x_t.shape[1], _units(k_t, 4)
    h0_t, c0_t = _state(h0, n, u, x_t, "h0"), _state(c0, n, u, x_t, "c0")
    h_seq, c_seq = new_output(None, (n, t, u), x_t), new_output(None, (n, t, u), x_t)
    gates = new_output(None, (n, t, 4 * u), x_t) if training else None
    h_last, c_last = new_output(None, (n, u), x_t), new_output(None, (n, u), x_t)
    backend(x_t).lstm_forward(h_seq, h_last, c_last, gates, c_seq, x_t, h0_t, c0_t, _opt(mask), k_t,
                              as_input(recurrent_kernel)[0], _opt(bias), activation, recurrent_activation,
                              variant)
    return tuple(None if o is None else as_output(o, as_np) for o in (h_seq, h_last, c_last, gates, c_seq))


def lstm_backward(dkernel, drecurrent_kernel, dbias, dh_seq, dh_last, dc_last, gates, c_seq, h_seq, x, h0,
                  c0, kernel, recurrent_kernel, mask=None, need_dx=True, activation="tanh",
                  recurrent_activation="sigmoid", variant="auto"):
    """(dx or None, dh0, dc0); dkernel / drecurrent_kernel / dbias (Tensors) ACCUMULATE."""
    x_t, as_np = as_input(x)
    _check_x(x_t, "lstm_backward")
    k_t = as_input(kernel)[0]
    n, t, f, u = x_t.shape[0], x_t.shape[1], x_t.shape[2], _units(k_t, 4)
    h0_t, c0_t = _state(h0, n, u, x_t, "h0"), _state(c0, n, u, x_t, "c0")
    dx = new_output(None, (n, t, f), x_t) if need_dx else None
    dh0, dc0 = new_output(None, (n, u), x_t), new_output(None, (n, u), x_t)
    backend(x_t).lstm_backward(dx, dh0, dc0, dkernel, drecurrent_kernel, dbias, _opt(dh_seq), _opt(dh_last),
                               _opt(dc_last), as_input(gates)[0], as_input(c_seq)[0], as_input(h_seq)[0], x_t,
                               h0_t, c0_t, _opt(mask), k_t, as_input(recurrent_kernel)[0], activation,
                               recurrent_activation, variant)
    return (None if dx is None else as_output(dx, as_np)), as_output(dh0, as_np), as_output(dc0, as_np)


def lstm_variants():
    """[(name, description)] of the compiled LSTM variants, reference first."""
    return [tuple(v) for v in _core.lstm_variants()]
