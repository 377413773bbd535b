/*
 * expected_loss.c -- the noisy quadratic over a spectrum: (A) the expected
 * final loss of SGD for any step sequence (docs/theory.md section 4, "the
 * noisy quadratic") and (B) the UBA shape phi, and if asked the peak, that
 * minimise it (docs/theory.md, "choosing phi").  See uba.h for the
 * contracts.  The model is standard; the numerics and the search are this
 * project's.
 *
 * No allocation, no globals: the caller's workspace holds the steps'
 * blocks (and, for B, the steps themselves and the scans).  Long loops
 * poll the caller's uba_progress hook (progress.h).
 */
#include "uba.h"
#include "numerics.h"
#include "progress.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ========================================================================
 * A. The expected final loss of a step sequence over a spectrum
 * ======================================================================== */

/*
 * Per direction, m_{t+1} = (1 - eta_t lam)^2 m_t + eta_t^2 v with m_0 = s,
 * and L = 0.5 sum_k w_k lam_k m_n (uba.h).  Every term is nonnegative, so
 * the recursion in float64 loses nothing to cancellation: each factor
 * 1 - eta lam is one fma (the exact product, rounded once, also next to
 * eta lam = 1), and m then carries a few ulp of relative error per step.
 *
 * Many directions per pass.  EL_GROUP directions ("lanes") run side by
 * side over the steps, in a loop the compiler vectorises (AVX2 or AVX-512
 * with FMA where the CPU has them; every clone rounds alike, numerics.h).
 * A lane holds its value as m 2^E.  Its noise enters the kernel as
 * (eta s)^2 c with c = v 2^(2q - E) and s = 2^-q, max |eta| s in [1/2, 1),
 * so that no product overflows whatever the scale of the steps.
 *
 * No overflow, no underflow, no bits lost to a subnormal.  The steps run
 * in blocks of at most EL_BLOCK_MAX whose factors can grow a lane by at
 * most 2^EL_GROWTH (from |1 - eta lam| at the smallest and largest
 * eigenvalue, where it is largest).  After each block a lane whose value
 * left [2^-100, 2^100] is rescaled by a power of two; one that left the
 * safe range [2^(grow - 1000), 2^1000] (where a subnormal on the way could
 * have cost bits that the block's growth would then magnify), or whose c
 * cannot be formed, is redone for that block in exact scaled arithmetic
 * (m 2^E renormalised at every step).  A lane that is exactly 0 with no
 * noise stays 0.  The common case costs a fraction of a nanosecond per
 * direction and step; the exact path is taken by lanes that contract by
 * more than 2^900 within a block (eta lam within a few per cent of 1 for
 * many steps) and costs about 10 ns per step.
 *
 * The loss is summed as (Neumaier sum) 2^M over the lanes' terms
 * 0.5 w lam m 2^E, formed from mantissas and exponents, so that its log is
 * exact even far outside the double range; the loss itself is that sum
 * rounded to a double: +inf above the largest, 0 below the smallest.
 */
#define EL_GROUP 32       /* directions per pass                            */
#define EL_BLOCK_MAX 64   /* steps per block at most                        */
#define EL_GROWTH 480     /* log2 of the growth a block may allow a lane    */
#define EL_C_TOP 400.0    /* the kernel takes a lane with c < 2^EL_C_TOP    */
#define EL_CHUNK 65536    /* entries of lrs checked between two polls       */

/* ---- the spectrum --------------------------------------------------------- */

/* Entry k of an argument that holds one value or one per direction. */
static double
sp_at(const double *a, size_t count, size_t k)
{
    return a[count == 1 ? 0 : k];
}

static double
sp_weight(const uba_spectrum *sp, size_t k)
{
    return sp->weights == NULL ? 1.0 : sp_at(sp->weights, sp->n_weights, k);
}

/* The checks of uba.h, in its order; writes the smallest and largest
 * eigenvalue. */
