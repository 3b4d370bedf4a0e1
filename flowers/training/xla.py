"""Whether training steps are compiled with XLA: ``--jit-compile`` on, off, or ``"auto"`` by this rule.

XLA's gain depends on the CPU, and in both directions (``python scripts/step_probe.py --settings
default,xla``; figures in docs/speed.md): ResNet50V2's trainable part at 32 px trained
2.4x faster with XLA on a 2-core AMD EPYC without AVX-512 (issue 17: 48.0 against 19.8 images/s),
and 3.4x slower on a 2-core AMD EPYC with AVX-512, where TensorFlow's own kernels (oneDNN) are
fast; the Intel Xeon with AVX-512 the first baseline was made on was slower with XLA too.  So
``"auto"`` compiles with XLA on an x86-64 CPU without AVX-512 and nowhere else (not on a GPU, where
the paper profile's baseline was made without it).  The smoke profile asks for it only for the two
ResNet50V2 cases (flowers.training.profiles): the other variants train for seconds, and XLA made them slower.
The rule rests on those machines alone: rerun the probe on a new CPU kind or TensorFlow release,
and set ``--jit-compile`` or ``--no-jit-compile`` where it chooses wrong.

XLA changes the numerics, so a result records the choice in its config: ``jit_compile`` (what was
used) and, when the rule chose, ``jit_compile_auto`` (why).
"""

from __future__ import annotations

import functools

from flowers.errors import OptionError

AUTO = "auto"
SETTINGS = (True, False, AUTO)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (py-cpuinfo, which pytest-benchmark uses for its machine_info)."""
    import cpuinfo

    return frozenset(cpuinfo.get_cpu_info().get("flags", []))


@functools.cache
def auto_choice() -> tuple[bool, str]:
    """(XLA on?, the reason recorded) for ``"auto"`` on this machine."""
    import platform

    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return False, "off on a GPU"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False, f"off on an {platform.machine()} CPU"
    if "avx512f" in cpu_flags():
        return False, "off on an x86-64 CPU with AVX-512"
    return True, "on for an x86-64 CPU without AVX-512"


def check(setting: object) -> None:
    """OptionError unless ``setting`` is one of :data:`SETTINGS` (imports nothing: profiles check it at start)."""
    if setting not in SETTINGS:
        raise OptionError(f"jit_compile {setting!r}: use true, false or {AUTO!r}")


def resolve(setting: bool | str) -> tuple[bool, str | None]:
    """(XLA on?, the rule's reason, None when the setting was explicit)."""
    check(setting)
    if setting == AUTO:
        return auto_choice()
    return bool(setting), None
