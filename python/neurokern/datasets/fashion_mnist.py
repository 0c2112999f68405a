"""Fashion-MNIST: 60,000 + 10,000 28x28 grey images of 10 clothing classes (Zalando Research).

    (x_train, y_train), (x_test, y_test) = neurokern.datasets.fashion_mnist.load_data()

Same format as keras.datasets.fashion_mnist: uint8 images (N, 28, 28), uint8 labels (N,).
"""
from pathlib import Path

from neurokern.datasets import _cache

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

NAME = "fashion-mnist"
# Debian/Ubuntu package dataset-fashion-mnist (re-compressed, so its bytes differ from the
# upstream digests below; files found locally are parsed and validated, not hashed).
SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)
MIRRORS = ("https://fashion-mnist.s3.eu-central-1.amazonaws.com/",
           "https://storage.googleapis.com/tensorflow/tf-keras-datasets/")
# SHA-256 of the files as published by zalandoresearch/fashion-mnist.
SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}


def find(path=None):
    """The directory load_data() would read (None if it would have to download)."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_dir() or _cache.find_files([p], _cache.IMAGE_FILES) is None:
            raise FileNotFoundError(f"{p} is not a directory holding the Fashion-MNIST files "
                                    f"{', '.join(_cache.IMAGE_FILES)}")
        return p
    return _cache.find_files(_cache.search_dirs(NAME, SYSTEM_DIRS), _cache.IMAGE_FILES)


def load_data(path=None, download=True):
    """((x_train, y_train), (x_test, y_test)) of Fashion-MNIST.

    Looks in `path` (a directory with the four IDX .gz files; it must hold them), then
    $NEUROKERN_DATA/fashion-mnist, the user cache (~/.cache/neurokern/fashion-mnist), and
    /usr/share/datasets/fashion-mnist; otherwise downloads into the cache with SHA-256 checks
    (`download=False` raises FileNotFoundError instead).
    """
    d = find(path)
    if d is None:
        if not download:
            tried = ", ".join(str(p) for p in _cache.search_dirs(NAME, SYSTEM_DIRS))
            raise FileNotFoundError(f"Fashion-MNIST not found (looked in {tried}) and download=False")
        d = _cache.download_image_set(NAME, MIRRORS, SHA256)
    return _cache.read_image_set(d)
