"""The real CUDA build: where nvcc is on PATH (these machines, CI), `pip install .` must have compiled
every csrc/cuda/*.cu with nvcc into neurokern._cuda, with sm_80 and sm_90 machine code and compute_90
PTX (CMakeLists.txt: CMAKE_CUDA_ARCHITECTURES "80-real;90"). Nothing here runs on a GPU: the test
reads the fat binaries embedded in the module file, so a build that quietly skipped nvcc, or dropped
a kernel file or an architecture, fails here.

Fat binary layout (as nvcc writes it into the .nv_fatbin section, one per translation unit):
    header   u32 magic 0xBA55ED50, u16 version, u16 header size, u64 size of the entries
    entry    u16 kind (1 PTX, 2 ELF cubin), u16, u32 entry header size, u64 payload size, ...,
             u32 sm architecture at byte 28 (80, 90, ...)
"""
import importlib.util
import os
import shutil
import struct
from pathlib import Path

import pytest

FATBIN_MAGIC = 0xBA55ED50
PTX, CUBIN = 1, 2
CUDA_SOURCES = Path(__file__).resolve().parents[2] / "csrc" / "cuda"


def fat_binaries(data):
    """[{(kind, arch), ...} per fat binary] found in a module file's bytes."""
    magic = struct.pack("<I", FATBIN_MAGIC)
    found = []
    pos = data.find(magic)
    while pos != -1:
        _, header_size, size = struct.unpack_from("<HHQ", data, pos + 4)
        p, end = pos + header_size, pos + header_size + size
        entries = set()
        while p < end:
            kind, _, entry_header, payload = struct.unpack_from("<HHIQ", data, p)
            entries.add((kind, struct.unpack_from("<I", data, p + 28)[0]))
            p += entry_header + payload
        found.append(entries)
        pos = data.find(magic, pos + 4)
    return found


def test_fat_binary_reader_on_a_made_up_module():
    def entry(kind, arch, payload):
        head = struct.pack("<HHIQ", kind, 0, 64, len(payload)) + b"\0" * 12 + struct.pack("<I", arch)
        return head + b"\0" * (64 - len(head)) + payload
    body = entry(CUBIN, 80, b"x" * 40) + entry(PTX, 90, b"y" * 8)
    blob = b"junk" + struct.pack("<IHHQ", FATBIN_MAGIC, 1, 16, len(body)) + body + b"tail"
    assert fat_binaries(blob) == [{(CUBIN, 80), (PTX, 90)}]
    assert fat_binaries(b"no fat binary here") == []


def test_nvcc_on_path_means_every_kernel_file_was_compiled_for_sm80_and_sm90():
    if shutil.which("nvcc") is None:
        pytest.skip("nvcc is not on PATH: this build has only the CPU emulator module (NEUROKERN_CUDA=AUTO)")
    if os.environ.get("NEUROKERN_CUDA", "").upper() == "OFF":
        pytest.skip("NEUROKERN_CUDA=OFF: the nvcc module was switched off on purpose")
    spec = importlib.util.find_spec("neurokern._cuda")
    assert spec is not None and spec.origin, (
        "nvcc is on PATH but neurokern._cuda was not built: the CUDA build was skipped or failed quietly "
        "(rebuild with -Ccmake.define.NEUROKERN_CUDA=ON to see why)")
    fatbins = fat_binaries(Path(spec.origin).read_bytes())
    if CUDA_SOURCES.is_dir():  # a source checkout: one fat binary per kernel file
        assert len(fatbins) == len(sorted(CUDA_SOURCES.glob("*.cu"))), [p.name for p in CUDA_SOURCES.glob("*.cu")]
    assert fatbins, "neurokern._cuda holds no CUDA device code"
    for entries in fatbins:
        assert {(CUBIN, 80), (CUBIN, 90), (PTX, 90)} <= entries, entries
