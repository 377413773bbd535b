/*
 * schedule.c -- the UBA schedule: shape, learning rate, warmup, and the
 * stepping rule of a stateful scheduler.  See uba.h for the contracts.
 */
#include "uba.h"

#include <math.h>

/* pi/2 rounded to double; the angle below never exceeds pi/4, where the
 * relative error of this constant (about 6e-17) is all it contributes. */
static const double HALF_PI = 1.57079632679489661923;

static const char *const STATUS_TEXT[UBA_STATUS_COUNT] = {
    [UBA_OK] = "no error",
    [UBA_E_NULL] = "a required pointer is NULL",
    [UBA_E_T] = "T must be an integer in [1, 2**53]",
    [UBA_E_PHI] = "phi must be a finite number > 0",
    [UBA_E_ETA_MAX] = "eta_max must be a finite number",
    [UBA_E_ETA_MIN] = "eta_min must be a finite number",
    [UBA_E_WARMUP_STEPS] = "warmup_steps must be an integer in [0, T)",
    [UBA_E_WARMUP_START] = "warmup_start must be a finite number",
    [UBA_E_STEP] = "t must be a finite number >= 0",
    [UBA_E_LR] = "learning rates must be finite numbers",
    [UBA_E_LAM_MIN] = "lam_min must be a finite number > 0",
    [UBA_E_LAM_MAX] = "lam_max must be a finite number >= lam_min",
    [UBA_E_CURVATURE] = "1/lam_min and 2*lam_max/lam_min must be finite",
    [UBA_E_KAPPA] = "kappa must be a finite number >= 1 (with 2*kappa finite)",
    [UBA_E_PHI_KAPPA] = "phi must be a finite number >= 2 to be 2*kappa "
                        "with kappa >= 1",
    [UBA_E_LRS_EMPTY] = "lrs must hold at least one step size",
    [UBA_E_LRS] = "lrs must hold finite numbers",
    [UBA_E_LRS_RANGE] = "each |lrs[i]| * lam_max must be at most 1e100",
    [UBA_E_LRS_ZERO] = "lrs must hold at least one step size > 0",
    [UBA_E_STEP_CONDITION] = "a step size breaks the bound's step-size "
                             "condition",
    [UBA_E_L] = "L must be a finite number > 0",
    [UBA_E_MU] = "mu must be a finite number in (0, L]",
    [UBA_E_SIGMA2] = "sigma2 must be a finite number >= 0",
    [UBA_E_F_GAP] = "f_gap must be a finite number >= 0",
    [UBA_E_DIST2] = "dist2 must be a finite number >= 0",
    [UBA_E_ETA_RANGE] = "|eta_max| * lam_max and |eta_min| * lam_max must "
                        "be at most 1e100",
    [UBA_E_ETA_MAX_L] = "eta_max must be a finite number in (0, 1/L]",
    [UBA_E_PHI_RANGE] = "phi_range must be (phi_lo, phi_hi) with "
                        "0 < phi_lo < phi_hi, both finite",
    [UBA_E_WORKSPACE] = "the workspace is shorter than its documented size",
};

const char *
uba_strerror(uba_status status)
{
    if ((unsigned)status >= (unsigned)UBA_STATUS_COUNT) {
        return "unknown uba_status";
    }
    return STATUS_TEXT[status];
}

#define UBA_STR2(x) #x
#define UBA_STR(x) UBA_STR2(x)

const char *
uba_version(void)
{
    return UBA_STR(UBA_VERSION_MAJOR) "." UBA_STR(UBA_VERSION_MINOR)
        "." UBA_STR(UBA_VERSION_PATCH);
}

/* ---- argument checks -------------------------------------------------- */

static int
is_budget(double T)
{
    return T >= 1.0 && T <= UBA_MAX_BUDGET && floor(T) == T;
}

static int
is_phi(double phi)
{
    return isfinite(phi) && phi > 0.0;
}

static int
is_step(double t)
{
    return isfinite(t) && t >= 0.0;
}

static int
is_warmup(double W, double T)
{
    return W >= 0.0 && W < T && floor(W) == W;
}

/* ---- the shape -------------------------------------------------------- */

/*
 * The weights of eta_max and eta_min at step t, for t in [0, T]:
 *
 *     g  = c^2 / (c^2 + h s^2),   gc = 1 - g = h s^2 / (c^2 + h s^2)
 *
 * with h = phi/2, c = cos a, s = sin a, a = pi t / (2T).  This equals
 * SPEC's 2u / (2 phi + (2 - phi) u) with u = 1 + cos(pi t/T) = 2 c^2, but
 * never forms 1 + cos(pi t/T), which cancels near t = T.  Past t = T/2 the
 * angle is reflected, c = sin b, s = cos b with b = pi (T - t) / (2T), so
 * the argument of sin and cos stays in [0, pi/4] and c keeps full relative
 * accuracy down to t = T - 1 at T = 2^53 (T - t is exact there, Sterbenz).
 * Both weights come out with a few ulp of relative error, g(0) = 1 and
 * g(T) = 0 exactly, and gc is computed without the cancellation of 1 - g.
 */
