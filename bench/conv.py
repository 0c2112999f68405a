"""conv2d forward and forward+backward: neurokern vs PyTorch CPU, side by side in one process.

    python bench/conv.py                  # 2 threads; writes bench/results/conv.md
    python bench/conv.py --threads 1    # writes bench/results/conv_1threads.md

Both libraries get the same thread count (nk.set_num_threads / torch.set_num_threads) and the same
data. neurokern runs NHWC with Keras kernels (KH, KW, C, F) into preallocated outputs; PyTorch runs
its default NCHW and also channels_last (NHWC memory), and the ratio is against the faster of the two.
"fwd+bwd" is forward, backward-data and backward-weights (+ bias gradient) - for torch one
autograd backward with x, w and b requiring grad. Each case is timed best-of-N in interleaved blocks
(bench/_common.py). GFLOPS counts 2*N*OH*OW*KH*KW*C*F per pass (3 passes for fwd+bwd).

Rows that need other engineers' ops (max-pool, the LeNet training step) run only when those ops /
layers are present in this checkout, and the table says when they were left out.
"""
import argparse
import sys

from _common import cpu_name, markdown_table, side_by_side, write_result

import numpy as np  # noqa: E402

import neurokern as nk  # noqa: E402
from neurokern import _core, ops  # noqa: E402

# (label, N, H, W, C, F, K, padding)
SHAPES = [
    ("LeNet conv1", 64, 28, 28, 1, 6, 5, "same"),
    ("LeNet conv2", 64, 14, 14, 6, 16, 5, "valid"),
    ("ResNet 56x56x64", 32, 56, 56, 64, 64, 3, "same"),
    ("VGG 56x56x128", 8, 56, 56, 128, 128, 3, "same"),
    ("VGG conv1 224x224x3", 8, 224, 224, 3, 64, 3, "same"),
]


def conv_case(torch, n, h, w, c, f, k, padding, rng):
    x = rng.standard_normal((n, h, w, c), dtype=np.float32)
    wk = (rng.standard_normal((k, k, c, f), dtype=np.float32) / np.sqrt(k * k * c)).astype(np.float32)
    b = rng.standard_normal(f, dtype=np.float32)
    oh, pt, pb = ops.conv_output_size(h, k, 1, 1, padding)
    ow, pl, pr = ops.conv_output_size(w, k, 1, 1, padding)
    dy = rng.standard_normal((n, oh, ow, f), dtype=np.float32)
    pads, one = (pt, pb, pl, pr), (1, 1)
    xt, wt, bt, dyt = nk.tensor(x), nk.tensor(wk), nk.tensor(b), nk.tensor(dy)
    yt, dxt, dwt, dbt = nk.empty((n, oh, ow, f)), nk.empty(x.shape), nk.zeros(wk.shape), nk.zeros((f,))

    def nk_fwd():
        _core.conv2d_forward(yt, xt, wt, bt, one, pads, one)

    def nk_fwd_bwd():
        _core.conv2d_forward(yt, xt, wt, bt, one, pads, one)
        _core.conv2d_backward_data(dxt, dyt, wt, one, pads, one)
        _core.conv2d_backward_weights(dwt, dbt, dyt, xt, one, pads, one)

    F = torch.nn.functional
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    tw = torch.from_numpy(wk).permute(3, 2, 0, 1).contiguous()
    tb = torch.from_numpy(b)
    tdy = torch.from_numpy(dy).permute(0, 3, 1, 2).contiguous()
    assert pt == pb and pl == pr, "the benchmark shapes use symmetric padding (odd kernels, stride 1)"
    fns = {}
    for layout, fmt in (("nchw", torch.contiguous_format), ("nhwc", torch.channels_last)):
        lx, lw, ldy = (t.contiguous(memory_format=fmt) for t in (tx, tw, tdy))
        gx, gw, gb = (t.clone().requires_grad_() for t in (lx, lw, tb))

        def t_fwd(lx=lx, lw=lw):
            with torch.no_grad():
                F.conv2d(lx, lw, tb, padding=(pt, pl))

        def t_fwd_bwd(gx=gx, gw=gw, gb=gb, ldy=ldy):
            gx.grad = gw.grad = gb.grad = None
            F.conv2d(gx, gw, gb, padding=(pt, pl)).backward(ldy)

        fns[layout] = (t_fwd, t_fwd_bwd)

    # agree before timing
    nk_fwd()
    with torch.no_grad():
        ref = F.conv2d(tx, tw, tb, padding=(pt, pl)).permute(0, 2, 3, 1).numpy()
    err = np.max(np.abs(yt.numpy() - ref)) / max(1.0, np.max(np.abs(ref)))
    assert err < 1e-4, f"neurokern and torch disagree: {err}"
    flop = 2.0 * n * oh * ow * k * k * c * f
    return flop, (nk_fwd, nk_fwd_bwd), fns


