"""UpSampling2D (Keras): repeat (nearest) or interpolate (bilinear) rows and columns of NHWC images.

Output (N, H * sh, W * sw, C). 'bilinear' is tf.image.resize's bilinear with half-pixel centres, as
Keras UpSampling2D. No weights.
    y  = ops.upsampling2d(x, size, interpolation)
    dx = ops.upsampling2d_backward(dy, x.shape, size, interpolation)    OVERWRITES
"""
from neurokern import ops
from neurokern.layers.base import InputSpec, Layer, _shape_str
from neurokern.layers.conv import check_data_format, normalize_tuple

__all__ = ["UpSampling2D"]

INTERPOLATIONS = ("nearest", "bilinear")


class UpSampling2D(Layer):
    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        self.size = normalize_tuple(size, 2, "size")
        self.data_format = check_data_format(data_format, "UpSampling2D")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"UpSampling2D supports interpolation 'nearest' or 'bilinear'. "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation
        super().__init__(**kwargs)
        self.input_spec = InputSpec(ndim=4)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            raise ValueError(f"layer '{self.name}' expects inputs of rank 4 (batch, height, width, channels). "
                             f"Received: input_shape={_shape_str(input_shape)}")
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0], None if w is None else w * self.size[1], c)

    def forward(self, x, training=False):
        return ops.upsampling2d(x, self.size, self.interpolation), tuple(x.shape)

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        return ops.upsampling2d_backward(dy, ctx, self.size, self.interpolation)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format, "interpolation": self.interpolation})
        return config
