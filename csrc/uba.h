/*
 * uba.h -- the Unified Budget-Aware (UBA) learning-rate schedule, in C.
 *
 * A pure C11 library: no Python, no NumPy, no globals, no allocation.
 * Every function that can fail returns a uba_status and writes its results
 * through out-parameters; the caller owns all memory.  Out-parameters are
 * left untouched when a function fails, except the _fill buffers, whose
 * contents are unspecified after a failure.
 *
 * Input policy: every argument is checked, once: a NaN, an infinity or a
 * value outside the documented range gives the status naming that argument
 * (never a NaN result, never a crash).  Parameters used many times are
 * checked when they are stored (uba_params_init, uba_group_step_init), and
 * the functions given the stored struct trust it.  uba_strerror() says
 * what is allowed; uba_status_blame() which argument a status is about.
 *
 * The schedule (docs/schedule.md), for budget T, step t, shape phi > 0:
 *
 *     eta(t) = eta_min + (eta_max - eta_min) * g(t)
 *     g(t)   = 1 / (1 + (phi/2) * tan^2(pi t / (2T)))
 *
 * g(0) = 1, g(T) = 0, and g is periodic with period 2T past T, as torch's
 * CosineAnnealingLR is.  With warmup_steps = W > 0, the first W steps
 * rise linearly from warmup_start to eta_max and the schedule then runs on
 * t - W over the horizon T - W.
 */
#ifndef UBA_H
#define UBA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UBA_VERSION_MAJOR 0
#define UBA_VERSION_MINOR 1
#define UBA_VERSION_PATCH 0

#ifndef UBA_API
#define UBA_API
#endif

/* The largest budget: every integer up to 2^53 is exact in a double. */
#define UBA_MAX_BUDGET 9007199254740992.0

/* One code per kind of bad input; UBA_OK is 0. */
typedef enum uba_status {
    UBA_OK = 0,
    UBA_E_NULL,           /* a required pointer was NULL                   */
    UBA_E_T,              /* budget T: an integer in [1, 2^53]             */
    UBA_E_PHI,            /* phi: finite, > 0                              */
    UBA_E_ETA_MAX,        /* eta_max: finite                               */
    UBA_E_ETA_MIN,        /* eta_min: finite                               */
    UBA_E_WARMUP_STEPS,   /* warmup_steps: an integer in [0, T)            */
    UBA_E_WARMUP_START,   /* warmup_start: finite                          */
    UBA_E_WARMUP_FACTOR,  /* warmup_start_factor: finite, >= 0             */
    UBA_E_STEP,           /* t: finite, >= 0                               */
    UBA_E_LR,             /* a learning rate (scheduler state): finite     */
    /* theory (docs/theory.md; the part "Theory" below) */
    UBA_E_LAM_MIN,        /* lam_min: finite, > 0                          */
    UBA_E_LAM_MAX,        /* lam_max: finite, >= lam_min                   */
    UBA_E_CURVATURE,      /* 1/lam_min and 2*lam_max/lam_min: finite       */
    UBA_E_KAPPA,          /* kappa: finite, >= 1, 2*kappa finite           */
    UBA_E_PHI_KAPPA,      /* phi as 2*kappa: finite, >= 2                  */
    UBA_E_LRS_EMPTY,      /* lrs: at least one step size                   */
    UBA_E_LRS,            /* an entry of lrs: finite                       */
    UBA_E_LRS_RANGE,      /* an entry of lrs: |lrs[i]| * lam_max <= 1e100  */
    UBA_E_LRS_ZERO,       /* lrs: at least one step size > 0               */
    UBA_E_STEP_CONDITION, /* an entry of lrs breaks a bound's condition    */
    UBA_E_L,              /* L: finite, > 0                                */
    UBA_E_MU,             /* mu: finite, in (0, L]                         */
    UBA_E_SIGMA2,         /* sigma2: finite, >= 0                          */
    UBA_E_F_GAP,          /* f_gap: finite, >= 0                           */
    UBA_E_DIST2,          /* dist2: finite, >= 0                           */
    UBA_E_ETA_RANGE,      /* |eta_max|, |eta_min| times lam_max <= 5e99    */
    UBA_E_ETA_MAX_L,      /* eta_max: finite, in (0, 1/L]                  */
    UBA_E_PHI_RANGE,      /* phi search range: 0 < phi_lo < phi_hi, finite */
    UBA_E_WORKSPACE,      /* a workspace shorter than its documented size  */
    UBA_E_INTERRUPTED,    /* the caller's progress hook asked to stop      */
    /* the expected loss over a spectrum and uba_choose_phi (sections 4, 5) */
    UBA_E_EIGENVALUES_EMPTY, /* eigenvalues: at least one                  */
    UBA_E_EIGENVALUES,    /* an eigenvalue: finite, >= 0                   */
    UBA_E_WEIGHTS_LENGTH, /* weights: one, or one per eigenvalue           */
    UBA_E_WEIGHTS,        /* a weight: finite, >= 0                        */
    UBA_E_START_LENGTH,   /* start: one, or one per eigenvalue             */
    UBA_E_START,          /* a start value: finite, >= 0                   */
    UBA_E_NOISE_LENGTH,   /* noise: one, or one per eigenvalue             */
    UBA_E_NOISE,          /* a noise variance: finite, >= 0                */
    UBA_E_PEAK,           /* the peak eta_max or its search range          */
    UBA_STATUS_COUNT
} uba_status;

