"""IMDB movie-review sentiment (Maas et al. 2011): 25,000 + 25,000 reviews as word-index lists.

    from neurokern.datasets import imdb
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=20000)
    word_index = imdb.get_word_index()                   # {'the': 1, 'and': 2, ...}

Same format and arguments as keras.datasets.imdb.load_data: x_* are 1-D object arrays of Python
lists of ints, y_* int64 labels (1 = positive). A word of rank r (1 = most frequent) appears as
r + index_from; each review starts with start_char; ranks >= num_words or < skip_top become
oov_char (or are dropped when oov_char=None); with maxlen, reviews of maxlen words or more are
dropped (Keras keeps len < maxlen); both splits are shuffled with np.random.RandomState(seed).

No pickle. Keras's imdb.npz stores its reviews as object arrays, which np.load can only open by
unpickling (np.load's pickle mode: arbitrary code runs if the file is hostile). neurokern never does
that. It reads two formats, each with np.load(allow_pickle=False) or less:

  imdb.npz       Keras's file, byte for byte (SHA-256 checked when downloaded). Its object
                 arrays are read by `read_keras_npz`, which walks the pickle opcodes with
                 pickletools (a disassembler: nothing is imported, called or constructed) and
                 accepts only the shape Keras wrote: a NumPy object array of lists of ints. Any
                 other opcode or global is refused with a ValueError.
  imdb_flat.npz  neurokern's pickle-free copy (write it with `save_flat`): for each split
                 x_<split>_words (int32, all reviews concatenated), x_<split>_lengths (int64)
                 and y_<split>; read with allow_pickle=False.

Search order (first hit wins): the `path` argument (a file, or a directory holding one of the
two), $NEUROKERN_DATA/imdb/, the user cache (~/.cache/neurokern/imdb/), then a download of
Keras's imdb.npz into the cache (NEUROKERN_OFFLINE=1 forbids it). get_word_index() reads
imdb_word_index.json the same way (downloaded with Keras's MD5 digest, the only one Keras
publishes for it).
"""
import hashlib
import json
import os
import pickletools
import zipfile
from pathlib import Path

import numpy as np

from neurokern.datasets import _cache

NAME = "imdb"
KERAS_NPZ = "imdb.npz"
FLAT_NPZ = "imdb_flat.npz"
WORD_INDEX = "imdb_word_index.json"
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Keras's own digests (keras/src/datasets/imdb.py): SHA-256 of imdb.npz, MD5 of the word index.
NPZ_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"
SPLITS = ("train", "test")


# --- reading Keras's object arrays without unpickling ----------------------------------------------

# What a pickled NumPy object array may reference (module renamed numpy.core -> numpy._core in NumPy 2).
_ALLOWED_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                    ("numpy", "ndarray"), ("numpy", "dtype"),
                    ("_codecs", "encode")}  # how protocol 2 spells bytes (the b'b' of _reconstruct)
