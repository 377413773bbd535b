/*
 * choose_phi.c -- docs/theory.md section 5, choosing phi: the phi that
 * minimises the noisy quadratic's worst case (uba_optimal_phi), the one
 * that minimises bound (c) (uba_optimal_phi_strongly_convex), and the phi,
 * and if asked the peak, that minimise the expected final loss over a
 * spectrum (uba_choose_phi); each over log phi by a scan and Brent's
 * method.  See uba.h for the contracts.
 *
 * Provenance: the minimisations are this project's.
 */
#include "theory_internal.h"

/* ---- the minimiser every search uses ------------------------------------ */

typedef double (*objective_fn)(void *ctx, double x);

/*
 * Brent's localmin (Brent, "Algorithms for Minimization without
 * Derivatives", 1973, ch. 5): golden section with parabolic steps on
 * [lo, hi], from x0 with f(x0) = fx0 known.  Stops when x is within
 * 2 (rel |x| + abs/3) of the minimiser (for a unimodal f), or when the
 * progress hook has asked to stop.
 */
static double
brent_min(objective_fn f, void *ctx, double lo, double hi, double x0,
          double fx0, double rel, double abs_tol, double *fmin,
          const uba_ticker *ticker)
{
    const double golden = 0.38196601125010515;  /* (3 - sqrt 5) / 2 */
    double x = x0, w = x0, v = x0;
    double fx = fx0, fw = fx0, fv = fx0;
    double d = 0.0, e = 0.0;
    for (int it = 0; it < 200 && !ticker->stopped; it++) {
        const double m = 0.5 * (lo + hi);
        const double tol1 = rel * fabs(x) + abs_tol / 3.0;
        const double tol2 = 2.0 * tol1;
        if (fabs(x - m) <= tol2 - 0.5 * (hi - lo)) {
            break;
        }
        double p = 0.0, q = 0.0, r = 0.0;
        if (fabs(e) > tol1) {
            r = (x - w) * (fx - fv);
            q = (x - v) * (fx - fw);
            p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if (q > 0.0) {
                p = -p;
            }
            else {
                q = -q;
            }
            r = e;
            e = d;
        }
        if (fabs(p) < fabs(0.5 * q * r) && p > q * (lo - x)
            && p < q * (hi - x)) {
            d = p / q;
            const double u = x + d;
            if (u - lo < tol2 || hi - u < tol2) {
                d = x < m ? tol1 : -tol1;
            }
        }
        else {
            e = x < m ? hi - x : lo - x;
            d = golden * e;
        }
        const double u = fabs(d) >= tol1 ? x + d : (d > 0.0 ? x + tol1
                                                            : x - tol1);
        const double fu = f(ctx, u);
        if (fu <= fx) {
            if (u < x) {
                hi = x;
            }
            else {
                lo = x;
            }
            v = w;
            fv = fw;
            w = x;
            fw = fx;
            x = u;
            fx = fu;
        }
        else {
            if (u < x) {
                lo = u;
            }
            else {
                hi = u;
            }
            if (fu <= fw || w == x) {
                v = w;
                fv = fw;
                w = u;
                fw = fu;
            }
            else if (fu <= fv || v == x || v == w) {
                v = u;
                fv = fu;
            }
        }
    }
    *fmin = fx;
    return x;
}

/* ---- the scan over log phi both minimisers use ---------------------------- */

/* Objectives are clamped to +-1e200 so that Brent's parabola never meets
 * an infinity (an exact zero residual has log -inf). */
static double
clamp_objective(double v)
{
    return fmax(-1e200, fmin(1e200, isnan(v) ? 1e200 : v));
}

uba_status
uba_phi_range_check(double phi_lo, double phi_hi)
{
    if (!(isfinite(phi_lo) && isfinite(phi_hi) && phi_lo > 0.0
          && phi_lo < phi_hi)) {
        return UBA_E_PHI_RANGE;
    }
    return UBA_OK;
}

/* The scan of minimise_log_phi: 3 points per decade (at most 1,897 over
 * the whole double range), room for two values each. */
#define SCAN_PER_DECADE 3.0
#define SCAN_MAX 2048
#define SCAN_BATCH 64     /* grid points handed to `many` at once */

