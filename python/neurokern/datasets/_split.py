"""Stratified train/test split in NumPy (no scikit-learn at run time)."""
import numpy as np


def stratified_split(x, y, test_size=0.2, seed=0):
    """((x_train, y_train), (x_test, y_test)) with each class split in the same proportion.

    `test_size` is a fraction in (0, 1) or a number of test samples. Per class, round(share * n_c)
    samples (at least 1 when the class has 2 or more) go to the test set, chosen by a permutation
    from `seed`; both halves keep the original sample order so the result does not depend on how
    the classes were interleaved.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y have different lengths: {len(x)} and {len(y)}")
    n = len(y)
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size must be a fraction in (0, 1) or a sample count. "
                             f"Received: test_size={test_size}")
        share = test_size
    else:
        if not 0 < int(test_size) < n:
            raise ValueError(f"test_size must be between 1 and {n - 1} samples. "
                             f"Received: test_size={test_size}")
        share = int(test_size) / n
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(n, dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = int(round(share * len(idx)))
        if len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        test_mask[rng.permutation(idx)[:k]] = True
    return (x[~test_mask], y[~test_mask]), (x[test_mask], y[test_mask])
