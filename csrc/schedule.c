/*
 * schedule.c -- the UBA schedule: shape, learning rate, warmup, and the
 * stepping rule of a stateful scheduler.  See uba.h for the contracts.
 */
#include "uba.h"
#include "checks.h"
#include "progress.h"
#include "shape.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

UBA_INLINE shape_weights
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
 * the same T, phi and W: either a fraction x of the warmup (weights x of
 * the peak and 1 - x = (W - t)/W of the start, formed without
 * cancellation) or the two weights of the decay over t - W in [0, T - W].
 */
typedef struct position {
    int in_warmup;
    double w_hi;  /* weight of the upper value: x, or g   */
    double w_lo;  /* weight of the lower value: 1-x, or gc */
} position;

UBA_INLINE position
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

/*
 * hi w_hi + lo w_lo for weights w_hi + w_lo = 1 (each with a few ulp of
 * relative error), written so that the value
 *   - is hi exactly when w_lo = 0 and lo exactly when w_hi = 0
 *     (eta(W) = eta_max and eta(T) = eta_min, bit for bit);
 *   - lies in [min(hi, lo), max(hi, lo)] (a clamp absorbs the rounding of
 *     the weights, which can sum to 1 + ulp: hi = lo would come out an ulp
 *     off, and DBL_MAX would overflow to inf);
 *   - is monotone in the weights (non-decreasing in w_hi as w_lo falls),
 *     so monotone weights give a monotone schedule bit for bit;
 *   - never overflows and keeps a few ulp of relative accuracy: for ends
 *     of one sign it adds a same-signed multiple of the difference to the
 *     end of smaller magnitude, lo + (hi - lo) w_hi or hi + (lo - hi) w_lo
 *     (the difference cannot overflow there, and nothing cancels); for
 *     ends of opposite signs, where the difference could overflow, it is
 *     hi w_hi + lo w_lo, whose two products have the same sign and move the
 *     same way.
 * The choice depends on the ends alone, so it is made once (blend_prepare)
 * as coefficients of c + a w_hi + b w_lo, with the unused terms zero (which
 * leave the sum's bits alone); blend_apply is then straight-line code that
 * the vectorized kernel and the scalar path share.
 */
typedef struct blend_coeffs {
    double a, b, c;  /* value = (c + a w_hi) + b w_lo, before clamping */
    double hi, lo;   /* the ends                                       */
    double mn, mx;   /* min and max of the ends                        */
} blend_coeffs;

UBA_INLINE blend_coeffs
blend_prepare(double hi, double lo)
{
    blend_coeffs k = {0.0, 0.0, 0.0, hi, lo, hi < lo ? hi : lo,
                      hi < lo ? lo : hi};
    if ((hi >= 0.0) != (lo >= 0.0)) {
        k.a = hi;
        k.b = lo;
    }
    else if (fabs(hi) >= fabs(lo)) {
        k.a = hi - lo;
        k.c = lo;
    }
    else {
        k.b = lo - hi;
        k.c = hi;
    }
    return k;
}

UBA_INLINE double
blend_apply(const blend_coeffs *k, double w_hi, double w_lo)
{
    double v = (k->c + k->a * w_hi) + k->b * w_lo;
    v = select_double(v < k->mn, k->mn, select_double(v > k->mx, k->mx, v));
    v = select_double(w_hi == 0.0, k->lo, v);
    return select_double(w_lo == 0.0, k->hi, v);
}