/*
 * What minimise_log_phi minimises: the objective f at one u = log phi;
 * optionally the same at many u in one pass (many), and a cheap lower
 * bound lb <= f with room for 2 SCAN_MAX values in scan.
 */
typedef struct phi_objective {
    objective_fn f;
    void (*many)(void *ctx, const double *u, size_t n, double *out);
    objective_fn lb;
    double *scan;
    void *ctx;
} phi_objective;

/*
 * Minimises f over u = log phi in [log phi_lo, log phi_hi]: f on a grid of
 * 3 points per decade, then Brent's method between the neighbours of the
 * best grid point.  The grid guards against a second basin; the bracket
 * around the best point makes Brent converge to it.
 *
 * With a lower bound the grid is searched lazily: lb at every point, then
 * f at the point of least known value (f where evaluated, else lb) until
 * that point's value is f itself; it is then the grid point of least f, as
 * a full scan finds, at a few evaluations of f instead of one per point.
 */
static double
minimise_log_phi(const phi_objective *ob, double phi_lo, double phi_hi,
                 double tol, double *fbest, const uba_ticker *ticker)
{
    const double u0 = log(phi_lo), u1 = log(phi_hi);
    const double decades = (u1 - u0) / LN10;
    const size_t count = (size_t)ceil(SCAN_PER_DECADE * decades) + 1;
    const size_t pts = count < 3 ? 3 : count;
    const double du = (u1 - u0) / (double)(pts - 1);
    size_t ib = 0;
    double fb = HUGE_VAL;
    if (ob->lb != NULL && pts <= SCAN_MAX) {
        double *known = ob->scan, *bound = ob->scan + SCAN_MAX;
        for (size_t i = 0; i < pts && !ticker->stopped; i++) {
            known[i] = (double)NAN;
            bound[i] = ob->lb(ob->ctx, i == pts - 1 ? u1 : u0 + du * (double)i);
        }
        while (!ticker->stopped) {
            fb = HUGE_VAL;
            for (size_t i = 0; i < pts; i++) {
                const double vi = isnan(known[i]) ? bound[i] : known[i];
                if (vi < fb) {
                    fb = vi;
                    ib = i;
                }
            }
            if (!isnan(known[ib])) {
                break;
            }
            known[ib] = ob->f(ob->ctx, ib == pts - 1 ? u1
                                                    : u0 + du * (double)ib);
        }
    }
    else {
        double u[SCAN_BATCH], fu[SCAN_BATCH];
        for (size_t i0 = 0; i0 < pts && !ticker->stopped; i0 += SCAN_BATCH) {
            const size_t m = pts - i0 < SCAN_BATCH ? pts - i0 : SCAN_BATCH;
            for (size_t i = 0; i < m; i++) {
                u[i] = i0 + i == pts - 1 ? u1 : u0 + du * (double)(i0 + i);
                if (ob->many == NULL) {
                    fu[i] = ob->f(ob->ctx, u[i]);
                }
            }
            if (ob->many != NULL) {
                ob->many(ob->ctx, u, m, fu);
            }
            for (size_t i = 0; i < m; i++) {
                if (fu[i] < fb) {
                    fb = fu[i];
                    ib = i0 + i;
                }
            }
        }
    }
    const double ub = ib == pts - 1 ? u1 : u0 + du * (double)ib;
    const double lo = ib == 0 ? u0 : u0 + du * (double)(ib - 1);
    const double hi = ib + 1 >= pts - 1 ? u1 : u0 + du * (double)(ib + 1);
    const double u = brent_min(ob->f, ob->ctx, lo, hi, ub, fb, tol, tol,
                               fbest, ticker);
    return fmin(phi_hi, fmax(phi_lo, exp(u)));
}

/* ---- phi for the worst case of the noisy quadratic ------------------------ */

typedef struct op_ctx {
    size_t T;
    double lam_min, lam_max, sigma2, eta_max, eta_min;
    double *eta;          /* T: the UBA samples                   */
    double *work;         /* uba_worst_case_work_size(T)          */
    double hints[NV_HINTS]; /* maximisers found so far (lam)      */
    size_t nh;
    uba_ticker *ticker;
} op_ctx;

