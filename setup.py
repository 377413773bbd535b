"""Build of the C extension uba._core.

The metadata lives in pyproject.toml; the version in csrc/uba.h
(UBA_VERSION_*, which the extension also publishes as uba.__version__); the
core's sources and its warning flags in csrc/Makefile (CORE, and STRICT, the
flags the C core is tested with).  The binding, csrc/python/_coremodule.c,
is the one source that includes Python.h.
UBA_WERROR=1 turns the warnings into errors (CI does; an install from source
does not, so that a newer compiler's new warning never stops an install).
"""

import os
import re
import sysconfig
from pathlib import Path

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

BINDING = "csrc/python/_coremodule.c"


def version() -> str:
    """MAJOR.MINOR.PATCH from csrc/uba.h."""
    header = Path("csrc/uba.h").read_text(encoding="utf-8")
    numbers = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        match = re.search(rf"^#define UBA_VERSION_{part} (\d+)$", header, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"csrc/uba.h must define UBA_VERSION_{part}")
        numbers.append(match.group(1))
    return ".".join(numbers)


def makefile_variable(name: str) -> list[str]:
    """The words of variable `name` of csrc/Makefile (continued lines too)."""
    makefile = Path("csrc/Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{name} = ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"csrc/Makefile must define {name}")
    return match.group(1).replace("\\\n", " ").split()


def core_sources() -> list[str]:
    """CORE of csrc/Makefile: the C core's sources."""
    return [f"csrc/{name}" for name in makefile_variable("CORE")]


def strict_flags() -> list[str]:
    """STRICT of csrc/Makefile (-std=c11 and the warnings the core is tested
    with), less -Werror (see UBA_WERROR) and -Wpedantic:
    CPython's type slots and method tables hold function pointers as void *,
    a conversion ISO C does not define (and every platform supports)."""
    return [f for f in makefile_variable("STRICT") if f not in ("-Werror", "-Wpedantic")]


def werror() -> bool:
    return os.environ.get("UBA_WERROR", "") == "1"


class BuildExt(build_ext):
    """Flags by compiler family: GCC and Clang (Linux, macOS, MinGW) or MSVC."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "msvc":
            # /fp:precise: no contraction into fused multiply-adds, so every
            # platform's kernel rounds the same way (see csrc/schedule.c).
            flags = ["/std:c11", "/O2", "/fp:precise", "/W3"] + (["/WX"] if werror() else [])
        else:
            # Python's and NumPy's headers as system headers: the warnings
            # are about uba's code.  -ffp-contract=off: no fused multiply-
            # adds, so the vectorized schedule kernel (an AVX2/AVX-512 clone
            # on x86-64 Linux) and the scalar path round identically, on
            # every CPU; -std=c11 implies it for GCC, Clang needs it.
            flags = [
                "-O2",
                "-ffp-contract=off",
                *strict_flags(),
                "-isystem",
                sysconfig.get_paths()["include"],
                "-isystem",
                numpy.get_include(),
            ] + (["-Werror"] if werror() else [])
        for ext in self.extensions:
            ext.extra_compile_args = flags
        super().build_extensions()


setup(
    version=version(),
    ext_modules=[
        Extension(
            "uba._core",
            sources=[BINDING, *core_sources()],
            include_dirs=["csrc", numpy.get_include()],
        )
    ],
    cmdclass={"build_ext": BuildExt},
)
