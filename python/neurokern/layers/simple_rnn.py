"""SimpleRNN (Keras layout): kernel (features, u), recurrent_kernel (u, u), bias (u,);
h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).

Forward and backward through time are single kernels (ops.rnn_forward / ops.rnn_backward); the
backward ACCUMULATES into the weights' .grad and returns dx. See layers/recurrent.py for
return_state, initial_state, masks and the limitations.
"""
from neurokern import ops
from neurokern.layers.recurrent import Recurrent

__all__ = ["SimpleRNN"]


class SimpleRNN(Recurrent):
    _gates = 1
    _n_states = 1

    def _run(self, x, states, mask, training=True):
        (h0,) = states
        h_seq, h_last = ops.rnn_forward(x, h0, self.kernel.value, self.recurrent_kernel.value,
                                        self.bias.value if self.use_bias else None, mask, self.activation)
        return h_seq, [h_last], (x, h0, mask, h_seq)

    def _run_backward(self, ctx, dseq, dstates, need_dx):
        if not need_dx and not self._wants_grads():
            return None
        x, h0, mask, h_seq = ctx
        dk, drk, db = self._grads()
        dx, dh0 = ops.rnn_backward(dk, drk, db, dseq, dstates[0], h_seq, x, h0, self.kernel.value,
                                   self.recurrent_kernel.value, mask, need_dx, self.activation)
        return dx, [dh0]
