"""neurokern: hand-written C++/OpenMP/SIMD deep-learning kernels behind a Keras-compatible API.

    import neurokern as nk
    from neurokern import layers, models
"""
from neurokern._core import __version__, Tensor
from neurokern.tensor import (tensor, empty, zeros, set_num_threads, get_num_threads, set_default_device,
                              get_default_device)

__all__ = ["__version__", "Tensor", "tensor", "empty", "zeros", "set_num_threads", "get_num_threads",
           "set_default_device", "get_default_device"]


def __getattr__(name):
    # Submodules load on first use so `import neurokern` stays light and silent.
    import importlib

    if name in {"ops", "layers", "models", "optimizers", "losses", "metrics", "callbacks", "datasets",
                "utils", "activations", "initializers", "regularizers", "applications", "preprocessing",
                "examples", "cuda"}:
        return importlib.import_module(f"neurokern.{name}")
    if name in {"Input", "Model", "Sequential"}:  # keras.Input, keras.Model, keras.Sequential
        module = "layers" if name == "Input" else "models"
        return getattr(importlib.import_module(f"neurokern.{module}"), name)
    raise AttributeError(f"module 'neurokern' has no attribute {name!r}")
