"""SimpleRNN over a whole sequence (csrc/cpu/rnn.cpp), Keras layout.

    h_seq, h_last = ops.rnn_forward(x, h0, kernel, recurrent_kernel, bias)
    dx, dh0 = ops.rnn_backward(dkernel, drecurrent_kernel, dbias, dh_seq, dh_last, h_seq, x, h0,
                               kernel, recurrent_kernel)

x (N, T, F), kernel (F, U), recurrent_kernel (U, U), bias (U,) or None, h0 (N, U) or None (zeros);
h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias). h_seq is also what the backward needs.
mask (N, T) (nonzero = active; masked steps carry h through) may be None. The backward overwrites dx
(None when need_dx=False) and dh0 and ACCUMULATES into dkernel, drecurrent_kernel, dbias (may be None).
activation: 'tanh', 'sigmoid', 'relu', 'linear'. variant: 'auto' (= 'fused') or 'naive'.
"""
from neurokern import _core
from neurokern.ops._util import as_input, as_output, backend, new_output
from neurokern.ops.lstm import _check_x, _opt, _state, _units

__all__ = ["rnn_forward", "rnn_backward", "rnn_variants"]


def rnn_forward(x, h0, kernel, recurrent_kernel, bias=None, mask=None, activation="tanh", variant="auto"):
    """(h_seq (N,T,U), h_last (N,U))."""
    x_t, as_np = as_input(x)
    _check_x(x_t, "simple_rnn")
    k_t = as_input(kernel)[0]
    n, t, u = x_t.shape[0], x_t.shape[1], _units(k_t, 1)
    h0_t = _state(h0, n, u, x_t, "h0")
    h_seq, h_last = new_output(None, (n, t, u), x_t), new_output(None, (n, u), x_t)
    backend(x_t).rnn_forward(h_seq, h_last, x_t, h0_t, _opt(mask), k_t, as_input(recurrent_kernel)[0],
                             _opt(bias), activation, variant)
    return as_output(h_seq, as_np), as_output(h_last, as_np)


def rnn_backward(dkernel, drecurrent_kernel, dbias, dh_seq, dh_last, h_seq, x, h0, kernel, recurrent_kernel,
                 mask=None, need_dx=True, activation="tanh", variant="auto"):
    """(dx or None, dh0); dkernel / drecurrent_kernel / dbias (Tensors) ACCUMULATE."""
    x_t, as_np = as_input(x)
    _check_x(x_t, "simple_rnn_backward")
    k_t = as_input(kernel)[0]
    n, t, f, u = x_t.shape[0], x_t.shape[1], x_t.shape[2], _units(k_t, 1)
    h0_t = _state(h0, n, u, x_t, "h0")
    dx = new_output(None, (n, t, f), x_t) if need_dx else None
    dh0 = new_output(None, (n, u), x_t)
    backend(x_t).rnn_backward(dx, dh0, dkernel, drecurrent_kernel, dbias, _opt(dh_seq), _opt(dh_last),
                              as_input(h_seq)[0], x_t, h0_t, _opt(mask), k_t, as_input(recurrent_kernel)[0],
                              activation, variant)
    return (None if dx is None else as_output(dx, as_np)), as_output(dh0, as_np)


def rnn_variants():
    """[(name, description)] of the compiled SimpleRNN variants, reference first."""
    return [tuple(v) for v in _core.rnn_variants()]