static uba_status
check_spectrum(const uba_spectrum *sp, double *lam_lo, double *lam_hi,
               size_t *bad_index)
{
    if (sp == NULL) {
        return UBA_E_NULL;
    }
    const size_t n = sp->n;
    if (n == 0) {
        return UBA_E_EIGENVALUES_EMPTY;
    }
    if (sp->weights != NULL && sp->n_weights != 1 && sp->n_weights != n) {
        return UBA_E_WEIGHTS_LENGTH;
    }
    if (sp->n_start != 1 && sp->n_start != n) {
        return UBA_E_START_LENGTH;
    }
    if (sp->n_noise != 1 && sp->n_noise != n) {
        return UBA_E_NOISE_LENGTH;
    }
    if (sp->eigenvalues == NULL || sp->start == NULL || sp->noise == NULL) {
        return UBA_E_NULL;
    }
    const struct {
        const double *a;
        size_t count;
        uba_status status;
    } arrays[] = {
        {sp->eigenvalues, n, UBA_E_EIGENVALUES},
        {sp->weights, sp->weights == NULL ? 0 : sp->n_weights, UBA_E_WEIGHTS},
        {sp->start, sp->n_start, UBA_E_START},
        {sp->noise, sp->n_noise, UBA_E_NOISE},
    };
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++) {
        for (size_t i = 0; i < arrays[a].count; i++) {
            if (!is_nonnegative(arrays[a].a[i])) {
                if (bad_index != NULL) {
                    *bad_index = i;
                }
                return arrays[a].status;
            }
        }
    }
    double lo = sp->eigenvalues[0], hi = lo;
    for (size_t k = 1; k < n; k++) {
        lo = fmin(lo, sp->eigenvalues[k]);
        hi = fmax(hi, sp->eigenvalues[k]);
    }
    *lam_lo = lo;
    *lam_hi = hi;
    return UBA_OK;
}

/* ---- the steps, cut into blocks ------------------------------------------ */

typedef struct el_steps {
    const double *eta;   /* the n steps                                     */
    size_t n;
    double *cut;         /* block b is steps [cut[b-1], cut[b])             */
    double *grow;        /* it grows a lane by less than 2^grow[b]          */
    size_t nblocks;
    int q;               /* max |eta| 2^-q in [1/2, 1) (clamped to range)   */
    double s;            /* 2^-q                                            */
} el_steps;

/* The blocks of the steps for eigenvalues in [lam_lo, lam_hi] into the
 * caller's cut and grow (n each); nonzero when interrupted. */
static int
el_blocks(el_steps *st, const double *eta, size_t n, double lam_lo,
          double lam_hi, double *cut, double *grow, uba_ticker *ticker)
{
    size_t nb = 0, start = 0;
    int growth = 0;
    double top = 0.0;
    for (size_t t = 0; t < n; t++) {
        if (t % EL_CHUNK == 0
            && ticker_add(ticker, (double)(n - t < EL_CHUNK ? n - t
                                                             : EL_CHUNK))) {
            return 1;
        }
        const double e = eta[t];
        top = fmax(top, fabs(e));
        const double F = fmax(fabs(fma(-e, lam_lo, 1.0)),
                              fabs(fma(-e, lam_hi, 1.0)));
        const int g = F >= 1.0 ? 2 * exponent_of(F) : 0;
        if (t > start && (growth + g > EL_GROWTH
                          || t - start >= EL_BLOCK_MAX)) {
            grow[nb] = (double)growth;
            cut[nb++] = (double)t;
            start = t;
            growth = 0;
        }
        growth += g;
    }
    grow[nb] = (double)growth;
    cut[nb++] = (double)n;
    st->eta = eta;
    st->n = n;
    st->cut = cut;
    st->grow = grow;
    st->nblocks = nb;
    const int q = top > 0.0 ? exponent_of(top) : 0;
    st->q = q < -1000 ? -1000 : q;
    st->s = pow2(-st->q);
    return 0;
}

/* ---- a group of lanes ------------------------------------------------------ */

typedef struct el_lanes {
    double lam[EL_GROUP];    /* curvature                                   */
    double noise[EL_GROUP];  /* v                                           */
    double m[EL_GROUP];      /* the value is m 2^E                          */
    double E[EL_GROUP];
    double c[EL_GROUP];      /* v 2^(2q - E), for the kernel                */
    unsigned char exact[EL_GROUP];  /* c cannot be formed: exact steps      */
    size_t cnt;              /* lanes in use; the rest are 0 throughout     */
} el_lanes;

/* The kernel: restrict (the lane arrays never overlap) lets the compiler
 * vectorise the loop over lanes. */
THEORY_CLONES
static void
el_kernel(const double *restrict eta, size_t t0, size_t t1, double s,
          const double *restrict lam, const double *restrict c,
          double *restrict m)
{
    for (size_t t = t0; t < t1; t++) {
        const double e = eta[t], es = e * s, e2 = es * es;
        for (size_t j = 0; j < EL_GROUP; j++) {
            const double f = fma(-e, lam[j], 1.0);
            m[j] = fma(f * f, m[j], e2 * c[j]);
        }
    }
}

/* m 2^E as mantissa in [1/2, 1) (or 0) and exponent. */
static void
el_normalise(double *m, double *E)
{
    if (*m == 0.0) {
        *E = 0.0;
        return;
    }
    int k;
    *m = frexp(*m, &k);
    *E += (double)k;
}

/* One step in exact scaled arithmetic: m 2^E <- f^2 m 2^E + eta^2 v, every
 * product formed from mantissas (never over- or underflows). */
