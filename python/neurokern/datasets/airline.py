"""International airline passengers, Jan 1949 - Dec 1960: 144 monthly totals in thousands.

Box & Jenkins's series G (R's AirPassengers), bundled in the package (data/airline_passengers.csv):
a rising trend with a yearly season whose swing grows with the level. The classic first
time-series example for MLPs and LSTMs.

    from neurokern.datasets import airline
    series = airline.load_data()                              # float32 (144,): 112, 118, 132, ...
    split = airline.windowed_split(series, look_back=3)      # time-ordered 67/33, MinMax on train
    split.x_train.shape, split.y_train.shape                  # (93, 3) (93,)
    passengers = split.scaler.inverse_transform(predictions)

windowed_split turns the series into supervised pairs (the look_back values before month t ->
the value at month t). The split is by time, never shuffled: the first `train_fraction` of the
months are training targets, the rest test targets; a test window may start in the training
months (those values are known when the forecast is made). The scaler is fitted on the training
months only, so nothing about the test period leaks into training; test values above the
training maximum scale to > 1.
"""
import csv
from collections import namedtuple
from pathlib import Path

import numpy as np

DATA_FILE = Path(__file__).parent / "data" / "airline_passengers.csv"
N_MONTHS = 144
TOTAL = 40363  # sum of the 144 monthly values (checked on load)


def _read():
    months, values = [], []
    with open(DATA_FILE, newline="") as f:
        reader = csv.reader(line for line in f if not line.startswith("#"))
        header = next(reader)
        if header != ["month", "passengers"]:
            raise ValueError(f"{DATA_FILE}: unexpected header {header}")
        for month, value in reader:
            months.append(month)
            values.append(int(value))
    if len(values) != N_MONTHS or sum(values) != TOTAL:
        raise ValueError(f"{DATA_FILE}: {len(values)} values summing to {sum(values)}, expected "
                         f"{N_MONTHS} summing to {TOTAL} (the file is damaged)")
    return months, values


def load_data():
    """The 144 monthly totals (thousands of passengers), float32 (144,), Jan 1949 first."""
    return np.asarray(_read()[1], dtype=np.float32)


def months():
    """The month of each value as 'YYYY-MM' strings ('1949-01' ... '1960-12')."""
    return _read()[0]


def airline_passengers():
    """Same as load_data(): the 144 monthly totals, float32 (144,)."""
    return load_data()


class MinMaxScaler:
    """x -> (x - min) / (max - min) * (hi - lo) + lo with min/max from fit() (sklearn's rule).

    A constant series (max == min) scales to `lo` and inverts back to the constant.
    """

    def __init__(self, feature_range=(0.0, 1.0)):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"feature_range must be (lo, hi) with lo < hi. Received: feature_range={feature_range!r}")
        self.feature_range = (float(lo), float(hi))
        self.data_min = self.data_max = None

    def fit(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError("MinMaxScaler.fit needs a non-empty array of finite values")
        self.data_min, self.data_max = float(x.min()), float(x.max())
        return self

    def _scale(self):
        if self.data_min is None:
            raise ValueError("this MinMaxScaler is not fitted yet: call fit(training_values) first")
        span = self.data_max - self.data_min
        lo, hi = self.feature_range
        return (hi - lo) / span if span > 0 else 0.0

    def transform(self, x):
        scale = self._scale()
        return ((np.asarray(x, dtype=np.float64) - self.data_min) * scale
                + self.feature_range[0]).astype(np.float32)

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def inverse_transform(self, x):
        scale = self._scale()
        x = np.asarray(x, dtype=np.float64) - self.feature_range[0]
        return (x / scale if scale else x * 0.0) + self.data_min


def make_windows(series, look_back):
    """(x, y): x[i] = series[i : i + look_back], y[i] = series[i + look_back]; shapes (n, look_back), (n,)."""
    series = np.asarray(series)
    if series.ndim != 1:
        raise ValueError(f"make_windows needs a 1-D series. Received: shape {series.shape}")
    if isinstance(look_back, bool) or not isinstance(look_back, (int, np.integer)) or look_back < 1:
        raise ValueError(f"look_back must be a positive integer. Received: look_back={look_back!r}")
    n = len(series) - look_back
    if n < 1:
        raise ValueError(f"a series of {len(series)} values has no window of look_back={look_back} "
                         "followed by a target")
    idx = np.arange(n)[:, None] + np.arange(look_back)[None, :]
    return series[idx], series[look_back:]


WindowedSplit = namedtuple("WindowedSplit", [
    "x_train", "y_train", "x_test", "y_test",  # scaled float32, x (n, look_back), y (n,)
    "scaler",                                  # MinMaxScaler fitted on the training months
    "train_index", "test_index",               # the month index (0..len-1) of each target
])


def windowed_split(series, look_back=3, train_fraction=0.67, feature_range=(0.0, 1.0)):
    """Supervised pairs from `series` with a time-ordered split and train-only MinMax scaling.

    The first round(len * train_fraction) months are training months: the training targets are
    months look_back .. n_train-1 and the test targets months n_train .. len-1, each predicted from
    the look_back months before it. Returns a WindowedSplit (see its field comments).
    """
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"windowed_split needs a 1-D series. Received: shape {series.shape}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1). Received: train_fraction={train_fraction!r}")
    n_train = int(round(len(series) * train_fraction))
    if isinstance(look_back, bool) or not isinstance(look_back, (int, np.integer)) or look_back < 1:
        raise ValueError(f"look_back must be a positive integer. Received: look_back={look_back!r}")
    if n_train <= look_back or n_train >= len(series):
        raise ValueError(f"a series of {len(series)} values split at month {n_train} leaves no training "
                         f"or no test target for look_back={look_back}")
    scaler = MinMaxScaler(feature_range).fit(series[:n_train])
    scaled = scaler.transform(series)
    x, y = make_windows(scaled, look_back)  # target of row i is month i + look_back
    target_month = np.arange(look_back, len(series))
    train = target_month < n_train
    return WindowedSplit(x[train], y[train], x[~train], y[~train], scaler,
                         target_month[train], target_month[~train])


def persistence_forecast(series, target_index):
    """The naive forecast 'next month = this month': series[t - 1] for each t in target_index."""
    series = np.asarray(series, dtype=np.float64)
    return series[np.asarray(target_index) - 1]


def rmse(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.sqrt(np.mean((a - b) ** 2)))
