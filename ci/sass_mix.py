#!/usr/bin/env python3
"""The static instruction mix of CUDA kernels, from their SASS, one Markdown row per kernel.

    .venv/bin/python ci/sass_mix.py build/release/CMakeFiles/convbench_cuda.dir/kernels/cuda/small_fft_kernels.cu.o
    .venv/bin/python ci/sass_mix.py --arch sm_90 --kernel 'small_fft_kernel<32' OBJECT [...]

Counts what a kernel's machine code spends its instructions on: FP32 arithmetic, integer
arithmetic, MUFU (whose reciprocals with I2F/F2I conversions are the mark of an integer division
by a run-time divisor), shared-memory, global (by width) and local-memory accesses (spills or
arrays indexed at run time), branches and calls. No GPU needed: where Nsight Compute is not at
hand, this shows where the code goes (e.g. index arithmetic against the FFT's flops) and whether
a change removed what it meant to. Straight-line code (unrolled phases) counts as it runs; loops
count once. A file is an object, cubin, library or executable (read by cuobjdump -sass), or the
text cuobjdump printed. cuobjdump and nvdisasm come with the CUDA toolkit, or from the Python
wheels nvidia-cuda-cuobjdump and nvidia-cuda-nvdisasm (ci/requirements.txt: in .venv).
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

# (column title, predicate on (opcode, modifiers))
FP32 = {"FADD", "FFMA", "FMUL", "FMNMX", "FSEL", "FSETP", "FSET"}
INTEGER = {"IMAD", "IADD3", "IADD", "ISETP", "LOP3", "LOP", "SHF", "SHL", "SHR", "LEA", "SEL", "VIADD", "IABS",
           "IMNMX", "VIMNMX", "IMUL", "POPC", "FLO", "BREV", "PRMT", "IDP", "IDP4A", "ISCADD", "UIMAD", "UIADD3",
           "ULOP3", "USHF", "ULEA", "USEL", "UISETP", "UPRMT", "UFLO", "UPOPC", "UBREV"}
CONTROL = {"BRA", "BRX", "BSSY", "BSYNC", "JMP", "JMX", "WARPSYNC", "BAR", "EXIT"}
COLUMNS = ["instructions", "FP32", "integer", "MUFU", "I2F/F2I", "shared", "LDG 32/64/128", "STG", "local",
           "control", "calls"]

FUNCTION = re.compile(r"^\s*Function\s*:\s*(\S+)", re.MULTILINE)
INSTRUCTION = re.compile(r"^\s*/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P[T0-9]+\s+)?([A-Z][A-Z0-9_]*)((?:\.[A-Z0-9_]+)*)")


ARCH = re.compile(r"^\s*(?:arch\s*=|code for)\s*(sm_\w+)")  # a fatbin's "arch =", a cubin's "code for"


def width(modifiers):
    """Access width in bits from an LDG's modifiers (.64, .128; none: 32 or less)."""
    parts = modifiers.split(".")
    return 128 if "128" in parts else 64 if "64" in parts else 32


def mix(sass_text):
    """{(arch, function): Counter} from cuobjdump -sass output, in the order they appear."""
    out = {}
    arch, current = "", None
    for line in sass_text.splitlines():
        m = ARCH.match(line)
        if m:
            arch = m.group(1)
            continue
        m = FUNCTION.match(line)
        if m:
            current = out.setdefault((arch, m.group(1)), collections.Counter())
            continue
        m = INSTRUCTION.match(line)
        if not m or current is None:
            continue
        op, mods = m.group(1), m.group(2)
        c = current
        c["instructions"] += 1
        if op in FP32:
            c["FP32"] += 1
        elif op in INTEGER:
            c["integer"] += 1
        elif op == "MUFU":
            c["MUFU"] += 1
        elif op in ("I2F", "F2I"):
            c["I2F/F2I"] += 1
        elif op in ("LDS", "STS", "LDSM", "ATOMS"):
            c["shared"] += 1
        elif op == "LDG":
            c[f"LDG{width(mods)}"] += 1
        elif op in ("STG", "RED", "ATOMG"):
            c["STG"] += 1
        elif op in ("LDL", "STL"):
            c["local"] += 1
        elif op in CONTROL:
            c["control"] += 1
        elif op in ("CALL", "RET"):
            c["calls"] += 1
    return out


