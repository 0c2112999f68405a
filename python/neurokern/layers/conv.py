"""Convolutions: BaseConv (arguments, weights and shape logic for any rank) and Conv2D.

Data layout is channels_last (NHWC), weights are in Keras layouts:
    Conv2D           kernel (KH, KW, C, F)   bias (F,)
    Conv2DTranspose  kernel (KH, KW, F, C)   bias (F,)    (layers/conv_transpose.py)

Conv2D (N batch, H W input size, C in-channels, F filters, OH OW output size):
Forward:
    z[N,OH,OW,F] = conv(x[N,H,W,C], W) + b      ops.conv2d
    y            = act(z)                       activation.forward (skipped for 'linear')
Backward:
    dz   = act'(dy)                             activation.backward (skipped when the loss fused it)
    dW  += corr(x, dz),  db += sum dz           ops.conv2d_backward_weights   ACCUMULATES
    dx   = conv^T(dz, W)                        ops.conv2d_backward_data      OVERWRITES (skipped if not needed)

The helpers at the top (normalize_tuple, normalize_padding, check_data_format) are shared by the
other image layers (pooling, upsampling, padding).
"""
import numbers

from neurokern import activations, initializers, ops, regularizers
from neurokern.layers.base import InputSpec, Layer, _shape_str

__all__ = ["BaseConv", "Conv2D", "normalize_tuple", "normalize_padding", "check_data_format"]


# ---- argument helpers (Keras argument_validation.standardize_tuple and friends) -------------------
def normalize_tuple(value, n, name, allow_zero=False):
    """An int or a sequence of `n` ints -> a tuple of `n` ints, each > 0 (>= 0 with allow_zero)."""
    need = "non-negative" if allow_zero else "positive"
    msg = f"The `{name}` argument must be an integer or a tuple of {n} {need} integers. Received: {name}={value!r}"
    if isinstance(value, bool):
        raise ValueError(msg)
    if isinstance(value, numbers.Integral):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(msg) from None
        if len(values) != n or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values):
            raise ValueError(msg)
        values = tuple(int(v) for v in values)
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise ValueError(msg)
    return values


def normalize_padding(padding):
    """'valid' or 'same' (case-insensitive, as Keras)."""
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding!r}")
    return p


def check_data_format(data_format, layer):
    """neurokern images are NHWC: only channels_last (or None, meaning channels_last) is accepted."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer} supports only data_format='channels_last' (neurokern images are NHWC: "
                         "transpose channels_first data with np.transpose(x, (0, 2, 3, 1)) first). "
                         f"Received: data_format={data_format!r}")
    return "channels_last"


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a strictly positive integer. "
                         f"Received: {name}={value!r}")
    return int(value)


def _serialize_initializer(init):
    return initializers.serialize(init) if isinstance(init, initializers.Initializer) else init


class BaseConv(Layer):
    """Arguments, weights and shapes of a `rank`-D convolution (channels_last). Subclasses give the kernel
    layout (`_kernel_shape`), the output size rule (`_output_size`) and the three op calls."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        name = type(self).__name__
        self.rank = rank
        self.filters = _positive_int(filters, "filters")
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(data_format, name)
        if groups != 1:
            raise NotImplementedError(f"{name}(groups=...) is not supported yet; use groups=1. "
                                      f"Received: groups={groups!r}")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:  # as Keras/TF
            raise ValueError("`strides > 1` is not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        super().__init__(**kwargs)
        self.groups = 1
        self.activation = activations.get(activation)
        self._linear = getattr(self.activation, "name", None) == "linear"
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.input_spec = InputSpec(ndim=rank + 2)
        self.kernel = self.bias = None

    # ---- shapes --------------------------------------------------------------------------------
    def _kernel_shape(self, in_channels):
        return self.kernel_size + (in_channels, self.filters)

    def _output_size(self, size, axis):
        """Output length along spatial `axis` for input length `size` (not None)."""
        return ops.conv_output_size(size, self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis],
                                    self.padding)[0]

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"layer '{self.name}' expects inputs of rank {self.rank + 2} (batch, "
                             f"{'spatial, ' * self.rank}channels). Received: input_shape={_shape_str(input_shape)}")
        out = []
        for axis, size in enumerate(input_shape[1:-1]):
            if size is None:
                out.append(None)
                continue
            span = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
            if self.padding == "valid" and span > size:
                raise ValueError(
                    f"layer '{self.name}': the kernel {self.kernel_size} (dilation {self.dilation_rate}) spans {span} "
                    f"along spatial axis {axis}, more than the input's {size}, so the 'valid' output would be empty. "
                    f"Use a smaller kernel_size or padding='same'. Received: input_shape={_shape_str(input_shape)}")
            out.append(self._output_size(size, axis))
        return (input_shape[0],) + tuple(out) + (self.filters,)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        in_channels = input_shape[-1]
        if in_channels is None:
            raise ValueError(f"layer '{self.name}': the channel axis (last) of the input must be known to build a "
                             f"{type(self).__name__}. Received: input_shape={_shape_str(input_shape)}")
        self.compute_output_shape(input_shape)  # report a kernel larger than the input now, naming this layer
        self.kernel = self.add_weight("kernel", self._kernel_shape(in_channels), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: in_channels})
        self.built = True

    # ---- the three op calls (subclasses) -------------------------------------------------------
    def _op_forward(self, x, bias):
        raise NotImplementedError

    def _op_backward_data(self, dz, input_shape):
        raise NotImplementedError

    def _op_backward_weights(self, dw, db, dz, x):
        raise NotImplementedError

    # ---- compute -------------------------------------------------------------------------------
    def forward(self, x, training=False):
        z = self._op_forward(x, self.bias.value if self.use_bias else None)
        y = z if self._linear else self.activation.forward(z)
        return y, (x, z, y)

    @property
    def output_activation(self):
        return None if self._linear else self.activation

    def backward(self, ctx, dy, need_dx=True):
        x, z, y = ctx
        dz = dy if self._linear else self.activation.backward(dy, z, y)
        return self._backward_linear(x, dz, need_dx)

    def backward_from_pre_activation(self, ctx, dz, need_dx=True):
        return self._backward_linear(ctx[0], dz, need_dx)

    def _backward_linear(self, x, dz, need_dx):
        db = self.bias.grad if self.use_bias else None
        if self.kernel.grad is not None:
            self._op_backward_weights(self.kernel.grad, db, dz, x)
        elif db is not None:  # kernel frozen on its own: the bias gradient is a plain sum of dz
            ops.bias_add_backward(dz, db)
        if not need_dx:
            return None
        return self._op_backward_data(dz, tuple(x.shape))

    # ---- config --------------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize_initializer(self.kernel_initializer),
            "bias_initializer": _serialize_initializer(self.bias_initializer),
        })
        for key in ("kernel_regularizer", "bias_regularizer"):
            reg = getattr(self, key)
            if reg is not None:
                config[key] = regularizers.serialize(reg)
        return config


class Conv2D(BaseConv):
    """2-D convolution (Keras Conv2D): kernel (KH, KW, C, F), NHWC inputs."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer, **kwargs)

    def _op_forward(self, x, bias):
        return ops.conv2d(x, self.kernel.value, bias, self.strides, self.padding, self.dilation_rate)

    def _op_backward_data(self, dz, input_shape):
        return ops.conv2d_backward_data(dz, self.kernel.value, input_shape, self.strides, self.padding,
                                        self.dilation_rate)

    def _op_backward_weights(self, dw, db, dz, x):
        ops.conv2d_backward_weights(dw, db, dz, x, self.strides, self.padding, self.dilation_rate)