/*
 * The arguments a status can be about, by the names this header gives
 * them.  A binding that names arguments its own way maps these ids to its
 * own names and positions (uba_status_blame says which id a status is
 * about); no text needs to be parsed.
 */
typedef enum uba_arg {
    UBA_ARG_NONE = 0,          /* no argument: UBA_OK, UBA_E_NULL, ...     */
    UBA_ARG_T,
    UBA_ARG_PHI,
    UBA_ARG_ETA_MAX,           /* also base[i] of uba_step_groups          */
    UBA_ARG_ETA_MIN,
    UBA_ARG_WARMUP_STEPS,
    UBA_ARG_WARMUP_START,
    UBA_ARG_WARMUP_FACTOR,     /* warmup_start_factor                      */
    UBA_ARG_STEP,              /* t (and t_prev of uba_step_groups)        */
    UBA_ARG_LR_NOW,
    UBA_ARG_LAM_MIN,
    UBA_ARG_LAM_MAX,
    UBA_ARG_KAPPA,
    UBA_ARG_LRS,
    UBA_ARG_L,
    UBA_ARG_MU,
    UBA_ARG_SIGMA2,
    UBA_ARG_F_GAP,
    UBA_ARG_DIST2,
    UBA_ARG_PHI_LO,
    UBA_ARG_PHI_HI,
    UBA_ARG_EIGENVALUES,       /* the arrays of a uba_spectrum             */
    UBA_ARG_WEIGHTS,
    UBA_ARG_START,
    UBA_ARG_NOISE,
    UBA_ARG_COUNT
} uba_arg;

/* What a status blames: one argument (`arg`), or a pair of arguments
 * whose combination is wrong (`arg` and `pair`: lam_min and lam_max for
 * UBA_E_CURVATURE); `entry` is 1 where it is about one entry of an array
 * argument, whose index the function wrote to *bad_index. */
typedef struct uba_blame {
    uba_arg arg;   /* UBA_ARG_NONE for UBA_OK, UBA_E_NULL, UBA_E_WORKSPACE,
                    * UBA_E_INTERRUPTED and unknown codes               */
    uba_arg pair;  /* the second argument of a pair, else UBA_ARG_NONE  */
    int entry;
} uba_blame;

/* Returns the argument(s) behind `status` (see uba_blame). */
UBA_API uba_blame uba_status_blame(uba_status status);

/* Returns the name this header gives argument `arg` ("lam_min"); "" for
 * UBA_ARG_NONE and unknown ids.  A static string. */
UBA_API const char *uba_arg_name(uba_arg arg);

/* Returns a static sentence saying what the argument behind `status` must
 * be ("phi must be a finite number > 0"); never NULL, also for unknown
 * codes.  It is uba_status_argument(status), a space, and
 * uba_status_rule(status). */
UBA_API const char *uba_strerror(uba_status status);

/* Returns the argument behind `status` in words, from the names of
 * uba_status_blame: "phi"; "lrs[i]" where the status is about one entry
 * (its index is *bad_index); "(lam_min, lam_max)" where it is about a
 * pair.  A static string, "" for UBA_OK and unknown codes. */
UBA_API const char *uba_status_argument(uba_status status);

/* Returns the rule that argument broke, without its name ("must be a
 * finite number > 0"), for callers that name arguments their own way:
 * a static string, never NULL. */
UBA_API const char *uba_status_rule(uba_status status);

/* Returns the library version as "MAJOR.MINOR.PATCH" (a static string). */
UBA_API const char *uba_version(void);

/* ---- Progress and cancellation of long calls ------------------------ */

