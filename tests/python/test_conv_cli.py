"""`convbench conv` checked end to end against an independent float64 NumPy convolution.

The reference below is written from the definition (PyTorch-style cross-correlation):
    y[n, g*Kg+k, o] = sum_{c, r} x[n, g*Cg+c, o*s + r*d - p] * w[g*Kg+k, c, r]
dgrad is its adjoint computed by scattering dy back through every kernel tap, wgrad the
correlation of dy with the padded input. Shapes and data are fresh each run; every failure
message carries the seed (CONVBENCH_TEST_SEED=<base> replays the run).
"""

import itertools
import subprocess

import numpy as np
import pytest

# ----------------------------------------------------------------------------------------------
# Float64 reference


def out_extent(n_in, k, p, s, d):
    return (n_in + 2 * p - d * (k - 1) - 1) // s + 1


def _taps(case):
    """For each kernel tap r: r and the strided slices of the padded input it reads."""
    dims = len(case["in"])
    out = case["out"]
    for r in itertools.product(*(range(k) for k in case["kernel"])):
        spatial = tuple(
            slice(r[i] * case["dilation"][i], r[i] * case["dilation"][i] + case["stride"][i] * (out[i] - 1) + 1,
                  case["stride"][i]) for i in range(dims))
        yield r, spatial


def _group_slices(case):
    g, cg, kg = case["groups"], case["Cg"], case["Kg"]
    return [(slice(i * cg, (i + 1) * cg), slice(i * kg, (i + 1) * kg)) for i in range(g)]


def _pad(a, pad):
    return np.pad(a, [(0, 0), (0, 0)] + [(p, p) for p in pad])


def ref_fprop(case, x, w):
    x, w = x.astype(np.float64), w.astype(np.float64)
    xp = _pad(x, case["pad"])
    y = np.zeros((case["N"], case["K"], *case["out"]))
    for r, spatial in _taps(case):
        for cs, ks in _group_slices(case):
            y[:, ks] += np.einsum("nc...,kc->nk...", xp[(slice(None), cs) + spatial], w[(ks, slice(None)) + r])
    return y


def ref_dgrad(case, dy, w):
    dy, w = dy.astype(np.float64), w.astype(np.float64)
    padded = [n + 2 * p for n, p in zip(case["in"], case["pad"])]
    dxp = np.zeros((case["N"], case["C"], *padded))
    for r, spatial in _taps(case):
        for cs, ks in _group_slices(case):
            # Each output position sent its value through tap r; send the gradient back.
            dxp[(slice(None), cs) + spatial] += np.einsum("nk...,kc->nc...", dy[:, ks], w[(ks, slice(None)) + r])
    crop = tuple(slice(p, p + n) for n, p in zip(case["in"], case["pad"]))
    return dxp[(slice(None), slice(None)) + crop]


def ref_wgrad(case, x, dy):
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    xp = _pad(x, case["pad"])
    dw = np.zeros((case["K"], case["Cg"], *case["kernel"]))
    for r, spatial in _taps(case):
        for cs, ks in _group_slices(case):
            # Sum over batch and output positions; keep (k, c).
            sum_axes = [0] + list(range(2, 2 + len(case["in"])))
            dw[(ks, slice(None)) + r] = np.tensordot(dy[:, ks], xp[(slice(None), cs) + spatial],
                                                     axes=(sum_axes, sum_axes))
    return dw


def brute_fprop(case, x, w):
    """The definition as scalar loops with explicit bounds: slow, for tiny self-checks only."""
    y = np.zeros((case["N"], case["K"], *case["out"]))
    dims = len(case["in"])
    for n, k in itertools.product(range(case["N"]), range(case["K"])):
        g = k // case["Kg"]
        for o in itertools.product(*(range(e) for e in case["out"])):
            acc = 0.0
            for c in range(case["Cg"]):
                for r in itertools.product(*(range(e) for e in case["kernel"])):
                    pos = [o[i] * case["stride"][i] + r[i] * case["dilation"][i] - case["pad"][i] for i in range(dims)]
                    if all(0 <= pos[i] < case["in"][i] for i in range(dims)):
                        acc += float(x[(n, g * case["Cg"] + c) + tuple(pos)]) * float(w[(k, c) + r])
            y[(n, k) + o] = acc
    return y


# ----------------------------------------------------------------------------------------------
# Problems


