from __future__ import annotations

import pytest

from digits.compute import (
    COMPUTE_DTYPE_ENV,
    InvalidComputeDtype,
    choose_compute_dtype,
    cpu_flags,
    forced_compute_dtype,
    machine_compute_dtype,
)
from digits.models import build_model, default_hyperparameters, model_compute_dtype

# Two processors as /proc/cpuinfo lists them, cut short: flags differ between CPU makers and generations.
WITHOUT_BFLOAT16 = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni
"""
WITH_AVX512_BF16 = WITHOUT_BFLOAT16.replace("avx512_vnni", "avx512_vnni avx512_bf16")
WITH_AMX = WITHOUT_BFLOAT16.replace("avx512_vnni", "avx512_vnni amx_tile amx_bf16 amx_int8")


def test_cpu_flags_come_from_the_flags_lines_only() -> None:
    assert {"avx2", "avx512_vnni"} <= cpu_flags(WITHOUT_BFLOAT16)
    assert "sysret_ss_attrs" not in cpu_flags(WITHOUT_BFLOAT16)  # a bug, not a feature
    assert cpu_flags("") == set()


@pytest.mark.parametrize(("cpuinfo", "expected"), [
    (WITHOUT_BFLOAT16, "float32"), (WITH_AVX512_BF16, "float32"), (WITH_AMX, "bfloat16"), ("", "float32"),
])
def test_bfloat16_only_on_cpus_that_compute_it(cpuinfo: str, expected: str) -> None:
    assert choose_compute_dtype(None, cpuinfo) == expected


def test_a_gpu_decides_by_its_compute_capability_not_the_cpu() -> None:
    assert choose_compute_dtype(None, WITHOUT_BFLOAT16, [(8, 0)]) == "bfloat16"  # Ampere and later
    assert choose_compute_dtype(None, WITH_AMX, [(7, 5)]) == "float32"  # Turing emulates it
    assert choose_compute_dtype(None, WITHOUT_BFLOAT16, [(9, 0), (7, 0)]) == "float32"  # every GPU must


def test_forcing_overrides_the_hardware() -> None:
    assert choose_compute_dtype(forced_compute_dtype("bfloat16"), WITHOUT_BFLOAT16) == "bfloat16"
    assert choose_compute_dtype(forced_compute_dtype("float32"), WITH_AMX, [(9, 0)]) == "float32"
    assert forced_compute_dtype("") is None and forced_compute_dtype(None) is None


@pytest.mark.parametrize("value", ["fp16", "bf16", "Float32", "float16"])
def test_an_invalid_forced_type_says_what_is_allowed(value: str) -> None:
    with pytest.raises(InvalidComputeDtype, match=f"{COMPUTE_DTYPE_ENV} must be float32 or bfloat16.*{value}"):
        forced_compute_dtype(value)


def test_the_machine_choice_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(COMPUTE_DTYPE_ENV, "bfloat16")
    assert machine_compute_dtype() == "bfloat16"
    monkeypatch.setenv(COMPUTE_DTYPE_ENV, "half")
    with pytest.raises(InvalidComputeDtype):
        machine_compute_dtype()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_cnn_computes_in_the_chosen_type_and_says_so(dtype: str) -> None:
    model = build_model(default_hyperparameters("cnn"), steps_per_epoch=10, compute_dtype=dtype)
    assert model_compute_dtype(model) == dtype
    assert model.layers[-1].dtype_policy.compute_dtype == "float32"  # the probabilities stay exact
    # The MLP is float32 whatever is chosen.
    assert model_compute_dtype(build_model(default_hyperparameters("mlp"), 10, compute_dtype=dtype)) == "float32"
