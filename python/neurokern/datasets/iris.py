"""Fisher's Iris data (1936): 150 flowers, 4 measurements in cm, 3 species, bundled in the package.

    x, y = neurokern.datasets.iris.load_data()               # float32 (150, 4), int64 (150,)
    (x_train, y_train), (x_test, y_test) = iris.train_test_split(x, y, test_size=0.2, seed=0)
"""
import csv
from pathlib import Path

import numpy as np

from neurokern.datasets._split import stratified_split

FEATURE_NAMES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
CLASS_NAMES = ("setosa", "versicolor", "virginica")
DATA_FILE = Path(__file__).parent / "data" / "iris.csv"


def load_data():
    """(x, y): float32 features (150, 4) and int64 labels (150,), 0=setosa, 1=versicolor, 2=virginica."""
    rows = []
    with open(DATA_FILE, newline="") as f:
        reader = csv.reader(line for line in f if not line.startswith("#"))
        header = next(reader)
        if [h.strip() for h in header] != [*FEATURE_NAMES, "species"]:
            raise ValueError(f"{DATA_FILE}: unexpected header {header}")
        for row in reader:
            rows.append(row)
    x = np.array([[float(v) for v in r[:4]] for r in rows], dtype=np.float32)
    y = np.array([CLASS_NAMES.index(r[4].strip()) for r in rows], dtype=np.int64)
    return x, y


def train_test_split(x, y, test_size=0.2, seed=0):
    """Stratified split: each species keeps its share in both halves (see _split.stratified_split)."""
    return stratified_split(x, y, test_size=test_size, seed=seed)