def make_case(N, Cg, Kg, groups, n_in, kernel, pad, stride, dilation, cli_lists=True):
    dims = len(n_in)
    case = dict(N=N, C=Cg * groups, K=Kg * groups, Cg=Cg, Kg=Kg, groups=groups, **{"in": list(n_in)},
                kernel=list(kernel), pad=list(pad), stride=list(stride), dilation=list(dilation))
    case["out"] = [out_extent(n_in[i], kernel[i], pad[i], stride[i], dilation[i]) for i in range(dims)]
    assert all(o >= 1 for o in case["out"]), case
    # How the CLI receives pad/stride/dilation: one value when uniform (sometimes), else a list.
    case["cli"] = {}
    for key in ("pad", "stride", "dilation"):
        v = case[key]
        case["cli"][key] = str(v[0]) if (len(set(v)) == 1 and not cli_lists) else ",".join(map(str, v))
    return case


def random_case(rng, dims):
    max_in = {1: 24, 2: 11, 3: 6}[dims]
    max_k = {1: 5, 2: 4, 3: 3}[dims]
    groups = int(rng.choice([1, 1, 2, 3]))
    kernel, pad, stride, dilation, n_in = [], [], [], [], []
    for _ in range(dims):
        k = int(rng.integers(1, max_k + 1))
        d = int(rng.choice([1, 1, 2]))
        p = int(rng.integers(0, 3))
        s = int(rng.choice([1, 1, 2, 3]))
        lo = max(1, d * (k - 1) + 1 - 2 * p)
        n_in.append(int(rng.integers(lo, max(lo, max_in) + 1)))
        kernel.append(k), pad.append(p), stride.append(s), dilation.append(d)
    if rng.random() < 0.5:  # uniform pad/stride/dilation, passed as single values
        pad, stride, dilation = [pad[0]] * dims, [stride[0]] * dims, [dilation[0]] * dims
        for i in range(dims):
            n_in[i] = max(n_in[i], dilation[i] * (kernel[i] - 1) + 1 - 2 * pad[i])
        return make_case(int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), groups, n_in,
                         kernel, pad, stride, dilation, cli_lists=False)
    return make_case(int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), groups, n_in, kernel,
                     pad, stride, dilation)


# Edge cases that random draws hit rarely.
FIXED_CASES = {
    "kernel-covers-padded-input": lambda: make_case(2, 2, 3, 1, [3, 4], [5, 6], [1, 1], [1, 1], [1, 1]),
    "1x1x1-kernel-stride2": lambda: make_case(1, 3, 2, 1, [4, 5, 3], [1, 1, 1], [0, 0, 0], [2, 2, 2], [1, 1, 1]),
    "depthwise-2d": lambda: make_case(2, 1, 1, 4, [7, 6], [3, 3], [1, 1], [1, 1], [1, 1], cli_lists=False),
    "stride-beyond-kernel-1d": lambda: make_case(1, 2, 2, 1, [23], [2], [1], [5], [1]),
    "dilated-3d-groups": lambda: make_case(1, 2, 2, 2, [6, 5, 7], [2, 2, 3], [0, 1, 2], [1, 2, 1], [2, 3, 1]),
    "single-output-1d": lambda: make_case(1, 1, 1, 1, [1], [1], [0], [1], [1]),
}

N_RANDOM = 36  # 12 per dimensionality


def case_for(case_id, base_seed):
    """(case, seed, data rng) for a case id; the seed names it in failure messages."""
    if case_id in FIXED_CASES:
        seed = base_seed + 1000 + sorted(FIXED_CASES).index(case_id)
        return FIXED_CASES[case_id](), seed, np.random.default_rng(seed)
    i = int(case_id.removeprefix("random"))
    seed = base_seed + i
    rng = np.random.default_rng(seed)
    return random_case(rng, 1 + i % 3), seed, rng


CASE_IDS = [f"random{i:02d}" for i in range(N_RANDOM)] + sorted(FIXED_CASES)


def random_tensor(rng, shape):
    # Uniform in +-[0.5, 1.5): never zero, so a missing contribution always shows.
    mag = rng.uniform(0.5, 1.5, size=shape)
    return (np.where(rng.random(shape) < 0.5, -mag, mag)).astype(np.float32)


def tensors(case, rng):
    x = random_tensor(rng, (case["N"], case["C"], *case["in"]))
    w = random_tensor(rng, (case["K"], case["Cg"], *case["kernel"]))
    dy = random_tensor(rng, (case["N"], case["K"], *case["out"]))
    return x, w, dy


