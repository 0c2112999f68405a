"""Training callbacks (Keras semantics) and the progress display.

    Callback          base: on_train_begin/end, on_epoch_begin/end(epoch, logs), on_{train,test,predict}_batch_*
    History           records the epoch logs; `model.fit` returns it (history.history['loss'], ...)
    EarlyStopping     stop when `monitor` stops improving; optionally restore the best weights
    ModelCheckpoint   save weights (.npz) or the model each epoch / on improvement; '{epoch:02d}' in the path
    TerminateOnNaN    stop when the loss becomes NaN or inf
    ReduceLROnPlateau multiply the optimizer's learning rate by `factor` when `monitor` stalls
    LearningRateScheduler  learning rate = schedule(epoch, lr) at the start of each epoch
    CSVLogger         one CSV row of epoch logs per epoch
    LambdaCallback    callbacks from plain functions
    ProgbarLogger     the per-epoch progress display used by fit/evaluate/predict (verbose=1 or 2)

Progress display modes (Progbar): on a terminal, verbose=1 redraws one line in place ('\\r', at
most 10 times a second); when stdout is a file or pipe (logs, CI) it prints ONE line per epoch and
never writes '\\r' or '\\b'. verbose=2 prints one line per epoch everywhere; verbose=0 is silent.
"""
import math
import os
import sys
import time
import warnings

import numpy as np

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN",
           "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "LambdaCallback", "ProgbarLogger", "Progbar"]


class Callback:
    """Override any of the hooks; `self.model` is set by fit, `self.params` holds verbose/epochs/steps."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params)

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Keras 2 names
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls every callback's hook in order. Adds a History (for fit) and a ProgbarLogger (verbose > 0)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        callbacks = [] if callbacks is None else list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances. Received: {cb!r}")
        self.history = None
        if add_history:
            self.history = next((c for c in callbacks if isinstance(c, History)), None) or History()
            if self.history not in callbacks:
                callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in callbacks):
            callbacks.insert(0, ProgbarLogger())
        self.callbacks = callbacks
        for cb in callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(params)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)
    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, logs)
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)
        self._call("on_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)
        self._call("on_batch_end", batch, logs)


class History(Callback):
    """history.history maps each log key ('loss', 'accuracy', 'val_loss', ...) to per-epoch values;
    history.epoch lists the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


def _monitor_op(mode, monitor):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode == "auto":
        name = monitor[4:] if monitor.startswith("val_") else monitor
        big = name.endswith("acc") or name.endswith("accuracy") or name.endswith("auc") or \
            name in ("precision", "recall")
        mode = "max" if big else "min"
    return mode


class EarlyStopping(Callback):
    """Stop training when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    With restore_best_weights=True the model gets the weights of the best epoch back when training
    ends (Keras 3: also when it ran all epochs without stopping early)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer. Received: patience={patience!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.mode = _monitor_op(mode, monitor)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _better(self, value, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save after every epoch (or only on improvement of `monitor` with save_best_only=True).

    `filepath` may contain format fields: '{epoch:02d}' (1-based, as Keras) and any log key
    ('{val_loss:.3f}'). save_weights_only=True writes model.save_weights (.npz); otherwise
    model.save (.npz with the architecture and the weights)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise NotImplementedError(f"ModelCheckpoint saves once per epoch. Received: save_freq={save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = _monitor_op(mode, monitor)
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", stacklevel=2)
                return
            better = self.best is None or (current < self.best if self.mode == "min" else current > self.best)
            if not better:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class TerminateOnNaN(Callback):
    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


def _optimizer_of(model, who):
    opt = getattr(model, "optimizer", None)
    if opt is None or not hasattr(opt, "learning_rate"):
        raise ValueError(f"{who} needs a compiled model whose optimizer has a `learning_rate`")
    return opt


class ReduceLROnPlateau(Callback):
    """Keras semantics: after `patience` epochs without an improvement of more than `min_delta`, the learning
    rate becomes max(lr * factor, min_lr), then `cooldown` epochs pass before counting again. Adds
    'learning_rate' to the epoch logs (so History records it), as Keras 3 does."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau() got unexpected keyword argument(s) {sorted(kwargs)}")
        if not 0.0 <= float(factor) < 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received: factor={factor!r}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, float(factor), int(patience), verbose
        self.mode = _monitor_op(mode, monitor)
        self.min_delta, self.cooldown, self.min_lr = abs(float(min_delta)), int(cooldown), float(min_lr)
        self._reset()

    def _reset(self):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_train_begin(self, logs=None):
        self._reset()

    def _better(self, current):
        if self.best is None:
            return True
        return current < self.best - self.min_delta if self.mode == "min" else current > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = _optimizer_of(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = float(opt.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}.", stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(opt.learning_rate)
                if old > self.min_lr:
                    opt.learning_rate = max(old * self.factor, self.min_lr)
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                              f"{float(opt.learning_rate)}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Before each epoch, set the optimizer's learning rate to schedule(epoch, current_lr) (epoch 0-based)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"schedule must be a function (epoch, lr) -> lr. Received: schedule={schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = _optimizer_of(self.model, "LearningRateScheduler")
        lr = self.schedule(epoch, float(opt.learning_rate))
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, np.integer)) or \
                not math.isfinite(float(lr)):
            raise ValueError(f'The output of the "schedule" function should be a float. Got: {lr!r}')
        opt.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(_optimizer_of(self.model, "LearningRateScheduler").learning_rate)