_INT_OPS = {"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "INT", "LONG"}
_STR_OPS = {"SHORT_BINSTRING", "BINSTRING", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
            "SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "STRING", "UNICODE"}


class _Call:
    """An un-executed call `func(*args)` from the opcode stream, plus its BUILD state."""

    def __init__(self, func, args):
        self.func, self.args, self.state = func, args, None


def _object_array_lists(data, where):
    """The list of int lists inside the pickle bytes `data` of a NumPy object array.

    A tiny stack machine over pickletools.genops: ints, strings, lists, tuples, memo and marks are
    materialised; GLOBAL/REDUCE/BUILD are recorded, never executed, and only the names NumPy uses
    for an ndarray are allowed.
    """
    stack, memo, marks = [], {}, []

    def pop_mark():
        start = marks.pop()
        items = stack[start:]
        del stack[start:]
        return items

    def refuse(what):
        raise ValueError(f"{where}: refusing pickled content ({what}); expected a NumPy object array "
                         "of lists of ints as Keras writes it")

    try:
        ops = list(pickletools.genops(data))
    except ValueError as e:
        raise ValueError(f"{where}: corrupt pickle stream ({e})") from None
    for op, arg, _ in ops:
        name = op.name
        if name in ("PROTO", "FRAME"):
            continue
        if name == "STOP":
            break
        if name in _INT_OPS:
            stack.append(int(arg))
        elif name in _STR_OPS:
            stack.append(arg)
        elif name == "NONE":
            stack.append(None)
        elif name in ("NEWTRUE", "NEWFALSE"):
            stack.append(name == "NEWTRUE")
        elif name == "MARK":
            marks.append(len(stack))
        elif name == "EMPTY_LIST":
            stack.append([])
        elif name == "LIST":
            stack.append(pop_mark())
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif name == "TUPLE":
            stack.append(tuple(pop_mark()))
        elif name == "APPEND":
            item = stack.pop()
            if not isinstance(stack[-1], list):
                refuse("APPEND to a non-list")
            stack[-1].append(item)
        elif name == "APPENDS":
            items = pop_mark()
            if not isinstance(stack[-1], list):
                refuse("APPENDS to a non-list")
            stack[-1].extend(items)
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[arg])
        elif name in ("GLOBAL", "STACK_GLOBAL"):
            if name == "GLOBAL":
                module, qual = arg.split(" ", 1)
            else:
                qual = stack.pop()
                module = stack.pop()
            if (module, qual) not in _ALLOWED_GLOBALS:
                refuse(f"global {module}.{qual}")
            stack.append(("global", module, qual))
        elif name == "REDUCE":
            args = stack.pop()
            func = stack.pop()
            stack.append(_Call(func, args))
        elif name == "BUILD":
            state = stack.pop()
            if not isinstance(stack[-1], _Call):
                refuse("BUILD on a plain value")
            stack[-1].state = state
        else:
            refuse(f"opcode {name}")
    if len(stack) != 1 or not isinstance(stack[0], _Call) or stack[0].func[2] != "_reconstruct":
        refuse("the top object is not an ndarray")
    state = stack[0].state
    # ndarray state: (version, shape, dtype, is_fortran, data); dtype is itself a _Call of numpy.dtype
    if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[2], _Call)
            and state[2].args and state[2].args[0] in ("O8", "O4", b"O8", b"O4")):
        refuse("not an object-dtype array")
    shape, items = state[1], state[4]
    if not (isinstance(shape, tuple) and len(shape) == 1 and isinstance(items, list) and len(items) == shape[0]):
        refuse(f"array of shape {shape!r}, expected one dimension")
    for i, item in enumerate(items):
        if not isinstance(item, list) or not all(type(w) is int for w in item):
            refuse(f"item {i} is not a list of ints")
    return items