UBA_INLINE double
value_at(const position *pos, double peak, double floor_value,
         double warmup_start)
{
    const blend_coeffs k =
        blend_prepare(peak, pos->in_warmup ? warmup_start : floor_value);
    return blend_apply(&k, pos->w_hi, pos->w_lo);
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

/* ---- filling buffers: a vectorized kernel, a scalar fallback ------------ */

/*
 * The _fill functions walk the buffer in blocks of FILL_BLOCK steps.  A
 * block whose steps all lie in the decay, W <= t <= T (so t - W needs no
 * periodic reduction), goes through decay_block: straight-line arithmetic
 * that the compiler vectorizes, a select for the reflection, no libm call.
 * Any other block (warmup steps, t past T, or a bad step) goes through the
 * scalar reference path, value_at(position_at(...)), element by element,
 * which checks every step and stops at the first bad one.  Blocks are
 * visited in order, so that is the first bad index of the whole buffer.
 * Both paths run the same operations on a step of the decay (shape_in_period
 * and value_at), so they give the same bits: a step's value does not
 * depend on its neighbours or on the path.
 *
 * decay_block writes to a block on the stack that cannot alias t, so t and
 * out may be one buffer.  A short last block is padded with t = W.
 *
 * Where the compiler and C library support it (GCC or Clang on x86-64
 * Linux with glibc), fill_values is built three times, for AVX-512F, AVX2
 * and the baseline, and the dynamic loader picks one for the CPU at load
 * time (target_clones, an ifunc).  The clones differ in vector width only:
 * the build does not contract a * b + c into fused multiply-adds (ISO C
 * mode, -ffp-contract=off), so every clone rounds every operation as the
 * scalar path does; test_kernel.c checks that bit for bit.  Define
 * UBA_NO_TARGET_CLONES to build the baseline alone.
 */
#define FILL_BLOCK 256

#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) \
    && defined(__has_attribute) && !defined(UBA_NO_TARGET_CLONES)
#if __has_attribute(target_clones)
#define UBA_TARGET_CLONES \
    __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef UBA_TARGET_CLONES
#define UBA_TARGET_CLONES
#endif

typedef struct fill_plan {
    double T;             /* budget                                   */
    double half_phi;      /* phi / 2                                  */
    double W;             /* warmup steps (0 for the bare shape)      */
    double Tp;            /* T - W, the horizon of the decay          */
    double peak;          /* weight-1 value of g: eta_max (1 for g)   */
    double floor_value;   /* weight-1 value of 1 - g: eta_min (0)     */
    double warmup_start;  /* the value at t = 0 when W > 0            */
} fill_plan;

UBA_INLINE int
block_in_decay(const double *t, const fill_plan *p)
{
    const double W = p->W, T = p->T;
    int inside = 1;
    for (size_t i = 0; i < FILL_BLOCK; i++) {
        inside &= (t[i] >= W) & (t[i] <= T);
    }
    return inside;
}

UBA_INLINE void
decay_block(const double *restrict t, double *restrict out,
            const fill_plan *p)
{
    const double W = p->W, Tp = p->Tp, half_phi = p->half_phi;
    const blend_coeffs k = blend_prepare(p->peak, p->floor_value);
    for (size_t i = 0; i < FILL_BLOCK; i++) {
        const shape_weights w = shape_in_period(t[i] - W, Tp, half_phi);
        out[i] = blend_apply(&k, w.g, w.gc);
    }
}

/* Fills out[i0..i1) (see fill_values). */
UBA_INLINE uba_status
fill_range(const fill_plan *p, const double *t, size_t i0, size_t i1,
           double *out, size_t *bad_index)
{
    double pad[FILL_BLOCK], block[FILL_BLOCK];
    for (size_t i = i0; i < i1; i += FILL_BLOCK) {
        const size_t m = i1 - i < FILL_BLOCK ? i1 - i : FILL_BLOCK;
        const double *src = t + i;
        if (m < FILL_BLOCK) {
            memcpy(pad, src, m * sizeof pad[0]);
            for (size_t j = m; j < FILL_BLOCK; j++) {
                pad[j] = p->W;
            }
            src = pad;
        }
        if (block_in_decay(src, p)) {
            decay_block(src, block, p);
            memcpy(out + i, block, m * sizeof block[0]);
            continue;
        }
        for (size_t j = 0; j < m; j++) {
            const double tj = src[j];
            if (!is_step(tj)) {
                if (bad_index != NULL) {
                    *bad_index = i + j;
                }
                return UBA_E_STEP;
            }
            const position pos = position_at(tj, p->T, p->half_phi, p->W);
            out[i + j] = value_at(&pos, p->peak, p->floor_value,
                                  p->warmup_start);
        }
    }
    return UBA_OK;
}

/* Chunks of FILL_CHUNK steps (a multiple of FILL_BLOCK) between polls of
 * the progress hook: the loop over blocks has no call in it. */
#define FILL_CHUNK 65536

UBA_TARGET_CLONES
static uba_status
fill_values(const fill_plan *p, const double *t, size_t n, double *out,
            size_t *bad_index, const uba_progress *progress)
{
    uba_ticker ticker = ticker_start(progress, (double)n);
    for (size_t i0 = 0; i0 < n; i0 += FILL_CHUNK) {
        const size_t i1 = n - i0 < FILL_CHUNK ? n : i0 + FILL_CHUNK;
        if (ticker_add(&ticker, (double)(i1 - i0))) {
            return UBA_E_INTERRUPTED;
        }
        const uba_status s = fill_range(p, t, i0, i1, out, bad_index);
        if (s != UBA_OK) {
            return s;
        }
    }
    return UBA_OK;
}

uba_status
uba_shape_fill(const double *t, size_t n, double T, double phi, double *out,
               size_t *bad_index, const uba_progress *progress)
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
    /* eta_max = 1, eta_min = 0: value_at gives 1 g + 0 gc = g exactly. */
    const fill_plan plan = {T, 0.5 * phi, 0.0, T, 1.0, 0.0, 0.0};
    return fill_values(&plan, t, n, out, bad_index, progress);
}

uba_status
uba_eta_fill(const uba_params *p, const double *t, size_t n, double *out,
             size_t *bad_index, const uba_progress *progress)
{
    if (p == NULL || (n > 0 && (t == NULL || out == NULL))) {
        return UBA_E_NULL;
    }
    const fill_plan plan = {p->T, 0.5 * p->phi, p->warmup_steps,
                            p->T - p->warmup_steps, p->eta_max, p->eta_min,
                            p->warmup_start};
    return fill_values(&plan, t, n, out, bad_index, progress);
}

/* ---- one scheduler step -------------------------------------------------- */

