/*
 * worst_case.c -- docs/theory.md section 3, the worst-case residual of any
 * step sequence over a curvature range (uba_worst_case_residual), and the
 * workspace both worst cases share.  See uba.h for the contracts.
 *
 * Provenance: this project's method.
 */
#include "theory_internal.h"

/*
 * Problem: R = max over lam in [a, b] of |p(lam)|, p = prod_t (1 - eta_t
 * lam).  We work with f = log|p| = sum_t log|1 - eta_t lam|, searched in
 * the offset y of yspace and evaluated at the exact point lam(y).
 *
 * Structure.  Each term is concave in lam away from its root 1/eta_t
 * (second derivative -eta^2/(1 - eta lam)^2 <= 0), so f is concave on
 * every interval that contains no root.  Cutting [a, b] at the roots that
 * lie inside it gives at most n + 1 brackets, each with exactly one
 * maximum of f (at an end a or b, or where f' = 0): this set of brackets
 * is complete, so the maximum over the brackets is the true maximum, not a
 * grid estimate.
 *
 * Per bracket: safeguarded Newton on f' (monotone, falling from +inf to
 * -inf between two roots) from the midpoint, bisecting when Newton leaves
 * the bracket.  Concavity gives a certificate at every iterate y: the
 * maximum over the bracket is at most f(y) + f'(y) (e - y), e the bracket
 * end on the uphill side.  A bracket stops as soon as that upper bound is
 * within TOL of the best value found anywhere (then it cannot raise the
 * answer by more than TOL), or when Newton's step falls to rounding level
 * in y (y is the maximiser to the last bit).  Brackets far below the best
 * are thus dismissed after one evaluation; in the equioscillating
 * Chebyshev case every bracket is refined, in about four evaluations.
 *
 * Evaluation in O(log n), not O(n).  n brackets times an O(n) sum would be
 * O(n^2) (1e10 logs at n = 1e5), so f, f' and f'' come from a treecode:
 * f(x) = sum_t log|v - eta_t| + n log x with v = 1/x is a logarithmic
 * potential of the points eta_t on a line.  The sorted eta_t form a binary
 * tree; a node with centre c, half-width h and B points is, seen from x
 * with z = h x / u, u = 1 - c x, |z| <= 1/3, replaced by the exact series
 * (1 - eta x = u (1 - d w), d = eta - c, w = x/u, nu_k = sum (d/h)^k):
 *
 *     sum log|1 - eta x|    = B log|u| - sum_{k>=1} nu_k z^k / k
 *     sum -eta/(1 - eta x)  = -(r A0 + s A1)
 *     sum -eta^2/(1-eta x)^2 = -(r^2 B0 + 2 r s B1 + s^2 B2)
 *
 * with r = c/u, s = h/u, A_i = sum_j nu_{j+i} z^j and B_i = sum_j (j+1)
 * nu_{j+i} z^j, truncated at order 40 (error below 3^-40 per point);
 * nearer nodes are opened, and leaves (<= 32 points) are summed directly.
 * u and every leaf's 1 - eta x are formed from x = hi + lo by two fmas.
 *
 * Scale.  The problem is invariant under x -> x/2^k, eta -> eta 2^k; with
 * 2^k the power of two below b, x lies in [a/2^k, 2) and |eta| <= 1e100
 * (UBA_MAX_ETA_LAM), so every factor, ratio and derivative stays finite.
 * The log is never exponentiated here: a residual of e^-65000 (Chebyshev,
 * T = 1e5, kappa = 10) comes back as its log.
 */
#define WC_LEAF 32
#define WC_ORDER 40
#define WC_NMOM (WC_ORDER + 3)     /* nu_0 .. nu_{ORDER+2}                 */
#define WC_HEAD 2                  /* c, h                                 */
#define WC_NODE (WC_HEAD + WC_NMOM + WC_ORDER) /* + nu_k / k, k=1..ORDER */
#define WC_STACK 160
#define WC_MAX_IT 100
#define WC_TOL_ABS 1e-13
#define WC_TOL_REL 1e-15
#define WC_ROOT_AT_ZERO 0x1p332    /* |u| beyond this: a root at y = 0 */

