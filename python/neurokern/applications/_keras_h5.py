"""Read Keras 2 HDF5 weight files (the format of Keras' published ImageNet weights) into a model.

Layout (keras/src/legacy/saving/legacy_h5_format.py): the root group (a file written by
model.save_weights) or its 'model_weights' group (a full model.save file) has the attribute
'layer_names'; each layer group has the attribute 'weight_names' and holds one dataset per name:

    /block1_conv1  attrs: weight_names = [b'block1_conv1/kernel:0', b'block1_conv1/bias:0']
    /block1_conv1/block1_conv1/kernel:0   float32 (3, 3, 3, 64)

A layer group of a nested model (e.g. 'vgg16' inside a Sequential) lists its sub-layers' weights
('block1_conv1/kernel:0', ...), so entries are grouped by the part of the weight name before the
last '/'. The model side is flattened the same way (nested models contribute their own layers).

Matching, as Keras' load_weights: by topology (the i-th weighted layer of the file goes to the i-th
weighted layer of the model; the counts must agree) or by_name (layers with the same name; others
are skipped). Within a layer, weights match by short name ('kernel', 'bias', 'gamma', ...) when the
names agree, else by position. Every shape is checked before anything is assigned, so a failed load
leaves the model unchanged. h5py is imported lazily (pip install h5py); pickle is never used.
"""
import os

import numpy as np

__all__ = ["load_weights_h5", "weighted_layers"]


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("reading Keras .h5 weight files needs h5py: pip install h5py "
                          "(or pip install 'neurokern[test]')") from None
    return h5py


def _text(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def weighted_layers(model):
    """[(layer name, layer)] for every leaf layer that has weights, nested models flattened, in order."""
    out = []
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and layer is not model:  # a nested model
            out += weighted_layers(layer)
        elif layer._weights:
            out.append((layer.name, layer))
    return out


def _file_entries(path):
    """[(layer name, [(short weight name, array)])] in file order, nested groups split by weight-name prefix."""
    h5py = _h5py()
    if not os.path.isfile(path):
        raise ValueError(f"weights file {path!r} does not exist")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path!r} is not an HDF5 file: expected a Keras .h5 weights file "
                         "(model.save_weights('x.h5') / model.save('x.h5') in Keras 2)")
    entries = []
    with h5py.File(path, "r") as f:
        g = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in g.attrs:
            hint = " (this looks like a Keras 3 .weights.h5 file, which is not supported yet)" if "layers" in g else ""
            raise ValueError(f"{path!r} has no 'layer_names' attribute: not a Keras 2 HDF5 weights file{hint}")
        for lname in (_text(n) for n in g.attrs["layer_names"]):
            if lname not in g:
                raise ValueError(f"{path!r}: layer '{lname}' is listed in 'layer_names' but has no group")
            lg = g[lname]
            names = [_text(n) for n in lg.attrs.get("weight_names", [])]
            groups = {}
            for wn in names:
                if wn not in lg:
                    raise ValueError(f"{path!r}: layer '{lname}' lists weight '{wn}' but the file has no such dataset")
                arr = np.asarray(lg[wn][()])
                if arr.dtype.kind not in "fiu":
                    raise ValueError(f"{path!r}: layer '{lname}' weight '{wn}' is not numeric (dtype {arr.dtype})")
                prefix, _, short = wn.rpartition("/")
                short = short.split(":")[0]
                groups.setdefault(prefix or lname, []).append((short, arr))
            if len(groups) > 1:  # a nested model: one entry per sub-layer
                entries += [(p.rpartition("/")[2], ws) for p, ws in groups.items()]
            elif groups:
                entries.append((lname, next(iter(groups.values()))))
    return entries


def _pair_weights(layer, saved, path, sname):
    """[(Weight, array)] for one layer, every shape checked."""
    mine = layer.weights
    if len(saved) != len(mine):
        raise ValueError(f"{path!r}: layer '{layer.name}' expects {len(mine)} weights "
                         f"({', '.join(w.name for w in mine)}) but the file's layer '{sname}' has {len(saved)} "
                         f"({', '.join(n for n, _ in saved)})")
    by_name = {n: a for n, a in saved}
    if sorted(by_name) == sorted(w.name for w in mine):
        pairs = [(w, by_name[w.name]) for w in mine]
    else:
        pairs = list(zip(mine, (a for _, a in saved)))
    for w, a in pairs:
        if tuple(a.shape) != w.shape:
            raise ValueError(f"{path!r}: layer '{layer.name}' weight '{w.name}' has shape {w.shape} in the model, "
                             f"but the file's layer '{sname}' stores shape {tuple(a.shape)}")
    return pairs


def load_weights_h5(model, path, by_name=False, skip_mismatch=False):
    """Copy the weights stored in Keras 2 HDF5 file `path` into `model` (see the module docstring)."""
    path = os.fspath(path)
    entries = _file_entries(path)
    layers = weighted_layers(model)
    assignments = []
    if by_name:
        saved = dict(entries)
        for name, layer in layers:
            if name in saved:
                try:
                    assignments += _pair_weights(layer, saved[name], path, name)
                except ValueError:
                    if not skip_mismatch:
                        raise
    else:
        entries = [(n, ws) for n, ws in entries if ws]
        if len(entries) != len(layers):
            mine, theirs = [n for n, _ in layers], [n for n, _ in entries]
            missing = [n for n in mine if n not in theirs]
            extra = [n for n in theirs if n not in mine]
            detail = (f" Missing from the file: {missing}." if missing else "") + \
                     (f" Not in the model: {extra}." if extra else "")
            raise ValueError(f"{path!r}: layer count mismatch when loading weights: the model has {len(layers)} "
                             f"layers with weights, the file {len(entries)}.{detail} (by_name=True loads the "
                             "layers whose names match)")
        for (name, layer), (sname, ws) in zip(layers, entries):
            assignments += _pair_weights(layer, ws, path, sname)
    for w, a in assignments:
        w.assign(a)
    return model