def _read_npy_member(zf, member, where):
    """One .npy member of an .npz: a plain array via np.lib.format, or (object dtype) the lists."""
    with zf.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"{where}: unsupported .npy version {version}")
        if dtype.hasobject:
            return _object_array_lists(f.read(), f"{where}[{member}]")
    with zf.open(member) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def read_keras_npz(path):
    """{'x_train': [lists of word ranks], 'y_train': int64 array, 'x_test': ..., 'y_test': ...}
    from Keras's imdb.npz, without unpickling (see the module docstring)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            out = {}
            for key in ("x_train", "y_train", "x_test", "y_test"):
                if key + ".npy" not in names:
                    raise ValueError(f"{path}: no array {key!r} (keys {sorted(n[:-4] for n in names)})")
                out[key] = _read_npy_member(zf, key + ".npy", path)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path}: not an .npz file ({e})") from None
    return _checked(out, path)


def _checked(d, where):
    for split in SPLITS:
        x, y = d[f"x_{split}"], d[f"y_{split}"]
        if isinstance(y, list) or np.asarray(y).ndim != 1 or len(y) != len(x):
            raise ValueError(f"{where}: y_{split} must be a 1-D array with one label per review "
                             f"({len(x)} reviews)")
        d[f"y_{split}"] = np.asarray(y).astype(np.int64, copy=False)
    return d


# --- neurokern's flat format --------------------------------------------------------------------

def save_flat(path, train, test):
    """Write (x_train, y_train), (x_test, y_test) (word-rank lists, labels) as a pickle-free .npz.

    The arrays are the raw word ranks, as stored in Keras's imdb.npz; load_data reads the result with
    np.load(allow_pickle=False) and applies its usual options (num_words, maxlen, ...).
    """
    arrays = {}
    for split, (x, y) in zip(SPLITS, (train, test)):
        lengths = np.array([len(s) for s in x], dtype=np.int64)
        words = np.concatenate([np.asarray(s, dtype=np.int64) for s in x]) if len(x) else np.zeros(0, np.int64)
        if words.size and (words.min() < 0 or words.max() > np.iinfo(np.int32).max):
            raise ValueError(f"x_{split}: word ranks must be in [0, 2**31)")
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise ValueError(f"y_{split} has shape {y.shape}, expected ({len(x)},)")
        arrays[f"x_{split}_words"] = words.astype(np.int32)
        arrays[f"x_{split}_lengths"] = lengths
        arrays[f"y_{split}"] = y.astype(np.int64)
    np.savez_compressed(path, **arrays)


def read_flat_npz(path):
    """The dict read_keras_npz returns, from a file written by save_flat (allow_pickle=False)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            out = {}
            for split in SPLITS:
                words, lengths = f[f"x_{split}_words"], f[f"x_{split}_lengths"]
                if words.ndim != 1 or lengths.ndim != 1 or lengths.min(initial=0) < 0 \
                        or int(lengths.sum()) != len(words):
                    raise ValueError(f"x_{split}_lengths do not add up to the {len(words)} stored words")
                ends = np.cumsum(lengths)
                out[f"x_{split}"] = [words[e - n:e].tolist() for n, e in zip(lengths.tolist(), ends.tolist())]
                out[f"y_{split}"] = f[f"y_{split}"]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a neurokern {FLAT_NPZ} ({e})") from None
    return _checked(out, path)


def read_any(path):
    """Read `path` as Keras's imdb.npz or neurokern's flat file, whichever it is."""
    try:
        with zipfile.ZipFile(path) as zf:
            flat = "x_train_words.npy" in zf.namelist()
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path}: not an .npz file ({e})") from None
    return read_flat_npz(path) if flat else read_keras_npz(path)


# --- finding the files ----------------------------------------------------------------------------

def _in_dir(d):
    for name in (FLAT_NPZ, KERAS_NPZ):
        if (d / name).is_file():
            return d / name
    return None


def find(path=None):
    """The file load_data(path) would read, or None (then load_data downloads)."""
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p
        found = _in_dir(p) if p.is_dir() else None
        if found is not None:
            return found
        # Keras's default argument is the bare name "imdb.npz" (relative to its cache): treat it
        # as "search the usual places" when no such file is here; anything else must exist.
        if str(path) != KERAS_NPZ:
            raise FileNotFoundError(f"{p} holds no IMDB copy: expected {KERAS_NPZ} or {FLAT_NPZ}")
    for d in _cache.search_dirs(NAME):
        found = _in_dir(d)
        if found is not None:
            return found
    return None


def download():
    """Download Keras's imdb.npz into the user cache (SHA-256 checked); returns its path."""
    return _cache.download([ORIGIN + KERAS_NPZ], _cache.cache_dir() / NAME / KERAS_NPZ, NPZ_SHA256)


# --- Keras's load_data rules ------------------------------------------------------------------------

