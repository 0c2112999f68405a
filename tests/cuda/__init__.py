# tests/cuda is a package so that its test_<family>.py and conftest.py do not clash with the files of the
# same name in tests/ (pytest's default "prepend" import mode names modules by file name). The package is
# called `cuda`, like NVIDIA's cuda-python namespace package (cuda.bindings, cuda.pathfinder, which CuPy may
# import): extend_path keeps those importable while tests/ is on sys.path.
import pkgutil

__path__ = pkgutil.extend_path(__path__, __name__)
