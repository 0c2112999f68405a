"""BatchNormalization (Keras): normalize each channel (the last axis) and apply a learned scale and shift.

Weights (Keras order): gamma (C,) and beta (C,) trainable (absent when scale=False / center=False),
moving_mean (C,) and moving_variance (C,) non-trainable.

Training (training=True and the layer trainable):
    mean, var = batch statistics over every axis but the last (biased variance, as Keras)
    y = gamma * (x - mean) / sqrt(var + eps) + beta                 ops.batch_norm_forward
    moving = moving * momentum + batch * (1 - momentum)             (in place, by the same kernel)
    backward: dx = ..., dgamma += ..., dbeta += ...                 ops.batch_norm_backward (dx OVERWRITES,
                                                                    dgamma/dbeta ACCUMULATE)
Inference (training=False, or a frozen layer: trainable=False runs in inference mode even inside fit,
as in Keras, so fine-tuning never disturbs the moving statistics):
    y = gamma * (x - moving_mean) / sqrt(moving_variance + eps) + beta     the same kernel, training=False
    backward: mean / invstd are constants: dx = gamma * invstd * dy, dgamma += sum dy * xhat, dbeta += sum dy
                                                                    ops.batch_norm_backward(training=False)
"""
import math
import numbers

from neurokern import initializers, ops, regularizers
from neurokern.layers.base import InputSpec, Layer, _shape_str
from neurokern.layers.conv import _serialize_initializer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, synchronized=False, **kwargs):
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError("BatchNormalization normalizes one axis: `axis` must be an integer. "
                             f"Received: axis={axis!r}")
        for name, value in (("momentum", momentum), ("epsilon", epsilon)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"`momentum` must be between 0 and 1. Received: momentum={momentum!r}")
        if epsilon <= 0:
            raise ValueError(f"`epsilon` must be positive (it keeps 1 / sqrt(var + epsilon) finite). "
                             f"Received: epsilon={epsilon!r}")
        if synchronized:
            raise NotImplementedError("BatchNormalization(synchronized=True) needs several devices; neurokern "
                                      "trains on one. Received: synchronized=True")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.input_spec = InputSpec(min_ndim=2)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"layer '{self.name}': axis {self.axis} is out of range for inputs of rank {ndim}. "
                             f"Received: axis={self.axis}, input_shape={_shape_str(input_shape)}")
        if self.axis % ndim != ndim - 1:
            raise ValueError(f"layer '{self.name}': neurokern's BatchNormalization normalizes the last (channels) "
                             "axis of NHWC / (batch, features) data; other axes are not supported. "
                             f"Received: axis={self.axis}, input_shape={_shape_str(input_shape)}")
        c = input_shape[-1]
        if c is None:
            raise ValueError(f"layer '{self.name}': the normalized axis must have a known size. "
                             f"Received: input_shape={_shape_str(input_shape)}")
        if self.scale:
            self.gamma = self.add_weight("gamma", (c,), self.gamma_initializer, regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", (c,), self.beta_initializer, regularizer=self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", (c,), self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,), self.moving_variance_initializer,
                                               trainable=False)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: c})
        self.built = True

    def _gamma(self):
        return self.gamma.value if self.scale else None  # the kernel skips an absent gamma / beta

    def _beta(self):
        return self.beta.value if self.center else None

    def forward(self, x, training=False):
        training = bool(training) and self.trainable
        y, mean, invstd = ops.batch_norm_forward(x, self._gamma(), self._beta(), self.moving_mean.value,
                                                 self.moving_variance.value, training, self.momentum, self.epsilon)
        return y, (x, mean, invstd, training)

    def backward(self, ctx, dy, need_dx=True):
        x, mean, invstd, training = ctx
        dgamma = self.gamma.grad if self.scale else None
        dbeta = self.beta.grad if self.center else None
        if not need_dx and dgamma is None and dbeta is None:
            return None
        dx = ops.batch_norm_backward(None, dgamma, dbeta, dy, x, self._gamma(), mean, invstd, training=training)
        return dx if need_dx else None

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale,
            "beta_initializer": _serialize_initializer(self.beta_initializer),
            "gamma_initializer": _serialize_initializer(self.gamma_initializer),
            "moving_mean_initializer": _serialize_initializer(self.moving_mean_initializer),
            "moving_variance_initializer": _serialize_initializer(self.moving_variance_initializer),
        })
        for key in ("beta_regularizer", "gamma_regularizer"):
            reg = getattr(self, key)
            if reg is not None:
                config[key] = regularizers.serialize(reg)
        return config
