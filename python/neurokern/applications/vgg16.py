"""VGG16 (Simonyan & Zisserman, 2014) with Keras' layer names, weight layouts and ImageNet weights.

    base = nk.applications.VGG16(include_top=False, weights="imagenet", input_shape=(150, 150, 3))
    x = nk.applications.vgg16.preprocess_input(images)     # RGB [0, 255] -> BGR minus the ImageNet means

Architecture (keras/src/applications/vgg16.py): five blocks of 3x3 'same' ReLU convolutions
(64, 64 | 128, 128 | 256 x3 | 512 x3 | 512 x3) named block{b}_conv{i}, each block ending in a 2x2
max-pool block{b}_pool; then either the classifier Flatten 'flatten', Dense 4096 'fc1', Dense 4096
'fc2', Dense classes 'predictions' (include_top=True: 138,357,544 parameters at 224x224x3), or an
optional global pooling (include_top=False, pooling='avg' | 'max').

The model is a functional Model named 'vgg16'. It can be used as a layer inside a Sequential (transfer
learning): freeze it with `base.trainable = False` (or per layer) and compile the outer model.

weights: None (Glorot-uniform init), a path to a Keras 2 .h5 weights file (read by
applications/_keras_h5.py, h5py needed), or 'imagenet': the Keras file, found in
$NEUROKERN_DATA/models, the neurokern cache (~/.cache/neurokern/models), or Keras' own cache
(~/.keras/models), else downloaded into the neurokern cache (NEUROKERN_OFFLINE=1 forbids that).
Keras publishes only MD5 digests for these files: a download is checked against Keras' MD5 and size,
after which neurokern records the file's SHA-256 beside it (<file>.sha256) and checks that on every
later load. decode_predictions is not provided: it needs ImageNet's class index, another download.
"""
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = ["VGG16", "preprocess_input", "WEIGHTS_FILES"]

_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
# name -> (Keras' MD5 from keras/src/applications/vgg16.py, size in bytes)
WEIGHTS_FILES = {
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5": ("64373286793e3c8b2b4e3219cbf3544b", 553467096),
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": ("6d6bbae143d832006294945121d1f1fc", 58889256),
}
_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
# caffe-mode ImageNet channel means, BGR order (Keras imagenet_utils)
_MEANS_BGR = (103.939, 116.779, 123.68)


def _hash(path, algo):
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verified(path, md5, size):
    """True when `path` is the published file: its recorded SHA-256 if any, else Keras' MD5 and size (then
    the SHA-256 is recorded)."""
    path = Path(path)
    side = path.with_name(path.name + ".sha256")
    if side.is_file():
        return side.read_text().split()[0] == _hash(path, "sha256")
    if path.stat().st_size != size or _hash(path, "md5") != md5:
        return False
    try:
        side.write_text(_hash(path, "sha256") + "  " + path.name + "\n")
    except OSError:  # a read-only location (e.g. a shared Keras cache): nothing to record
        pass
    return True


def weights_path(fname):
    """The verified local copy of Keras weight file `fname`, downloading it if needed (see module doc)."""
    from neurokern.datasets import _cache

    md5, size = WEIGHTS_FILES[fname]
    dirs = []
    if os.environ.get("NEUROKERN_DATA"):
        dirs.append(Path(os.environ["NEUROKERN_DATA"]).expanduser() / "models")
    dirs += [_cache.cache_dir() / "models", Path.home() / ".keras" / "models"]
    for d in dirs:
        p = d / fname
        if p.is_file():
            if _verified(p, md5, size):
                return p
            raise ValueError(f"{p} is not the published {fname} (size or digest mismatch, e.g. an interrupted "
                             "download): delete it and try again")
    target = _cache.cache_dir() / "models" / fname
    url = _BASE_URL + fname
    if _cache.offline():
        raise OSError(f"VGG16 ImageNet weights are not cached and NEUROKERN_OFFLINE is set, so they cannot be "
                      f"downloaded. Download {url} and put it at {target} (or in $NEUROKERN_DATA/models/ or "
                      "~/.keras/models/), or pass weights=None or weights='/path/to/file.h5'.")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(fname + ".part")
    try:
        _cache.fetch(url, part)
        if not _verified(part, md5, size):
            raise OSError(f"{url}: the downloaded file does not match Keras' published MD5 {md5} / size {size}")
        os.replace(part, target)
        os.replace(part.with_name(part.name + ".sha256"), target.with_name(fname + ".sha256"))
    except OSError as e:
        raise OSError(f"could not download the VGG16 weights ({e}). Download {url} by hand and put it at "
                      f"{target}.") from None
    finally:
        for p in (part, part.with_name(part.name + ".sha256")):
            if p.exists():
                p.unlink()
    return target