/*
 * One group's transition (see uba_step_groups in uba.h).  With d0 and d1
 * the schedule's heights above the floor before and after the step, the
 * chainable rule is lr = floor + (lr_now - floor) * d1/d0, the form
 * torch's CosineAnnealingLR uses; the ratio r = (lr_now - floor)/d0 is kept
 * so that later untouched steps write floor + r d1 directly, from the
 * closed form, instead of compounding rounding errors.  An untouched group
 * never re-reads its lr: a stored value that its type rounded (a float32
 * tensor, a floor it cannot represent) changes nothing.
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
    const int untouched = isfinite(ratio) && lr_now == written;

    if (d0 == 0.0) {
        /* A trough: no ratio exists, so add the schedule's rise, as torch
         * does.  Untouched, the lr is the floor exactly (whatever its
         * stored rounding), and the composition starts afresh. */
        if (untouched || lr_now == floor_value) {
            u.lr = e_next;
            u.ratio = 1.0;
        }
        else {
            u.lr = lr_now + d1;
            u.ratio = d1 != 0.0 ? (u.lr - floor_value) / d1 : (double)NAN;
        }
    }
    else if (untouched) {
        u.ratio = ratio;
        u.lr = ratio == 1.0 ? e_next : floor_value + ratio * d1;
    }
    else {
        u.ratio = (lr_now - floor_value) / d0;
        u.lr = u.ratio == 1.0 ? e_next
                              : floor_value + (lr_now - floor_value) * (d1 / d0);
    }
    if (!isfinite(u.ratio)) {
        u.ratio = (double)NAN;  /* unknown: the next step re-reads the lr */
    }
    return u;
}

uba_status
uba_group_step_init(uba_group_step *s, double T, double phi,
                    double warmup_steps, double warmup_start_factor)
{
    if (!is_budget(T)) {
        return UBA_E_T;
    }
    if (!is_phi(phi)) {
        return UBA_E_PHI;
    }
    if (!is_warmup(warmup_steps, T)) {
        return UBA_E_WARMUP_STEPS;
    }
    if (!is_nonnegative(warmup_start_factor)) {
        return UBA_E_WARMUP_FACTOR;
    }
    if (s == NULL) {
        return UBA_E_NULL;
    }
    s->T = T;
    s->phi = phi;
    s->warmup_steps = warmup_steps;
    s->warmup_start_factor = warmup_start_factor;
    return UBA_OK;
}

uba_status
uba_step_groups(const uba_group_step *s, double t_prev, double t, size_t n,
                const double *base, const double *eta_min,
                const double *lr_now, const double *written, double *ratio,
                double *lr_next, size_t *bad_index)
{
    /* s was checked by uba_group_step_init: only what changes per step is
     * checked here */
    if (s == NULL) {
        return UBA_E_NULL;
    }
    if (!is_step(t) || !isfinite(t_prev)) {
        return UBA_E_STEP;
    }
    if (n > 0 && (base == NULL || eta_min == NULL || lr_now == NULL
                  || written == NULL || ratio == NULL || lr_next == NULL)) {
        return UBA_E_NULL;
    }

    const double half_phi = 0.5 * s->phi;
    const double f = s->warmup_start_factor;
    const int from_base = t_prev < 0.0;
    const position next = position_at(t, s->T, half_phi, s->warmup_steps);
    position prev = next;
    int prev_known = from_base;

    /* Every group's inputs are checked first; then two passes, so that
     * neither lr_next[] nor ratio[] is written if any new lr overflows
     * (uba.h: nothing is written on failure). */
    for (size_t i = 0; i < n; i++) {
        const uba_status bad = !isfinite(base[i]) ? UBA_E_ETA_MAX
                             : !isfinite(eta_min[i]) ? UBA_E_ETA_MIN
                             : !isfinite(lr_now[i]) ? UBA_E_LR : UBA_OK;
        if (bad != UBA_OK) {
            if (bad_index != NULL) {
                *bad_index = i;
            }
            return bad;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const double start = f * base[i];
            const double e_next = value_at(&next, base[i], eta_min[i], start);
            group_update u = {e_next, 1.0};
            /* An untouched group with ratio 1 writes e_next whatever the
             * value before (the trough rule gives it too): the schedule at
             * t_prev is evaluated only for groups that need it. */
            if (!(ratio[i] == 1.0 && lr_now[i] == written[i])) {
                if (!prev_known) {
                    prev = position_at(t_prev, s->T, half_phi,
                                       s->warmup_steps);
                    prev_known = 1;
                }
                const double e_prev = from_base ? base[i]
                                      : value_at(&prev, base[i], eta_min[i],
                                                 start);
                u = update_group(e_prev, e_next, eta_min[i], lr_now[i],
                                 written[i], ratio[i]);
            }
            if (!isfinite(u.lr)) {
                if (bad_index != NULL) {
                    *bad_index = i;
                }
                return UBA_E_LR;
            }
            if (pass == 1) {
                lr_next[i] = u.lr;
                ratio[i] = u.ratio;
            }
        }
    }
    return UBA_OK;
}