/* The UBA samples at t = k - 1/2 for phi = e^u into cx->eta, from
 * schedule.c; 0 if phi is no valid shape (e^u overflowed or vanished). */
static int
op_fill(op_ctx *cx, double u)
{
    uba_params p;
    if (uba_params_init(&p, (double)cx->T, exp(u), cx->eta_max, cx->eta_min,
                        0.0, 0.0) != UBA_OK) {
        return 0;
    }
    for (size_t k = 0; k < cx->T; k++) {
        cx->eta[k] = (double)k + 0.5;
    }
    return uba_eta_fill(&p, cx->eta, cx->T, cx->eta, NULL, NULL) == UBA_OK;
}

static void
op_remember(op_ctx *cx, double lam)
{
    for (size_t i = 0; i < cx->nh; i++) {
        if (cx->hints[i] == lam) {
            return;
        }
    }
    if (cx->nh == NV_HINTS) {
        memmove(cx->hints, cx->hints + 1, (NV_HINTS - 1) * sizeof(double));
        cx->nh--;
    }
    cx->hints[cx->nh++] = lam;
}

/* log max_lam E x_T^2 for UBA(phi = e^u) at t = k - 1/2. */
static double
op_objective(void *vctx, double u)
{
    op_ctx *cx = (op_ctx *)vctx;
    if (!op_fill(cx, u)) {
        return 1e200;
    }
    double lg = 0.0, lam = cx->lam_min;
    if (cx->sigma2 == 0.0) {
        (void)wc_run(cx->eta, cx->T, cx->lam_min, cx->lam_max, cx->work, &lg,
                     &lam, cx->ticker);
        lg *= 2.0;
    }
    else {
        (void)nv_run(cx->eta, cx->T, cx->lam_min, cx->lam_max, cx->sigma2,
                     cx->work, cx->hints, cx->nh, &lg, &lam, cx->ticker);
    }
    op_remember(cx, lam);
    return clamp_objective(lg);
}

/* A lower bound of op_objective: E x_T^2 at both ends, the hints and every
 * fifth of the noisy search's evenly spaced points (a subset of the points
 * the search itself screens; also for sigma2 = 0, where E x_T^2 = p^2). */
static double
op_lower_bound(void *vctx, double u)
{
    op_ctx *cx = (op_ctx *)vctx;
    if (!op_fill(cx, u)) {
        return 1e200;
    }
    const nv_layout l = nv_layout_of(cx->work, cx->T);
    nv_problem pr;
    if (nv_setup(&pr, &l, cx->eta, cx->T, cx->lam_min, cx->lam_max,
                 cx->sigma2, cx->ticker)) {
        return 1e200;
    }
    double y[2 + NV_HINTS + NV_UNIFORM / 5 + 1], v[sizeof y / sizeof y[0]];
    size_t m = 0;
    y[m++] = 0.0;
    y[m++] = pr.ys.yb;
    for (size_t i = 0; i < cx->nh; i++) {
        y[m++] = fmin(pr.ys.yb, fmax(0.0, (cx->hints[i] - cx->lam_min)
                                              / pr.ys.scale));
    }
    for (size_t i = 2; i < NV_UNIFORM; i += 5) {
        y[m++] = pr.ys.yb * (((double)i + 0.5) / NV_UNIFORM);
    }
    nv_eval(&pr, y, m, 0, v, NULL, NULL, cx->ticker);
    double best = -HUGE_VAL;
    for (size_t i = 0; i < m; i++) {
        best = fmax(best, v[i]);
    }
    return clamp_objective(best);
}

size_t
uba_optimal_phi_work_size(size_t T)
{
    const size_t w = uba_worst_case_work_size(T);
    const size_t extra = 2 * SCAN_MAX;
    return w >= SIZE_MAX - T - extra ? SIZE_MAX : w + T + extra;
}

uba_status
uba_optimal_phi_check(size_t T, double lam_min, double lam_max, double sigma2,
                      double eta_max, double eta_min, double phi_lo,
                      double phi_hi)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    const uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (!is_nonnegative(sigma2)) {
        return UBA_E_SIGMA2;
    }
    if (!isfinite(eta_max)) {
        return UBA_E_ETA_MAX;
    }
    if (!isfinite(eta_min)) {
        return UBA_E_ETA_MIN;
    }
    /* every UBA value lies between eta_min and eta_max, so this covers the
     * residual's condition on each step (with room for rounding) */
    if (!(fmax(fabs(eta_max), fabs(eta_min)) * lam_max
          <= 0.5 * UBA_MAX_ETA_LAM)) {
        return UBA_E_ETA_RANGE;
    }
    return uba_phi_range_check(phi_lo, phi_hi);
}

