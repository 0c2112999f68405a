"""Shared base of the recurrent layers (LSTM, SimpleRNN): argument checks, input spec, output shapes,
config and the direct-call entry with initial states / masks / return_state.

Inputs are (batch, timesteps, features). The whole time loop runs in one compiled kernel
(ops.lstm_forward / ops.rnn_forward); the layer only picks what to return:
    return_sequences=False -> h_T (batch, units);  True -> h_1..h_T (batch, timesteps, units)
    return_state=True      -> [output, *final states]

Initial states and final states, as in Keras:
- direct calls: `layer(x, initial_state=[h0, c0])`, `out, h, c = layer(x)` with return_state=True;
- functional graphs: `out, h, c = LSTM(u, return_state=True)(x)` gives three symbolic tensors and
  `LSTM(u)(y, initial_state=[h, c])` (or Keras 2's `LSTM(u)([y, h, c])`) makes the states inputs of
  the node, so gradients flow back into the layer that produced them (the encoder-decoder pattern).
  A return_state layer cannot sit inside a Sequential model (one tensor between layers; Keras too).

Limitations (documented, tested):
- Masks (Embedding(mask_zero=True).compute_mask) are honoured in direct calls (`layer(x, mask=m)`):
  masked steps carry the previous state through, as Keras. Sequential and functional models pass the
  mask from Embedding to the recurrent layer (models/sequential.py: forward).
- go_backwards=True is not implemented (raises).
"""
import numpy as np

import neurokern as nk
from neurokern import initializers
from neurokern._core import Tensor
from neurokern.layers.base import InputSpec, Layer

# Activations the kernels differentiate through their output (see csrc/cpu/lstm.h).
_ACTS = ("tanh", "sigmoid", "relu", "linear")


def _act_name(act, what):
    name = "linear" if act is None else getattr(act, "name", None) or getattr(act, "__name__", act)
    if not isinstance(name, str) or name not in _ACTS:
        raise ValueError(f"{what} must be one of {', '.join(_ACTS)} for recurrent layers. Received: {what}={act!r}")
    return name


def _init_config(init):
    return initializers.serialize(init) if isinstance(init, initializers.Initializer) else init