/*
 * Every function whose work grows with its input takes a last argument
 * `const uba_progress *progress`: NULL (never polled) or a hook that is
 * called from the calling thread once the arguments are checked and then
 * every millisecond or so of work, with an estimate of the fraction done,
 * non-decreasing, in [0, 1).  A nonzero return stops the work with
 * UBA_E_INTERRUPTED; the out-parameters are then left untouched (the
 * _fill buffers and uba_chebyshev_steps' out: unspecified, as after any
 * failure).  Entries of an array are checked as the work reaches them, so
 * a call interrupted first reports UBA_E_INTERRUPTED, not a later bad
 * entry.  The hook may do anything that does not touch the call's buffers
 * (a binding uses it to check for a pending signal, a command line to draw
 * a progress bar).
 */
typedef struct uba_progress {
    int (*poll)(void *ctx, double fraction_done);
    void *ctx;
} uba_progress;

/* ---- The shape g(t) in [0, 1] -------------------------------------- */

/* Writes g(t) for budget T and shape phi to *g.
 * Fails with UBA_E_T, UBA_E_PHI, UBA_E_STEP or UBA_E_NULL. */
UBA_API uba_status uba_shape(double t, double T, double phi, double *g);

/* Writes g(t[i]) to out[i] for i < n (t and out may be the same buffer).
 * Fails as uba_shape, or with UBA_E_INTERRUPTED; on UBA_E_STEP, *bad_index
 * (if not NULL) is the first offending i. */
UBA_API uba_status uba_shape_fill(const double *t, size_t n, double T,
                                  double phi, double *out,
                                  size_t *bad_index,
                                  const uba_progress *progress);

/* ---- The learning rate eta(t), with optional warmup ------------------ */

/* Validated parameters of one schedule; fill it with uba_params_init. */
typedef struct uba_params {
    double T;             /* budget, integer-valued, in [1, 2^53]         */
    double phi;           /* shape, finite, > 0                           */
    double eta_max;       /* peak value (reached at t = warmup_steps)     */
    double eta_min;       /* floor value (reached at t = T)               */
    double warmup_steps;  /* W, integer-valued, in [0, T)                 */
    double warmup_start;  /* value at t = 0 when W > 0                    */
} uba_params;

/* Checks the arguments and stores them in *p.  Fails with UBA_E_T,
 * UBA_E_PHI, UBA_E_ETA_MAX, UBA_E_ETA_MIN, UBA_E_WARMUP_STEPS,
 * UBA_E_WARMUP_START or UBA_E_NULL (checked in that order). */
UBA_API uba_status uba_params_init(uba_params *p, double T, double phi,
                                   double eta_max, double eta_min,
                                   double warmup_steps, double warmup_start);

/* Writes eta(t) to *eta.  p must come from a successful uba_params_init.
 * Fails with UBA_E_STEP or UBA_E_NULL. */
UBA_API uba_status uba_eta(const uba_params *p, double t, double *eta);

/* Writes eta(t[i]) to out[i] for i < n (t and out may alias).  Fails as
 * uba_eta, or with UBA_E_INTERRUPTED; on UBA_E_STEP, *bad_index (if not
 * NULL) is the first bad i. */
UBA_API uba_status uba_eta_fill(const uba_params *p, const double *t,
                                size_t n, double *out, size_t *bad_index,
                                const uba_progress *progress);

/* ---- One step of a stateful scheduler (the engine behind UBALR) ------ */

/*
 * A scheduler drives n parameter groups that share T, phi, W and
 * warmup_start_factor f; group i has its own base value base[i] (the
 * initial lr), floor eta_min[i], and warmup start f * base[i].  Let e_i(t)
 * be that group's eta(t).  Each group carries a composition ratio r_i
 * (1 when the scheduler alone has set the lr), so that its lr is
 * eta_min[i] + r_i * (e_i(t) - eta_min[i]).
 *
 * Stepping from t_prev to t, with lr_now[i] the group's lr at this moment
 * and written[i] the value this scheduler last stored there:
 *   - untouched (ratio[i] finite and lr_now[i] == written[i]): r_i is kept
 *     and the closed form is written (exactly e_i(t) when r_i == 1: no
 *     drift, whatever the rounding of the stored lr was);
 *   - touched (otherwise; a NaN ratio or written value means "unknown"):
 *     r_i = (lr_now[i] - eta_min[i]) / (e_i(t_prev) - eta_min[i]), the
 *     multiplicative composition torch's chainable schedulers use;
 *   - where e_i(t_prev) == eta_min[i] (a trough: no ratio exists), the
 *     step is additive as in torch's CosineAnnealingLR: e_i(t) with r_i = 1
 *     if untouched (the lr is the floor exactly), else lr_now + (e_i(t) -
 *     eta_min), with the ratio taken from the result (NaN, "unknown",
 *     where e_i(t) == eta_min[i] too).
 * t_prev < 0 stands for "the lr before the first step", valued base[i];
 * t_prev may also lie after t (a schedule stepped back by hand).
 *
 * The parameters the groups share are checked once, when the scheduler
 * is made (uba_group_step_init), and the step then trusts them.
 */

