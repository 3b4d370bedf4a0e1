"""Whether training steps are compiled with XLA: ``--jit-compile`` on, off, or ``"auto"`` by this rule.

XLA's gain depends on the CPU, and in both directions: it speeds up ResNet50V2's training steps on
an x86-64 CPU without AVX-512 and slows them down on one with AVX-512, where TensorFlow's own kernels
(oneDNN) are fast.  So ``"auto"`` compiles with XLA on an x86-64 CPU without AVX-512 and nowhere
else (not on a GPU either, where the paper profile's baseline was made without it).  The rule rests
on the machines measured (their figures in docs/speed.md, measured by ``python
scripts/step_probe.py``): rerun the probe on a new kind of CPU or TensorFlow release, and set
``--jit-compile`` or ``--no-jit-compile`` where it chooses wrong.  A profile asks for ``"auto"`` per
variant (:mod:`flowers.training.profiles`).

XLA changes the numerics, so a result records the choice in its config: ``jit_compile`` (what was
used) and, when the rule chose, ``jit_compile_auto`` (why).  A case resolves it once
(:class:`flowers.training.case.Case`).
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