def rel_l2(out, ref):
    # A result can be exactly zero (every window inside the padding): then the absolute norm.
    diff = float(np.linalg.norm(out.astype(np.float64) - ref))
    norm = float(np.linalg.norm(ref))
    return diff / norm if norm > 0 else diff


# fp32 results vs the float64 reference, for these small problems (reduction lengths up to a
# few hundred). Direct and im2col sum fp32 products: worst rel L2 error seen over 800 draws was
# 2.4e-7. FFT adds transform round-off: worst seen 7.3e-7. The bounds leave ~8-15x margin for
# results whose sums cancel as much as random signs make them; see cancellation() for the rest.
TOLERANCE = {"fprop": 2e-6, "dgrad": 2e-6, "wgrad": 4e-6}
FFT_TOLERANCE = {"fprop": 1e-5, "dgrad": 1e-5, "wgrad": 2e-5}


def cancellation(case, pass_, ref, x, w, dy):
    """How much more the result's sums cancel than random signs would make them (>= 1).

    fp32 rounding error scales with sum |a*b|, the result with |sum a*b|; for L random-sign
    products their ratio is about sqrt(L), which the fixed tolerances cover. A draw whose sums
    cancel further (wgrad of a 1x1 kernel is one dot product: it can land near zero) loses
    relative accuracy by that extra factor, as baselines/reference.cpp's tolerance models too.
    """
    norm = np.linalg.norm(ref)
    magnitude = np.linalg.norm(reference(case, pass_, np.abs(x), np.abs(w), np.abs(dy)))
    ones = [np.ones_like(a) for a in (x, w, dy)]
    products = reference(case, pass_, *ones)  # products summed into each element
    typical = np.sqrt(max(1.0, float(products.mean())))
    return max(1.0, magnitude / norm / typical) if norm > 0 else 1.0


def tolerance(algo, pass_, case, ref, x, w, dy):
    """Largest rel L2 error of an fp32 result of pass_ against its float64 reference ref."""
    return (FFT_TOLERANCE if "fft" in algo else TOLERANCE)[pass_] * cancellation(case, pass_, ref, x, w, dy)


# ----------------------------------------------------------------------------------------------
# Running the binary


def run_conv(binary, tmp_path, algo, pass_, case, x, w, dy, extra=()):
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", w)
    np.save(tmp_path / "dy.npy", dy)
    out = tmp_path / "out.npy"
    args = [str(binary), "conv", "--algo", algo, "--pass", pass_, "--x", "x.npy", "--w", "w.npy",
            "--pad", case["cli"]["pad"], "--stride", case["cli"]["stride"], "--dilation", case["cli"]["dilation"],
            "--groups", str(case["groups"]), "--out", "out.npy", *extra]
    if pass_ != "fprop":
        args += ["--dy", "dy.npy"]
    r = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return r, out, " ".join(args[1:])


def reference(case, pass_, x, w, dy):
    if pass_ == "fprop":
        return ref_fprop(case, x, w)
    if pass_ == "dgrad":
        return ref_dgrad(case, dy, w)
    return ref_wgrad(case, x, dy)


@pytest.mark.parametrize("pass_", ["fprop", "dgrad", "wgrad"])
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_conv_matches_reference(convbench_bin, base_seed, tmp_path, cpu_algo, case_id, pass_):
    case, seed, rng = case_for(case_id, base_seed)
    x, w, dy = tensors(case, rng)
    r, out, cmd = run_conv(convbench_bin, tmp_path, cpu_algo, pass_, case, x, w, dy)
    where = f"seed={seed} (CONVBENCH_TEST_SEED={base_seed}) case={case_id} {cmd}"
    assert r.returncode == 0, f"{where}: exit {r.returncode}: {r.stderr.strip()}"
    assert r.stdout == "" and r.stderr == "", f"{where}: not quiet: {r.stdout!r} {r.stderr!r}"
    got = np.load(out)
    ref = reference(case, pass_, x, w, dy)
    assert got.dtype == np.float32, where
    assert got.shape == ref.shape, f"{where}: shape {got.shape}, expected {ref.shape}"
    assert np.isfinite(got).all(), f"{where}: non-finite values (unwritten outputs are NaN)"
    err, tol = rel_l2(got, ref), tolerance(cpu_algo, pass_, case, ref, x, w, dy)
    assert err < tol, f"{where}: rel L2 error {err:.3g} >= {tol:.3g}"


