"""The CPU test modules (tests/test_<family>.py) as reference libraries for the CUDA tests.

tests/cuda/test_lstm.py and tests/test_lstm.py share a file name, and both directories have a
conftest.py, so `import test_lstm` / `from conftest import ...` would find whichever is first on
sys.path. `cpu_test_module("test_lstm")` loads tests/test_lstm.py under a private name instead, with
the plain names it imports ("conftest", "test_lstm", ...) pointing at the tests/ files meanwhile.
"""
import importlib.util
import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent


def _load(name):
    key = f"_cpu_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, _TESTS / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


def cpu_test_module(name, uses=()):
    """tests/<name>.py; `uses` lists the tests/ modules it imports by name (besides conftest)."""
    key = f"_cpu_{name}"
    if key in sys.modules:
        return sys.modules[key]
    deps = {"conftest": _load("conftest")}
    deps.update({u: cpu_test_module(u) for u in uses})
    saved = {k: sys.modules.get(k) for k in deps}
    sys.modules.update(deps)
    try:
        return _load(name)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