def _input_shape(input_shape, include_top, weights):
    if input_shape is None:
        return (224, 224, 3)
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels). Received: input_shape={input_shape!r}")
    if weights == "imagenet":
        if shape[-1] != 3:
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if include_top and shape != (224, 224, 3):
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, `input_shape` should "
                             f"be (224, 224, 3). Received: input_shape={input_shape}")
    if shape[0] < 32 or shape[1] < 32:
        raise ValueError(f"Input size must be at least 32x32; Received: input_shape={input_shape}")
    return shape


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    """The VGG16 model (Keras arguments; see the module docstring)."""
    from neurokern import layers
    from neurokern.models import Model

    if not (weights in ("imagenet", None) or isinstance(weights, (str, os.PathLike))):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         f"(pre-training on ImageNet), or the path to the weights file to be loaded. Received: "
                         f"weights={weights!r}")
    if isinstance(weights, (str, os.PathLike)) and weights != "imagenet" and not os.path.exists(weights):
        raise ValueError(f"The `weights` argument should be either `None`, 'imagenet' or the path to an existing "
                         f"weights file. Received: weights={weights!r} (no such file)")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000. "
                         f"Received: classes={classes}")
    if weights == "imagenet" and include_top and classifier_activation not in ("softmax", None):
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` argument "
                         f"when using pretrained weights. Received: classifier_activation={classifier_activation!r}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max'. Received: pooling={pooling!r}")
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes <= 0:
        raise ValueError(f"classes must be a positive integer. Received: classes={classes!r}")
    if input_tensor is not None:
        raise NotImplementedError("VGG16(input_tensor=...) is not supported: pass input_shape")
    shape = _input_shape(input_shape, include_top, weights)
    if weights == "imagenet":  # find (or fetch) the file before building anything
        fname = "vgg16_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop") + ".h5"
        weights = weights_path(fname)

    # weights from a file overwrite every initial value (or the load fails and no model is returned):
    # skip drawing 138M random numbers then
    init = {"kernel_initializer": "zeros"} if weights is not None else {}
    inputs = layers.Input(shape=shape)
    x = inputs
    for b, (filters, convs) in enumerate(_BLOCKS, start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{b}_conv{i}",
                              **init)(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1", **init)(x)
        x = layers.Dense(4096, activation="relu", name="fc2", **init)(x)
        x = layers.Dense(int(classes), activation=classifier_activation, name="predictions", **init)(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        if hasattr(layers, "GlobalMaxPooling2D"):
            x = layers.GlobalMaxPooling2D()(x)
        else:  # the same values: one max-pool window over the whole map, then drop the 1x1 axes
            x = layers.MaxPooling2D(pool_size=tuple(x.shape[1:3]), name="global_max_pooling2d_pool")(x)
            x = layers.Flatten(name="global_max_pooling2d")(x)
    model = Model(inputs, x, name=name)

    if weights is not None:
        from neurokern.applications._keras_h5 import load_weights_h5
        load_weights_h5(model, weights)
    return model


def preprocess_input(x, data_format=None):
    """Keras 'caffe' preprocessing of RGB images in [0, 255] (..., H, W, 3): RGB -> BGR, then subtract the
    ImageNet channel means (no scaling). Returns a new float32 NumPy array (data preparation, not training)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"only data_format='channels_last' is supported. Received: data_format={data_format!r}")
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float32)
    if x.ndim < 3 or x.shape[-1] != 3:
        raise ValueError(f"preprocess_input expects RGB images (..., height, width, 3). Received: shape {x.shape}")
    return x[..., ::-1] - np.array(_MEANS_BGR, dtype=np.float32)
