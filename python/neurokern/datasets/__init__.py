"""Small datasets in keras.datasets formats, found locally or downloaded with SHA-256 checks.

    from neurokern.datasets import mnist, fashion_mnist, iris, imdb, reviews, airline
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    series = neurokern.datasets.airline_passengers()       # bundled, 144 monthly totals

Search order for image sets: the `path` argument, $NEUROKERN_DATA/<name>, the user cache
(~/.cache/neurokern/<name>), system copies, then a download into the cache (see _cache.py).
"""
from neurokern.datasets import fashion_mnist, iris, mnist  # noqa: F401
from neurokern.datasets import airline, imdb, reviews  # noqa: F401
from neurokern.datasets.airline import airline_passengers  # noqa: F401
from neurokern.datasets._cache import cache_dir  # noqa: F401
from neurokern.datasets._split import stratified_split  # noqa: F401

__all__ = ["mnist", "fashion_mnist", "iris", "cache_dir", "stratified_split",
           "airline", "airline_passengers", "imdb", "reviews"]
