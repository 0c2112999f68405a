"""Weights and models in .npz files (NumPy's zip of arrays; read with allow_pickle=False, never pickle).

Weights file: one array per weight, keyed "<layer index>/<weight index>/<weight path>" (layer index
over the model's layers that own weights; the path is "<layer name>/<weight name>"). Loading matches
by position and weight name, like Keras' loading by topology, so a model rebuilt with other automatic
names (dense_3 instead of dense) still loads; the names in the keys make error messages readable.

Model file (model.save): the same arrays plus "__config__", the model's JSON config as a 0-d
unicode array.

Loading reads and checks everything first and only then writes into the model: a corrupt or
mismatched file raises ValueError and leaves the model unchanged.
"""
import json
import os
import tempfile
import zipfile

import numpy as np

CONFIG_KEY = "__config__"


def _weight_slots(model):
    """[(key, layer, weight)] in file order."""
    slots, index = [], 0
    for layer in model.layers:
        ws = layer.weights
        if not ws:
            continue
        for j, w in enumerate(ws):
            slots.append((f"{index:04d}/{j:03d}/{w.path}", layer, w))
        index += 1
    return slots


def _write_npz(path, arrays):
    """Write atomically (temp file + rename) to exactly `path` (np.savez alone would append '.npz')."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".nk-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_weights(model, path, config=None):
    if not model.built:
        raise ValueError(f"model '{model.name}' has no weights yet: build it (give an input shape, or call it "
                         "on data) before save_weights()")
    arrays = {key: w.numpy() for key, _, w in _weight_slots(model)}
    if config is not None:
        arrays[CONFIG_KEY] = np.array(json.dumps(config))
    _write_npz(path, arrays)


def read_npz(path):
    """{key: array} for every array in the file; any read problem becomes a ValueError."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no weights file at {path!r}")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:  # our handle: closed on errors too
            return {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"could not read {path!r} as a neurokern .npz weights file ({type(e).__name__}: {e}). "
                         "The file is corrupt or truncated, or not written by save_weights.") from None


def load_weights(model, path, arrays=None):
    arrays = read_npz(path) if arrays is None else arrays
    arrays = {k: v for k, v in arrays.items() if k != CONFIG_KEY}
    if not model.built:
        raise ValueError(f"model '{model.name}' is not built, so it has no weights to load into: give it an "
                         "input shape (Input(shape=...) or build()) first")
    slots = _weight_slots(model)
    by_slot = {}
    for key in arrays:
        parts = key.split("/")
        if len(parts) < 4 or not parts[0].isdigit() or not parts[1].isdigit():
            raise ValueError(f"{os.fspath(path)!r}: unexpected key {key!r}; not a neurokern weights file")
        by_slot[(int(parts[0]), int(parts[1]), parts[-1])] = key
    planned = []
    for key, layer, w in slots:
        parts, wname = key.split("/"), w.name
        file_key = by_slot.pop((int(parts[0]), int(parts[1]), wname), None)
        if file_key is None:
            raise ValueError(f"{os.fspath(path)!r} has no value for layer '{layer.name}' weight '{wname}' "
                             f"(expected key {key!r}, shape {w.shape}); found keys: {sorted(arrays)}")
        a = arrays[file_key]
        if a.dtype.kind not in "fiu":
            raise ValueError(f"{os.fspath(path)!r}: '{file_key}' holds dtype {a.dtype}, expected float32 numbers "
                             f"for layer '{layer.name}' weight '{wname}'")
        if tuple(a.shape) != w.shape:
            raise ValueError(f"{os.fspath(path)!r}: layer '{layer.name}' weight '{wname}' expects shape {w.shape}, "
                             f"found {tuple(a.shape)} (key {file_key!r})")
        planned.append((w, a))
    if by_slot:
        raise ValueError(f"{os.fspath(path)!r} holds weights the model does not have: {sorted(by_slot.values())} "
                         f"(model '{model.name}' has {len(slots)} weights)")
    for w, a in planned:
        w.assign(a)


def load_model(path):
    arrays = read_npz(path)
    if CONFIG_KEY not in arrays:
        raise ValueError(f"{os.fspath(path)!r} holds weights only (no model config): rebuild the model in code "
                         "and call model.load_weights(path)")
    try:
        config = json.loads(str(arrays[CONFIG_KEY]))
    except json.JSONDecodeError as e:
        raise ValueError(f"{os.fspath(path)!r}: the model config is not valid JSON ({e})") from None
    from neurokern import layers
    model = layers.deserialize(config)
    load_weights(model, path, arrays)
    return model