static size_t
wc_depth(size_t n)
{
    size_t d = 0;
    for (size_t size = n; size > WC_LEAF; size -= size / 2) {
        d++;
    }
    return d;
}

static size_t
wc_nodes(size_t n)
{
    return ((size_t)2 << wc_depth(n)) - 1;
}

/* Progress units (about a nanosecond each) of one tree evaluation: a
 * series per level of the tree, and a few leaves. */
static double
wc_eval_units(size_t n)
{
    return 2000.0 * (double)(wc_depth(n) + 2);
}

/* The tree of the residual or the noisy search's arrays (nv_work_size),
 * whichever is larger. */
size_t
uba_worst_case_work_size(size_t n)
{
    const size_t nodes = wc_nodes(n);
    if (n > SIZE_MAX / 8 || nodes > (SIZE_MAX - 4 * n) / WC_NODE) {
        return SIZE_MAX;
    }
    const size_t tree = n + nodes * WC_NODE;
    const size_t noisy = nv_work_size(n);
    return tree > noisy ? tree : noisy;
}

typedef struct wc_tree {
    const double *eta;  /* sorted ascending, scaled */
    double *nodes;      /* heap-ordered: node i has children 2i+1, 2i+2 */
    size_t n;
} wc_tree;

/* Centre, half-width and moments of eta[lo..hi), then the children. */
static void
wc_build(wc_tree *tr, size_t i, size_t lo, size_t hi, uba_ticker *ticker)
{
    double *node = tr->nodes + i * WC_NODE;
    double *nu = node + WC_HEAD;
    double *g = nu + WC_NMOM;
    const double *eta = tr->eta;
    const double c = 0.5 * eta[lo] + 0.5 * eta[hi - 1];
    const double h = 0.5 * eta[hi - 1] - 0.5 * eta[lo];
    node[0] = c;
    node[1] = h;
    for (int k = 0; k < WC_NMOM; k++) {
        nu[k] = 0.0;
    }
    nu[0] = (double)(hi - lo);
    if (h > 0.0) {
        for (size_t t = lo; t < hi && !ticker->stopped; t++) {
            const double q = (eta[t] - c) / h;
            double p = q;
            for (int k = 1; k < WC_NMOM; k++) {
                nu[k] += p;
                p *= q;
            }
            if (((t - lo) & 4095) == 4095) {
                (void)ticker_add(ticker, 4096.0 * WC_NMOM);
            }
        }
    }
    for (int k = 1; k <= WC_ORDER; k++) {
        g[k - 1] = nu[k] / (double)k;
    }
    (void)ticker_add(ticker, (double)((hi - lo) & 4095) * WC_NMOM);
    if (hi - lo > WC_LEAF && !ticker->stopped) {
        const size_t mid = lo + (hi - lo) / 2;
        wc_build(tr, 2 * i + 1, lo, mid, ticker);
        wc_build(tr, 2 * i + 2, mid, hi, ticker);
    }
}

typedef struct wc_val {
    double f;   /* log|p|                */
    double f1;  /* its first derivative  */
    double f2;  /* its second, < 0       */
    int root;   /* x is an exact root: f = -inf, f1, f2 meaningless */
} wc_val;

static void
wc_far(const double *node, double x, double u, wc_val *v)
{
    const double c = node[0], h = node[1];
    const double *nu = node + WC_HEAD;
    const double *g = nu + WC_NMOM;
    const double B = nu[0];
    const double r = c / u;
    const double lu = log(fabs(u));
    if (h == 0.0) {
        v->f += B * lu;
        v->f1 -= B * r;
        v->f2 -= B * (r * r);
        return;
    }
    const double s = h / u;
    const double z = s * x;
    double A0 = 0.0, A1 = 0.0, B0 = 0.0, B1 = 0.0, B2 = 0.0, G = 0.0;
    for (int j = WC_ORDER; j >= 0; j--) {
        const double jj = (double)(j + 1);
        A0 = A0 * z + nu[j];
        A1 = A1 * z + nu[j + 1];
        B0 = B0 * z + jj * nu[j];
        B1 = B1 * z + jj * nu[j + 1];
        B2 = B2 * z + jj * nu[j + 2];
    }
    for (int k = WC_ORDER; k >= 1; k--) {
        G = G * z + g[k - 1];
    }
    v->f += B * lu - z * G;
    v->f1 -= r * A0 + s * A1;
    v->f2 -= r * r * B0 + 2.0 * r * s * B1 + s * s * B2;
}