def find_cuobjdump():
    """cuobjdump's path and the environment that lets it find nvdisasm, or None."""
    dirs = [os.environ.get("CUDA_HOME", "/usr/local/cuda") + "/bin"]
    nvidia = Path(sysconfig.get_paths()["purelib"]) / "nvidia"
    dirs += [str(p.parent) for p in sorted(nvidia.glob("cu*/bin/cuobjdump"))]
    env = dict(os.environ)
    for d in [None] + dirs:
        path = shutil.which("cuobjdump", path=d) if d else shutil.which("cuobjdump")
        if path:
            bindir = str(Path(path).parent)
            env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
            return path, env
    return None


def sass_of(path, arch):
    """cuobjdump -sass's text for a binary file; a text file as it is."""
    data = Path(path).read_bytes()
    try:
        text = None if b"\0" in data else data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        if FUNCTION.search(text) is None:
            raise ValueError(f"{path}: no SASS functions in this text (expected cuobjdump -sass output)")
        return text
    tool = find_cuobjdump()
    if tool is None:
        raise ValueError(f"{path}: cuobjdump not found (the CUDA toolkit's bin/, or pip install "
                         "nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)")
    cmd = [tool[0], "-sass"] + (["-arch", arch] if arch else []) + [str(path)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=tool[1])
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit status {run.returncode}"
        raise ValueError(f"{path}: cuobjdump failed: {last}")
    if FUNCTION.search(run.stdout) is None:
        raise ValueError(f"{path}: no SASS functions" + (f" for {arch}" if arch else "") + " (no device code?)")
    return run.stdout


def demangle(names):
    tool = shutil.which("c++filt")
    if not tool or not names:
        return {n: n for n in names}
    run = subprocess.run([tool], input="\n".join(names), capture_output=True, text=True)
    lines = run.stdout.splitlines()
    return dict(zip(names, lines)) if run.returncode == 0 and len(lines) == len(names) else {n: n for n in names}


def short_name(name):
    """A demangled kernel's name without its return type and parameter list."""
    if name.startswith("void "):
        name = name[5:]
    depth = 0
    for i, ch in enumerate(name):
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "(" and depth == 0:
            return name[:i]
    return name


def table(functions, pattern=None):
    """Markdown rows of the functions whose name (demangled or not) matches pattern; how many."""
    names = demangle(sorted({raw for _, raw in functions}))
    rows = ["| arch | kernel | " + " | ".join(COLUMNS) + " |", "|---|---|" + "---:|" * len(COLUMNS)]
    shown = 0
    for (arch, raw), c in functions.items():
        name = names[raw]
        if pattern and not re.search(pattern, name) and not re.search(pattern, raw):
            continue
        shown += 1
        cells = [f"{c['LDG32']}/{c['LDG64']}/{c['LDG128']}" if k == "LDG 32/64/128" else str(c[k]) for k in COLUMNS]
        rows.append(f"| {arch} | `{short_name(name)}` | " + " | ".join(cells) + " |")
    return "\n".join(rows), shown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Columns: " + ", ".join(COLUMNS) + ". See the module's docstring.")
    parser.add_argument("files", nargs="+", help="object, cubin, library or executable; or cuobjdump -sass text")
    parser.add_argument("--arch", default="sm_90", help="the SASS to read (default sm_90; '' for every arch)")
    parser.add_argument("--kernel", help="only kernels whose (demangled) name matches this regular expression")
    args = parser.parse_args(argv)
    for path in args.files:
        try:
            functions = mix(sass_of(path, args.arch))
            text, shown = table(functions, args.kernel)
        except (OSError, ValueError, re.error) as e:
            print(f"sass_mix: {e}", file=sys.stderr)
            return 1
        if shown == 0:
            print(f"sass_mix: {path}: no kernel matches --kernel {args.kernel!r}", file=sys.stderr)
            return 1
        print(f"{path} ({args.arch or 'every arch'}): {shown} kernel(s)\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
