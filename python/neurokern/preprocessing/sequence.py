"""Sequence preprocessing: pad_sequences with the semantics of keras.utils.pad_sequences.

    from neurokern.preprocessing.sequence import pad_sequences
    pad_sequences([[1, 2, 3], [4, 5]], maxlen=4)             # [[0 1 2 3] [0 0 4 5]]
    pad_sequences([[1, 2, 3], [4, 5]], maxlen=2, padding="post", truncating="post")   # [[1 2] [4 5]]

Data preparation only (NumPy), no training math.
"""
import numpy as np

__all__ = ["pad_sequences"]

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or cut) a list of sequences to one length; returns an array (num_samples, maxlen, ...).

    As Keras:
    - maxlen=None pads to the longest sequence;
    - padding 'pre' puts `value` before each sequence, 'post' after it;
    - truncating 'pre' drops values from the start of a longer sequence (keeps the last maxlen),
      'post' drops them from the end;
    - items may be scalars or equal-shaped arrays (the sample shape is taken from the first
      non-empty sequence); they are cast to `dtype` (so floats are truncated by an int dtype);
    - empty sequences become rows of `value`.
    Differences from Keras, all on inputs Keras mishandles: a bad `padding`/`truncating` raises
    even when every sequence is empty, an empty list of sequences gives shape (0, maxlen or 0),
    and maxlen=0 gives zero-width rows (Keras fails inside NumPy).
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be a list of sequences (e.g. lists of word indices). "
                         f"Received: sequences of type {type(sequences).__name__}")
    if padding not in _SIDES:
        raise ValueError(f"padding must be 'pre' or 'post'. Received: padding={padding!r}")
    if truncating not in _SIDES:
        raise ValueError(f"truncating must be 'pre' or 'post'. Received: truncating={truncating!r}")
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer))
                               or maxlen < 0):
        raise ValueError(f"maxlen must be None or a non-negative integer. Received: maxlen={maxlen!r}")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a NumPy dtype. Received: dtype={dtype!r}") from None
    if isinstance(value, str) and dtype != object and dtype.kind not in "US":
        raise ValueError(f"dtype {dtype} cannot hold the string value {value!r}: use dtype=object "
                         f"for variable-length strings. Received: value={value!r}")

    lengths = []
    sample_shape = ()
    found_sample = False
    for i, s in enumerate(sequences):
        if isinstance(s, (str, bytes)) and dtype.kind not in "USO":
            raise ValueError(f"`sequences` must be a list of sequences of numbers; sequence {i} is the "
                             f"string {s!r} (tokenise texts first, e.g. with Tokenizer.texts_to_sequences)")
        try:
            n = len(s)
        except TypeError:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable at position {i}: "
                             f"{s!r}") from None
        lengths.append(n)
        if n and not found_sample:
            sample_shape = np.asarray(s).shape[1:]
            found_sample = True
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    maxlen = int(maxlen)

    x = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return x
    for i, s in enumerate(sequences):
        if not lengths[i]:
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"sequence {i} has items of shape {kept.shape[1:]}, but the first non-empty "
                             f"sequence has items of shape {sample_shape}: all items must have one shape")
        if padding == "post":
            x[i, :len(kept)] = kept
        else:
            x[i, maxlen - len(kept):] = kept
    return x
