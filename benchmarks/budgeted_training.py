"""Budgeted training: UBA against the schedules people use, tuned fairly, on CPU-sized tasks.

The study is the package beside this file, benchmarks/study/ (its docstring
describes the tasks, the schedules and the protocol); this script is its
command line.

    python benchmarks/budgeted_training.py            # the full study: 8 evaluation seeds
    python benchmarks/budgeted_training.py --quick    # smoke test (about a minute)

Writes benchmarks/results/{runs.csv, probes.csv, summary.md, budgeted_training.png}
(with --quick, into benchmarks/results/quick/ unless --out is given).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from study.cli import main

if __name__ == "__main__":
    sys.exit(main())