def pool_row(torch, rounds, rng):
    """Max-pool 2x2 fwd+bwd on 32x56x56x64, if ops.max_pool2d exists (engineer 'pool')."""
    if not hasattr(ops, "max_pool2d"):
        return None
    x = rng.standard_normal((32, 56, 56, 64), dtype=np.float32)
    xt = nk.tensor(x)
    dy = nk.tensor(rng.standard_normal((32, 28, 28, 64), dtype=np.float32))
    yt, dxt = nk.empty((32, 28, 28, 64)), nk.empty(x.shape)

    def nk_step():
        ops.max_pool2d(xt, (2, 2), out=yt)
        ops.max_pool2d_backward(dy, xt, (2, 2), None, "valid", out=dxt)

    gx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last).requires_grad_()
    tdy = torch.from_numpy(dy.numpy()).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)

    def t_step():
        gx.grad = None
        torch.nn.functional.max_pool2d(gx, 2).backward(tdy)

    best = side_by_side({"nk": nk_step, "torch": t_step}, rounds=rounds)
    return ["max-pool 2x2 32x56x56x64", "fwd+bwd", f"{best['nk'] * 1e3:.2f}", "-", "-",
            f"{best['torch'] * 1e3:.2f} (channels_last)", "-", f"**{best['torch'] / best['nk']:.2f}**"]


def lenet_step_row(torch, rounds, rng):
    """One LeNet-5 training step (batch 64, Adam), the networks of bench/train.py --network lenet."""
    import train  # bench/train.py: the same two networks, so the step is defined once
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, size=64).astype(np.int64)
    model = train.lenet_neurokern(64)
    net, opt, loss_fn = train.lenet_torch(64)
    xt, yt = torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(y)  # channels_last view

    def torch_step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(xt), yt).backward()
        opt.step()
    best = side_by_side({"nk": lambda: model.train_on_batch(x, y), "torch": torch_step}, rounds=rounds)
    return ["LeNet training step, batch 64, Adam", "fwd+bwd+update", f"{best['nk'] * 1e3:.2f}", "-", "-",
            f"{best['torch'] * 1e3:.2f} (channels_last)", "-", f"**{best['torch'] / best['nk']:.2f}**"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds per case")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("bench/conv.py compares with PyTorch: pip install torch==2.13.0")
        return 1
    nk.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows = []
    for label, n, h, w, c, f, k, padding in SHAPES:
        flop, (nk_fwd, nk_fwd_bwd), tfns = conv_case(torch, n, h, w, c, f, k, padding, rng)
        for pas, idx, mult in (("fwd", 0, 1), ("fwd+bwd", 1, 3)):
            fns = {"nk": (nk_fwd, nk_fwd_bwd)[idx], "nchw": tfns["nchw"][idx], "nhwc": tfns["nhwc"][idx]}
            best = side_by_side(fns, rounds=args.rounds)
            t_torch = min(best["nchw"], best["nhwc"])
            gf = lambda t: f"{mult * flop / t * 1e-9:.0f}"  # noqa: E731
            rows.append([f"{label} {n}x{h}x{w}x{c}->{f} {k}x{k} {padding}", pas, f"{best['nk'] * 1e3:.2f}",
                         gf(best["nk"]), f"{best['nchw'] * 1e3:.2f}", f"{best['nhwc'] * 1e3:.2f}", gf(t_torch),
                         f"**{t_torch / best['nk']:.2f}**"])
            print(f"  {rows[-1][0]} {pas}: nk {rows[-1][2]} ms, torch {t_torch * 1e3:.2f} ms, "
                  f"ratio {t_torch / best['nk']:.2f}", flush=True)
    notes = []
    row = pool_row(torch, args.rounds, rng)
    if row:
        rows.append(row)
    else:
        notes.append("max-pool fwd+bwd: left out (neurokern.ops.max_pool2d is not in this checkout).")
    rows.append(lenet_step_row(torch, args.rounds, rng))
    headers = ["conv (NHWC, Keras kernel)", "pass", "nk ms", "nk GFLOPS", "torch NCHW ms",
               "torch channels_last ms", "torch GFLOPS (best)", "speed vs torch (>1 = nk faster)"]
    text = "\n".join([
        "## conv2d: neurokern vs PyTorch CPU\n",
        f"CPU: {cpu_name()}; {args.threads} threads each; neurokern {nk.__version__} "
        f"(ISA {ops.get_isa()}, variant auto -> `{_core.conv2d_variants()['forward'][-1][0]}`); "
        f"torch {torch.__version__}. float32, best of {args.rounds} interleaved blocks; ratio = best torch "
        "layout time / neurokern time. The machine is shared, so absolute times are noisy; the ratio is "
        "measured side by side.\n",
        markdown_table(headers, rows), "",
        *[f"- {n_}" for n_ in notes],
    ])
    path = write_result("conv" if args.threads == 2 else f"conv_{args.threads}threads", text)
    print("\n" + text)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