/* log|p|, d/dx and d^2/dx^2 at x = xh + xl (scaled), by the treecode. */
static wc_val
wc_tree_eval(const wc_tree *tr, double xh, double xl)
{
    wc_val v = {0.0, 0.0, 0.0, 0};
    struct {
        size_t i, lo, hi;
    } stack[WC_STACK];
    size_t sp = 0;
    stack[sp].i = 0;
    stack[sp].lo = 0;
    stack[sp].hi = tr->n;
    sp++;
    while (sp > 0) {
        sp--;
        const size_t i = stack[sp].i, lo = stack[sp].lo, hi = stack[sp].hi;
        const double *node = tr->nodes + i * WC_NODE;
        const double u = fma(-node[0], xl, fma(-node[0], xh, 1.0));
        const double au = fabs(u);
        if (au > 0.0 && 3.0 * node[1] * xh <= au) {
            wc_far(node, xh, u, &v);
            continue;
        }
        if (hi - lo <= WC_LEAF) {
            for (size_t t = lo; t < hi; t++) {
                const double e = tr->eta[t];
                const double ut = fma(-e, xl, fma(-e, xh, 1.0));
                if (ut == 0.0) {
                    v.root = 1;
                    continue;
                }
                const double r = e / ut;
                v.f += log(fabs(ut));
                v.f1 -= r;
                v.f2 -= r * r;
            }
            continue;
        }
        const size_t mid = lo + (hi - lo) / 2;
        stack[sp].i = 2 * i + 2;
        stack[sp].lo = mid;
        stack[sp].hi = hi;
        sp++;
        stack[sp].i = 2 * i + 1;
        stack[sp].lo = lo;
        stack[sp].hi = mid;
        sp++;
    }
    if (v.root) {
        v.f = -HUGE_VAL;
    }
    return v;
}

typedef struct wc_problem {
    wc_tree tree;
    yspace ys;
    double shrink;  /* 2^-k: x = lam 2^-k */
    double dy;      /* d x / d y = 2^j 2^-k */
} wc_problem;

/* f and its derivatives in y at the offset y. */
static wc_val
wc_eval(const wc_problem *pr, double y)
{
    double lo;
    const double hi = yspace_point(&pr->ys, y, &lo);
    wc_val v = wc_tree_eval(&pr->tree, hi * pr->shrink, lo * pr->shrink);
    v.f1 *= pr->dy;
    v.f2 *= pr->dy * pr->dy;
    return v;
}

/* The power of two 2^k with b / 2^k in [1, 2). */
static int
scale_exponent(double b)
{
    int e;
    (void)frexp(b, &e);
    return e - 1;
}

/*
 * Builds the problem for validated steps: the scaled steps into work,
 * sorted, and the tree after them.  Returns nonzero when interrupted.
 */
