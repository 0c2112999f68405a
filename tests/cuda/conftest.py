"""Fixtures for the CUDA tests: every test here runs device 'cuda' on the CPU emulator (neurokern._cuda_emu),
so CI checks the same kernel source without a GPU. Real-GPU tests opt out with the `real_gpu` fixture.

If this build has no emulator module, every test in this directory is skipped with the reason shown.
"""
import importlib

import pytest

import neurokern as nk
from neurokern import cuda

try:
    importlib.import_module("neurokern._cuda_emu")
    _EMU_MISSING = None
except ImportError as e:
    _EMU_MISSING = f"neurokern._cuda_emu is not built ({e})"


def pytest_collection_modifyitems(config, items):
    if _EMU_MISSING is None:
        return
    skip = pytest.mark.skip(reason=_EMU_MISSING)
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _emulated_cuda():
    """Device 'cuda' = the emulator for the test; the default device and backend choice restored after."""
    was_emulated = cuda.is_emulated()
    if _EMU_MISSING is None:
        cuda.use_emulator()
    try:
        yield
    finally:
        nk.set_default_device("cpu")
        if _EMU_MISSING is None:
            cuda.use_emulator(was_emulated)


@pytest.fixture
def real_gpu():
    """For tests that need a real GPU (neurokern._cuda with a device): skips cleanly anywhere else."""
    if cuda._real() is None:
        built = cuda._load("neurokern._cuda") is not None
        pytest.skip("needs a CUDA GPU: " + ("neurokern._cuda is built but sees no device" if built
                                            else "this build has no neurokern._cuda (nvcc not found)"))
    cuda.use_emulator(False)
    yield cuda.backend()