uba_status
uba_optimal_phi(size_t T, double lam_min, double lam_max, double sigma2,
                double eta_max, double eta_min, double phi_lo, double phi_hi,
                double *work, size_t work_len, double *phi,
                double *log_objective, const uba_progress *progress)
{
    const uba_status s = uba_optimal_phi_check(T, lam_min, lam_max, sigma2,
                                               eta_max, eta_min, phi_lo,
                                               phi_hi);
    if (s != UBA_OK) {
        return s;
    }
    if (work == NULL || phi == NULL || log_objective == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_optimal_phi_work_size(T)) {
        return UBA_E_WORKSPACE;
    }
    const double per_trial = sigma2 == 0.0 ? wc_expected_units(T)
                                           : nv_expected_units(T);
    uba_ticker ticker = ticker_start(progress, 40.0 * per_trial);
    op_ctx cx = {T, lam_min, lam_max, sigma2, eta_max, eta_min, work,
                 work + T + 2 * SCAN_MAX, {0.0}, 0, &ticker};
    double p, fbest;
    if (eta_max == eta_min) {
        /* a constant schedule: phi has no effect; 2 kappa is a minimiser */
        p = 2.0 * (lam_max / lam_min);
        fbest = op_objective(&cx, log(p));
    }
    else {
        const phi_objective ob = {op_objective, NULL, op_lower_bound,
                                  work + T, &cx};
        p = minimise_log_phi(&ob, phi_lo, phi_hi, 1e-11, &fbest, &ticker);
    }
    if (ticker.stopped) {
        return UBA_E_INTERRUPTED;
    }
    *phi = p;
    *log_objective = fbest;
    return UBA_OK;
}

/* ---- phi for bound (c) ------------------------------------------------------ */

/*
 * Bound (c) as a function of phi, for the minimiser.  The schedule values
 * are UBA's, bit for bit: the angle part of the shape (shape.h) is formed
 * once per step and shared by every phi evaluated in the same pass, and
 * with eta_min = 0 the value is eta_max g exactly (schedule.c's blend of
 * eta_max g + 0 gc, clamped to [0, eta_max], is that product; test_theory.c
 * checks it against uba_eta_fill).  The steps go in chunks of SC_CHUNK
 * (O(1) memory); per chunk and phi the recursion is summarised as
 *
 *     (A, B) = (prod_t a_t, sum_t k_t prod_{s>t} a_s),  a_t = 1 - mu eta_t,
 *
 * k_t = K eta_t^2, and applied as e <- A e + B 2^-E.  The scan evaluates
 * SC_GROUP values of phi side by side (a vectorised loop over phi); a
 * single phi (Brent's steps) cuts each chunk into SC_GROUP runs whose
 * (A, B) are formed side by side and composed.  Plain doubles: the
 * minimiser only compares values, and the few ulp per step this rounds
 * (about 1e-10 over 1e6 steps) do not move it; the bound reported at the
 * minimiser is the compensated one.  A run whose A falls below 2^-600, or
 * any run when the constants are far from 1 (|E| > 200, K or eta_max
 * outside [2^-150, 2^150]), goes through the compensated step instead,
 * which never underflows.
 */
#define SC_CHUNK 512
#define SC_GROUP 16
#define SC_RUN (SC_CHUNK / SC_GROUP)

typedef struct sc_ctx {
    size_t T;
    double mu, L, sigma2, f_gap, eta_max;
    sc_noise z;
    int tame;          /* the fast form applies to the constants */
    uba_ticker *ticker;
} sc_ctx;

/* The angles of the steps t[0..SC_CHUNK) (a loop of fixed length over a
 * buffer of steps, as schedule.c's, which the compiler vectorizes). */