class Recurrent(Layer):
    """Base class; subclasses set `_gates` (4 for LSTM, 1 for SimpleRNN), `_n_states` and implement
    `_run(x, states, mask, training)` / `_run_backward(ctx, dseq, dstates, need_dx)` -> (dx, [d initial states]) or None."""

    _gates = 1
    _n_states = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False, **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer. "
                             f"Received: units={units!r}")
        if go_backwards:
            raise ValueError("go_backwards=True is not supported by neurokern recurrent layers yet. "
                             "Received: go_backwards=True")
        if stateful:
            raise ValueError("stateful=True is not supported by neurokern recurrent layers. Received: stateful=True")
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = _act_name(activation, "activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = False
        self.unroll = bool(unroll)  # accepted for Keras compatibility; the kernel loop is the same
        self.input_spec = InputSpec(ndim=3)
        self.kernel = self.recurrent_kernel = self.bias = None

    # ---- shapes and weights ----------------------------------------------------------------------
    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"layer '{self.name}': the last axis (features) of the input must be known. "
                             f"Received: input_shape={tuple(input_shape)}")
        g = self._gates * self.units
        self.kernel = self.add_weight("kernel", (features, g), self.kernel_initializer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, g), self.recurrent_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (g,), self._bias_initializer())
        self.input_spec = InputSpec(ndim=3, axes={-1: features})
        self.built = True

    def compute_output_shape(self, input_shape):
        out = (input_shape[0], input_shape[1], self.units) if self.return_sequences else (input_shape[0], self.units)
        if self.return_state:
            return [out] + [(input_shape[0], self.units)] * self._n_states
        return out

    # ---- computing -----------------------------------------------------------------------------
    def _states(self, initial_state, n):
        if initial_state is None:
            return [None] * self._n_states
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != self._n_states:
            raise ValueError(f"layer '{self.name}' expects {self._n_states} initial state tensor(s). Received: "
                             f"{len(states)}")
        out = []
        for s in states:
            s = s if isinstance(s, Tensor) else nk.tensor(np.ascontiguousarray(s, dtype=np.float32))
            if tuple(s.shape) != (n, self.units):
                raise ValueError(f"layer '{self.name}': an initial state must have shape (batch, units) = "
                                 f"({n}, {self.units}). Received: initial state of shape {tuple(s.shape)}")
            out.append(s)
        return out

    @staticmethod
    def _mask(mask):
        if mask is None or isinstance(mask, Tensor):
            return mask
        return nk.tensor(np.ascontiguousarray(mask, dtype=np.float32))

    @property
    def _multi_output(self):
        return self.return_state

    def forward(self, x, training=False, initial_state=None, mask=None):
        """(y, ctx); y is [output, *states] when return_state. x may be the list [x, *initial states] (a
        functional node whose states are graph tensors): backward then returns [dx, *d initial states]."""
        states_are_inputs = isinstance(x, (list, tuple))
        if states_are_inputs:
            if initial_state is not None:
                raise ValueError(f"layer '{self.name}': initial states given twice, in the input list and as "
                                 "initial_state=; pass them one way")
            x, initial_state = x[0], list(x[1:])
        seq, states, ctx = self._run(x, self._states(initial_state, x.shape[0]), self._mask(mask), training)
        out = seq if self.return_sequences else states[0]
        return ([out] + list(states) if self.return_state else out), (ctx, states_are_inputs)

    def backward(self, ctx, dy, need_dx=True):
        """dy is the output gradient, or [d_output, *d_states] (entries may be None) when return_state.
        Returns dx, or [dx, *d initial states] when the forward took the states in its input list."""
        ctx, states_are_inputs = ctx
        douts = list(dy) if self.return_state else [dy]
        douts += [None] * (1 + self._n_states - len(douts))
        dseq = douts[0] if self.return_sequences else None
        dstates = list(douts[1:])
        if not self.return_sequences and douts[0] is not None:
            if dstates[0] is None:
                dstates[0] = douts[0]
            else:
                from neurokern import ops
                dstates[0] = ops.add(dstates[0], douts[0])
        grads = self._run_backward(ctx, dseq, dstates, need_dx or states_are_inputs)
        if grads is None:
            return None
        dx, dinit = grads
        return [dx] + list(dinit) if states_are_inputs else dx

    def _grads(self):
        """Gradient Tensors to accumulate into (scratch ones for weights not being trained)."""
        def g(w):
            return None if w is None else (w.grad if w.grad is not None else nk.zeros(w.shape))
        return g(self.kernel), g(self.recurrent_kernel), g(self.bias)

    def _wants_grads(self):
        return any(w.grad is not None for w in (self.kernel, self.recurrent_kernel, self.bias) if w is not None)

    def __call__(self, inputs, training=False, initial_state=None, mask=None):
        from neurokern.layers.input_layer import KerasTensor

        if isinstance(inputs, (list, tuple)) and initial_state is None:  # Keras 2: layer([x, *initial_state])
            if not inputs:
                raise ValueError(f"layer '{self.name}' was called on an empty list; pass the sequence tensor")
            inputs, initial_state = inputs[0], (list(inputs[1:]) or None)
        if isinstance(inputs, KerasTensor):
            if mask is not None:
                raise TypeError(f"layer '{self.name}': mask= is for calls on data; in a functional graph the mask "
                                "comes from the layer that makes it (Embedding(mask_zero=True))")
            if initial_state is None:
                return super().__call__(inputs, training=training)
            return self._call_symbolic_with_states(inputs, initial_state)
        if initial_state is None and mask is None and not self.return_state:
            return super().__call__(inputs, training=training)
        was_numpy = not isinstance(inputs, Tensor)
        x = nk.tensor(np.ascontiguousarray(inputs, dtype=np.float32)) if was_numpy else inputs
        self._maybe_build((None,) + tuple(x.shape[1:]))
        self.check_input_shape(tuple(x.shape))
        y, _ = self.forward(x, training=bool(training), initial_state=initial_state, mask=mask)
        conv = (lambda t: np.array(t.numpy(), copy=True)) if was_numpy else (lambda t: t)
        return [conv(t) for t in y] if isinstance(y, list) else conv(y)

    def _call_symbolic_with_states(self, x, initial_state):
        """A graph node whose inputs are [x, *initial states] (all KerasTensors)."""
        from neurokern.layers.input_layer import KerasTensor, Node

        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if not all(isinstance(s, KerasTensor) for s in states):
            raise TypeError(f"layer '{self.name}': in a functional graph the initial states must be symbolic tensors "
                            f"(outputs of other layers or Input(...)). Received: {states!r}")
        if len(states) != self._n_states:
            raise ValueError(f"layer '{self.name}' ({type(self).__name__}) expects {self._n_states} initial state "
                             f"tensor(s). Received: {len(states)}")
        self._maybe_build(x.shape, x.history[0].name if x.history else None)
        self.check_input_shape(x.shape)
        for s in states:
            if len(s.shape) != 2 or s.shape[1] != self.units:
                raise ValueError(f"layer '{self.name}': an initial state must have shape (batch, units) = "
                                 f"(None, {self.units}). Received: a tensor of shape {s.shape}")
        out = self.compute_output_shape(x.shape)
        shapes = [tuple(o) for o in out] if self.return_state else [tuple(out)]
        node = Node(self, [x] + states, True, shapes)
        return list(node.outputs) if self.return_state else node.outputs[0]

    # ---- configuration -------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": _init_config(self.kernel_initializer),
            "recurrent_initializer": _init_config(self.recurrent_initializer),
            "bias_initializer": _init_config(self.bias_initializer),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "unroll": self.unroll,
        })
        return config
