"""The bundled airline-passengers series and the window / split / scaling helpers."""
import numpy as np
import pytest

import neurokern as nk
from neurokern.datasets import airline

# Yearly totals of Box & Jenkins series G (R: aggregate(AirPassengers)), 1949 ... 1960.
YEARLY = [1520, 1676, 2042, 2364, 2700, 2867, 3408, 3939, 4421, 4572, 5140, 5714]


def test_series_values():
    s = nk.datasets.airline_passengers()
    assert s.shape == (144,) and s.dtype == np.float32
    assert s.sum() == 40363
    np.testing.assert_array_equal(s[:12], [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118])
    np.testing.assert_array_equal(s[-12:], [417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432])
    np.testing.assert_array_equal(s.reshape(12, 12).sum(axis=1), YEARLY)
    assert s.min() == 104 and s.max() == 622 and int(np.argmax(s)) == 138  # July 1960
    np.testing.assert_array_equal(airline.load_data(), s)


def test_months():
    m = airline.months()
    assert len(m) == 144 and m[0] == "1949-01" and m[11] == "1949-12" and m[-1] == "1960-12"


def test_make_windows():
    x, y = airline.make_windows(np.arange(10, 16), look_back=3)
    np.testing.assert_array_equal(x, [[10, 11, 12], [11, 12, 13], [12, 13, 14]])
    np.testing.assert_array_equal(y, [13, 14, 15])
    with pytest.raises(ValueError, match="look_back must be a positive integer"):
        airline.make_windows(np.arange(5), look_back=0)
    with pytest.raises(ValueError, match="no window of look_back=5"):
        airline.make_windows(np.arange(5), look_back=5)
    with pytest.raises(ValueError, match="1-D series"):
        airline.make_windows(np.zeros((3, 2)), look_back=1)


@pytest.mark.parametrize("look_back", [1, 3, 12])
def test_windowed_split_is_time_ordered_and_scaled_on_train_only(look_back):
    s = airline.load_data()
    sp = airline.windowed_split(s, look_back=look_back, train_fraction=0.67)
    n_train = 96  # round(144 * 0.67)
    assert sp.x_train.shape == (n_train - look_back, look_back) and sp.y_train.shape == (n_train - look_back,)
    assert sp.x_test.shape == (144 - n_train, look_back) and sp.y_test.shape == (144 - n_train,)
    assert sp.x_train.dtype == sp.y_train.dtype == np.float32
    np.testing.assert_array_equal(sp.train_index, np.arange(look_back, n_train))
    np.testing.assert_array_equal(sp.test_index, np.arange(n_train, 144))
    # the scaler saw only the training months: 1949-01 .. 1956-12 span 104 .. 413
    assert (sp.scaler.data_min, sp.scaler.data_max) == (104.0, 413.0)
    assert sp.y_train.min() >= 0 and sp.y_train.max() <= 1
    assert sp.y_test.max() > 1  # 1957-1960 go above the training maximum
    # targets and windows are the right months, and inverse_transform gives passengers back
    np.testing.assert_allclose(sp.scaler.inverse_transform(sp.y_test), s[n_train:], rtol=1e-6)
    np.testing.assert_allclose(sp.scaler.inverse_transform(sp.x_test[0]), s[n_train - look_back:n_train],
                               rtol=1e-6)
    np.testing.assert_allclose(sp.scaler.inverse_transform(sp.x_train[-1]), s[n_train - 1 - look_back:n_train - 1],
                               rtol=1e-6)


def test_windowed_split_bad_arguments():
    s = airline.load_data()
    with pytest.raises(ValueError, match="train_fraction must be in"):
        airline.windowed_split(s, 3, train_fraction=1.0)
    with pytest.raises(ValueError, match="leaves no training or no test target"):
        airline.windowed_split(s[:10], look_back=8, train_fraction=0.5)
    with pytest.raises(ValueError, match="look_back must be a positive integer"):
        airline.windowed_split(s, look_back=2.0)


def test_min_max_scaler():
    sc = airline.MinMaxScaler().fit([2.0, 4.0, 6.0])
    np.testing.assert_allclose(sc.transform([2.0, 4.0, 10.0]), [0.0, 0.5, 2.0])
    np.testing.assert_allclose(sc.inverse_transform([0.0, 0.25, 2.0]), [2.0, 3.0, 10.0])
    sc = airline.MinMaxScaler(feature_range=(-1, 1)).fit([0.0, 10.0])
    np.testing.assert_allclose(sc.transform([0.0, 5.0, 10.0]), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(sc.inverse_transform([-1.0, 0.0, 1.0]), [0.0, 5.0, 10.0])
    const = airline.MinMaxScaler().fit([3.0, 3.0])
    np.testing.assert_allclose(const.inverse_transform(const.transform([3.0])), [3.0])
    with pytest.raises(ValueError, match="not fitted"):
        airline.MinMaxScaler().transform([1.0])
    with pytest.raises(ValueError, match="lo < hi"):
        airline.MinMaxScaler(feature_range=(1, 0))
    with pytest.raises(ValueError, match="finite"):
        airline.MinMaxScaler().fit([1.0, np.nan])


def test_persistence_and_rmse():
    s = np.array([1.0, 3.0, 6.0, 10.0])
    np.testing.assert_array_equal(airline.persistence_forecast(s, [1, 2, 3]), [1.0, 3.0, 6.0])
    assert airline.rmse([1.0, 3.0, 6.0], [3.0, 6.0, 10.0]) == pytest.approx(np.sqrt((4 + 9 + 16) / 3))
    # the baseline the examples must beat: 1957-1960 predicted by the month before
    series = airline.load_data()
    base = airline.rmse(airline.persistence_forecast(series, np.arange(96, 144)), series[96:])
    assert base == pytest.approx(48.04, abs=0.01)
