"""Pretrained-architecture models (Keras `keras.applications`): VGG16 with Keras layer names and weights.

    base = nk.applications.VGG16(include_top=False, weights="imagenet", input_shape=(150, 150, 3))
"""
from neurokern.applications import vgg16  # noqa: F401
from neurokern.applications.vgg16 import VGG16, preprocess_input  # noqa: F401

__all__ = ["VGG16", "vgg16", "preprocess_input"]