static void
el_exact_step(double eta, double lam, double v, double *m, double *E)
{
    if (*m != 0.0) {
        int fe;
        const double fm = frexp(fma(-eta, lam, 1.0), &fe);
        *m *= fm * fm;  /* fm^2 in [1/4, 1), or 0 */
        *E += 2.0 * (double)fe;
    }
    if (eta != 0.0 && v != 0.0) {
        int ee, ve;
        const double em = frexp(eta, &ee), vm = frexp(v, &ve);
        const double km = (em * em) * vm;  /* in [1/32, 1) */
        const double ke = 2.0 * (double)ee + (double)ve;
        if (*m == 0.0) {
            *m = km;
            *E = ke;
        }
        else if (ke > *E) {
            *m = ldexp(*m, (int)fmax(*E - ke, -2000.0)) + km;
            *E = ke;
        }
        else {
            *m += ldexp(km, (int)fmax(ke - *E, -2000.0));
        }
    }
    el_normalise(m, E);
}

/* Lane j's c = v 2^(2q - E) for the kernel; the lane takes exact steps
 * when c would be 2^EL_C_TOP or more (a c below 2^-1100 is 0: it adds
 * nothing next to a lane that keeps above 2^(grow - 1000)). */
static void
el_lane_scale(el_lanes *g, size_t j, int q)
{
    const double v = g->noise[j];
    g->c[j] = 0.0;
    g->exact[j] = 0;
    if (v == 0.0) {
        return;
    }
    int ve;
    const double vm = frexp(v, &ve);
    const double x = (double)ve + 2.0 * (double)q - g->E[j];
    if (x >= EL_C_TOP) {
        g->exact[j] = 1;
    }
    else if (x > -1100.0) {
        g->c[j] = ldexp(vm, (int)x);
    }
}

/* Runs the lanes of g over all the steps; nonzero when interrupted. */
static int
el_run_group(const el_steps *st, el_lanes *g, uba_ticker *ticker)
{
    double m0[EL_GROUP];
    size_t t0 = 0;
    for (size_t b = 0; b < st->nblocks; b++) {
        const size_t t1 = (size_t)st->cut[b];
        memcpy(m0, g->m, sizeof m0);
        el_kernel(st->eta, t0, t1, st->s, g->lam, g->c, g->m);
        const double low = pow2((int)st->grow[b] - 1000);
        double exact_steps = 0.0;
        for (size_t j = 0; j < g->cnt; j++) {
            const double v = g->m[j];
            if (!g->exact[j] && v >= 0x1p-100 && v <= 0x1p100) {
                continue;
            }
            if (!g->exact[j] && v == 0.0 && m0[j] == 0.0 && g->c[j] == 0.0
                && g->noise[j] == 0.0) {
                continue;  /* exactly 0, and no noise to change that */
            }
            if (g->exact[j] || !(v >= low && v <= 0x1p1000)) {
                double m = m0[j], E = g->E[j];
                for (size_t t = t0; t < t1; t++) {
                    el_exact_step(st->eta[t], g->lam[j], g->noise[j], &m, &E);
                }
                g->m[j] = m;
                g->E[j] = E;
                exact_steps += (double)(t1 - t0);
            }
            else {
                el_normalise(&g->m[j], &g->E[j]);
            }
            el_lane_scale(g, j, st->q);
        }
        if (ticker_add(ticker, (double)EL_GROUP * (double)(t1 - t0)
                                   + 32.0 * exact_steps)) {
            return 1;
        }
        t0 = t1;
    }
    return 0;
}

/* A sum of positive terms m 2^e, as (s.s + s.c) 2^M. */
typedef struct el_sum {
    ksum s;
    double M;
    int empty;
} el_sum;

static void
el_sum_add(el_sum *a, double m, double e)
{
    if (m == 0.0) {
        return;
    }
    if (a->empty) {
        a->M = e;
        a->empty = 0;
    }
    else if (e > a->M) {
        const int d = (int)fmax(a->M - e, -2000.0);
        a->s.s = ldexp(a->s.s, d);
        a->s.c = ldexp(a->s.c, d);
        a->M = e;
    }
    ksum_add(&a->s, ldexp(m, (int)fmax(e - a->M, -2000.0)));
}

/* The log of the sum (-inf for 0) and the sum as a double (saturated). */
static void
el_sum_value(const el_sum *a, double *log_value, double *value)
{
    const double s = a->s.s + a->s.c;
    if (a->empty || s == 0.0) {
        *log_value = -HUGE_VAL;
        *value = 0.0;
        return;
    }
    *log_value = log(s) + a->M * LN2;
    *value = ldexp(s, (int)fmax(-2200.0, fmin(2200.0, a->M)));
}

/* x as mantissa in [1/2, 1) times 2^e (x > 0 finite). */
static double
el_split(double x, double *e)
{
    int k;
    const double m = frexp(x, &k);
    *e = (double)k;
    return m;
}

/* L of the steps over the spectrum, as its log and as a double; nonzero
 * when interrupted. */