static int
wc_setup(const double *lrs, size_t n, double a, double b, double *work,
         wc_problem *pr, uba_ticker *ticker)
{
    pr->ys = yspace_of(a, b);
    const int k = scale_exponent(b);
    pr->shrink = ldexp(1.0, -k);
    pr->dy = pr->ys.scale * pr->shrink;
    double *eta = work;
    const double grow = ldexp(1.0, k);  /* k is in [-1074, 1023]: a double */
    for (size_t t = 0; t < n; t++) {
        eta[t] = lrs[t] * grow;
        if ((t & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return 1;
        }
    }
    if (sort_ascending(eta, n, ticker)) {
        return 1;
    }
    pr->tree.eta = eta;
    pr->tree.nodes = work + n;
    pr->tree.n = n;
    wc_build(&pr->tree, 0, 0, n, ticker);
    return ticker->stopped;
}

typedef struct wc_search {
    const wc_problem *pr;
    double best;    /* largest f found so far */
    double best_y;
    uba_ticker *ticker;
    double eval_units;
} wc_search;

static void
wc_take(wc_search *st, double f, double y)
{
    if (f > st->best) {
        st->best = f;
        st->best_y = y;
    }
}

/*
 * The maximum of f on [lo, hi]; at_lo / at_hi are the values at an end
 * that is 0 or y_b (NULL at a root, where f = -inf).  See the comment
 * above.
 */
static void
wc_bracket(wc_search *st, double lo, double hi, const wc_val *at_lo,
           const wc_val *at_hi)
{
    if (!(lo < hi)) {
        return;
    }
    if (at_lo != NULL && at_lo->f1 <= 0.0) {
        return;  /* concave and falling from lo: the maximum is f(lo) */
    }
    if (at_hi != NULL && at_hi->f1 >= 0.0) {
        return;
    }
    double y = lo + 0.5 * (hi - lo);
    for (int it = 0; it < WC_MAX_IT; it++) {
        if (ticker_add(st->ticker, st->eval_units)) {
            return;
        }
        const wc_val v = wc_eval(st->pr, y);
        if (v.root) {
            /* y is (to the last bit) one of the bracket's end roots */
            if (y - lo < hi - y) {
                lo = y;
            }
            else {
                hi = y;
            }
            y = lo + 0.5 * (hi - lo);
            if (!(lo < y && y < hi)) {
                return;
            }
            continue;
        }
        wc_take(st, v.f, y);
        double upper;
        if (v.f1 > 0.0) {
            lo = y;
            upper = v.f + v.f1 * (hi - y);
        }
        else if (v.f1 < 0.0) {
            hi = y;
            upper = v.f + v.f1 * (lo - y);
        }
        else {
            return;  /* f'(y) = 0: y is the maximiser */
        }
        if (upper <= st->best + WC_TOL_ABS + WC_TOL_REL * fabs(st->best)) {
            return;
        }
        double next = y - v.f1 / v.f2;
        if (!(next > lo && next < hi)) {
            next = lo + 0.5 * (hi - lo);
        }
        if (fabs(next - y) <= 4.0 * DBL_EPSILON * y) {
            return;
        }
        y = next;
    }
}

/* log|p(lam)| summed directly (an end of the interval). */
static double
wc_direct(const double *lrs, size_t n, double lam)
{
    ksum s = {0.0, 0.0};
    for (size_t t = 0; t < n; t++) {
        const double f = fma(-lrs[t], lam, 1.0);
        if (f == 0.0) {
            return -HUGE_VAL;
        }
        ksum_add(&s, log(fabs(f)));
    }
    return s.s + s.c;
}

/*
 * The worst-case residual for validated input: builds the problem in
 * work and searches every bracket.  Returns nonzero when interrupted (the
 * outputs are then not written).
 */
int
wc_run(const double *lrs, size_t n, double a, double b, double *work,
       double *log_out, double *lam_out, uba_ticker *ticker)
{
    if (!(b > a)) {
        *log_out = wc_direct(lrs, n, a);
        *lam_out = a;
        return ticker_add(ticker, (double)n);
    }
    wc_problem pr;
    if (wc_setup(lrs, n, a, b, work, &pr, ticker)) {
        return 1;
    }
    const double yb = pr.ys.yb;
    const wc_val va = wc_eval(&pr, 0.0);
    const wc_val vb = wc_eval(&pr, yb);
    wc_search st = {&pr, -HUGE_VAL, 0.0, ticker, wc_eval_units(n)};
    wc_take(&st, va.f, 0.0);
    wc_take(&st, vb.f, yb);
    double prev = 0.0;
    const wc_val *prev_val = va.root ? NULL : &va;
    const double *eta = pr.tree.eta;
    for (size_t i = n; i-- > 0;) {
        if (!(eta[i] > 0.0)) {
            break;
        }
        /* the root 1/eta (ascending as i falls), as an offset */
        double rl;
        const double rh = root_of(eta[i] * pr.shrink, &rl);
        const double rho = yspace_offset(&pr.ys, rh, rl);
        if (rho <= prev) {
            continue;
        }
        if (rho >= yb) {
            break;
        }
        wc_bracket(&st, prev, rho, prev_val, NULL);
        prev = rho;
        prev_val = NULL;
    }
    wc_bracket(&st, prev, yb, prev_val, vb.root ? NULL : &vb);
    if (ticker->stopped) {
        return 1;
    }
    double lam_lo;
    double lam = yspace_point(&pr.ys, st.best_y, &lam_lo);
    /* lam_max itself, summed directly: y_b stands for it only when
     * lam_max - lam_min is exact */
    double yb_lo;
    if (yspace_point(&pr.ys, yb, &yb_lo) != b || yb_lo != 0.0) {
        const double fb = wc_direct(lrs, n, b);
        if (fb > st.best) {
            st.best = fb;
            lam = b;
        }
    }
    *log_out = st.best;
    *lam_out = fmin(b, fmax(a, lam));
    return 0;
}

/* Checks lrs for the residual functions: finite, |lrs[i]| lam_max <= cap. */
static uba_status
check_residual_steps(const double *lrs, size_t n, double lam_max,
                     size_t *bad_index)
{
    for (size_t i = 0; i < n; i++) {
        uba_status s = UBA_OK;
        if (!isfinite(lrs[i])) {
            s = UBA_E_LRS;
        }
        else if (!(fabs(lrs[i]) * lam_max <= UBA_MAX_ETA_LAM)) {
            s = UBA_E_LRS_RANGE;
        }
        if (s != UBA_OK) {
            if (bad_index != NULL) {
                *bad_index = i;
            }
            return s;
        }
    }
    return UBA_OK;
}

uba_status
uba_worst_case_check(size_t n, double lam_min, double lam_max, double sigma2)
{
    uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (!is_nonnegative(sigma2)) {
        return UBA_E_SIGMA2;
    }
    return n == 0 ? UBA_E_LRS_EMPTY : UBA_OK;
}

/* The checks both worst cases share, in their order of report. */
uba_status
check_worst_case(const double *lrs, size_t n, double lam_min, double lam_max,
                 double sigma2, const double *work, size_t work_len,
                 const double *out, size_t *bad_index)
{
    const uba_status s = uba_worst_case_check(n, lam_min, lam_max, sigma2);
    if (s != UBA_OK) {
        return s;
    }
    if (lrs == NULL || work == NULL || out == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_worst_case_work_size(n)) {
        return UBA_E_WORKSPACE;
    }
    return check_residual_steps(lrs, n, lam_max, bad_index);
}

/* Progress units a search over n steps is expected to take. */
double
wc_expected_units(size_t n)
{
    return (double)n * (WC_NMOM + 16.0) + 4.0 * wc_eval_units(n) * (double)n;
}

uba_status
uba_worst_case_residual(const double *lrs, size_t n, double lam_min,
                        double lam_max, double *work, size_t work_len,
                        double *log_residual, double *lam_at,
                        size_t *bad_index, const uba_progress *progress)
{
    const uba_status s = check_worst_case(lrs, n, lam_min, lam_max, 0.0,
                                          work, work_len, log_residual,
                                          bad_index);
    if (s != UBA_OK) {
        return s;
    }
    uba_ticker ticker = ticker_start(progress, wc_expected_units(n));
    double lg, lam;
    if (wc_run(lrs, n, lam_min, lam_max, work, &lg, &lam, &ticker)) {
        return UBA_E_INTERRUPTED;
    }
    *log_residual = lg;
    if (lam_at != NULL) {
        *lam_at = lam;
    }
    return UBA_OK;
}
