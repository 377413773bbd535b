"""Budgeted training: UBA against the schedules people use, tuned fairly, on CPU-sized tasks.

Tasks (all data ships with Python or scikit-learn; nothing is downloaded):
  digits     a small CNN on scikit-learn's digits (8x8 images), SGD with
             momentum 0.9; fixed train/validation/test split (1097/300/400);
             metric: cross-entropy.
  chars      a byte-level transformer language model (2 layers, width 48,
             context 32) on standard-library source files, AdamW; training,
             validation and test text are different files; metric: bits per byte.
  nqm        a noisy quadratic model (docs/theory.md section 4): 400 curvatures
             geometric in [0.01, 1], isotropic noise 1e-3, start x_0 = 1;
  nqm_power  a noisy quadratic model with a spectrum like a network's:
             lam_k = k^-1.5 over 1000 directions (a bulk near zero), noise
             shaped like the Hessian (0.1 lam_k), start x_0 = 1.
  On both NQMs the metric is the expected final loss, exactly (validation and
  test alike: see nqm.py), with the steps t = 0..T-1 that the schedulers give;
  a step above the stability limit 2/lam_max scores as diverged.

Schedules: UBA at phi in {0.25, 0.5, 1, 4, 8}, cosine (which is UBA at phi = 2),
UBA with phi from uba.probe ("uba_probe": probed on the run's initial model
and training batches), linear decay, WSD, REX and a constant lr; on the NQMs
also UBA with phi from uba.theory.choose_phi for the true spectrum, start and
noise ("uba_choose_phi", an oracle), and on the first NQM from
uba.theory.optimal_phi for the true curvature range and noise
("uba_theory_phi", the worst case; its model has one noise variance).  Every
decaying schedule ends at 0, and every schedule of a task has the same warmup
(a 5% linear ramp on chars, none elsewhere).  The probe's measurements depend
only on the seed (the initial model and the probe's training batches), so they
are computed once per seed and task; its phi, and the theory's, are then
computed for each run's budget and peak lr (the peak is tuned like every
schedule's).  The probe's phi is its decision (ProbeResult.decide): choose_phi's
phi for the measured model, or phi = 1 where it abstains, its predicted gain
being inside its own uncertainty (runs.csv records which, and why).

Protocol, for every task, schedule and budget (10%, 30%, 100% of a full run):
  1. tune: the peak lr on a grid of factor 2 around a task default, each point
     scored by the mean validation metric of the tuning seeds; the grid grows by
     one point past an edge until the best point is interior;
  2. evaluate: the chosen lr with the evaluation seeds (never used in tuning),
     each run scored on the test split.
Cells report the mean over the evaluation seeds and a 95% t-interval; two
schedules are compared by the paired difference over the same seeds (same
initial model and batch order), "better" only where its 95% interval excludes 0.
The best UBA phi and the best other schedule are chosen on validation too.

    python benchmarks/budgeted_training.py            # the full study: 8 evaluation seeds
    python benchmarks/budgeted_training.py --quick    # smoke test (about a minute)
    python -m benchmarks.study --quick                # the same, from the repository root

Writes benchmarks/results/{runs.csv, probes.csv, summary.md, budgeted_training.png}
(with --quick, into benchmarks/results/quick/ unless --out is given).

Modules, each importing only those above it:
  schedules   the schedules by name: torch schedulers, and NumPy steps for the NQM
  statistics  t-intervals and paired comparisons over seeds
  tasks       the digits CNN and the byte-level LM, with their data
  nqm         the noisy quadratic model: a spectrum and a score
  protocol    tasks and budgets, runs, tuning on a growing grid, evaluation, the pool
  report      summary.md, the probe's table, the figure, the CSV files (every write)
  cli         the command line
"""