@pytest.mark.parametrize("fft_size", ["smooth", "pow2"])
@pytest.mark.parametrize("case_id", ["random00", "random01", "random02", "dilated-3d-groups"])
def test_fft_size_option(convbench_bin, base_seed, tmp_path, cpu_algo, case_id, fft_size):
    case, seed, rng = case_for(case_id, base_seed)
    x, w, dy = tensors(case, rng)
    for pass_ in ("fprop", "dgrad", "wgrad"):
        r, out, cmd = run_conv(convbench_bin, tmp_path, cpu_algo, pass_, case, x, w, dy, ["--fft-size", fft_size])
        where = f"seed={seed} case={case_id} {cmd}"
        assert r.returncode == 0, f"{where}: {r.stderr.strip()}"
        ref = reference(case, pass_, x, w, dy)
        err, tol = rel_l2(np.load(out), ref), tolerance(cpu_algo, pass_, case, ref, x, w, dy)
        assert err < tol, f"{where}: rel L2 error {err:.3g} >= {tol:.3g}"


# ----------------------------------------------------------------------------------------------
# The reference checks itself: against the scalar definition and through the adjoint identities.


@pytest.mark.parametrize("i", range(6))
def test_reference_matches_definition(base_seed, i):
    seed = base_seed + 5000 + i
    rng = np.random.default_rng(seed)
    case = random_case(rng, 1 + i % 3)
    while np.prod(case["out"]) * np.prod(case["kernel"]) * case["K"] * case["Cg"] * case["N"] > 20000:
        case = random_case(rng, 1 + i % 3)
    x, w, _ = tensors(case, rng)
    np.testing.assert_allclose(ref_fprop(case, x, w), brute_fprop(case, x, w), rtol=1e-12, atol=1e-12,
                               err_msg=f"seed={seed}")


@pytest.mark.parametrize("i", range(12))
def test_reference_adjoints(base_seed, i):
    # <fprop(x, w), dy> = <x, dgrad(dy, w)> = <w, wgrad(x, dy)>: dgrad and wgrad are the adjoints.
    seed = base_seed + 6000 + i
    rng = np.random.default_rng(seed)
    case = random_case(rng, 1 + i % 3)
    x, w, dy = tensors(case, rng)
    a = np.vdot(ref_fprop(case, x, w), dy.astype(np.float64))
    b = np.vdot(x.astype(np.float64), ref_dgrad(case, dy, w))
    c = np.vdot(w.astype(np.float64), ref_wgrad(case, x, dy))
    assert abs(a - b) <= 1e-10 * max(1.0, abs(a)), f"seed={seed}: {a} vs {b}"
    assert abs(a - c) <= 1e-10 * max(1.0, abs(a)), f"seed={seed}: {a} vs {c}"


@pytest.mark.parametrize("pass_", ["fprop", "dgrad", "wgrad"])
def test_cancellation_widens_the_tolerance_only_where_sums_cancel(base_seed, pass_):
    seed = base_seed + 7000
    rng = np.random.default_rng(seed)
    # Random signs: the fixed tolerances already cover the typical cancellation, so the factor
    # stays near 1 (an odd draw cancels more: the median over six, worst 1.63 in 900 runs).
    factors = []
    for i in range(6):
        case = random_case(rng, 1 + i % 3)
        x, w, dy = tensors(case, rng)
        factors.append(cancellation(case, pass_, reference(case, pass_, x, w, dy), x, w, dy))
    assert min(factors) >= 1.0 and np.median(factors) < 3, f"seed={seed}: {factors}"
    # No signs, no cancellation: the fixed tolerance as it is.
    case = random_case(rng, 2)
    x, w, dy = (np.abs(a) for a in tensors(case, rng))
    assert cancellation(case, pass_, reference(case, pass_, x, w, dy), x, w, dy) == 1.0
    # One 1x1 tap of one channel: each element is a single dot product (wgrad: of 21 terms) or a
    # single product; make the wgrad sum almost vanish, as the draw that turned CI red did.
    case = make_case(1, 1, 1, 1, [21], [1], [0], [1], [1])
    x, w, dy = tensors(case, rng)
    dy[0, 0, -1] = np.float32(-np.dot(x[0, 0, :-1], dy[0, 0, :-1]) / x[0, 0, -1])
    ref = reference(case, pass_, x, w, dy)
    f = cancellation(case, pass_, ref, x, w, dy)
    if pass_ == "wgrad":
        magnitude = float(np.abs(x[0, 0]).astype(np.float64) @ np.abs(dy[0, 0]).astype(np.float64))
        expect = magnitude / abs(float(ref.ravel()[0])) / np.sqrt(21)
        assert f == pytest.approx(expect, rel=1e-9) and f > 100, f"seed={seed}: {f}"
    else:
        assert f == 1.0, f"seed={seed}: single products cannot cancel, got {f}"


