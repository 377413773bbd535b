/*
 * uba.h -- the Unified Budget-Aware (UBA) learning-rate schedule, in C.
 *
 * A pure C11 library: no Python, no NumPy, no globals, no allocation.
 * Every function that can fail returns a uba_status and writes its results
 * through out-parameters; the caller owns all memory.  Out-parameters are
 * left untouched when a function fails, except the _fill buffers, whose
 * contents are unspecified after a failure.
 *
 * Input policy: every argument is checked; a NaN, an infinity or a value
 * outside the documented range gives the status naming that argument
 * (never a NaN result, never a crash).  uba_strerror() says what is allowed.
 *
 * The schedule (SPEC.md section 1), for budget T, step t, shape phi > 0:
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
    UBA_E_STEP,           /* t: finite, >= 0                               */
    UBA_E_LR,             /* a learning rate (scheduler state): finite     */
    UBA_STATUS_COUNT
} uba_status;

/* Returns a static string saying what the argument behind `status` must be
 * ("phi must be a finite number > 0"); never NULL, also for unknown codes. */
UBA_API const char *uba_strerror(uba_status status);

/* Returns the library version as "MAJOR.MINOR.PATCH" (a static string). */
UBA_API const char *uba_version(void);

/* ---- The shape g(t) in [0, 1] -------------------------------------- */

/* Writes g(t) for budget T and shape phi to *g.
 * Fails with UBA_E_T, UBA_E_PHI, UBA_E_STEP or UBA_E_NULL. */
UBA_API uba_status uba_shape(double t, double T, double phi, double *g);

/* Writes g(t[i]) to out[i] for i < n (t and out may be the same buffer).
 * Fails as uba_shape; on UBA_E_STEP, *bad_index (if not NULL) is the
 * first offending i. */
UBA_API uba_status uba_shape_fill(const double *t, size_t n, double T,
                                  double phi, double *out,
                                  size_t *bad_index);

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
 * uba_eta; on UBA_E_STEP, *bad_index (if not NULL) is the first bad i. */
UBA_API uba_status uba_eta_fill(const uba_params *p, const double *t,
                                size_t n, double *out, size_t *bad_index);

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
 * and written[i] the value this scheduler last stored there (NaN if none):
 *   - lr_now[i] == written[i]: nothing else touched the lr; r_i is kept and
 *     the closed form is written (exactly e_i(t) when r_i == 1: no drift).
 *   - otherwise r_i = (lr_now[i] - eta_min[i]) / (e_i(t_prev) - eta_min[i]),
 *     the multiplicative composition torch's chainable schedulers use.
 *   - where e_i(t_prev) == eta_min[i] (a trough: no ratio exists), the step
 *     is additive as in torch's CosineAnnealingLR: lr_now + (e_i(t) - eta_min).
 * t_prev < 0 stands for "the lr before the first step", valued base[i].
 *
 * Writes the new lrs to lr_next[i] (a buffer that overlaps no input) and
 * updates ratio[i] in place.  Fails
 * with UBA_E_T, UBA_E_PHI, UBA_E_WARMUP_STEPS, UBA_E_WARMUP_START (for f),
 * UBA_E_ETA_MAX (a base), UBA_E_ETA_MIN, UBA_E_LR (lr_now or ratio not
 * finite), UBA_E_STEP (t not finite or < 0) or UBA_E_NULL; nothing is
 * written on failure.
 */
typedef struct uba_group_step {
    double T;                    /* budget                                */
    double phi;                  /* shape                                 */
    double warmup_steps;         /* W                                     */
    double warmup_start_factor;  /* f: warmup starts at f * base          */
} uba_group_step;

UBA_API uba_status uba_step_groups(const uba_group_step *s, double t_prev,
                                   double t, size_t n, const double *base,
                                   const double *eta_min,
                                   const double *lr_now,
                                   const double *written, double *ratio,
                                   double *lr_next);

#ifdef __cplusplus
}
#endif

#endif /* UBA_H */