/* The parameters a scheduler's groups share; fill it with
 * uba_group_step_init. */
typedef struct uba_group_step {
    double T;                    /* budget, integer-valued, in [1, 2^53]  */
    double phi;                  /* shape, finite, > 0                    */
    double warmup_steps;         /* W, integer-valued, in [0, T)          */
    double warmup_start_factor;  /* f: warmup starts at f * base, f >= 0  */
} uba_group_step;

/* Checks the arguments and stores them in *s.  Fails with UBA_E_T,
 * UBA_E_PHI, UBA_E_WARMUP_STEPS, UBA_E_WARMUP_FACTOR (f not finite or
 * negative) or UBA_E_NULL (checked in that order); nothing is written on
 * failure. */
UBA_API uba_status uba_group_step_init(uba_group_step *s, double T,
                                       double phi, double warmup_steps,
                                       double warmup_start_factor);

/* One step of the n groups.  s must come from a successful
 * uba_group_step_init.  Writes the new lrs to lr_next[i] (a buffer that
 * overlaps no input) and the new ratios to ratio[i].  Fails with
 * UBA_E_STEP (t not finite or negative, t_prev not finite), UBA_E_NULL,
 * or, for group *bad_index (if not NULL), UBA_E_ETA_MAX (base), UBA_E_ETA_MIN
 * or UBA_E_LR (lr_now not finite, or the new lr overflows); nothing is
 * written on failure. */
UBA_API uba_status uba_step_groups(const uba_group_step *s, double t_prev,
                                   double t, size_t n, const double *base,
                                   const double *eta_min,
                                   const double *lr_now,
                                   const double *written, double *ratio,
                                   double *lr_next, size_t *bad_index);

/* ---- Theory: docs/theory.md --------------------------------------- */

/*
 * The paper gives only the schedule; everything below is derived for this
 * project (docs/theory.md section 1), is a standard bound instantiated for
 * any step sequence (section 2), or is this project's numerics (sections
 * 3-5).  Each section is one C file: curvature.c, bounds.c, worst_case.c,
 * noisy_quadratic.c, choose_phi.c.
 *
 * A curvature range is [lam_min, lam_max] with 0 < lam_min <= lam_max,
 * both finite; functions that form 1/lam_min or phi = 2*lam_max/lam_min
 * also need those finite (UBA_E_CURVATURE).  kappa = lam_max/lam_min.
 * `lrs` is any sequence of n step sizes eta_0..eta_{n-1}; on a failure
 * that points at one entry, *bad_index (if not NULL) is the first
 * offending index.  Statuses are checked in the order listed, except that
 * the per-entry statuses of lrs (UBA_E_LRS and the range or condition
 * status after it) are checked entry by entry: the first offending entry
 * gives its own status.  Every function with a `progress` argument can
 * also fail with UBA_E_INTERRUPTED (see uba_progress), after its argument
 * checks.  A function that needs a buffer of a size its arguments decide
 * (the Chebyshev steps, a workspace) has a _check function that gives the
 * status of those arguments alone, so that a caller can refuse bad ones
 * before it allocates.
 */

/* -- Section 1: the curvature connection (curvature.c) -- */

/* Returns the status uba_chebyshev_steps gives for T, lam_min and lam_max:
 * UBA_OK, UBA_E_T (T == 0 or T > 2^53), UBA_E_LAM_MIN, UBA_E_LAM_MAX or
 * UBA_E_CURVATURE. */
UBA_API uba_status uba_chebyshev_check(size_t T, double lam_min,
                                       double lam_max);

/* Writes the T Chebyshev min-max step sizes for the spectrum
 * [lam_min, lam_max], 2/(lam_max + lam_min - (lam_max - lam_min)
 * cos((2k-1) pi/(2T))), k = 1..T, to out[0..T-1]: evaluated as UBA with
 * phi = 2 kappa at t = k - 1/2 (the identity of section 1), so never
 * rising, and T copies of 1/lam_min exactly when lam_min == lam_max.
 * Fails as uba_chebyshev_check, or with UBA_E_NULL; out is unspecified
 * after UBA_E_INTERRUPTED. */
UBA_API uba_status uba_chebyshev_steps(size_t T, double lam_min,
                                       double lam_max, double *out,
                                       const uba_progress *progress);