typedef struct shape_weights {
    double g;   /* weight of eta_max */
    double gc;  /* weight of eta_min, 1 - g without cancellation */
} shape_weights;

static shape_weights
shape_in_period(double t, double T, double half_phi)
{
    double c, s;
    if (t <= 0.5 * T) {
        const double a = HALF_PI * (t / T);
        c = cos(a);
        s = sin(a);
    }
    else {
        const double b = HALF_PI * ((T - t) / T);
        c = sin(b);
        s = cos(b);
    }
    const double c2 = c * c;
    const double hs2 = half_phi * (s * s);
    const double den = c2 + hs2;
    shape_weights w = {c2 / den, hs2 / den};
    return w;
}

/* Maps any t >= 0 into [0, T]: the schedule has period 2T and mirrors
 * about T, exactly as cosine annealing does.  fmod is exact, and so is
 * 2T - r for r in (T, 2T) (Sterbenz), so no step is displaced. */
static double
reduce_step(double t, double T)
{
    if (t <= T) {
        return t;
    }
    const double period = 2.0 * T;
    const double r = fmod(t, period);
    return r > T ? period - r : r;
}

static shape_weights
shape_weights_at(double t, double T, double half_phi)
{
    return shape_in_period(reduce_step(t, T), T, half_phi);
}

uba_status
uba_shape(double t, double T, double phi, double *g)
{
    if (!is_budget(T)) {
        return UBA_E_T;
    }
    if (!is_phi(phi)) {
        return UBA_E_PHI;
    }
    if (!is_step(t)) {
        return UBA_E_STEP;
    }
    if (g == NULL) {
        return UBA_E_NULL;
    }
    *g = shape_weights_at(t, T, 0.5 * phi).g;
    return UBA_OK;
}

uba_status
uba_shape_fill(const double *t, size_t n, double T, double phi, double *out,
               size_t *bad_index)
{
    if (!is_budget(T)) {
        return UBA_E_T;
    }
    if (!is_phi(phi)) {
        return UBA_E_PHI;
    }
    if (n > 0 && (t == NULL || out == NULL)) {
        return UBA_E_NULL;
    }
    const double half_phi = 0.5 * phi;
    for (size_t i = 0; i < n; i++) {
        const double ti = t[i];
        if (!is_step(ti)) {
            if (bad_index != NULL) {
                *bad_index = i;
            }
            return UBA_E_STEP;
        }
        out[i] = shape_weights_at(ti, T, half_phi).g;
    }
    return UBA_OK;
}

/* ---- the learning rate ------------------------------------------------- */

uba_status
uba_params_init(uba_params *p, double T, double phi, double eta_max,
                double eta_min, double warmup_steps, double warmup_start)
{
    if (!is_budget(T)) {
        return UBA_E_T;
    }
    if (!is_phi(phi)) {
        return UBA_E_PHI;
    }
    if (!isfinite(eta_max)) {
        return UBA_E_ETA_MAX;
    }
    if (!isfinite(eta_min)) {
        return UBA_E_ETA_MIN;
    }
    if (!is_warmup(warmup_steps, T)) {
        return UBA_E_WARMUP_STEPS;
    }
    if (!isfinite(warmup_start)) {
        return UBA_E_WARMUP_START;
    }
    if (p == NULL) {
        return UBA_E_NULL;
    }
    p->T = T;
    p->phi = phi;
    p->eta_max = eta_max;
    p->eta_min = eta_min;
    p->warmup_steps = warmup_steps;
    p->warmup_start = warmup_start;
    return UBA_OK;
}

/*
 * The position of step t in the schedule, shared by every group that has
 * the same T, phi and W: either a fraction x of the warmup (value
 * start (1 - x) + peak x, with 1 - x = (W - t)/W formed without
 * cancellation) or the two weights of the decay over t - W in [0, T - W].
 * Writing each value as a weighted sum makes it exact at both ends:
 * eta(W) = eta_max and eta(T) = eta_min, bit for bit.
 */
typedef struct position {
    int in_warmup;
    double w_hi;  /* weight of the upper value: x, or g   */
    double w_lo;  /* weight of the lower value: 1-x, or gc */
} position;

static position
position_at(double t, double T, double half_phi, double W)
{
    position pos;
    if (t < W) {
        pos.in_warmup = 1;
        pos.w_hi = t / W;
        pos.w_lo = (W - t) / W;
    }
    else {
        const shape_weights w = shape_weights_at(t - W, T - W, half_phi);
        pos.in_warmup = 0;
        pos.w_hi = w.g;
        pos.w_lo = w.gc;
    }
    return pos;
}

static double
value_at(const position *pos, double peak, double floor_value,
         double warmup_start)
{
    if (pos->in_warmup) {
        return warmup_start * pos->w_lo + peak * pos->w_hi;
    }
    return peak * pos->w_hi + floor_value * pos->w_lo;
}

uba_status
uba_eta(const uba_params *p, double t, double *eta)
{
    if (p == NULL || eta == NULL) {
        return UBA_E_NULL;
    }
    if (!is_step(t)) {
        return UBA_E_STEP;
    }
    const position pos = position_at(t, p->T, 0.5 * p->phi, p->warmup_steps);
    *eta = value_at(&pos, p->eta_max, p->eta_min, p->warmup_start);
    return UBA_OK;
}

