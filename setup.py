"""Build of the C extension uba._core; all metadata lives in pyproject.toml."""

import numpy
from setuptools import Extension, setup

CORE_SOURCES = ["csrc/schedule.c", "csrc/theory.c"]

setup(
    ext_modules=[
        Extension(
            "uba._core",
            sources=["csrc/module.c", *CORE_SOURCES],
            include_dirs=["csrc", numpy.get_include()],
            # -ffp-contract=off: no fused multiply-adds, so the vectorized
            # schedule kernel (an AVX2/AVX-512 clone) and the scalar path
            # round identically; -std=c11 implies it, stated for -std=gnu*.
            extra_compile_args=["-std=c11", "-O2", "-ffp-contract=off"],
        )
    ]
)
