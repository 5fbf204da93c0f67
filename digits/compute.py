"""Which number type the convolutional network computes in, chosen for the machine that trains it.

bfloat16 pays only where the hardware multiplies it in bulk: x86 CPUs with AMX (``amx_bf16``), and NVIDIA
GPUs from compute capability 8.0 (Ampere) on. Elsewhere TensorFlow emulates it or converts back and forth: a
CNN in bfloat16 trained about 4x slower than in float32 on a CPU with AVX-512 but no bfloat16 units, and
still 1.5x slower on one with ``avx512_bf16`` but no AMX (the CNN's 3 epochs: 24.4 and 25.3 s against
16.9 and 15.5 s in float32, on 2 cores). So the choice is made where the run trains, never assumed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

ComputeDtype = Literal["float32", "bfloat16"]
COMPUTE_DTYPES: tuple[ComputeDtype, ...] = ("float32", "bfloat16")
COMPUTE_DTYPE_ENV = "DIGITS_COMPUTE_DTYPE"
BFLOAT16_CPU_FLAGS = frozenset({"amx_bf16"})
BFLOAT16_GPU_CAPABILITY = (8, 0)
CPUINFO = Path("/proc/cpuinfo")


class InvalidComputeDtype(ValueError):
    """DIGITS_COMPUTE_DTYPE holds something other than float32 or bfloat16."""


def cpu_flags(cpuinfo: str) -> set[str]:
    """The feature flags in the text of /proc/cpuinfo (x86 calls the line "flags")."""
    return {flag for line in cpuinfo.splitlines() if line.split(":")[0].strip() == "flags"
            for flag in line.partition(":")[2].split()}


def forced_compute_dtype(value: str | None) -> ComputeDtype | None:
    """The type DIGITS_COMPUTE_DTYPE's ``value`` forces; None when unset or empty (the machine decides)."""
    if not value:
        return None
    if value not in COMPUTE_DTYPES:
        raise InvalidComputeDtype(f"{COMPUTE_DTYPE_ENV} must be {' or '.join(COMPUTE_DTYPES)}, or unset to let "
                                  f"the machine decide; got {value!r}.")
    return value  # type: ignore[return-value]  # checked just above


def choose_compute_dtype(forced: ComputeDtype | None, cpuinfo: str,
                         gpu_capabilities: Sequence[tuple[int, int]] = ()) -> ComputeDtype:
    """``forced`` if given; else bfloat16 where every GPU computes it natively, or, without a GPU, where
    the CPU's flags (the text of /proc/cpuinfo) say it does; else float32."""
    if forced:
        return forced
    if gpu_capabilities:  # training runs on the GPU, so only its support counts
        native = all(capability >= BFLOAT16_GPU_CAPABILITY for capability in gpu_capabilities)
    else:
        native = bool(cpu_flags(cpuinfo) & BFLOAT16_CPU_FLAGS)
    return "bfloat16" if native else "float32"


def gpu_capabilities() -> list[tuple[int, int]]:
    """The compute capability of each GPU TensorFlow can use (none on a machine without one)."""
    import tensorflow as tf

    return [tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)))
            for gpu in tf.config.list_physical_devices("GPU")]


def environment_compute_dtype() -> ComputeDtype | None:
    """What DIGITS_COMPUTE_DTYPE forces, if anything (InvalidComputeDtype if it holds something else)."""
    return forced_compute_dtype(os.environ.get(COMPUTE_DTYPE_ENV))


def machine_compute_dtype() -> ComputeDtype:
    """This machine's choice: DIGITS_COMPUTE_DTYPE if set, else what its GPUs or CPU compute natively."""
    forced = environment_compute_dtype()
    if forced:
        return forced
    cpuinfo = CPUINFO.read_text() if CPUINFO.is_file() else ""
    return choose_compute_dtype(None, cpuinfo, gpu_capabilities())
