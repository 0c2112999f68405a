"""Device placement. Only 'cpu' exists until the CUDA backend (neurokern._cuda) lands."""


def _no_cuda(device):
    raise RuntimeError(
        f"device {device!r} is not available: this build of neurokern has no CUDA backend yet. "
        "Use device='cpu'.")


def to_device(t, device):
    if device == "cpu":
        return t
    _no_cuda(device)


def empty(shape, dtype, device):
    _no_cuda(device)


def zeros(shape, dtype, device):
    _no_cuda(device)
