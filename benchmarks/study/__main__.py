"""``python -m benchmarks.study [--quick ...]`` from the repository root: the
same command line as ``python benchmarks/budgeted_training.py``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m benchmarks.study"))
