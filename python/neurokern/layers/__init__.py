"""Keras-compatible layers. Each holds its weights as float32 Tensors in Keras layouts and computes
only through neurokern.ops (see layers/base.py for the forward/backward contract)."""
from neurokern.layers.base import Layer, Weight, InputSpec
from neurokern.layers.input_layer import Input, InputLayer, KerasTensor
from neurokern.layers.dense import Dense
from neurokern.layers.activation import Activation
from neurokern.layers.dropout import Dropout
from neurokern.layers.flatten import Flatten
from neurokern.layers.conv import BaseConv, Conv2D
from neurokern.layers.conv_transpose import Conv2DTranspose
from neurokern.layers.pooling import (BasePool, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, MaxPool2D,
                                      AvgPool2D, GlobalAvgPool2D)
from neurokern.layers.upsampling import UpSampling2D
from neurokern.layers.batch_normalization import BatchNormalization
from neurokern.layers.leaky_relu import LeakyReLU
from neurokern.layers.reshaping import Reshape, ZeroPadding2D
from neurokern.layers.embedding import Embedding
from neurokern.layers.lstm import LSTM
from neurokern.layers.simple_rnn import SimpleRNN
from neurokern.layers.time_distributed import TimeDistributed
from neurokern.layers.merging import (Add, Subtract, Multiply, Average, Concatenate, add, subtract, multiply, average,
                                      concatenate)

__all__ = ["Layer", "Weight", "InputSpec", "Input", "InputLayer", "KerasTensor", "Dense", "Activation",
           "Dropout", "Flatten", "Conv2D", "Conv2DTranspose", "MaxPooling2D", "AveragePooling2D",
           "GlobalAveragePooling2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "UpSampling2D", "BatchNormalization",
           "LeakyReLU", "Reshape", "ZeroPadding2D", "BaseConv", "BasePool", "Embedding", "LSTM", "SimpleRNN",
           "TimeDistributed", "Add", "Subtract", "Multiply", "Average", "Concatenate", "add", "subtract", "multiply",
           "average", "concatenate", "serialize", "deserialize", "get"]

_CLASSES = {cls.__name__: cls for cls in (InputLayer, Dense, Activation, Dropout, Flatten, Conv2D, Conv2DTranspose,
                                          MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, UpSampling2D,
                                          BatchNormalization, LeakyReLU, Reshape, ZeroPadding2D, Embedding, LSTM,
                                          SimpleRNN, TimeDistributed, Add, Subtract, Multiply, Average, Concatenate)}
# Keras's short names for the pooling classes (the same classes)
_CLASSES.update({"MaxPool2D": MaxPooling2D, "AvgPool2D": AveragePooling2D, "GlobalAvgPool2D": GlobalAveragePooling2D})


def register(cls):
    """Make a layer class known to deserialize() (other layer files call this for their classes)."""
    _CLASSES[cls.__name__] = cls
    return cls


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config):
    """A new layer from {"class_name": ..., "config": ...} (weights are not part of a config)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a layer config is a dict with 'class_name' and 'config'. Received: config={config!r}")
    name = config["class_name"]
    if name in ("Sequential", "Functional"):
        from neurokern import models
        return getattr(models, name).from_config(config.get("config", {}))
    cls = _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown layer class {name!r}; known: {sorted(_CLASSES)}. Received: class_name={name!r}")
    return cls.from_config(config.get("config", {}))
from neurokern.layers.preprocessing import *  # noqa: E402,F401,F403  Rescaling, RandomFlip, ... (registers them)


def get(identifier):
    """A layer from a Layer instance or a serialized config dict (Keras `layers.get`)."""
    from neurokern.layers.base import Layer
    if isinstance(identifier, Layer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret layer identifier: {identifier!r}. Pass a Layer or a config dict "
                     f"from layers.serialize(). Received: identifier={identifier!r}")
