"""tests/cudasim/translate.py: launches and dynamic shared memory rewritten, nothing else."""

import importlib.util

import pytest

from conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location("translate", REPO_ROOT / "tests/cudasim/translate.py")
translate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(translate)


def test_launch_with_template_arguments_and_nested_calls():
    src = "  ns::k<float, (N > 2)><<<dim3(g, 2), b, bytes, s>>>(x, f(a, b), t[1]);\n"
    out = translate.translate(src)
    assert out == ('  ::cudasim::launch(::cudasim::Config{dim3(g, 2), b, bytes, s}, "ns::k<float, (N > 2)>", '
                   '::cudasim::with_arguments([](const auto&... a) { ns::k<float, (N > 2)>(a...); }, '
                   'x, f(a, b), t[1]));\n')


def test_two_launches_and_shift_operators_left_alone():
    src = "a<<<1, 2>>>(p);\nint v = 1 << 3;\nb<<<3, 4, 64 << 10>>>(q);"
    out = translate.translate(src)
    assert out.count("::cudasim::launch(") == 2
    assert "int v = 1 << 3;" in out
    assert '::cudasim::Config{3, 4, 64 << 10}, "b", ::cudasim::with_arguments([](const auto&... a) { b(a...); }, q)' in out
    assert "<<<" not in out and ">>>" not in out


def test_launch_without_arguments():
    out = translate.translate("k<<<1, 1>>>();")
    assert out == '::cudasim::launch(::cudasim::Config{1, 1}, "k", ::cudasim::with_arguments([](const auto&... a) { k(a...); }));'


def test_dynamic_shared_memory():
    out = translate.translate("extern __shared__ float2 buf[];\n__shared__ float fixed[4];")
    assert out == "float2* buf = ::cudasim::dynamic_shared<float2>();\n__shared__ float fixed[4];"


def test_text_without_launches_is_unchanged():
    src = "template <int N> __global__ void k(float* x) { x[threadIdx.x] = N >> 1; }\n"
    assert translate.translate(src) == src


def test_unbalanced_launch_arguments_are_an_error():
    with pytest.raises(SystemExit, match="unbalanced"):
        translate.translate("k<<<1, 1>>>(a, (b);")
