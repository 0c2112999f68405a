"""The sequence examples reach their targets with fixed seeds, offline.

- timeseries_mlp / timeseries_lstm: test RMSE (passengers) below the persistence baseline's 48.0.
- imdb_lstm: >= 0.9 held-out accuracy on the synthetic review corpus (no download).
"""
import importlib.util

import pytest

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PERSISTENCE_TEST_RMSE = 48.04  # 1957-1960, each month predicted by the month before


def check_forecast(m):
    assert m["persistence_test_rmse"] == pytest.approx(PERSISTENCE_TEST_RMSE, abs=0.01)
    assert m["test_rmse"] < m["persistence_test_rmse"], m
    assert m["train_rmse"] < m["persistence_train_rmse"], m


@pytest.mark.slow
def test_timeseries_mlp_beats_persistence(tmp_path, capsys):
    from neurokern.examples import timeseries_mlp
    png = tmp_path / "mlp.png"
    m = timeseries_mlp.main(["--seed", "0", "--plot", str(png)])
    check_forecast(m)
    out = capsys.readouterr().out
    assert "persistence (next = last)" in out and "beats the baseline" in out
    if HAVE_MATPLOTLIB:
        assert m["plot"] == str(png) and png.stat().st_size > 1000
    else:
        assert m["plot"] is None and not png.exists() and "matplotlib is not installed" in out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_timeseries_mlp_other_seeds(seed):
    from neurokern.examples import timeseries_mlp
    check_forecast(timeseries_mlp.main(["--quiet", "--no-plot", "--seed", str(seed)]))


def test_timeseries_look_back_below_3_is_refused(capsys):
    from neurokern.examples import timeseries_mlp
    with pytest.raises(SystemExit):
        timeseries_mlp.main(["--look-back", "2", "--quiet"])
    assert "--look-back must be at least 3" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_timeseries_lstm_beats_persistence(tmp_path, seed):
    from neurokern.examples import timeseries_lstm
    m = timeseries_lstm.main(["--quiet", "--seed", str(seed), "--plot", str(tmp_path / "lstm.png")])
    check_forecast(m)


@pytest.mark.slow
def test_imdb_lstm_on_synthetic_reviews(monkeypatch):
    from neurokern.datasets import _cache
    from neurokern.examples import imdb_lstm

    def no_network(url, dest):
        raise AssertionError(f"the offline example tried to download {url}")
    monkeypatch.setattr(_cache, "fetch", no_network)
    m = imdb_lstm.main(["--quiet", "--seed", "0"])
    assert m["source"].startswith("synthetic")
    assert m["test_accuracy"] >= 0.9, m


@pytest.mark.slow
def test_imdb_lstm_imdb_path_reads_a_keras_file(tmp_path, monkeypatch):
    # the --imdb code path on a tiny Keras-format imdb.npz (hand-assembled, no pickle, no network)
    from test_imdb import write_keras_npz

    from neurokern.datasets import _cache
    from neurokern.examples import imdb_lstm
    monkeypatch.setattr(_cache, "fetch", lambda url, dest: pytest.fail(f"tried to download {url}"))
    raw = {"x_train": [[5, 6, 7], [8, 9], [5], [6, 6]], "y_train": [1, 0, 1, 0],
           "x_test": [[7, 5], [9]], "y_test": [1, 0]}
    path = write_keras_npz(tmp_path / "imdb.npz", raw)
    m = imdb_lstm.main(["--quiet", "--imdb", "--data", str(path), "--epochs", "1", "--maxlen", "6",
                        "--batch-size", "2"])
    assert m["source"] == "IMDB" and m["test_accuracy"] in (0.0, 0.5, 1.0)  # 2 held-out reviews
