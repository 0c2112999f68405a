"""Where dataset files come from: search paths, verified downloads, and the IDX file format.

Search order used by the image loaders (first hit wins):

    1. the explicit `path` argument (a directory holding the files, or a single archive file)
    2. $NEUROKERN_DATA/<dataset>/
    3. the user cache: $XDG_CACHE_HOME/neurokern/<dataset>/ or ~/.cache/neurokern/<dataset>/
    4. system copies (e.g. Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)
    5. a download into the user cache, each file checked against a SHA-256 digest in the code

MNIST and Fashion-MNIST use the same four file names, so every location is per dataset
(`<root>/mnist/`, `<root>/fashion-mnist/`), never a shared flat directory.

NEUROKERN_OFFLINE=1 turns any download attempt into an error (for machines without network).
"""
import gzip
import hashlib
import http.client
import os
import shutil
import struct
import urllib.request
from pathlib import Path

import numpy as np

# Seconds a single download may stall before it is abandoned (the caller then tries the next mirror).
DOWNLOAD_TIMEOUT = 30.0


def cache_dir():
    """neurokern's user cache root: $XDG_CACHE_HOME/neurokern, else ~/.cache/neurokern."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "neurokern"


def search_dirs(name, system_dirs=()):
    """Candidate directories for dataset `name`, in search order (steps 2-4 above)."""
    dirs = []
    env = os.environ.get("NEUROKERN_DATA")
    if env:
        dirs.append(Path(env).expanduser() / name)
    dirs.append(cache_dir() / name)
    dirs.extend(Path(d) for d in system_dirs)
    return dirs


def find_files(dirs, filenames):
    """The first directory in `dirs` that holds every name in `filenames`, or None."""
    for d in dirs:
        if all((d / f).is_file() for f in filenames):
            return d
    return None


def offline():
    return os.environ.get("NEUROKERN_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def fetch(url, dest):
    """Copy the bytes at `url` into the file `dest` (no checks; see download()).

    Kept as its own module-level function so tests can replace it and never touch the network.
    """
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response, open(dest, "wb") as f:
        shutil.copyfileobj(response, f)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(urls, dest, sha256):
    """Download to `dest` from the first of `urls` that works and whose bytes hash to `sha256`.

    The bytes go to `dest + '.part'` first and are renamed only after the digest matches, so an
    interrupted or tampered download never leaves a file that a later search would pick up.
    Raises OSError naming every mirror tried (and why each failed) when none delivers the file.
    """
    dest = Path(dest)
    if isinstance(urls, str):
        urls = [urls]
    if offline():
        raise OSError(f"NEUROKERN_OFFLINE is set: not downloading {dest.name} (from {urls[0]}). "
                      f"Put the file in {dest.parent} or unset NEUROKERN_OFFLINE.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    errors = []
    for url in urls:
        try:
            fetch(url, part)
            got = sha256_file(part)
            if got != sha256:
                raise OSError(f"SHA-256 mismatch for {url}: expected {sha256}, got {got}")
            os.replace(part, dest)
            return dest
        except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, short reads, bad digests
            errors.append(f"  {url}: {e}")
        finally:
            if part.exists():
                part.unlink()
    raise OSError(f"could not download {dest.name}:\n" + "\n".join(errors))


# --- IDX format --------------------------------------------------------------------------------
# A big-endian header: two zero bytes, a type code, the number of dimensions D, then D uint32
# sizes; then the prod(sizes) items, row-major. (http://yann.lecun.com/exdb/mnist/)
_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_bytes(path):
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":  # gzip magic
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError) as e:  # truncated or corrupt gzip stream
            raise ValueError(f"{path}: corrupt or truncated gzip file ({e})") from None
    return path.read_bytes()


def read_idx(path, ndim=None, shape=None):
    """The array stored in IDX file `path` (gzipped or not), in native byte order.

    Checks the magic number, the number of dimensions (`ndim`), optional expected sizes (`shape`,
    None entries match anything) and that the payload length equals prod(sizes); any mismatch is a
    ValueError naming the file.
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(data)} bytes)")
    zero, code, nd = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_TYPES:
        raise ValueError(f"{path}: bad IDX magic number 0x{data[:4].hex()} "
                         f"(expected 0x0000 then a type code in {sorted(_IDX_TYPES)})")
    if ndim is not None and nd != ndim:
        raise ValueError(f"{path}: IDX file has {nd} dimensions, expected {ndim}")
    header = 4 + 4 * nd
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{nd}I", data[4:header])
    if shape is not None:
        for got, want in zip(dims, shape):
            if want is not None and got != want:
                raise ValueError(f"{path}: IDX dimensions {dims}, expected {tuple(shape)}")
    dtype = _IDX_TYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: IDX payload is {len(data) - header} bytes but dimensions {dims} "
                         f"need {expected} (truncated or corrupt file)")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path, array):
    """Write `array` as an IDX file (gzipped if `path` ends in .gz). For tests and data prep."""
    array = np.asarray(array)
    codes = {v.newbyteorder("=").str: k for k, v in _IDX_TYPES.items()}
    key = array.dtype.newbyteorder("=").str
    if key not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    big = array.astype(_IDX_TYPES[codes[key]], copy=False)
    payload = struct.pack(f">HBB{array.ndim}I", 0, codes[key], array.ndim, *array.shape) + big.tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


# --- the four-file image sets (MNIST, Fashion-MNIST) ---------------------------------------------
IMAGE_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def read_image_set(directory, rows=28, cols=28):
    """((x_train, y_train), (x_test, y_test)) from the four IDX .gz files in `directory`.

    Images come back uint8 (N, rows, cols) and labels uint8 (N,), as keras.datasets returns them.
    The counts are not fixed (subsets are fine) but each label file must match its image file.
    """
    d = Path(directory)
    out = []
    for images_name, labels_name in ((IMAGE_FILES[0], IMAGE_FILES[1]), (IMAGE_FILES[2], IMAGE_FILES[3])):
        x = read_idx(d / images_name, ndim=3, shape=(None, rows, cols))
        y = read_idx(d / labels_name, ndim=1)
        for name, a in ((images_name, x), (labels_name, y)):
            if a.dtype != np.uint8:
                raise ValueError(f"{d / name}: IDX items are {a.dtype}, expected unsigned bytes")
        if len(x) != len(y):
            raise ValueError(f"{d / labels_name}: {len(y)} labels for {len(x)} images in {images_name}")
        out.append((x, y))
    return tuple(out)


def download_image_set(name, mirrors, digests):
    """Download the four files of dataset `name` into the user cache; returns the directory."""
    target = cache_dir() / name
    for f in IMAGE_FILES:
        if not (target / f).is_file():
            download([m + f for m in mirrors], target / f, digests[f])
    return target
