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
    """Device 'cuda' = the emulator in checking mode for the test; the default device, backend choice and
    emulator options are restored after."""
    if _EMU_MISSING is not None:
        yield
        return
    was_emulated = cuda.is_emulated()
    cuda.use_emulator()
    # checking mode: out-of-bounds accesses, barrier misuse and unwritten outputs fail the test
    options = cuda.set_emulator_options(check=True)
    try:
        yield
    finally:
        nk.set_default_device("cpu")
        cuda.set_emulator_options(**options)
        cuda.use_emulator(was_emulated)


@pytest.fixture
def checking():
    """For one test, on top of checking mode: every launch runs twice (forward, then reverse thread/block
    order) and the outputs are compared, so a race, a missing __syncthreads or an unwritten element fails."""
    prev = cuda.set_emulator_options(check=True, differential=True)
    try:
        yield
    finally:
        cuda.set_emulator_options(**prev)


@pytest.fixture
def real_gpu():
    """For tests that need a real GPU (neurokern._cuda with a device): skips cleanly anywhere else."""
    if cuda._real() is None:
        built = cuda._load("neurokern._cuda") is not None
        pytest.skip("needs a CUDA GPU: " + ("neurokern._cuda is built but sees no device" if built
                                            else "this build has no neurokern._cuda (nvcc not found)"))
    cuda.use_emulator(False)
    yield cuda.backend()