uba_status
uba_eta_fill(const uba_params *p, const double *t, size_t n, double *out,
             size_t *bad_index)
{
    if (p == NULL || (n > 0 && (t == NULL || out == NULL))) {
        return UBA_E_NULL;
    }
    const double half_phi = 0.5 * p->phi;
    for (size_t i = 0; i < n; i++) {
        const double ti = t[i];
        if (!is_step(ti)) {
            if (bad_index != NULL) {
                *bad_index = i;
            }
            return UBA_E_STEP;
        }
        const position pos = position_at(ti, p->T, half_phi, p->warmup_steps);
        out[i] = value_at(&pos, p->eta_max, p->eta_min, p->warmup_start);
    }
    return UBA_OK;
}

/* ---- one scheduler step -------------------------------------------------- */

/*
 * One group's transition (see uba_step_groups in uba.h).  With d0 and d1
 * the schedule's heights above the floor before and after the step, the
 * chainable rule is lr = floor + (lr_now - floor) * d1/d0, the form
 * torch's CosineAnnealingLR uses; the ratio r = (lr_now - floor)/d0 is kept
 * so that later untouched steps write floor + r d1 directly, from the
 * closed form, instead of compounding rounding errors.
 */
typedef struct group_update {
    double lr;
    double ratio;
} group_update;

static group_update
update_group(double e_prev, double e_next, double floor_value, double lr_now,
             double written, double ratio)
{
    group_update u;
    const double d0 = e_prev - floor_value;
    const double d1 = e_next - floor_value;
    const int touched = !(lr_now == written);

    if (d0 == 0.0) {
        /* A trough: no ratio exists, so add the schedule's rise. */
        u.lr = lr_now + d1;
        u.ratio = d1 != 0.0 ? 1.0 + (lr_now - floor_value) / d1 : ratio;
        if (lr_now == floor_value) {
            u.lr = e_next;
        }
        return u;
    }
    if (touched) {
        u.ratio = (lr_now - floor_value) / d0;
        u.lr = floor_value + (lr_now - floor_value) * (d1 / d0);
    }
    else {
        u.ratio = ratio;
        u.lr = floor_value + ratio * d1;
    }
    if (u.ratio == 1.0) {
        u.lr = e_next;
    }
    return u;
}

uba_status
uba_step_groups(const uba_group_step *s, double t_prev, double t, size_t n,
                const double *base, const double *eta_min,
                const double *lr_now, const double *written, double *ratio,
                double *lr_next)
{
    if (s == NULL) {
        return UBA_E_NULL;
    }
    if (!is_budget(s->T)) {
        return UBA_E_T;
    }
    if (!is_phi(s->phi)) {
        return UBA_E_PHI;
    }
    if (!is_warmup(s->warmup_steps, s->T)) {
        return UBA_E_WARMUP_STEPS;
    }
    if (!isfinite(s->warmup_start_factor)) {
        return UBA_E_WARMUP_START;
    }
    if (!is_step(t) || isnan(t_prev) || t_prev > t) {
        return UBA_E_STEP;
    }
    if (n > 0 && (base == NULL || eta_min == NULL || lr_now == NULL
                  || written == NULL || ratio == NULL || lr_next == NULL)) {
        return UBA_E_NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(base[i])) {
            return UBA_E_ETA_MAX;
        }
        if (!isfinite(eta_min[i])) {
            return UBA_E_ETA_MIN;
        }
        if (!isfinite(lr_now[i]) || !isfinite(ratio[i])) {
            return UBA_E_LR;
        }
    }

    const double half_phi = 0.5 * s->phi;
    const double W = s->warmup_steps;
    const double f = s->warmup_start_factor;
    const int from_base = t_prev < 0.0;
    const position next = position_at(t, s->T, half_phi, W);
    const position prev =
        from_base ? next : position_at(t_prev, s->T, half_phi, W);

    /* Two passes, so that ratio[] is left as it was if any lr overflows. */
    for (size_t i = 0; i < n; i++) {
        const double e_next = value_at(&next, base[i], eta_min[i], f * base[i]);
        const double e_prev =
            from_base ? base[i] : value_at(&prev, base[i], eta_min[i],
                                           f * base[i]);
        const group_update u = update_group(e_prev, e_next, eta_min[i],
                                            lr_now[i], written[i], ratio[i]);
        if (!isfinite(u.lr) || !isfinite(u.ratio)) {
            return UBA_E_LR;
        }
        lr_next[i] = u.lr;
    }
    for (size_t i = 0; i < n; i++) {
        const double e_next = value_at(&next, base[i], eta_min[i], f * base[i]);
        const double e_prev =
            from_base ? base[i] : value_at(&prev, base[i], eta_min[i],
                                           f * base[i]);
        ratio[i] = update_group(e_prev, e_next, eta_min[i], lr_now[i],
                                written[i], ratio[i]).ratio;
    }
    return UBA_OK;
}