static int
el_evaluate(const el_steps *st, const uba_spectrum *sp, uba_ticker *ticker,
            double *log_loss, double *loss)
{
    el_sum total = {{0.0, 0.0}, 0.0, 1};
    el_lanes g;
    for (size_t k0 = 0; k0 < sp->n; k0 += EL_GROUP) {
        g.cnt = sp->n - k0 < EL_GROUP ? sp->n - k0 : EL_GROUP;
        for (size_t j = 0; j < EL_GROUP; j++) {
            const int used = j < g.cnt;
            g.lam[j] = used ? sp->eigenvalues[k0 + j] : 0.0;
            g.noise[j] = used ? sp_at(sp->noise, sp->n_noise, k0 + j) : 0.0;
            g.m[j] = used ? sp_at(sp->start, sp->n_start, k0 + j) : 0.0;
            g.E[j] = 0.0;
            if (g.m[j] != 0.0 && !(g.m[j] >= 0x1p-100 && g.m[j] <= 0x1p100)) {
                el_normalise(&g.m[j], &g.E[j]);
            }
            el_lane_scale(&g, j, st->q);
        }
        if (el_run_group(st, &g, ticker)) {
            return 1;
        }
        for (size_t j = 0; j < g.cnt; j++) {
            const double w = sp_weight(sp, k0 + j), lam = g.lam[j];
            if (w == 0.0 || lam == 0.0 || g.m[j] == 0.0) {
                continue;
            }
            double we, le;
            const double wm = el_split(w, &we), lm = el_split(lam, &le);
            el_sum_add(&total, 0.5 * (wm * lm) * g.m[j], we + le + g.E[j]);
        }
    }
    el_sum_value(&total, log_loss, loss);
    return 0;
}

/* Directions rounded up to whole groups: the work of one pass per step. */
static double
el_lanes_padded(size_t n)
{
    return (double)EL_GROUP * ceil((double)n / EL_GROUP);
}

size_t
uba_expected_loss_work_size(size_t n)
{
    return n > SIZE_MAX / 2 ? SIZE_MAX : 2 * n;
}

uba_status
uba_expected_loss(const double *lrs, size_t n, const uba_spectrum *sp,
                  double *work, size_t work_len, double *loss,
                  double *stability, size_t *bad_index,
                  const uba_progress *progress)
{
    if (n == 0) {
        return UBA_E_LRS_EMPTY;
    }
    double lam_lo, lam_hi;
    const uba_status s = check_spectrum(sp, &lam_lo, &lam_hi, bad_index);
    if (s != UBA_OK) {
        return s;
    }
    if (lrs == NULL || work == NULL || loss == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_expected_loss_work_size(n)) {
        return UBA_E_WORKSPACE;
    }
    uba_ticker ticker = ticker_start(
        progress, (double)n * (2.0 + el_lanes_padded(sp->n)));
    double top = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += EL_CHUNK) {
        const size_t i1 = n - i0 < EL_CHUNK ? n : i0 + EL_CHUNK;
        if (ticker_add(&ticker, (double)(i1 - i0))) {
            return UBA_E_INTERRUPTED;
        }
        for (size_t i = i0; i < i1; i++) {
            const double e = lrs[i];
            const uba_status bad = !isfinite(e) ? UBA_E_LRS
                : !(fabs(e) * lam_hi <= UBA_MAX_ETA_LAM) ? UBA_E_LRS_RANGE
                : UBA_OK;
            if (bad != UBA_OK) {
                if (bad_index != NULL) {
                    *bad_index = i;
                }
                return bad;
            }
            top = fmax(top, fabs(e));
        }
    }
    el_steps st;
    double log_loss, value;
    if (el_blocks(&st, lrs, n, lam_lo, lam_hi, work, work + n, &ticker)
        || el_evaluate(&st, sp, &ticker, &log_loss, &value)) {
        return UBA_E_INTERRUPTED;
    }
    *loss = value;
    if (stability != NULL) {
        *stability = top * lam_hi;
    }
    return UBA_OK;
}

/* ========================================================================
 * B. Choosing phi, and the peak
 * ======================================================================== */