/* Writes log(1/T_T((kappa+1)/(kappa-1))), the log of the optimal min-max
 * residual, to *log_residual (-inf when lam_min == lam_max).  Fails as
 * uba_chebyshev_steps. */
UBA_API uba_status uba_chebyshev_log_residual(size_t T, double lam_min,
                                              double lam_max,
                                              double *log_residual);

/* Writes phi = 2*kappa to *phi.  Fails with UBA_E_KAPPA or UBA_E_NULL. */
UBA_API uba_status uba_phi_from_kappa(double kappa, double *phi);

/* Writes kappa = phi/2 to *kappa.  Fails with UBA_E_PHI_KAPPA (phi < 2
 * is no condition number) or UBA_E_NULL. */
UBA_API uba_status uba_kappa_from_phi(double phi, double *kappa);

/* Writes the UBA parameters whose midpoint samples are the Chebyshev
 * steps: eta_max = 1/lam_min, eta_min = 1/lam_max, phi = 2*kappa.  Fails
 * with UBA_E_LAM_MIN, UBA_E_LAM_MAX, UBA_E_CURVATURE or UBA_E_NULL; nothing
 * is written on failure. */
UBA_API uba_status uba_curvature_params(double lam_min, double lam_max,
                                        double *eta_max, double *eta_min,
                                        double *phi);

/* -- Section 2: bounds for any step sequence (bounds.c) -- */

/* The step-size conditions of the bounds, 0 <= lrs[t] <= limit / L, as
 * the limit: 1/L for (a) and (c), 1/(2L) for (b). */
#define UBA_STEP_LIMIT_NONCONVEX 1.0
#define UBA_STEP_LIMIT_CONVEX 0.5
#define UBA_STEP_LIMIT_STRONGLY_CONVEX 1.0

/* Bound (a), non-convex: writes (2 f_gap + L sigma2 S2) / S1 to *bound,
 * S1 = sum lrs, S2 = sum lrs^2.  Needs 0 <= lrs[t] <= 1/L.  Fails with
 * UBA_E_L, UBA_E_SIGMA2, UBA_E_F_GAP, UBA_E_LRS_EMPTY, UBA_E_NULL, UBA_E_LRS,
 * UBA_E_STEP_CONDITION or UBA_E_LRS_ZERO. */
UBA_API uba_status uba_bound_nonconvex(const double *lrs, size_t n, double L,
                                       double sigma2, double f_gap,
                                       double *bound, size_t *bad_index,
                                       const uba_progress *progress);

/* Bound (b), convex: writes (dist2 + sigma2 S2) / S1 to *bound.  Needs
 * 0 <= lrs[t] <= 1/(2L).  Fails as uba_bound_nonconvex, with UBA_E_DIST2
 * in place of UBA_E_F_GAP. */
UBA_API uba_status uba_bound_convex(const double *lrs, size_t n, double L,
                                    double sigma2, double dist2,
                                    double *bound, size_t *bad_index,
                                    const uba_progress *progress);

/* Bound (c), mu-strongly convex: writes prod_t (1 - mu lrs[t]) f_gap +
 * (L sigma2 / 2) sum_t lrs[t]^2 prod_{s>t} (1 - mu lrs[s]) to *bound, to a
 * few ulp for any n (compensated).  Needs 0 <= lrs[t] <= 1/L.  Fails with
 * UBA_E_L, UBA_E_MU, UBA_E_SIGMA2, UBA_E_F_GAP, UBA_E_LRS_EMPTY, UBA_E_NULL,
 * UBA_E_LRS or UBA_E_STEP_CONDITION. */
UBA_API uba_status uba_bound_strongly_convex(const double *lrs, size_t n,
                                             double mu, double L,
                                             double sigma2, double f_gap,
                                             double *bound,
                                             size_t *bad_index,
                                             const uba_progress *progress);

/* -- Section 3: the worst-case residual (worst_case.c) -- */

/* The largest |lrs[i]| * lam_max the residual functions accept.  A step
 * with eta*lam > 2 already makes |1 - eta*lam| > 1; the cap keeps every
 * factor and its derivative inside double range. */
#define UBA_MAX_ETA_LAM 1e100

/* Returns the number of doubles of workspace that uba_worst_case_residual
 * and uba_worst_case_noisy_error need for n step sizes: at least
 * 4n + 24,576 and at most about 12n + 24,576 (SIZE_MAX if that
 * overflows). */
UBA_API size_t uba_worst_case_work_size(size_t n);