THEORY_CLONES
static void
sc_angles(double T, const double *restrict t, double *restrict tan2,
          double *restrict refl)
{
    for (size_t j = 0; j < SC_CHUNK; j++) {
        const shape_angle an = shape_angle_at(t[j], T);
        tan2[j] = an.tan2;
        refl[j] = (double)an.reflect;
    }
}

/* (A, B) of the chunk for SC_GROUP values of phi/2 at once. */
THEORY_CLONES
static void
sc_kernel_phis(const double *restrict tan2, const double *restrict refl,
               size_t m, const double *restrict half_phi, double eta_max,
               double mu, double K, double *restrict A, double *restrict B)
{
    for (size_t i = 0; i < SC_GROUP; i++) {
        A[i] = 1.0;
        B[i] = 0.0;
    }
    for (size_t j = 0; j < m; j++) {
        const shape_angle an = {tan2[j], refl[j] != 0.0};
        for (size_t i = 0; i < SC_GROUP; i++) {
            const double eta = eta_max * shape_g(shape_x(an, half_phi[i]));
            const double a = fma(-mu, eta, 1.0);
            A[i] *= a;
            B[i] = fma(a, B[i], (K * eta) * eta);
        }
    }
}

/* The chunk's values for one phi/2 (vectorised over steps), then (A, B)
 * of its SC_GROUP runs side by side. */
THEORY_CLONES
static void
sc_kernel_runs(const double *restrict tan2, const double *restrict refl,
               double half_phi, double eta_max, double mu, double K,
               double *restrict eta, double *restrict A, double *restrict B)
{
    for (size_t j = 0; j < SC_CHUNK; j++) {
        const shape_angle an = {tan2[j], refl[j] != 0.0};
        eta[j] = eta_max * shape_g(shape_x(an, half_phi));
    }
    for (size_t r = 0; r < SC_GROUP; r++) {
        A[r] = 1.0;
        B[r] = 0.0;
    }
    for (size_t j = 0; j < SC_RUN; j++) {
        for (size_t r = 0; r < SC_GROUP; r++) {
            const double e = eta[r * SC_RUN + j];
            const double a = fma(-mu, e, 1.0);
            A[r] *= a;
            B[r] = fma(a, B[r], (K * e) * e);
        }
    }
}

/* e <- A e + B 2^-E; 0 (untouched) when the fast form cannot be trusted. */
static int
sc_apply(sc_sum *e, double A, double B)
{
    if (!(A >= 0x1p-600) || e->S == 0.0 || e->hi == 0.0) {
        return 0;
    }
    e->hi = A * e->hi + B * e->S;
    e->lo = 0.0;
    sc_sum_norm(e);
    return 1;
}

/* The compensated steps of steps [j0, j1) of a chunk, from the angles. */
static void
sc_exact(sc_sum *e, const double *tan2, const double *refl, size_t j0,
         size_t j1, double half_phi, const sc_ctx *cx)
{
    for (size_t j = j0; j < j1; j++) {
        const shape_angle an = {tan2[j], refl[j] != 0.0};
        const double eta = cx->eta_max * shape_g(shape_x(an, half_phi));
        sc_sum_step(e, eta, cx->mu, &cx->z);
    }
}

/*
 * log of bound (c) for UBA(T, phi_i, eta_max, 0) at t = 0..T-1, for
 * phi_i = e^u[i], i < count <= SC_MAX_PHIS, into out (1e200 for a phi
 * that is no shape).
 */
#define SC_MAX_PHIS SCAN_BATCH