/*
 * The objective is log L of UBA(T, phi, eta_max, eta_min) at t = 0..T-1,
 * the steps from schedule.c (uba_eta_fill), so bit for bit the lrs a
 * scheduler sets; it is finite even where L leaves the double range, so a
 * divergent schedule is simply a large value.  L need not be unimodal in
 * phi, so every search starts from a scan.
 *
 * phi at a fixed peak: log L on a grid of CP_PER_OCTAVE points per octave
 * of [phi_lo, phi_hi] (at most CP_SCAN_MAX points), then Brent's method on
 * log phi between the neighbours of the best point.  The scan also gives
 * the flat range (the phis within 1% of the best, interpolated between
 * grid points).  The answer is at an end when Brent's method, started from
 * the best grid point, ends within CP_AT_END of a grid step of that end:
 * it gets there only when L keeps falling towards it.
 *
 * The peak too: log L on a coarse grid of a point every two octaves in
 * both log eta_max and log phi (at most CP_GRID_MAX each), then rounds of
 * Brent's method from the best point: along the peak and along phi (each
 * within a grid step), then along the round's net move, until a round
 * improves log L by less than CP_ROUND_TOL; then the phi search above at
 * the peak found.  The last line search is Powell's idea: the loss's valley
 * runs diagonally (a larger peak goes with a larger phi), and coordinate
 * descent alone zig-zags down it and stops early.  (Measured on 36
 * power-law models against a grid of quarter-octave peaks and half-octave
 * phi: never above the grid's best; docs/theory.md.)
 */
#define CP_PER_OCTAVE 4.0
#define CP_SCAN_MAX 1024
#define CP_GRID_MAX 64
#define CP_GRID_PEAK 0.5   /* coarse grid points per octave of the peak */
#define CP_GRID_PHI 0.5    /* ... and of phi                            */
#define CP_ROUNDS 8
#define CP_ROUND_TOL 1e-6  /* log L a descent round must gain to go on     */
#define CP_TOL 1e-6        /* Brent's tolerance in log phi, the last search */
#define CP_DESCENT_TOL 1e-4  /* ... and in the descent (log eta_max, log phi) */
#define CP_FLAT 0.00995033085316808285  /* log 1.01                      */
#define CP_AT_END 0.01     /* within this fraction of a grid step: an end */
#define CP_BAD 1e200       /* the objective of no valid schedule          */

typedef struct cp_ctx {
    size_t T;
    const uba_spectrum *sp;
    double lam_lo, lam_hi, eta_min;
    double *eta, *cut, *grow;  /* T each                                  */
    double u;                  /* log phi held fixed (along the peak)     */
    double peak;               /* eta_max held fixed (along phi)           */
    uba_ticker *ticker;
    double evaluations;
} cp_ctx;

/* log L (and L if wanted) at phi, peak; CP_BAD for no valid schedule or
 * once interrupted. */
static double
cp_log_loss(cp_ctx *cx, double phi, double peak, double *loss)
{
    uba_params p;
    if (cx->ticker->stopped
        || uba_params_init(&p, (double)cx->T, phi, peak, cx->eta_min, 0.0,
                           0.0) != UBA_OK) {
        return CP_BAD;
    }
    for (size_t k = 0; k < cx->T; k++) {
        cx->eta[k] = (double)k;
    }
    (void)uba_eta_fill(&p, cx->eta, cx->T, cx->eta, NULL, NULL);
    el_steps st;
    double lg, value;
    if (el_blocks(&st, cx->eta, cx->T, cx->lam_lo, cx->lam_hi, cx->cut,
                  cx->grow, cx->ticker)
        || el_evaluate(&st, cx->sp, cx->ticker, &lg, &value)) {
        return CP_BAD;
    }
    cx->evaluations += 1.0;
    if (loss != NULL) {
        *loss = value;
    }
    return clamp_objective(lg);
}

/* The objective along phi (at cx->peak) and along the peak (at cx->u). */
static double
cp_along_phi(void *vctx, double u)
{
    cp_ctx *cx = (cp_ctx *)vctx;
    return cp_log_loss(cx, exp(u), cx->peak, NULL);
}

static double
cp_along_peak(void *vctx, double v)
{
    cp_ctx *cx = (cp_ctx *)vctx;
    return cp_log_loss(cx, exp(cx->u), exp(v), NULL);
}

/* A grid of pts points from a to b, the last one b exactly. */
typedef struct cp_grid {
    double a, b, step;
    size_t pts;
} cp_grid;

static cp_grid
cp_grid_of(double a, double b, double per_octave, size_t most)
{
    cp_grid g;
    g.a = a;
    g.b = b;
    const double want = ceil(per_octave * (b - a) / LN2) + 1.0;
    g.pts = want < 3.0 ? 3 : want > (double)most ? most : (size_t)want;
    g.step = (b - a) / (double)(g.pts - 1);
    return g;
}

static double
cp_at(const cp_grid *g, size_t i)
{
    return i + 1 >= g->pts ? g->b : g->a + g->step * (double)i;
}

/* The best of vals[0..pts) (first the least value, among equal values the
 * point nearest 0: phi = 1 when nothing tells them apart). */
static size_t
cp_best(const cp_grid *g, const double *vals)
{
    size_t ib = 0;
    for (size_t i = 1; i < g->pts; i++) {
        if (vals[i] < vals[ib]
            || (vals[i] == vals[ib] && fabs(cp_at(g, i)) < fabs(cp_at(g, ib)))) {
            ib = i;
        }
    }
    return ib;
}