/* Returns the status both worst cases give for n steps and these
 * constants (sigma2 = 0 for the residual), before any entry of lrs is
 * read: UBA_OK, UBA_E_LAM_MIN, UBA_E_LAM_MAX, UBA_E_CURVATURE,
 * UBA_E_SIGMA2 or UBA_E_LRS_EMPTY. */
UBA_API uba_status uba_worst_case_check(size_t n, double lam_min,
                                        double lam_max, double sigma2);

/* Writes log max over lam in [lam_min, lam_max] of |prod_t (1 - lrs[t]
 * lam)| to *log_residual (-inf only for an exact zero) and a maximiser to
 * *lam_at (if not NULL).  The true maximum, certified bracket by bracket
 * (see worst_case.c), to about 1e-12 in the log, for every kappa >= 1;
 * O(n log n) time.  work: caller-owned, work_len >=
 * uba_worst_case_work_size(n) doubles.  Fails with UBA_E_LAM_MIN,
 * UBA_E_LAM_MAX, UBA_E_CURVATURE, UBA_E_LRS_EMPTY, UBA_E_NULL,
 * UBA_E_WORKSPACE, UBA_E_LRS or UBA_E_LRS_RANGE. */
UBA_API uba_status uba_worst_case_residual(const double *lrs, size_t n,
                                           double lam_min, double lam_max,
                                           double *work, size_t work_len,
                                           double *log_residual,
                                           double *lam_at,
                                           size_t *bad_index,
                                           const uba_progress *progress);

/* -- Section 4: the noisy quadratic (noisy_quadratic.c) -- */

/* Writes log max over lam in [lam_min, lam_max] of the noisy-quadratic
 * error E x_n^2 = prod_t (1 - eta_t lam)^2 + sigma2 sum_t eta_t^2
 * prod_{s>t} (1 - eta_s lam)^2 (x_0^2 = 1) to *log_error and a maximiser
 * to *lam_at (if not NULL).  Exact (2 * the log residual) for sigma2 = 0;
 * for sigma2 > 0 a search in O(n) time whose accuracy docs/theory.md gives
 * as measured (see noisy_quadratic.c).  Workspace as
 * uba_worst_case_residual.  Fails as uba_worst_case_residual, and with
 * UBA_E_SIGMA2 (after the range). */
UBA_API uba_status uba_worst_case_noisy_error(const double *lrs, size_t n,
                                              double lam_min, double lam_max,
                                              double sigma2, double *work,
                                              size_t work_len,
                                              double *log_error,
                                              double *lam_at,
                                              size_t *bad_index,
                                              const uba_progress *progress);

/*
 * The expected final loss over a spectrum.  A spectrum describes a
 * diagonal quadratic: direction k has curvature lam_k >= 0, weight
 * w_k >= 0 (how many directions it stands for, e.g. quadrature weights
 * times the dimension), start s_k = E x_0^2 >= 0 (the
 * squared distance from the minimum along it) and noise v_k >= 0 (the
 * per-step gradient-noise variance along it).  SGD with steps eta_t,
 *
 *     x_{t+1} = (1 - eta_t lam_k) x_t - eta_t xi_t,   E xi_t^2 = v_k,
 *
 * has m_t = E x_t^2 with m_0 = s_k and
 *
 *     m_{t+1} = (1 - eta_t lam_k)^2 m_t + eta_t^2 v_k,
 *
 * every term nonnegative, and the expected final loss is
 *
 *     L = 0.5 sum_k w_k lam_k m_n.
 *
 * The functions below evaluate this recursion exactly in float64 (a few
 * ulp per step, each 1 - eta lam formed by one fma) with a binary
 * exponent carried per direction, so that nothing overflows, underflows
 * or loses bits to a subnormal on the way, whatever the steps; L itself
 * is +inf past the largest double (a divergent schedule) and 0 below the
 * smallest, never NaN.
 */
typedef struct uba_spectrum {
    const double *eigenvalues;  /* n curvatures lam_k: finite, >= 0        */
    size_t n;                   /* at least 1                              */
    const double *weights;      /* NULL (1 each), or n_weights values      */
    size_t n_weights;           /* 1 (one for all) or n; unused if NULL    */
    const double *start;        /* n_start values s_k = E x_0^2            */
    size_t n_start;             /* 1 or n                                  */
    const double *noise;        /* n_noise variances v_k                   */
    size_t n_noise;             /* 1 or n                                  */
} uba_spectrum;

