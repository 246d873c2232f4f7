#!/usr/bin/env python3
"""CUDA source -> C++ for the host simulation (tests/cudasim): the two constructs a C++
compiler cannot take are rewritten, the rest stays as written.

  K<<<grid, block[, shared[, stream]]>>>(args);
      ->  ::cudasim::launch(::cudasim::Config{grid, ...}, "K",
                            ::cudasim::with_arguments([](const auto&... a) { K(a...); }, args));
  extern __shared__ T name[];  ->  T* name = ::cudasim::dynamic_shared<T>();

The arguments are evaluated at the launch, as CUDA copies them there; the kernel runs when its
stream's work does.

Usage: translate.py IN OUT (the output is written only when it changes)."""

import re
import sys
from pathlib import Path

LAUNCH = re.compile(r"<<<")
SHARED = re.compile(r"extern\s+__shared__\s+([\w:<>, ]+?)\s+(\w+)\s*\[\s*\]\s*;")


def kernel_start(src: str, at: int) -> int:
    """Start of the kernel expression ending at `at` (a name, possibly qualified and with
    template arguments, whose parenthesised parts may hold < and >)."""
    i, angle, paren = at, 0, 0
    while i > 0:
        c = src[i - 1]
        if c == ")" and angle > 0:
            paren += 1
        elif c == "(" and paren > 0:
            paren -= 1
        elif paren > 0:
            pass
        elif c == ">":
            angle += 1
        elif c == "<":
            angle -= 1
        elif angle == 0 and not (c.isalnum() or c in "_:"):
            break
        i -= 1
    return i


def closing(src: str, at: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at `at`."""
    depth = 0
    for i in range(at, len(src)):
        if src[i] == open_:
            depth += 1
        elif src[i] == close:
            depth -= 1
            if depth == 0:
                return i
    raise SystemExit(f"translate.py: unbalanced {open_}{close} from offset {at}")


def translate(src: str) -> str:
    src = SHARED.sub(lambda m: f"{m.group(1)}* {m.group(2)} = ::cudasim::dynamic_shared<{m.group(1)}>();", src)
    out, pos = [], 0
    for m in LAUNCH.finditer(src):
        if m.start() < pos:
            continue
        start = kernel_start(src, m.start())
        cfg_end = src.index(">>>", m.end())
        args_open = cfg_end + 3
        while src[args_open].isspace():
            args_open += 1
        if src[args_open] != "(":
            raise SystemExit(f"translate.py: no argument list after a launch at offset {m.start()}")
        args_close = closing(src, args_open, "(", ")")
        kernel, cfg, args = src[start:m.start()], src[m.end():cfg_end], src[args_open + 1:args_close]
        out.append(src[pos:start])
        call = f"[](const auto&... a) {{ {kernel}(a...); }}" + (f", {args}" if args.strip() else "")
        out.append(f"::cudasim::launch(::cudasim::Config{{{cfg}}}, \"{kernel.strip()}\", "
                   f"::cudasim::with_arguments({call}))")
        pos = args_close + 1
    out.append(src[pos:])
    return "".join(out)


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    text = f'#line 1 "{src}"\n' + translate(src.read_text())
    if not dst.exists() or dst.read_text() != text:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text)


if __name__ == "__main__":
    main()