/* Brent's method on f within a grid step either side of x0 (f(x0) = f0),
 * clipped to the grid, to tolerance tol: the minimiser, its value in *fbest, and in *at_end
 * -1/+1 when it is within CP_AT_END of a step of the grid's lower/upper
 * end (then the end itself if x0 was that end and nothing beat it), else
 * 0. */
static double
cp_line(objective_fn f, cp_ctx *cx, const cp_grid *g, double x0, double f0,
        double tol, double *fbest, int *at_end)
{
    const double lo = fmax(g->a, x0 - g->step), hi = fmin(g->b, x0 + g->step);
    double x = brent_min(f, cx, lo, hi, x0, f0, tol, tol, fbest, cx->ticker);
    const double near = CP_AT_END * g->step;
    *at_end = x - g->a <= near ? -1 : g->b - x <= near ? 1 : 0;
    if (*at_end != 0 && (x0 == g->a || x0 == g->b) && !(*fbest < f0)) {
        x = x0;
        *fbest = f0;
    }
    return x;
}

/* Where the scan's values cross the threshold between points i and j
 * (vals[i] <= thr < vals[j]), by linear interpolation in log phi. */
static double
cp_crossing(const cp_grid *g, const double *vals, size_t i, size_t j,
            double thr)
{
    const double t = (thr - vals[i]) / (vals[j] - vals[i]);
    return cp_at(g, i) + (cp_at(g, j) - cp_at(g, i)) * (isfinite(t) ? t : 0.0);
}

typedef struct cp_phi_result {
    double u, f;            /* log phi, log L                               */
    double flat_lo, flat_hi;  /* in log phi                                  */
    int at_end;
} cp_phi_result;

/* Minimises log L over log phi at the peak cx->peak (see above); vals holds
 * CP_SCAN_MAX values. */
static cp_phi_result
cp_search_phi(cp_ctx *cx, double phi_lo, double phi_hi, double *vals)
{
    const cp_grid g = cp_grid_of(log(phi_lo), log(phi_hi), CP_PER_OCTAVE,
                                 CP_SCAN_MAX);
    for (size_t i = 0; i < g.pts; i++) {
        vals[i] = cp_along_phi(cx, cp_at(&g, i));
    }
    const size_t ib = cp_best(&g, vals);
    cp_phi_result r;
    double least = vals[0], most = vals[0];
    for (size_t i = 1; i < g.pts; i++) {
        least = fmin(least, vals[i]);
        most = fmax(most, vals[i]);
    }
    if (least == most) {
        /* phi changes nothing (a constant schedule, or L = 0 throughout) */
        r.u = cp_at(&g, ib);
        r.f = vals[ib];
        r.at_end = 0;
    }
    else {
        r.u = cp_line(cp_along_phi, cx, &g, cp_at(&g, ib), vals[ib], CP_TOL,
                      &r.f, &r.at_end);
    }
    const double thr = fmin(r.f, vals[ib]) + CP_FLAT;
    size_t i = ib, j = ib;
    while (i > 0 && vals[i - 1] <= thr) {
        i--;
    }
    while (j + 1 < g.pts && vals[j + 1] <= thr) {
        j++;
    }
    r.flat_lo = fmin(r.u, i == 0 ? g.a : cp_crossing(&g, vals, i, i - 1, thr));
    r.flat_hi = fmax(r.u, j + 1 == g.pts ? g.b
                                         : cp_crossing(&g, vals, j, j + 1, thr));
    return r;
}

/* A line through (u0, v0) along (du, dv), for the peak search. */
typedef struct cp_dir {
    cp_ctx *cx;
    double u0, v0, du, dv;
} cp_dir;

static double
cp_along_dir(void *vctx, double a)
{
    const cp_dir *d = (const cp_dir *)vctx;
    return cp_log_loss(d->cx, exp(d->u0 + a * d->du), exp(d->v0 + a * d->dv),
                       NULL);
}

/* Narrows [a_lo, a_hi] so that x0 + a dx stays on the grid's span. */
static void
cp_dir_span(double dx, double x0, const cp_grid *g, double *a_lo,
            double *a_hi)
{
    if (dx > 0.0) {
        *a_hi = fmin(*a_hi, (g->b - x0) / dx);
        *a_lo = fmax(*a_lo, (g->a - x0) / dx);
    }
    else if (dx < 0.0) {
        *a_hi = fmin(*a_hi, (g->a - x0) / dx);
        *a_lo = fmax(*a_lo, (g->b - x0) / dx);
    }
}

/* Chooses the peak (into cx->peak) and a phi near the best for it (log
 * phi into cx->u) by the coarse grid and coordinate descent; grid holds
 * CP_GRID_MAX^2 values.  Returns log L there, and in *peak_end whether the
 * peak is at an end of its range (as cp_line). */