class CSVLogger(Callback):
    """Write 'epoch' and every log key (sorted, as Keras) to a CSV file, one row per epoch."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, bool(append)
        self._file, self._keys = None, None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._keys = None
        self._header_written = exists

    def on_epoch_end(self, epoch, logs=None):
        import csv
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
        writer = csv.writer(self._file, delimiter=self.sep)
        if not self._header_written:
            writer.writerow(["epoch"] + self._keys)
            self._header_written = True
        writer.writerow([epoch] + [logs.get(k, "NA") for k in self._keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None):
        super().__init__()
        for hook, fn in [("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_train_batch_begin", on_train_batch_begin), ("on_train_batch_end", on_train_batch_end)]:
            if fn is not None:
                setattr(self, hook, fn)


# ---- progress display ---------------------------------------------------------------------------
def _format_value(v):
    if isinstance(v, (int, float, np.floating, np.integer)):
        return f"{v:.4f}" if abs(v) > 1e-3 or v == 0 else f"{v:.4e}"
    return str(v)


def _format_time(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


def _is_interactive(stream):
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return "ipykernel" in sys.modules


class Progbar:
    """A Keras-style progress line: '469/469 [=====...] - 3s 6ms/step - loss: 0.4700 - accuracy: 0.8600'.

    verbose=1: redrawn in place with '\\r' (throttled to `interval` seconds) when the stream is a
    terminal or notebook; otherwise only the final line is printed. verbose=2: only the final line,
    without the bar. The stream is looked up at print time (sys.stdout by default)."""

    def __init__(self, target, width=30, verbose=1, interval=0.1, stream=None, unit_name="step"):
        self.target, self.width, self.verbose, self.interval = target, width, verbose, interval
        self._stream, self.unit_name = stream, unit_name
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._last_len = 0
        self._finished = False

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def update(self, current, values=None, finalize=None):
        if self.verbose == 0 or self._finished:
            return
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        values = list(values.items()) if isinstance(values, dict) else list(values or [])
        now = time.perf_counter()
        dynamic = self.verbose == 1 and _is_interactive(self.stream)
        if not finalize and (not dynamic or now - self._last_update < self.interval):
            return
        self._last_update = now
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        line = self._counter(current)
        if self.verbose == 1:
            line += " " + self._bar(current)
        if finalize:
            line += f" - {elapsed:.0f}s" + (" -" if self.verbose == 2 else "") + \
                    f" {_format_time(per_unit)}/{self.unit_name}"
        elif self.target is not None:
            line += f" - ETA: {_format_time(per_unit * (self.target - current))}"
        for k, v in values:
            line += f" - {k}: {_format_value(v)}"
        if dynamic:
            pad = max(0, self._last_len - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._last_len = len(line)
            if finalize:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._finished = finalize

    def _counter(self, current):
        if self.target is None:
            return f"{current}"
        w = len(str(self.target))
        return f"{current:>{w}}/{self.target}"

    def _bar(self, current):
        if not self.target:
            return ""
        done = int(self.width * min(current, self.target) / self.target)
        if done < self.width:
            return "[" + "=" * done + ">" + "." * (self.width - done - 1) + "]"
        return "[" + "=" * self.width + "]"


class ProgbarLogger(Callback):
    """Prints 'Epoch i/N' and a Progbar per epoch (fit) or one per call (evaluate/predict).
    Uses params['verbose'] (1 or 2) and params['steps']."""

    def __init__(self):
        super().__init__()
        self.progbar = None

    def _verbose(self):
        return self.params.get("verbose", 1)

    def _new_bar(self):
        self.progbar = Progbar(self.params.get("steps"), verbose=self._verbose())

    def on_epoch_begin(self, epoch, logs=None):
        if self._verbose():
            epochs = self.params.get("epochs")
            print(f"Epoch {epoch + 1}/{epochs}", file=sys.stdout, flush=True)
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        if self.progbar is not None:
            self.progbar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None:
            self.progbar.update(self.params.get("steps") or 0, logs, finalize=True)

    def on_test_begin(self, logs=None):
        if self.params.get("mode") == "test":
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if self.params.get("mode") == "test" and self.progbar is not None:
            self.progbar.update(batch + 1, logs, finalize=False)

    def on_test_end(self, logs=None):
        if self.params.get("mode") == "test" and self.progbar is not None:
            self.progbar.update(self.params.get("steps") or 0, logs, finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        if self.progbar is not None:
            self.progbar.update(batch + 1, None, finalize=False)

    def on_predict_end(self, logs=None):
        if self.progbar is not None:
            self.progbar.update(self.params.get("steps") or 0, None, finalize=True)