/*
 * The checks of a spectrum, in this order: UBA_E_NULL (sp NULL),
 * UBA_E_EIGENVALUES_EMPTY (n == 0), UBA_E_WEIGHTS_LENGTH,
 * UBA_E_START_LENGTH, UBA_E_NOISE_LENGTH (a length neither 1 nor n),
 * UBA_E_NULL (eigenvalues, start or noise NULL), then the entries, array
 * by array: UBA_E_EIGENVALUES, UBA_E_WEIGHTS, UBA_E_START, UBA_E_NOISE
 * (not finite, or negative), *bad_index (if not NULL) the first offending
 * index of that array.  These come before any work (never interrupted).
 */

/* Returns the doubles of workspace uba_expected_loss needs for n steps:
 * 2n (SIZE_MAX if that overflows). */
UBA_API size_t uba_expected_loss_work_size(size_t n);

/* Returns the status uba_expected_loss gives for n steps and this spectrum
 * before it touches its workspace or reads an entry of lrs: UBA_OK,
 * UBA_E_LRS_EMPTY or a spectrum's status (*bad_index as there). */
UBA_API uba_status uba_expected_loss_check(size_t n, const uba_spectrum *sp,
                                           size_t *bad_index);

/* Writes the expected final loss L of the n steps lrs[0..n-1] (in the
 * order taken) over the spectrum to *loss, and max_t |lrs[t]| times the
 * largest eigenvalue to *stability (if not NULL; above 2, some step is
 * past the stability limit 2/lam_max).  O(n * sp->n) time.  Fails with
 * UBA_E_LRS_EMPTY, a spectrum's status, UBA_E_NULL (lrs, work or loss),
 * UBA_E_WORKSPACE (work_len < uba_expected_loss_work_size(n)), and then,
 * entry by entry of lrs, UBA_E_LRS (not finite) or UBA_E_LRS_RANGE
 * (|lrs[i]| times the largest eigenvalue above UBA_MAX_ETA_LAM). */
UBA_API uba_status uba_expected_loss(const double *lrs, size_t n,
                                     const uba_spectrum *sp, double *work,
                                     size_t work_len, double *loss,
                                     double *stability, size_t *bad_index,
                                     const uba_progress *progress);

/* -- Section 5: choosing phi (choose_phi.c) -- */

/* Returns UBA_OK, or UBA_E_PHI_RANGE unless 0 < phi_lo < phi_hi, both
 * finite: the search range every minimiser below takes. */
UBA_API uba_status uba_phi_range_check(double phi_lo, double phi_hi);

/* Returns the doubles of workspace uba_optimal_phi needs for budget T
 * (SIZE_MAX if that overflows). */
UBA_API size_t uba_optimal_phi_work_size(size_t T);

/* Returns the status uba_optimal_phi gives for these arguments before it
 * touches its workspace: UBA_OK, UBA_E_T, UBA_E_LAM_MIN, UBA_E_LAM_MAX,
 * UBA_E_CURVATURE, UBA_E_SIGMA2, UBA_E_ETA_MAX, UBA_E_ETA_MIN,
 * UBA_E_ETA_RANGE (max(|eta_max|, |eta_min|) * lam_max >
 * UBA_MAX_ETA_LAM / 2 = 5e99: half the residual functions' cap, room for
 * rounding of the schedule values) or UBA_E_PHI_RANGE. */
UBA_API uba_status uba_optimal_phi_check(size_t T, double lam_min,
                                         double lam_max, double sigma2,
                                         double eta_max, double eta_min,
                                         double phi_lo, double phi_hi);

/* Writes to *phi the phi in [phi_lo, phi_hi] minimising the worst case
 * over lam in [lam_min, lam_max] of the noisy-quadratic error (as
 * uba_worst_case_noisy_error) of UBA(T, phi, eta_max, eta_min) sampled at
 * t = k - 1/2, k = 1..T, and the log of that error to *log_objective.  A
 * log-spaced scan (searched lazily, from cheap lower bounds) then Brent's
 * method on log phi.  With eta_max == eta_min the schedule ignores phi and
 * 2*lam_max/lam_min is returned.  Fails as uba_optimal_phi_check, or with
 * UBA_E_NULL or UBA_E_WORKSPACE. */
UBA_API uba_status uba_optimal_phi(size_t T, double lam_min, double lam_max,
                                   double sigma2, double eta_max,
                                   double eta_min, double phi_lo,
                                   double phi_hi, double *work,
                                   size_t work_len, double *phi,
                                   double *log_objective,
                                   const uba_progress *progress);

/* Writes to *phi the phi in [phi_lo, phi_hi] minimising bound (c) for UBA
 * with eta_min = 0 at t = 0..T-1, and that bound (as
 * uba_bound_strongly_convex gives it) to *bound; O(1) memory, O(T) per
 * trial.  f_gap = sigma2 = 0 makes every bound 0: phi_lo is returned.
 * Fails with UBA_E_T, UBA_E_L, UBA_E_MU, UBA_E_SIGMA2, UBA_E_F_GAP,
 * UBA_E_ETA_MAX_L, UBA_E_PHI_RANGE or UBA_E_NULL. */