static double
cp_search_peak(cp_ctx *cx, double eta_lo, double eta_hi, double phi_lo,
               double phi_hi, double *grid, int *peak_end)
{
    const cp_grid gv = cp_grid_of(log(eta_lo), log(eta_hi), CP_GRID_PEAK,
                                  CP_GRID_MAX);
    const cp_grid gu = cp_grid_of(log(phi_lo), log(phi_hi), CP_GRID_PHI,
                                  CP_GRID_MAX);
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < gv.pts; i++) {
        for (size_t j = 0; j < gu.pts; j++) {
            double *at = &grid[i * gu.pts + j];
            *at = cp_log_loss(cx, exp(cp_at(&gu, j)), exp(cp_at(&gv, i)), NULL);
            if (*at < grid[bi * gu.pts + bj]) {
                bi = i;
                bj = j;
            }
        }
    }
    double v = cp_at(&gv, bi), f = grid[bi * gu.pts + bj];
    int phi_end = 0;  /* unused: the final phi search decides the ends */
    cx->u = cp_at(&gu, bj);
    cx->peak = exp(v);
    for (int round = 0; round < CP_ROUNDS && !cx->ticker->stopped; round++) {
        const double before = f, u0 = cx->u, v0 = v;
        v = cp_line(cp_along_peak, cx, &gv, v, f, CP_DESCENT_TOL, &f,
                    peak_end);
        cx->peak = exp(v);
        cx->u = cp_line(cp_along_phi, cx, &gu, cx->u, f, CP_DESCENT_TOL, &f,
                        &phi_end);
        /* then along the round's net move (Powell's idea: a valley
         * diagonal to the axes is followed, not zig-zagged down) */
        cp_dir d = {cx, cx->u, v, cx->u - u0, v - v0};
        double a_lo = -1.0, a_hi = 3.0, fd;
        cp_dir_span(d.du, d.u0, &gu, &a_lo, &a_hi);
        cp_dir_span(d.dv, d.v0, &gv, &a_lo, &a_hi);
        if (a_lo < 0.0 && a_hi > 0.0) {
            const double a = brent_min(cp_along_dir, &d, a_lo, a_hi, 0.0, f,
                                       CP_DESCENT_TOL, CP_DESCENT_TOL, &fd,
                                       cx->ticker);
            if (fd < f) {
                f = fd;
                cx->u = d.u0 + a * d.du;
                v = d.v0 + a * d.dv;
                cx->peak = exp(v);
            }
        }
        if (!(before - f > CP_ROUND_TOL)) {
            break;
        }
    }
    const double near = CP_AT_END * gv.step;
    *peak_end = v - gv.a <= near ? -1 : gv.b - v <= near ? 1 : 0;
    if (*peak_end != 0) {
        /* the end itself, exactly as given (the loss falls towards it) */
        cx->peak = *peak_end < 0 ? eta_lo : eta_hi;
        f = cp_log_loss(cx, exp(cx->u), cx->peak, NULL);
    }
    return f;
}

/* The evaluations the search expects to make (for the progress hook). */
static double
cp_expected_evaluations(int ranged, double eta_lo, double eta_hi,
                        double phi_lo, double phi_hi)
{
    const cp_grid g = cp_grid_of(log(phi_lo), log(phi_hi), CP_PER_OCTAVE,
                                 CP_SCAN_MAX);
    double count = (double)g.pts + 25.0 + 3.0;
    if (ranged) {
        const cp_grid gv = cp_grid_of(log(eta_lo), log(eta_hi), CP_GRID_PEAK,
                                      CP_GRID_MAX);
        const cp_grid gu = cp_grid_of(log(phi_lo), log(phi_hi), CP_GRID_PHI,
                                      CP_GRID_MAX);
        count += (double)(gv.pts * gu.pts) + 4.0 * 3.0 * 15.0;
    }
    return count;
}

/* 0.5 sum_k w_k lam_k s_k, as el_evaluate sums (saturated). */
static double
cp_initial_loss(const uba_spectrum *sp)
{
    el_sum total = {{0.0, 0.0}, 0.0, 1};
    for (size_t k = 0; k < sp->n; k++) {
        const double w = sp_weight(sp, k), lam = sp->eigenvalues[k];
        const double s0 = sp_at(sp->start, sp->n_start, k);
        if (w != 0.0 && lam != 0.0 && s0 != 0.0) {
            double we, le, se;
            const double m = el_split(w, &we) * el_split(lam, &le)
                           * el_split(s0, &se);
            el_sum_add(&total, 0.5 * m, we + le + se);
        }
    }
    double lg, value;
    el_sum_value(&total, &lg, &value);
    return value;
}

/* e^u in [lo, hi], and an end exactly where u is its log (the grid's). */
static double
cp_phi_of(double u, double lo, double hi)
{
    return u <= log(lo) ? lo : u >= log(hi) ? hi : fmin(hi, fmax(lo, exp(u)));
}