static void
sc_objectives(const sc_ctx *cx, const double *u, size_t count, double *out)
{
    double tan2[SC_CHUNK], refl[SC_CHUNK], eta[SC_CHUNK];
    double h[SC_MAX_PHIS + SC_GROUP];
    sc_sum e[SC_MAX_PHIS];
    const double T = (double)cx->T;
    const double K = cx->z.K;
    for (size_t i = 0; i < count + SC_GROUP; i++) {
        h[i] = 0.5 * exp(u[i < count ? i : 0]);
        if (i < count) {
            e[i] = sc_sum_from(cx->f_gap);
        }
    }
    for (size_t k0 = 0; k0 < cx->T; k0 += SC_CHUNK) {
        const size_t m = cx->T - k0 < SC_CHUNK ? cx->T - k0 : SC_CHUNK;
        if (ticker_add(cx->ticker, (double)(count * m))) {
            return;
        }
        for (size_t j = 0; j < SC_CHUNK; j++) {
            /* the steps, for sc_angles (a short last chunk padded) */
            eta[j] = j < m ? (double)(k0 + j) : 0.0;
        }
        sc_angles(T, eta, tan2, refl);
        double A[SC_GROUP], B[SC_GROUP];
        if (count == 1 && m == SC_CHUNK) {
            sc_kernel_runs(tan2, refl, h[0], cx->eta_max, cx->mu, K, eta, A,
                           B);
            for (size_t r = 0; r < SC_GROUP; r++) {
                if (!cx->tame || !sc_apply(&e[0], A[r], B[r])) {
                    sc_exact(&e[0], tan2, refl, r * SC_RUN, (r + 1) * SC_RUN,
                             h[0], cx);
                }
            }
            continue;
        }
        for (size_t i0 = 0; i0 < count; i0 += SC_GROUP) {
            sc_kernel_phis(tan2, refl, m, h + i0, cx->eta_max, cx->mu, K, A,
                           B);
            for (size_t i = i0; i < count && i < i0 + SC_GROUP; i++) {
                if (!cx->tame || !sc_apply(&e[i], A[i - i0], B[i - i0])) {
                    sc_exact(&e[i], tan2, refl, 0, m, h[i], cx);
                }
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        out[i] = isfinite(h[i]) && h[i] > 0.0
            ? clamp_objective(sc_sum_log(&e[i])) : 1e200;
    }
}

static void
sc_objectives_of(void *vctx, const double *u, size_t n, double *out)
{
    sc_objectives((const sc_ctx *)vctx, u, n, out);
}

static double
sc_objective(void *vctx, double u)
{
    double v = 1e200;
    sc_objectives((const sc_ctx *)vctx, &u, 1, &v);
    return v;
}

/* Bound (c) at phi, compensated (as uba_bound_strongly_convex gives it
 * for uba_eta_fill's values). */
static double
sc_bound_at(const sc_ctx *cx, double phi)
{
    uba_params p;
    if (uba_params_init(&p, (double)cx->T, phi, cx->eta_max, 0.0, 0.0, 0.0)
        != UBA_OK) {
        return HUGE_VAL;
    }
    double eta[SC_CHUNK];
    sc_sum e = sc_sum_from(cx->f_gap);
    for (size_t k0 = 0; k0 < cx->T; k0 += SC_CHUNK) {
        const size_t m = cx->T - k0 < SC_CHUNK ? cx->T - k0 : SC_CHUNK;
        if (ticker_add(cx->ticker, 4.0 * (double)m)) {
            return HUGE_VAL;
        }
        for (size_t j = 0; j < m; j++) {
            eta[j] = (double)(k0 + j);
        }
        (void)uba_eta_fill(&p, eta, m, eta, NULL, NULL);
        for (size_t j = 0; j < m; j++) {
            sc_sum_step(&e, eta[j], cx->mu, &cx->z);
        }
    }
    return sc_sum_value(&e);
}

uba_status
uba_optimal_phi_strongly_convex(size_t T, double mu, double L, double sigma2,
                                double f_gap, double eta_max, double phi_lo,
                                double phi_hi, double *phi, double *bound,
                                const uba_progress *progress)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    uba_status s = check_strongly_convex(mu, L, sigma2, f_gap);
    if (s != UBA_OK) {
        return s;
    }
    if (!(isfinite(eta_max) && eta_max > 0.0 && eta_max <= 1.0 / L)) {
        return UBA_E_ETA_MAX_L;
    }
    s = uba_phi_range_check(phi_lo, phi_hi);
    if (s != UBA_OK) {
        return s;
    }
    if (phi == NULL || bound == NULL) {
        return UBA_E_NULL;
    }
    if (f_gap == 0.0 && sigma2 == 0.0) {
        *phi = phi_lo;
        *bound = 0.0;
        return UBA_OK;
    }
    uba_ticker ticker = ticker_start(progress, 4.0 * 80.0 * (double)T);
    const sc_noise z = sc_noise_of(L, sigma2);
    const int tame = (sigma2 == 0.0 || z.K > 0.0) && eta_max > 0x1p-150
        && eta_max < 0x1p150;
    sc_ctx cx = {T, mu, L, sigma2, f_gap, eta_max, z, tame, &ticker};
    double fbest;
    const phi_objective ob = {sc_objective, sc_objectives_of, NULL, NULL,
                              &cx};
    const double p = minimise_log_phi(&ob, phi_lo, phi_hi, 1e-11, &fbest,
                                      &ticker);
    const double b = sc_bound_at(&cx, p);
    if (ticker.stopped) {
        return UBA_E_INTERRUPTED;
    }
    *phi = p;
    *bound = b;
    return UBA_OK;
}

/* ---- phi (and the peak) for the expected loss over a spectrum ----------- */

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
 * clipped to the grid, to tolerance tol: the minimiser, its value in
 * *fbest, and in *at_end -1/+1 when it is within CP_AT_END of a step of
 * the grid's lower/upper end (then the end itself if x0 was that end and
 * nothing beat it), else 0. */
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

