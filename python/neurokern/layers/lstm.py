"""LSTM (Keras layout): kernel (features, 4u), recurrent_kernel (u, 4u), bias (4u,), gates i, f, c, o.

    i = ract(x_t Wi + h Ui + bi)   f = ract(...)   g = act(...)   o = ract(...)
    c_t = f * c_{t-1} + i * g      h_t = o * act(c_t)

Forward and backward through time are single kernels (ops.lstm_forward / ops.lstm_backward); the
backward ACCUMULATES into kernel/recurrent_kernel/bias .grad and returns dx. unit_forget_bias=True
initialises the f slice of the bias to ones (Keras). See layers/recurrent.py for return_state,
initial_state, masks and the limitations.
"""
import numpy as np

from neurokern import initializers, ops
from neurokern.layers.recurrent import Recurrent, _act_name

__all__ = ["LSTM"]


class LSTM(Recurrent):
    _gates = 4
    _n_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, return_sequences=False, return_state=False, go_backwards=False, **kwargs):
        self.recurrent_activation = _act_name(recurrent_activation, "recurrent_activation")
        self.unit_forget_bias = bool(unit_forget_bias)
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         return_sequences, return_state, go_backwards, **kwargs)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = self.bias_initializer, self.units

        def init(shape, dtype=None):  # Keras: [init(u), ones(u), init(2u)]
            return np.concatenate([base((u,)), np.ones((u,), np.float32), base((2 * u,))]).astype(np.float32)
        return init

    def _run(self, x, states, mask, training=True):
        h0, c0 = states
        # training=False (predict, evaluate) is inference: the kernel saves no gates for a backward
        h_seq, h_last, c_last, gates, c_seq = ops.lstm_forward(
            x, h0, c0, self.kernel.value, self.recurrent_kernel.value, self.bias.value if self.use_bias else None,
            mask, self.activation, self.recurrent_activation, training=training)
        return h_seq, [h_last, c_last], (x, h0, c0, mask, h_seq, gates, c_seq)

    def _run_backward(self, ctx, dseq, dstates, need_dx):
        if not need_dx and not self._wants_grads():
            return None
        x, h0, c0, mask, h_seq, gates, c_seq = ctx
        if gates is None:
            raise RuntimeError(f"{self.name}: backward after an inference forward (training=False saves nothing "
                               "for a backward); run forward(x, training=True) before backward")
        dk, drk, db = self._grads()
        dx, dh0, dc0 = ops.lstm_backward(dk, drk, db, dseq, dstates[0], dstates[1], gates, c_seq, h_seq, x, h0, c0,
                                         self.kernel.value, self.recurrent_kernel.value, mask, need_dx,
                                         self.activation, self.recurrent_activation)
        return dx, [dh0, dc0]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": self.recurrent_activation, "unit_forget_bias": self.unit_forget_bias})
        return config
