"""ci/sass_mix.py: the static instruction mix of CUDA kernels from cuobjdump -sass."""

import importlib.util
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, find_binary

SCRIPT = REPO_ROOT / "ci/sass_mix.py"
_spec = importlib.util.spec_from_file_location("sass_mix", SCRIPT)
sass_mix = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sass_mix)


def ins(addr, text):
    return f"        /*{addr:04x}*/                   {text} ;   /* 0x000000000000000000000000 */"


# Two kernels, the second in two architectures: predicates, widths, division signature, spills.
SASS = "\n".join([
    "", "Fatbin elf code:", "================", "arch = sm_80", "",
    "\t\tFunction : _Z4copyPfS_",
    ins(0x00, "LDC R1, c[0x0][0x28]"),
    ins(0x10, "I2F.U32.RP R3, R4"),
    ins(0x20, "MUFU.RCP R3, R3"),
    ins(0x30, "F2I.FTZ.U32.TRUNC.NTZ R5, R3"),
    ins(0x40, "@!P0 LDG.E.128.CONSTANT R8, desc[UR4][R2.64]"),
    ins(0x50, "LDG.E.64 R10, desc[UR4][R2.64]"),
    ins(0x60, "LDG.E R12, desc[UR4][R2.64]"),
    ins(0x70, "STS.64 [R6], R8"),
    ins(0x80, "STL [R1], R9"),
    ins(0x90, "@P1 BRA 0x40"),
    ins(0xa0, "EXIT"),
    "\t\tFunction : _Z3fftv",
    ins(0x00, "FFMA R0, R1, R2, R3"),
    ins(0x10, "FADD R0, R0, R4"),
    ins(0x20, "IMAD.WIDE.U32 R2, R5, 0x4, R6"),
    ins(0x30, "CALL.REL.NOINC 0x100"),
    ins(0x40, "STG.E.64 desc[UR4][R2.64], R0"),
    "", "arch = sm_90", "",
    "\t\tFunction : _Z3fftv",
    ins(0x00, "FFMA R0, R1, R2, R3"),
    ins(0x10, "LDS.64 R4, [R6]"),
])


def rows_of(text):
    """{(arch, kernel): {column: cell}} from sass_mix.table()'s Markdown."""
    lines = [line for line in text.splitlines() if line.startswith("| sm_")]
    out = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[(cells[0], cells[1])] = dict(zip(sass_mix.COLUMNS, cells[2:]))
    return out


def test_counts_each_class_per_kernel_and_arch():
    text, shown = sass_mix.table(sass_mix.mix(SASS))
    assert shown == 3
    rows = rows_of(text)
    copy = rows[("sm_80", "`copy`")]
    assert copy["instructions"] == "11"
    assert copy["MUFU"] == "1" and copy["I2F/F2I"] == "2"  # an integer division's mark
    assert copy["LDG 32/64/128"] == "1/1/1"  # a predicated load counts too
    assert copy["shared"] == "1" and copy["local"] == "1" and copy["control"] == "2"
    assert copy["FP32"] == "0" and copy["STG"] == "0"
    fft80, fft90 = rows[("sm_80", "`fft`")], rows[("sm_90", "`fft`")]
    assert fft80["instructions"] == "5" and fft80["FP32"] == "2" and fft80["integer"] == "1"
    assert fft80["calls"] == "1" and fft80["STG"] == "1"
    assert fft90["instructions"] == "2" and fft90["shared"] == "1"  # not merged with sm_80's


def test_a_cubin_names_its_arch_by_code_for():
    cubin = "\n".join(["", "\tcode for sm_90", "\t.target\tsm_90", "", "\t\tFunction : _Z3fftv",
                       ins(0x00, "FMUL R0, R1, R2")])
    assert list(sass_mix.mix(cubin)) == [("sm_90", "_Z3fftv")]


def test_kernel_filter_and_short_names():
    text, shown = sass_mix.table(sass_mix.mix(SASS), pattern=r"^fft")
    assert shown == 2 and "copy" not in text
    assert sass_mix.short_name("void ns::k<32, ns::A<1> >(ns::G, ns::A<1>)") == "ns::k<32, ns::A<1> >"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_cli_reads_cuobjdump_text_and_reports_problems_in_one_line(tmp_path):
    sass = tmp_path / "k.sass"
    sass.write_text(SASS)
    ok = run(sass)
    assert ok.returncode == 0 and "3 kernel(s)" in ok.stdout and "`copy`" in ok.stdout
    none = run("--kernel", "nothing_like_this", sass)
    assert none.returncode == 1 and none.stderr.count("\n") == 1 and "no kernel matches" in none.stderr
    plain = tmp_path / "notes.txt"
    plain.write_text("no SASS here\n")
    bad = run(plain)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "no SASS functions" in bad.stderr
    missing = run(tmp_path / "absent.o")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "absent.o" in missing.stderr
    assert run("--help").returncode == 0


def test_fbfft_kernels_load_whole_rows_16_bytes_at_a_time_and_keep_to_registers():
    """The built cuda.fbfft kernels of every compiled-length bucket (8, 16, 32, 64) have 16-byte
    global loads (load_grid's whole-row path), no local memory in either direction (the README:
    each row or column in one thread's registers, no local memory), and fewer integer-division
    marks than their forward copies had before FastDiv split their indices (bucket 32: 410 MUFU
    before abd8e5a)."""
    binary = find_binary()
    if binary is None or sass_mix.find_cuobjdump() is None:
        pytest.skip("needs the convbench binary and cuobjdump (ci/requirements.txt installs it into .venv)")
    try:
        functions = sass_mix.mix(sass_mix.sass_of(binary, "sm_90"))
    except ValueError as e:
        pytest.skip(f"no sm_90 device code in {binary}: {e}")
    names = sass_mix.demangle(sorted({raw for _, raw in functions}))
    kernels = {}
    for (_, raw), counts in functions.items():
        m = re.search(r"small_fft_kernel<(\d+), convbench::small_fft::(Forward|Inverse)Args>", names[raw])
        if m:
            kernels[(int(m.group(1)), m.group(2))] = counts
    for bucket in (8, 16, 32, 64):
        forward, inverse = kernels[(bucket, "Forward")], kernels[(bucket, "Inverse")]
        assert forward["LDG128"] > 0, f"bucket {bucket}: no 16-byte loads"
        assert forward["local"] == 0 and inverse["local"] == 0, f"bucket {bucket}: local memory (spills)"
    assert kernels[(32, "Forward")]["MUFU"] < 410
