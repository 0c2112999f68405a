"""fit / evaluate / predict on datasets: iterables of (x, y) batches (Keras: a tf.data.Dataset or a
PyDataset), e.g. neurokern.preprocessing.image_dataset_from_directory(...).

The model's step functions, metrics and callbacks are the ones the array path uses (models/model.py);
only the loop differs: batches come from the dataset (its batch size wins, `batch_size` must be None),
an epoch is one pass over it (or `steps_per_epoch` batches, carrying on across passes), and
validation_data may be a dataset too. `len(dataset)`, when defined, gives the progress bar its steps.
"""
import numpy as np

import neurokern as nk
from neurokern import callbacks as callbacks_module
from neurokern._core import Tensor

__all__ = ["is_dataset", "fit", "evaluate", "predict"]


def is_dataset(x):
    """An iterable of batches rather than an array: not NumPy, a Tensor, a list/tuple or a dict."""
    return (x is not None and hasattr(x, "__iter__")
            and not isinstance(x, (np.ndarray, Tensor, list, tuple, dict, str, bytes)))


def _single_io(model):
    if model._input_count() > 1 or model._output_count() > 1:
        raise NotImplementedError(f"model '{model.name}' has several inputs or outputs: datasets are supported for "
                                  "models with one input and one output; pass lists of NumPy arrays instead")


def _split(batch, what):
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return batch[0], batch[1], (batch[2] if len(batch) == 3 else None)
    raise ValueError(f"{what} must yield (x, y) or (x, y, sample_weight) batches for training/evaluation. "
                     f"Received a batch of type {type(batch).__name__}")


def _steps(ds, steps):
    if steps is not None:
        return int(steps)
    try:
        return len(ds)
    except TypeError:
        return None


def _batches(ds, steps):
    """Up to `steps` batches (all of one pass when steps is None); restarts a re-iterable dataset."""
    if steps is None:
        yield from ds
        return
    it, given = iter(ds), 0
    while given < steps:
        try:
            yield next(it)
        except StopIteration:
            if given == 0 or iter(ds) is ds:  # empty, or a one-shot generator that ran dry
                return
            it = iter(ds)
            continue
        given += 1


def _reject_arrays_args(y, batch_size, sample_weight=None, class_weight=None):
    if y is not None:
        raise ValueError("when x is a dataset, y must be None: the dataset yields (x, y) batches")
    if batch_size is not None:
        raise ValueError("when x is a dataset, batch_size must be None: the dataset is already batched")
    if sample_weight is not None or class_weight is not None:
        raise ValueError("sample_weight / class_weight are not supported with datasets: yield (x, y, sample_weight) "
                         "batches instead")


def fit(model, ds, y, batch_size, epochs, verbose, callbacks, validation_data, initial_epoch, steps_per_epoch,
        validation_steps, validation_freq, sample_weight=None, class_weight=None):
    _single_io(model)
    _reject_arrays_args(y, batch_size, sample_weight, class_weight)
    steps = _steps(ds, steps_per_epoch)
    if steps_per_epoch is not None:  # keep one iterator across epochs, as Keras does
        source = _batches(ds, None if iter(ds) is ds else float("inf"))
    cbs = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                                        verbose=verbose, epochs=epochs, steps=steps, mode="train")
    model.history = cbs.history
    model.stop_training = False
    logs = {}
    cbs.on_train_begin()
    try:
        for epoch in range(initial_epoch, epochs):
            model.reset_metrics()
            cbs.on_epoch_begin(epoch)
            total, seen = 0.0, 0
            batches = _batches(ds, None) if steps_per_epoch is None else (b for _, b in zip(range(steps), source))
            for step, batch in enumerate(batches):
                xb, yb, wb = _split(batch, "the training dataset")
                cbs.on_train_batch_begin(step)
                xb = model._prepare_x(xb)
                yb = model._prepare_y(yb, len(xb))
                wb = model._prepare_sample_weight(wb, None, yb, len(xb))
                model._build_metrics(yb.shape, model.output_shape)
                loss, y_pred = model._train_step(nk.tensor(xb), yb, wb)
                total += loss * len(xb)
                seen += len(xb)
                logs = model._logs(total / seen, yb, y_pred)
                cbs.on_train_batch_end(step, logs)
                if model.stop_training:
                    break
            if seen == 0:
                raise ValueError("the training dataset yielded no batches")
            epoch_logs = dict(logs)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val = evaluate(model, validation_data, None, None, 0, None, validation_steps, True) \
                    if is_dataset(validation_data) else None
                if val is None:
                    xv, yv = model._prepare_x(validation_data[0]), None
                    yv = model._prepare_y(validation_data[1], len(xv))
                    val = model._evaluate_arrays(xv, yv, 32)
                epoch_logs.update({"val_" + k: v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if model.stop_training:
                break
    finally:
        cbs.on_train_end(logs)
    return model.history


def evaluate(model, ds, y, batch_size, verbose, callbacks, steps, return_dict, sample_weight=None):
    _single_io(model)
    _reject_arrays_args(y, batch_size, sample_weight)
    n_steps = _steps(ds, steps)
    cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                                        steps=n_steps, mode="test")
    cbs.on_test_begin()
    total, seen, logs = 0.0, 0, {}
    model.reset_metrics()
    for step, batch in enumerate(_batches(ds, steps)):
        xb, yb, wb = _split(batch, "the evaluation dataset")
        cbs.on_test_batch_begin(step)
        xb = model._prepare_x(xb)
        yb = model._prepare_y(yb, len(xb))
        wb = model._prepare_sample_weight(wb, None, yb, len(xb))
        if step == 0:
            model._build_metrics(yb.shape, model.output_shape)
            model.reset_metrics()
        loss, y_pred = model._test_step(nk.tensor(xb), yb, wb)
        total += loss * len(xb)
        seen += len(xb)
        logs = model._logs(total / seen, yb, y_pred)
        cbs.on_test_batch_end(step, logs)
    if seen == 0:
        raise ValueError("the evaluation dataset yielded no batches")
    model.reset_metrics()
    cbs.on_test_end(logs)
    if return_dict:
        return dict(logs)
    values = [logs["loss"]] + [logs[m.name] for m in model._metrics]
    return values[0] if len(values) == 1 else values


def predict(model, ds, batch_size, verbose, steps, callbacks):
    _single_io(model)
    if batch_size is not None:
        raise ValueError("when x is a dataset, batch_size must be None: the dataset is already batched")
    cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                                        steps=_steps(ds, steps), mode="predict")
    cbs.on_predict_begin()
    parts = []
    for step, batch in enumerate(_batches(ds, steps)):
        xb = batch[0] if isinstance(batch, (tuple, list)) else batch  # labels, if any, are ignored (Keras)
        cbs.on_predict_batch_begin(step)
        y_pred, _ = model.forward(nk.tensor(model._prepare_x(xb)), training=False)
        parts.append(np.array(y_pred.numpy(), copy=True))
        cbs.on_predict_batch_end(step)
    cbs.on_predict_end()
    return np.concatenate(parts) if parts else np.zeros((0,) + tuple(model.output_shape[1:]), np.float32)
