"""Dense: y = activation(x @ kernel + bias), kernel (in, units), bias (units,) as in Keras.

Inputs of rank > 2 act on the last axis (x is viewed as (rows, in) without a copy).

Forward (rows M = prod of leading axes, K = in, N = units):
    z[M,N] = x[M,K] @ W[K,N]            ops.matmul
    z     += b[N]                       ops.bias_add (in place)
    y      = act(z)                     activation.forward (skipped for 'linear')
Backward:
    dz     = act'(dy)                   activation.backward (skipped when the loss fused it)
    dW    += x^T @ dz                   ops.gemm(beta=1)      ACCUMULATES
    db    += sum_rows dz                ops.bias_add_backward ACCUMULATES
    dx     = dz @ W^T                   ops.matmul            OVERWRITES (skipped if need_dx is False)
"""
import numpy as np

from neurokern import activations, initializers, ops
from neurokern.layers.base import InputSpec, Layer

__all__ = ["Dense"]


def _activation_name(act):
    return getattr(act, "name", None) or getattr(act, "__name__", str(act))


class Dense(Layer):
    supports_masking = True  # a (batch, timesteps) mask passes through unchanged
    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units!r}")
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        from neurokern import regularizers
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.input_spec = InputSpec(min_ndim=2)
        self.kernel = self.bias = None
        self._linear = _activation_name(self.activation) == "linear"

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"layer '{self.name}': the last axis of the input must be known to build a Dense "
                             f"layer. Received: input_shape={tuple(input_shape)}")
        self.kernel = self.add_weight("kernel", (in_dim, self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        lead = tuple(x.shape[:-1])
        x2 = x if x.ndim == 2 else x.reshape([-1, x.shape[-1]])
        z = ops.matmul(x2, self.kernel.value)
        if self.use_bias:
            ops.bias_add(z, self.bias.value, out=z)
        y = z if self._linear else self.activation.forward(z)
        out = y if x.ndim == 2 else y.reshape(list(lead) + [self.units])
        return out, (x2, z, y, lead)

    @property
    def output_activation(self):
        return None if self._linear else self.activation

    def backward(self, ctx, dy, need_dx=True):
        x2, z, y, lead = ctx
        dy2 = dy if dy.ndim == 2 else dy.reshape([-1, self.units])
        dz = dy2 if self._linear else self.activation.backward(dy2, z, y)
        return self._backward_linear(x2, dz, lead, need_dx)

    def backward_from_pre_activation(self, ctx, dz, need_dx=True):
        x2, _, _, lead = ctx
        dz2 = dz if dz.ndim == 2 else dz.reshape([-1, self.units])
        return self._backward_linear(x2, dz2, lead, need_dx)

    def _backward_linear(self, x2, dz, lead, need_dx):
        if self.kernel.grad is not None:
            ops.gemm(self.kernel.grad, x2, dz, transpose_a=True, beta=1.0)
        if self.use_bias and self.bias.grad is not None:
            ops.bias_add_backward(dz, self.bias.grad)
        if not need_dx:
            return None
        dx = ops.matmul(dz, self.kernel.value, transpose_b=True)
        return dx if len(lead) == 1 else dx.reshape(list(lead) + [self.kernel.shape[0]])

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer)
            if isinstance(self.kernel_initializer, initializers.Initializer) else self.kernel_initializer,
            "bias_initializer": initializers.serialize(self.bias_initializer)
            if isinstance(self.bias_initializer, initializers.Initializer) else self.bias_initializer,
        })
        from neurokern import regularizers
        for key in ("kernel_regularizer", "bias_regularizer"):
            reg = getattr(self, key)
            if reg is not None:
                config[key] = regularizers.serialize(reg)
        return config
