"""Pooling over NHWC images: BasePool (arguments and shapes for any rank), MaxPooling2D, AveragePooling2D,
GlobalAveragePooling2D, with the Keras aliases MaxPool2D, AvgPool2D, GlobalAvgPool2D. No weights.

Output length per spatial axis (Keras/TF): 'valid' -> floor((in - pool) / stride) + 1, 'same' -> ceil(in / stride).
    MaxPooling2D      y = ops.max_pool2d(x)       dx = ops.max_pool2d_backward(dy, x)   (x saved: the argmax is
                                                                                         recomputed; OVERWRITES)
    AveragePooling2D  y = ops.avg_pool2d(x)       dx = ops.avg_pool2d_backward(dy, x.shape)  ('same' averages only
                                                                                         the in-bounds elements)
    GlobalAveragePooling2D  y (N, C) = mean over H, W     dx = dy / (H * W) broadcast   (keepdims: (N, 1, 1, C))
"""
from neurokern import ops
from neurokern.layers.base import InputSpec, Layer, _shape_str
from neurokern.layers.conv import check_data_format, normalize_padding, normalize_tuple

__all__ = ["BasePool", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "MaxPool2D", "AvgPool2D",
           "GlobalAvgPool2D"]


class BasePool(Layer):
    """A `rank`-D sliding-window pooling; subclasses give the op calls."""

    def __init__(self, rank, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        self.rank = rank
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(data_format, type(self).__name__)
        super().__init__(**kwargs)
        self.input_spec = InputSpec(ndim=rank + 2)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"layer '{self.name}' expects inputs of rank {self.rank + 2} (batch, "
                             f"{'spatial, ' * self.rank}channels). Received: input_shape={_shape_str(input_shape)}")
        out = []
        for axis, size in enumerate(input_shape[1:-1]):
            if size is None:
                out.append(None)
            elif self.padding == "valid":
                if self.pool_size[axis] > size:
                    raise ValueError(
                        f"layer '{self.name}': pool_size {self.pool_size} is larger than the input along spatial "
                        f"axis {axis} ({size}), so the 'valid' output would be empty. Use a smaller pool_size or "
                        f"padding='same'. Received: input_shape={_shape_str(input_shape)}")
                out.append((size - self.pool_size[axis]) // self.strides[axis] + 1)
            else:
                out.append(-(-size // self.strides[axis]))
        return (input_shape[0],) + tuple(out) + (input_shape[-1],)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # report a window larger than the input now
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding,
                       "data_format": self.data_format})
        return config


class MaxPooling2D(BasePool):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)

    def forward(self, x, training=False):
        return ops.max_pool2d(x, self.pool_size, self.strides, self.padding), x

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        return ops.max_pool2d_backward(dy, ctx, self.pool_size, self.strides, self.padding)


class AveragePooling2D(BasePool):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)

    def forward(self, x, training=False):
        return ops.avg_pool2d(x, self.pool_size, self.strides, self.padding), tuple(x.shape)

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        return ops.avg_pool2d_backward(dy, ctx, self.pool_size, self.strides, self.padding)


class GlobalAveragePooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        self.data_format = check_data_format(data_format, type(self).__name__)
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=4)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            raise ValueError(f"layer '{self.name}' expects inputs of rank 4 (batch, height, width, channels). "
                             f"Received: input_shape={_shape_str(input_shape)}")
        return (input_shape[0], 1, 1, input_shape[3]) if self.keepdims else (input_shape[0], input_shape[3])

    def forward(self, x, training=False):
        y = ops.global_avg_pool2d(x)
        if self.keepdims:
            y = y.reshape([x.shape[0], 1, 1, x.shape[3]])
        return y, tuple(x.shape)

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        if self.keepdims:
            dy = dy.reshape([ctx[0], ctx[3]])
        return ops.global_avg_pool2d_backward(dy, ctx)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


# Keras aliases: the same classes under their short names
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