def _object_array(seqs):
    """A 1-D object array of lists (np.array(seqs, dtype=object) would make 2-D arrays when all
    lists have one length)."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out


def apply_vocabulary(x_train, y_train, x_test, y_test, num_words=None, skip_top=0, maxlen=None, seed=113,
                     start_char=1, oov_char=2, index_from=3):
    """Keras's imdb.load_data steps on raw word-rank lists: shuffle, offset, maxlen filter, vocabulary.

    Returns ((x_train, y_train), (x_test, y_test)) with x as 1-D object arrays of lists.
    """
    for name, v in (("num_words", num_words), ("maxlen", maxlen)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"{name} must be None or a positive integer. Received: {name}={v!r}")
    if isinstance(skip_top, bool) or not isinstance(skip_top, (int, np.integer)) or skip_top < 0:
        raise ValueError(f"skip_top must be a non-negative integer. Received: skip_top={skip_top!r}")
    rng = np.random.RandomState(seed)
    splits = []
    for x, y in ((x_train, y_train), (x_test, y_test)):
        order = np.arange(len(x))
        rng.shuffle(order)
        x = [x[i] for i in order]
        y = np.asarray(y)[order]
        if start_char is not None:
            x = [[start_char] + [w + index_from for w in s] for s in x]
        else:
            x = [[w + index_from for w in s] for s in x]
        if maxlen:
            keep = [i for i, s in enumerate(x) if len(s) < maxlen]  # Keras keeps len < maxlen
            x, y = [x[i] for i in keep], y[keep]
        splits.append((x, y))
    if maxlen and (not splits[0][0] or not splits[1][0]):
        raise ValueError(f"after filtering for sequences shorter than maxlen={maxlen}, no sequence was "
                         "kept in one of the splits: increase maxlen")
    xs = splits[0][0] + splits[1][0]
    if not num_words:
        # Keras's rule, kept for identical output: the largest index itself then counts as out of
        # vocabulary (skip_top <= w < num_words below)
        num_words = max((max(s) for s in xs if s), default=0)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in s] for s in xs]
    else:
        xs = [[w for w in s if skip_top <= w < num_words] for s in xs]
    n = len(splits[0][0])
    return (_object_array(xs[:n]), splits[0][1].astype(np.int64)), \
           (_object_array(xs[n:]), splits[1][1].astype(np.int64))


def load_data(path=KERAS_NPZ, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, download_if_missing=True):
    """((x_train, y_train), (x_test, y_test)) of IMDB in Keras's format (see the module docstring).

    `path` is a file or a directory (the bare default 'imdb.npz' means: search the usual places).
    A file found locally is never re-downloaded. download_if_missing=False raises
    FileNotFoundError instead of downloading.
    """
    found = find(path)
    if found is None:
        if not download_if_missing:
            raise FileNotFoundError(f"IMDB not found: put {KERAS_NPZ} (Keras's file) or {FLAT_NPZ} in "
                                    f"{_cache.cache_dir() / NAME} or $NEUROKERN_DATA/{NAME}, or pass path=")
        found = download()
    d = read_any(found)
    return apply_vocabulary(d["x_train"], d["y_train"], d["x_test"], d["y_test"], num_words=num_words,
                            skip_top=skip_top, maxlen=maxlen, seed=seed, start_char=start_char,
                            oov_char=oov_char, index_from=index_from)


def _md5_file(path):
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download_word_index(dest):
    if _cache.offline():
        raise OSError(f"NEUROKERN_OFFLINE is set: not downloading {WORD_INDEX}. Put it in {dest.parent}.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        _cache.fetch(ORIGIN + WORD_INDEX, part)
        got = _md5_file(part)
        if got != WORD_INDEX_MD5:
            raise OSError(f"MD5 mismatch for {ORIGIN + WORD_INDEX}: expected {WORD_INDEX_MD5}, got {got}")
        os.replace(part, dest)
    finally:
        if part.exists():
            part.unlink()
    return dest


def get_word_index(path=WORD_INDEX):
    """{word: rank} (rank 1 = most frequent); in load_data's sequences a word appears as rank + index_from."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / WORD_INDEX
    if not p.is_file():
        if str(path) != WORD_INDEX:
            raise FileNotFoundError(f"{p}: no such word-index file")
        p = next((d / WORD_INDEX for d in _cache.search_dirs(NAME) if (d / WORD_INDEX).is_file()), None)
        if p is None:
            p = _download_word_index(_cache.cache_dir() / NAME / WORD_INDEX)
    with open(p, encoding="utf-8") as f:
        try:
            index = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{p}: not a JSON word index ({e})") from None
    if not isinstance(index, dict) or not all(isinstance(v, int) for v in index.values()):
        raise ValueError(f"{p}: expected a JSON object mapping words to integer ranks")
    return index
