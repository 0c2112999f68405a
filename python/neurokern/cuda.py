"""The CUDA backend: which compiled module runs device 'cuda', and whether it is a real GPU.

Two modules implement the same kernels from the same csrc/cuda/*.cu source:

    neurokern._cuda       built by nvcc when a CUDA toolkit is found (NEUROKERN_CUDA=AUTO|ON); needs a GPU
    neurokern._cuda_emu   always built; runs the kernels on the CPU emulator (slow; for tests and teaching)

Device 'cuda' uses a real GPU when one is present. Without one it raises, unless you opt into the
emulator with `neurokern.cuda.use_emulator()` or the environment variable NEUROKERN_CUDA_EMULATOR=1
(read once, when this module is imported: the documented exception to "no environment variables").
The emulator never stands in for a GPU silently.
"""
import importlib
import os

__all__ = ["use_emulator", "is_emulated", "is_available", "device_count", "synchronize", "backend",
           "build_info"]

_ENV = "NEUROKERN_CUDA_EMULATOR"
_emulator = os.environ.get(_ENV, "") not in ("", "0")
_modules = {}  # "neurokern._cuda" / "neurokern._cuda_emu" -> module or the ImportError
_gpu_count = []  # cached cudaGetDeviceCount of neurokern._cuda (asked once: devices do not come and go)


def _load(name):
    if name not in _modules:
        try:
            _modules[name] = importlib.import_module(name)
        except ImportError as e:
            _modules[name] = e
    mod = _modules[name]
    return None if isinstance(mod, ImportError) else mod


def _real():
    """neurokern._cuda if it was built and sees at least one GPU, else None."""
    mod = _load("neurokern._cuda")
    if mod is None:
        return None
    return mod if _real_count(mod) > 0 else None


def _real_count(mod):
    if not _gpu_count:
        try:
            _gpu_count.append(int(mod.device_count()))
        except RuntimeError:  # no driver, or a driver older than the runtime: no usable GPU
            _gpu_count.append(0)
    return _gpu_count[0]


def _emu():
    return _load("neurokern._cuda_emu")


def use_emulator(enable=True):
    """Run device 'cuda' on the CPU emulator (neurokern._cuda_emu) from now on (enable=False: back to a GPU).

    Tensors keep the backend that allocated them; a kernel given a tensor of the other backend raises.
    """
    global _emulator
    if not isinstance(enable, bool):
        raise TypeError(f"use_emulator takes True or False. Received: enable={enable!r}")
    if enable and _emu() is None:
        raise RuntimeError(f"the CUDA emulator module neurokern._cuda_emu is missing from this build "
                           f"({_modules['neurokern._cuda_emu']}); reinstall neurokern")
    _emulator = enable


def is_emulated():
    """True when device 'cuda' runs on the CPU emulator."""
    return _emulator


def is_available():
    """True when device 'cuda' can run: a GPU is present, or the emulator was opted into."""
    return (_emu() is not None) if _emulator else (_real() is not None)


def device_count():
    """Number of usable CUDA devices (the emulator counts as one device)."""
    if _emulator:
        return 1 if _emu() is not None else 0
    mod = _load("neurokern._cuda")
    return 0 if mod is None else _real_count(mod)


def _unavailable_reason():
    if _load("neurokern._cuda") is None:
        return ("this neurokern was built without CUDA (no nvcc was found, or NEUROKERN_CUDA=OFF); rebuild with "
                "pip install . -Ccmake.define.NEUROKERN_CUDA=ON on a machine with the CUDA toolkit")
    return "no CUDA GPU is visible (neurokern._cuda is built, but the driver reports 0 devices)"


def _unavailable_message():
    return (f"device 'cuda' is not available: {_unavailable_reason()}. To run the CUDA kernels on the CPU "
            f"emulator instead (slow; for tests), call neurokern.cuda.use_emulator() or set {_ENV}=1.")


def backend():
    """The compiled module that runs device 'cuda' now (neurokern._cuda or neurokern._cuda_emu)."""
    if _emulator:
        mod = _emu()
        if mod is None:
            raise RuntimeError(f"{_ENV}=1 asks for the CUDA emulator, but neurokern._cuda_emu is missing from "
                               f"this build ({_modules['neurokern._cuda_emu']})")
        return mod
    mod = _real()
    if mod is None:
        raise RuntimeError(_unavailable_message())
    return mod


def synchronize():
    """Wait until every kernel launched on device 'cuda' has finished (kernels launch asynchronously)."""
    backend().synchronize()


def _loaded_backends():
    """Every CUDA module imported so far (to find the one that owns a tensor)."""
    return [m for m in (_load("neurokern._cuda"), _emu()) if m is not None]


def build_info():
    """What CUDA support this build has: {'cuda_built', 'emulator_built', 'device_count', 'emulated'}."""
    return {"cuda_built": _load("neurokern._cuda") is not None, "emulator_built": _emu() is not None,
            "device_count": device_count(), "emulated": _emulator}


def __getattr__(name):
    # The emulator's own switches (check mode, schedule order ...) live in neurokern._cuda_emu;
    # reach them as neurokern.cuda.emulator.<name>.
    if name == "emulator":
        mod = _emu()
        if mod is None:
            raise AttributeError("neurokern._cuda_emu is missing from this build")
        return mod
    raise AttributeError(f"module 'neurokern.cuda' has no attribute {name!r}")
