"""Embedding lookup and its scatter-add backward (csrc/cpu/embedding.cpp).

    y = ops.embedding(indices, embeddings)            y[..., :] = embeddings[indices[...], :]
    ops.embedding_backward(dembeddings, dy, indices)  dembeddings[indices[...], :] += dy[..., :]

indices: int32 or int64 (NumPy integer arrays of other widths are converted to int64), any shape,
values in [0, input_dim): anything else raises IndexError naming the index and its position, before
anything is written. The backward ACCUMULATES (repeated indices add up). variant: 'auto'
(= 'rows_parallel') or 'naive'.
"""
import numpy as np

from neurokern._core import Tensor
from neurokern.ops._util import as_input, as_output, backend, new_output

__all__ = ["embedding", "embedding_backward"]


def _indices(indices):
    if isinstance(indices, Tensor):
        return indices
    arr = np.asarray(indices)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"embedding indices must be integers. Received: indices of dtype {arr.dtype}")
    if arr.dtype != np.int32:
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            raise IndexError(f"embedding index {int(arr.max())} does not fit in int64")
        arr = arr.astype(np.int64)
    return as_input(arr, dtype=str(arr.dtype))[0]


def embedding(indices, embeddings, out=None, variant="auto"):
    """(*indices.shape, output_dim) rows of `embeddings` (input_dim, output_dim)."""
    w_t, as_np = as_input(embeddings)
    idx = _indices(indices)
    if w_t.ndim != 2:
        raise ValueError(f"embeddings must be 2-d (input_dim, output_dim). Received: shape {tuple(w_t.shape)}")
    y = new_output(out, tuple(idx.shape) + (w_t.shape[1],), w_t)
    backend(w_t).embedding_forward(y, idx, w_t, variant)
    return as_output(y, as_np)


def embedding_backward(dembeddings, dy, indices, variant="auto"):
    """dembeddings (a Tensor, input_dim x output_dim) += scatter of dy rows at `indices`. Returns it."""
    dy_t, _ = as_input(dy)
    if not isinstance(dembeddings, Tensor):
        raise TypeError(f"dembeddings is accumulated in place: pass a neurokern Tensor. Received: "
                        f"{type(dembeddings).__name__}")
    backend(dy_t).embedding_backward(dembeddings, dy_t, _indices(indices), variant)
    return dembeddings