UBA_API uba_status uba_optimal_phi_strongly_convex(size_t T, double mu,
                                                   double L, double sigma2,
                                                   double f_gap,
                                                   double eta_max,
                                                   double phi_lo,
                                                   double phi_hi,
                                                   double *phi,
                                                   double *bound,
                                                   const uba_progress *progress);

/* How far below the top of uba_choose_phi's peak range its bottom lies
 * when given as 0. */
#define UBA_PEAK_RANGE_DEPTH 0x1p-20

/* What uba_choose_phi found. */
typedef struct uba_phi_choice {
    double phi;           /* the minimiser of L over phi                   */
    double eta_max;       /* the peak: as given, or the chosen one         */
    double loss;          /* L at (phi, eta_max), as uba_expected_loss     */
    double loss_default;  /* L at phi = 1, the same peak                   */
    double loss_cosine;   /* L at phi = 2 (cosine), the same peak          */
    double initial_loss;  /* 0.5 sum_k w_k lam_k s_k                       */
    double flat_lo;       /* the phis around phi whose L is within 1% of   */
    double flat_hi;       /* the best, from the scan (interpolated)        */
    int phi_at_end;       /* -1, +1: phi is at the lower, upper end of     */
                          /* [phi_lo, phi_hi] (L still falls past it); 0   */
    int peak_at_end;      /* the same for the peak's range (0 if fixed)    */
    double eta_lo;        /* the peak range searched (eta_max twice when   */
    double eta_hi;        /* the peak was given)                           */
    double lam_max;       /* the largest eigenvalue                        */
    double evaluations;   /* how many losses the search evaluated          */
} uba_phi_choice;

/* Returns the doubles of workspace uba_choose_phi needs for budget T
 * (SIZE_MAX if that overflows). */
UBA_API size_t uba_choose_phi_work_size(size_t T);

/* Returns the status uba_choose_phi gives for these arguments before it
 * touches its workspace: UBA_OK, UBA_E_T, a spectrum's status (*bad_index
 * as there), UBA_E_PEAK, UBA_E_ETA_MIN, UBA_E_ETA_RANGE or
 * UBA_E_PHI_RANGE. */
UBA_API uba_status uba_choose_phi_check(size_t T, const uba_spectrum *sp,
                                        double eta_lo, double eta_hi,
                                        double eta_min, double phi_lo,
                                        double phi_hi, size_t *bad_index);

/*
 * Chooses phi, and if asked the peak, to minimise the expected final loss
 * L over the spectrum of UBA(T, phi, eta_max, eta_min) at the steps
 * t = 0..T-1 (the values uba_eta_fill gives, bit for bit: the lrs a
 * scheduler sets at its T steps).  The peak: eta_lo == eta_hi fixes it
 * (finite, > 0); eta_lo < eta_hi searches [eta_lo, eta_hi], where
 * eta_hi = +inf stands for the stability limit 2/lam_max and eta_lo = 0
 * for UBA_PEAK_RANGE_DEPTH * eta_hi (so (0, +inf) is the default range
 * (0, 2/lam_max]).  phi is searched in [phi_lo, phi_hi] by a scan of four
 * points per octave of log phi (at most 1024), then Brent's method around
 * the best; the peak by a scan of log eta_max combined with it (see
 * choose_phi.c).  Writes the result to *out.  Fails with UBA_E_T, a
 * spectrum's status, UBA_E_PEAK (a fixed peak not finite or <= 0; a range
 * not 0 <= eta_lo < eta_hi <= +inf, or one that resolves to no finite
 * range > 0, e.g. eta_hi = +inf with every eigenvalue 0), UBA_E_ETA_MIN
 * (not finite), UBA_E_ETA_RANGE (the top of the peak range or |eta_min|
 * times lam_max above UBA_MAX_ETA_LAM / 2), UBA_E_PHI_RANGE, UBA_E_NULL
 * (work or out), UBA_E_WORKSPACE, or UBA_E_INTERRUPTED.
 */
UBA_API uba_status uba_choose_phi(size_t T, const uba_spectrum *sp,
                                  double eta_lo, double eta_hi,
                                  double eta_min, double phi_lo,
                                  double phi_hi, double *work,
                                  size_t work_len, uba_phi_choice *out,
                                  size_t *bad_index,
                                  const uba_progress *progress);

#ifdef __cplusplus
}
#endif

#endif /* UBA_H */