/*
 * The checks of uba_choose_phi before its workspace, in uba.h's order.
 * Writes the smallest and largest eigenvalue and the peak range searched:
 * [eta_lo, eta_hi] with eta_hi = +inf read as the stability limit
 * 2/lam_max and eta_lo = 0 as UBA_PEAK_RANGE_DEPTH times the top, or the
 * fixed peak twice.
 */
static uba_status
cp_check(size_t T, const uba_spectrum *sp, double eta_lo, double eta_hi,
         double eta_min, double phi_lo, double phi_hi, double *lam_lo,
         double *lam_hi, double *lo, double *hi, size_t *bad_index)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    const uba_status s = check_spectrum(sp, lam_lo, lam_hi, bad_index);
    if (s != UBA_OK) {
        return s;
    }
    double l = eta_lo, h = eta_hi;
    if (eta_lo != eta_hi) {
        if (!(eta_lo >= 0.0 && isfinite(eta_lo) && eta_lo < eta_hi)) {
            return UBA_E_PEAK;
        }
        /* the stability limit: none (inf) when every eigenvalue is 0 */
        h = eta_hi != HUGE_VAL ? eta_hi : *lam_hi > 0.0 ? 2.0 / *lam_hi
                                                         : HUGE_VAL;
        l = eta_lo == 0.0 ? UBA_PEAK_RANGE_DEPTH * h : eta_lo;
    }
    if (!(isfinite(h) && l > 0.0 && l <= h)) {
        return UBA_E_PEAK;
    }
    if (!isfinite(eta_min)) {
        return UBA_E_ETA_MIN;
    }
    /* every UBA value lies between eta_min and the peak: this keeps each
     * step within uba_expected_loss's range, with room for rounding */
    if (!(fmax(h, fabs(eta_min)) * *lam_hi <= 0.5 * UBA_MAX_ETA_LAM)) {
        return UBA_E_ETA_RANGE;
    }
    *lo = l;
    *hi = h;
    return uba_phi_range_check(phi_lo, phi_hi);
}

uba_status
uba_choose_phi_check(size_t T, const uba_spectrum *sp, double eta_lo,
                     double eta_hi, double eta_min, double phi_lo,
                     double phi_hi, size_t *bad_index)
{
    double lam_lo, lam_hi, lo, hi;
    return cp_check(T, sp, eta_lo, eta_hi, eta_min, phi_lo, phi_hi, &lam_lo,
                    &lam_hi, &lo, &hi, bad_index);
}

uba_status
uba_choose_phi(size_t T, const uba_spectrum *sp, double eta_lo,
               double eta_hi, double eta_min, double phi_lo, double phi_hi,
               double *work, size_t work_len, uba_phi_choice *out,
               size_t *bad_index, const uba_progress *progress)
{
    double lam_lo = 0.0, lam_hi = 0.0, lo = 0.0, hi = 0.0;
    const uba_status s = cp_check(T, sp, eta_lo, eta_hi, eta_min, phi_lo,
                                  phi_hi, &lam_lo, &lam_hi, &lo, &hi,
                                  bad_index);
    if (s != UBA_OK) {
        return s;
    }
    const int ranged = eta_lo != eta_hi;
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
    c.initial_loss = el_initial_loss(sp);
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