#define CP_SCAN_WORK (CP_SCAN_MAX + CP_GRID_MAX * CP_GRID_MAX)

size_t
uba_choose_phi_work_size(size_t T)
{
    return T > (SIZE_MAX - CP_SCAN_WORK) / 3 ? SIZE_MAX
                                              : 3 * T + CP_SCAN_WORK;
}

uba_status
uba_choose_phi(size_t T, const uba_spectrum *sp, double eta_lo,
               double eta_hi, double eta_min, double phi_lo, double phi_hi,
               double *work, size_t work_len, uba_phi_choice *out,
               size_t *bad_index, const uba_progress *progress)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    double lam_lo, lam_hi;
    uba_status s = check_spectrum(sp, &lam_lo, &lam_hi, bad_index);
    if (s != UBA_OK) {
        return s;
    }
    const int ranged = eta_lo != eta_hi;
    double lo = eta_lo, hi = eta_hi;
    if (ranged) {
        if (!(eta_lo >= 0.0 && isfinite(eta_lo) && eta_lo < eta_hi)) {
            return UBA_E_PEAK;
        }
        /* the stability limit: none (inf) when every eigenvalue is 0 */
        hi = eta_hi != HUGE_VAL ? eta_hi : lam_hi > 0.0 ? 2.0 / lam_hi
                                                         : HUGE_VAL;
        lo = eta_lo == 0.0 ? UBA_PEAK_RANGE_DEPTH * hi : eta_lo;
    }
    if (!(isfinite(hi) && lo > 0.0 && lo <= hi)) {
        return UBA_E_PEAK;
    }
    if (!isfinite(eta_min)) {
        return UBA_E_ETA_MIN;
    }
    /* every UBA value lies between eta_min and the peak: this keeps each
     * step within uba_expected_loss's range, with room for rounding */
    if (!(fmax(hi, fabs(eta_min)) * lam_hi <= 0.5 * UBA_MAX_ETA_LAM)) {
        return UBA_E_ETA_RANGE;
    }
    s = check_phi_range(phi_lo, phi_hi);
    if (s != UBA_OK) {
        return s;
    }
    if (work == NULL || out == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_choose_phi_work_size(T)) {
        return UBA_E_WORKSPACE;
    }
    const double per_eval = (double)T * (2.0 + el_lanes_padded(sp->n));
    uba_ticker ticker = ticker_start(
        progress, per_eval * cp_expected_evaluations(ranged, lo, hi, phi_lo,
                                                     phi_hi));
    cp_ctx cx = {T, sp, lam_lo, lam_hi, eta_min, work, work + T,
                 work + 2 * T, 0.0, lo, &ticker, 0.0};
    double *scan = work + 3 * T;
    int peak_end = 0;
    double u_peak = 0.0, f_peak = HUGE_VAL;
    if (ranged) {
        f_peak = cp_search_peak(&cx, lo, hi, phi_lo, phi_hi,
                                scan + CP_SCAN_MAX, &peak_end);
        u_peak = cx.u;
    }
    cp_phi_result r = cp_search_phi(&cx, phi_lo, phi_hi, scan);
    if (f_peak < r.f) {
        /* the descent's phi beat the scan's basin at this peak */
        const double near = CP_AT_END * LN2 / CP_PER_OCTAVE;
        r.u = u_peak;
        r.f = f_peak;
        r.flat_lo = fmin(r.flat_lo, u_peak);
        r.flat_hi = fmax(r.flat_hi, u_peak);
        r.at_end = u_peak - log(phi_lo) <= near ? -1
                 : log(phi_hi) - u_peak <= near ? 1 : 0;
    }
    uba_phi_choice c;
    c.phi = cp_phi_of(r.u, phi_lo, phi_hi);
    c.eta_max = cx.peak;
    (void)cp_log_loss(&cx, c.phi, c.eta_max, &c.loss);
    (void)cp_log_loss(&cx, 1.0, c.eta_max, &c.loss_default);
    (void)cp_log_loss(&cx, 2.0, c.eta_max, &c.loss_cosine);
    if (ticker.stopped) {
        return UBA_E_INTERRUPTED;
    }
    c.initial_loss = cp_initial_loss(sp);
    c.flat_lo = fmin(c.phi, cp_phi_of(r.flat_lo, phi_lo, phi_hi));
    c.flat_hi = fmax(c.phi, cp_phi_of(r.flat_hi, phi_lo, phi_hi));
    c.phi_at_end = r.at_end;
    c.peak_at_end = peak_end;
    c.eta_lo = lo;
    c.eta_hi = hi;
    c.lam_max = lam_hi;
    c.evaluations = cx.evaluations;
    *out = c;
    return UBA_OK;
}