# ----------------------------------------------------------------------------------------------
# Bad inputs: non-zero exit, nothing on stdout, exactly one line on stderr naming the problem,
# and no output file.


@pytest.fixture
def good_files(tmp_path):
    rng = np.random.default_rng()
    np.save(tmp_path / "x.npy", random_tensor(rng, (2, 3, 6, 6)))
    np.save(tmp_path / "w.npy", random_tensor(rng, (4, 3, 3, 3)))
    np.save(tmp_path / "dy.npy", random_tensor(rng, (2, 4, 6, 6)))  # for pad 1
    return tmp_path


def expect_error(binary, cwd, args, *needles):
    r = subprocess.run([str(binary), "conv", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode > 0, f"{args}: exit {r.returncode} (expected a clean failure): {r.stderr!r}"
    assert r.stdout == "", f"{args}: stdout {r.stdout!r}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and r.stderr.endswith("\n"), f"{args}: stderr is not one line: {r.stderr!r}"
    assert lines[0].startswith("convbench: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], f"{args}: {needle!r} not in {lines[0]!r}"
    assert not (cwd / "out.npy").exists(), f"{args}: out.npy written despite the error"
    return lines[0]


BASE = ["--algo", "cpu.direct", "--pass", "fprop", "--x", "x.npy", "--w", "w.npy", "--out", "out.npy"]


def with_args(base, **changes):
    args = list(base)
    for key, value in changes.items():
        opt = "--" + key.rstrip("_").replace("_", "-")
        if opt in args:
            args[args.index(opt) + 1] = value
        else:
            args += [opt, value]
    return args


def test_float64_file(convbench_bin, good_files):
    np.save(good_files / "x64.npy", np.ones((2, 3, 6, 6)))
    expect_error(convbench_bin, good_files, with_args(BASE, x="x64.npy"), "x64.npy", "'<f8'", "float32")


def test_int_file(convbench_bin, good_files):
    np.save(good_files / "wi.npy", np.ones((4, 3, 3, 3), dtype=np.int32))
    expect_error(convbench_bin, good_files, with_args(BASE, w="wi.npy"), "wi.npy", "'<i4'")


def test_fortran_order_file(convbench_bin, good_files):
    np.save(good_files / "xf.npy", np.asfortranarray(np.ones((2, 3, 6, 6), dtype=np.float32)))
    expect_error(convbench_bin, good_files, with_args(BASE, x="xf.npy"), "xf.npy", "fortran")


def test_wrong_rank(convbench_bin, good_files):
    np.save(good_files / "x2.npy", np.ones((2, 3), dtype=np.float32))
    expect_error(convbench_bin, good_files, with_args(BASE, x="x2.npy"), "x2.npy", "rank 2")
    np.save(good_files / "x6.npy", np.ones((1, 1, 2, 2, 2, 2), dtype=np.float32))
    expect_error(convbench_bin, good_files, with_args(BASE, x="x6.npy"), "x6.npy", "rank 6")
    np.save(good_files / "w3.npy", np.ones((4, 3, 3), dtype=np.float32))
    expect_error(convbench_bin, good_files, with_args(BASE, w="w3.npy"), "w3.npy", "rank 3", "x.npy")


def test_mismatched_channels(convbench_bin, good_files):
    np.save(good_files / "w2.npy", np.ones((4, 2, 3, 3), dtype=np.float32))
    expect_error(convbench_bin, good_files, with_args(BASE, w="w2.npy"), "w2.npy", "(4,2,3,3)", "x.npy",
                 "input channels")
    # groups must divide C and K
    expect_error(convbench_bin, good_files, with_args(BASE, groups="2"), "groups 2 does not divide C 3")


def test_dy_shape_mismatch(convbench_bin, good_files):
    # dy.npy is (2,4,6,6), right for pad 1; without padding the output is 4x4.
    for pass_ in ("dgrad", "wgrad"):
        expect_error(convbench_bin, good_files, with_args(BASE, pass_=pass_, dy="dy.npy"),
                     "dy.npy: shape (2,4,6,6) does not match expected (2,4,4,4) for x.npy and w.npy")


def test_truncated_file(convbench_bin, good_files):
    data = (good_files / "x.npy").read_bytes()
    (good_files / "xt.npy").write_bytes(data[:-7])
    expect_error(convbench_bin, good_files, with_args(BASE, x="xt.npy"), "xt.npy", "truncated data")
    (good_files / "xh.npy").write_bytes(data[:40])
    expect_error(convbench_bin, good_files, with_args(BASE, x="xh.npy"), "xh.npy", "truncated header")
    (good_files / "xg.npy").write_bytes(data + b"\0\0\0\0")
    expect_error(convbench_bin, good_files, with_args(BASE, x="xg.npy"), "xg.npy", "trailing garbage")


def test_non_npy_file(convbench_bin, good_files):
    (good_files / "x.txt").write_text("1 2 3\n4 5 6\n")
    expect_error(convbench_bin, good_files, with_args(BASE, x="x.txt"), "x.txt", "not a .npy file")
    np.savez(good_files / "x.npz", x=np.ones(3, dtype=np.float32))
    expect_error(convbench_bin, good_files, with_args(BASE, x="x.npz"), "x.npz", "not a .npy file")


def test_missing_file(convbench_bin, good_files):
    expect_error(convbench_bin, good_files, with_args(BASE, w="nope.npy"), "nope.npy", "cannot open")


def test_unknown_algorithm(convbench_bin, good_files):
    expect_error(convbench_bin, good_files, with_args(BASE, algo="cpu.nope"), "unknown algorithm 'cpu.nope'",
                 "cpu.direct")


@pytest.mark.parametrize("value, needle", [
    ("1,,1", "--pad"), ("1,2,3", "--pad: 3 values given"), ("a", "--pad"), ("1;1", "--pad"),
    ("-1", ">= 0"), ("1,", "--pad"), (" 1", "--pad")])
def test_bad_pad(convbench_bin, good_files, value, needle):
    expect_error(convbench_bin, good_files, BASE + [f"--pad={value}"], needle)


def test_bad_stride_dilation_groups(convbench_bin, good_files):
    expect_error(convbench_bin, good_files, with_args(BASE, stride="0"), "--stride", ">= 1")
    expect_error(convbench_bin, good_files, with_args(BASE, dilation="1,x"), "--dilation")
    expect_error(convbench_bin, good_files, with_args(BASE, groups="0"), "--groups")
    expect_error(convbench_bin, good_files, with_args(BASE, groups="two"), "--groups")
    expect_error(convbench_bin, good_files, with_args(BASE, dilation="4"), "dilated kernel 9", "x.npy")


def test_bad_pass_and_options(convbench_bin, good_files):
    expect_error(convbench_bin, good_files, with_args(BASE, pass_="backward"), "unknown pass 'backward'")
    expect_error(convbench_bin, good_files, with_args(BASE, pass_="step"), "step is not allowed")
    expect_error(convbench_bin, good_files, with_args(BASE, fft_size="fast"), "--fft-size")
    expect_error(convbench_bin, good_files, with_args(BASE, pass_="dgrad"), "--dy is required")
    expect_error(convbench_bin, good_files, with_args(BASE, dy="dy.npy"), "--dy is not used by fprop")
    expect_error(convbench_bin, good_files, [a for a in BASE if a not in ("--out", "out.npy")], "--out")


def test_unwritable_output(convbench_bin, good_files):
    args = with_args(BASE, out="no_such_dir/out.npy")
    expect_error(convbench_bin, good_files, args, "no_such_dir/out.npy", "cannot open for writing")


def test_out_never_overwrites_an_input(convbench_bin, good_files):
    before = {n: (good_files / n).read_bytes() for n in ("x.npy", "w.npy", "dy.npy")}
    expect_error(convbench_bin, good_files, with_args(BASE, out="x.npy"), "--out x.npy is the --x input")
    expect_error(convbench_bin, good_files, with_args(BASE, out=str(good_files / "." / "w.npy")), "is the --w input")
    expect_error(convbench_bin, good_files, with_args(BASE, pass_="wgrad", w="w.npy", dy="dy.npy", pad="1",
                                                      out="dy.npy"), "--out dy.npy is the --dy input")
    assert before == {n: (good_files / n).read_bytes() for n in before}
