"""Callbacks: hook order, History, EarlyStopping (stop + restore best weights), ModelCheckpoint files,
TerminateOnNaN, and the Progbar's terminal vs log-file modes."""
import io
import math

import numpy as np
import pytest

from neurokern import callbacks, optimizers, utils
from neurokern.callbacks import Callback, EarlyStopping, ModelCheckpoint, Progbar
from neurokern.layers import Dense, Input
from neurokern.models import Sequential


def small_model():
    model = Sequential([Input(shape=(3,)), Dense(4, activation="relu"), Dense(1)])
    model.compile("sgd", "mse")
    return model


@pytest.fixture
def xy(rng):
    x = rng.standard_normal((32, 3)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]


class Script(Callback):
    """Overwrites logs[key] with scripted values (runs before the callbacks under test) and records the
    weights at each epoch end."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values, self.weights = key, list(values), []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None): self.events.append("train_begin")
    def on_train_end(self, logs=None): self.events.append("train_end")
    def on_epoch_begin(self, epoch, logs=None): self.events.append(f"epoch_begin{epoch}")
    def on_epoch_end(self, epoch, logs=None): self.events.append(f"epoch_end{epoch}:{sorted(logs)}")
    def on_train_batch_end(self, batch, logs=None): self.events.append(f"batch{batch}")


def test_hook_order_and_params(xy):
    x, y = xy
    rec = Recorder()
    small_model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[rec])
    assert rec.events == ["train_begin", "epoch_begin0", "batch0", "batch1", "epoch_end0:['loss']",
                          "epoch_begin1", "batch0", "batch1", "epoch_end1:['loss']", "train_end"]
    assert rec.params["epochs"] == 2 and rec.params["steps"] == 2


def test_early_stopping_stops_and_restores_best(xy):
    x, y = xy
    model = small_model()
    script = Script("val_loss", [1.0, 0.5, 0.6, 0.55, 0.7, 0.1, 0.1])
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=7, verbose=0, callbacks=[script, es])
    # best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3 and es.best_epoch == 1
    assert model.stop_training
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), script.weights[1]))
    assert not np.array_equal(script.weights[1][0], script.weights[3][0])  # training did change them


def test_early_stopping_min_delta_and_max_mode(xy):
    x, y = xy
    script = Script("val_accuracy", [0.5, 0.505, 0.51, 0.9])
    es = EarlyStopping(monitor="val_accuracy", min_delta=0.02, patience=1)  # 'auto' -> max for accuracy
    h = small_model().fit(x, y, epochs=4, verbose=0, callbacks=[script, es])
    assert h.epoch == [0, 1] and es.mode == "max"


def test_early_stopping_missing_monitor_warns(xy):
    x, y = xy
    with pytest.warns(UserWarning, match="val_loss` which is not available"):
        small_model().fit(x, y, epochs=1, verbose=0, callbacks=[EarlyStopping()])


def test_model_checkpoint_writes_epoch_files(tmp_path, xy):
    x, y = xy
    model = small_model()
    pattern = str(tmp_path / "ckpt" / "w-{epoch:02d}-{loss:.2f}.npz")
    model.fit(x, y, epochs=3, verbose=0, callbacks=[ModelCheckpoint(pattern, save_weights_only=True)])
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert [f[:4] for f in files] == ["w-01", "w-02", "w-03"]
    other = small_model()
    other.load_weights(tmp_path / "ckpt" / files[-1])
    assert np.array_equal(other.predict(x), model.predict(x))  # the last file holds the final weights


def test_model_checkpoint_save_best_only(tmp_path, xy):
    x, y = xy
    script = Script("val_loss", [0.9, 0.95, 0.3, 0.4])
    path = tmp_path / "best-{epoch}.npz"
    model = small_model()
    model.fit(x, y, epochs=4, verbose=0, callbacks=[script, ModelCheckpoint(str(path), save_best_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-1.npz", "best-3.npz"]
    from neurokern.models import load_model
    best = load_model(tmp_path / "best-3.npz")  # full model (architecture + weights)
    ref = small_model()
    ref.set_weights(script.weights[2])
    assert np.array_equal(best.predict(x), ref.predict(x))


def test_terminate_on_nan_and_stop_training_mid_epoch(xy):
    x, y = xy

    class StopAtBatch(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    h = small_model().fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[StopAtBatch()])
    assert h.epoch == [0]
    t = callbacks.TerminateOnNaN()
    t.set_model(small_model())
    t.on_train_batch_end(0, {"loss": math.nan})
    assert t.model.stop_training


def test_on_train_end_runs_on_keyboard_interrupt(xy):
    x, y = xy
    rec = Recorder()

    class Interrupt(Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise KeyboardInterrupt

    model = small_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[rec, Interrupt()])
    assert rec.events[-1] == "train_end"
    assert model.predict(x).shape == (32, 1)  # still usable


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progbar_terminal_redraws_in_place_log_file_does_not():
    tty = FakeTTY()
    bar = Progbar(10, verbose=1, interval=0.0, stream=tty)
    for i in range(1, 11):
        bar.update(i, {"loss": 0.5})
    out = tty.getvalue()
    assert out.count("\r") == 10 and out.endswith("\n") and out.count("\n") == 1
    assert "10/10 [==============================]" in out
    log = io.StringIO()
    bar = Progbar(10, verbose=1, interval=0.0, stream=log)
    for i in range(1, 11):
        bar.update(i, {"loss": 0.5, "tiny": 1e-5})
    text = log.getvalue()
    assert "\r" not in text and text.count("\n") == 1
    assert "loss: 0.5000" in text and "tiny: 1.0000e-05" in text


def test_history_callback_collects(xy):
    x, y = xy
    utils.set_random_seed(0)
    model = small_model()
    h = model.fit(x, y, epochs=3, verbose=0)
    assert isinstance(h, callbacks.History) and len(h.history["loss"]) == 3
    assert all(isinstance(v, float) for v in h.history["loss"])


def test_reduce_lr_on_plateau(xy):
    x, y = xy
    model = small_model()
    model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    script = Script("val_loss", [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7])
    cb = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    h = model.fit(x, y, epochs=8, verbose=0, callbacks=[script, cb])
    # logs record the rate used during each epoch: halved after epochs 2-3 do not improve on epoch 1,
    # epoch 4 is the cooldown, epoch 5 improves, epochs 6-7 stall -> halved again after epoch 7
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05])
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_and_csv_logger(tmp_path, xy):
    x, y = xy
    model = small_model()
    model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    path = tmp_path / "log.csv"
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched, callbacks.CSVLogger(path)])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,learning_rate,loss" and len(rows) == 4
    assert rows[2].startswith("1,0.05,") and float(rows[3].split(",")[2]) == pytest.approx(h.history["loss"][2])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    assert len(path.read_text().splitlines()) == 5  # appended a row, no second header
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e, lr: "fast")])
