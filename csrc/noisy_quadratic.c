/*
 * noisy_quadratic.c -- docs/theory.md section 4, the noisy quadratic, in
 * two parts: the worst case over a curvature range of E x_T^2 for SGD with
 * additive noise (uba_worst_case_noisy_error), then the expected final loss
 * of any step sequence over a spectrum (uba_expected_loss), which
 * choose_phi.c minimises.  See uba.h for the contracts.
 *
 * Provenance: the model and its recursion are standard; the search and the
 * numerics are this project's.
 */
#include "theory_internal.h"

/*
 * One eigen-direction lam of a quadratic, SGD with additive noise of
 * variance sigma2: x_{t+1} = (1 - eta_t lam) x_t + eta_t xi_t, so
 *
 *     V_{t+1}(lam) = (1 - eta_t lam)^2 V_t(lam) + sigma2 eta_t^2,  V_0 = 1,
 *
 * and V_n = prod (1 - eta lam)^2 + sigma2 sum_t eta_t^2 prod_{s>t}
 * (1 - eta_s lam)^2, the E x_T^2 of docs/theory.md section 4: a degree-2n
 * polynomial with no real roots (sigma2 > 0), a sum of n + 1 terms each of
 * which is log-concave between consecutive roots of p = prod (1 - eta lam)
 * (the "lobes"), but which itself need not be.  Certifying its maximum costs
 * O(n) evaluations of O(n) each in the worst case (near-equal lobes), so
 * this is a search, not a certificate; docs/theory.md gives its measured
 * accuracy.  It is exact for sigma2 = 0, which goes to the residual.
 *
 * Evaluation.  V is evaluated at many points ("lanes") in one pass over
 * the steps, 32 lanes at a time, so that the loop over lanes vectorizes:
 * each lane is an offset y of yspace, its point lam = hi + lo held exactly,
 * f_t = 1 - eta_t lam by two fmas and v = f_t^2 v + k_t S (k_t = sigma2
 * eta_t^2, S = 2^-E the lane's scale).  The steps run in blocks at most 64
 * long whose factors can grow a lane by at most 2^grow <= 2^480 (from the
 * largest |f_t| on [lam_min, lam_max]); after each block a lane whose v
 * left [2^-100, 2^100] is rescaled by a power of two, and one whose v left
 * [2^(grow - 1000), 2^1000] (below that, bits lost to a subnormal on the
 * way could matter) or whose scale S cannot follow (nv_lane_scale) is
 * redone for that block in exact scaled arithmetic (m 2^E at every step).
 * So no lane overflows, underflows or loses bits to a subnormal, whatever
 * the steps, and the common case runs at a fraction of a nanosecond per
 * lane and step.  The derivatives of V are carried the same way where
 * Newton needs them.
 *
 * Search.  (1) Screen: V at both ends, at the midpoint of every lobe when
 * lobes times steps is at most 2^23 (else of NV_SCREEN lobes evenly spaced
 * in index, the two end lobes included), at NV_UNIFORM evenly spaced
 * points, and at the caller's hints.  (2) Zoom: every local maximum of the
 * points evaluated so far within a factor 2 of the best (the NV_KEEP
 * highest) gets the midpoints of the lobes between its neighbours,
 * NV_ZOOM of them evenly spaced, until no lobe is left unsampled next to
 * a candidate.  (3) Refine: the NV_REFINE highest local maxima are
 * maximised within their lobe (clipped to their neighbours) by safeguarded
 * Newton on log V, bisecting when Newton leaves the bracket.  Cost: a few
 * hundred to a thousand lane evaluations of O(n) each, so O(n) overall.
 * What it assumes: that the lobe maxima vary smoothly along the sorted
 * roots where lobes are skipped (true of smooth schedules; a shuffled or
 * jittered schedule, whose lobes are independent, is screened in full up
 * to the 2^23 limit, about n = 2900).
 */
#define NV_GROUP 32          /* lanes per pass of the value kernel         */
#define NV_DGROUP 8          /* lanes per pass of the derivative kernel    */
#define NV_BLOCK_MAX 64      /* steps per block at most                    */
#define NV_GROWTH 480        /* log2 of the growth a block may allow       */
#define NV_FULL_SCREEN 8388608.0 /* 2^23: lobes x steps screened in full   */
#define NV_SCREEN 256        /* else: lobes screened at first              */
#define NV_ZOOM 32           /* lobes sampled around a candidate per round */
#define NV_KEEP 8            /* candidates zoomed into per round           */
#define NV_REFINE 8          /* candidates refined by Newton               */
#define NV_NEWTON_IT 60
/* NV_UNIFORM (evenly spaced points screened) and NV_HINTS (hints used at
 * most), which choose_phi.c uses too, are in theory_internal.h. */

/* The noisy search's workspace: NV_ARRAYS arrays of n, and room for its
 * points (see nv_layout_of). */
#define NV_POINTS 4096
#define NV_FIXED (6 * NV_POINTS)
#define NV_ARRAYS 4

size_t
nv_work_size(size_t n)
{
    return NV_ARRAYS * n + NV_FIXED;
}

nv_layout
nv_layout_of(double *work, size_t n)
{
    nv_layout l;
    l.k = work;
    l.cut = work + n;
    l.grow = work + 2 * n;
    l.roots = work + 3 * n;
    double *pts = work + 4 * n;
    l.py = pts;
    l.pv = pts + NV_POINTS;
    l.ty = pts + 2 * NV_POINTS;
    l.tv = pts + 3 * NV_POINTS;
    l.by = pts + 4 * NV_POINTS;
    l.bv = pts + 5 * NV_POINTS;
    return l;
}

/*
 * The per-step data of V for validated input (no roots yet); O(n).
 * Returns nonzero when interrupted.
 */
int
nv_setup(nv_problem *pr, const nv_layout *l, const double *lrs, size_t n,
         double a, double b, double sigma2, uba_ticker *ticker)
{
    pr->eta = lrs;
    pr->n = n;
    pr->ys = yspace_of(a, b);
    pr->sm = frexp(sigma2, &pr->se);
    pr->tame = 1;
    const int sigma_ok = sigma2 == 0.0
        || (sigma2 > 0x1p-200 && sigma2 < 0x1p200);
    double *k = l->k, *cut = l->cut;
    size_t nb = 0, start = 0;
    int growth = 0;
    double k_max = 0.0;
    for (size_t t = 0; t < n; t++) {
        const double eta = lrs[t];
        const double ae = fabs(eta);
        k[t] = (sigma2 * eta) * eta;
        k_max = fmax(k_max, k[t]);
        pr->tame &= eta == 0.0 || sigma2 == 0.0
            || (sigma_ok && ae > 0x1p-300 && ae < 0x1p300);
        const double F = fmax(fabs(fma(-eta, a, 1.0)),
                              fabs(fma(-eta, b, 1.0)));
        const int g = F >= 1.0 ? 2 * exponent_of(F) : 0;
        if (t > start && (growth + g > NV_GROWTH
                          || t - start >= NV_BLOCK_MAX)) {
            l->grow[nb] = (double)growth;
            cut[nb++] = (double)t;
            start = t;
            growth = 0;
        }
        growth += g;
        if ((t & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return 1;
        }
    }
    l->grow[nb] = (double)growth;
    cut[nb++] = (double)n;
    pr->k = k;
    pr->cut = cut;
    pr->grow = l->grow;
    pr->nblocks = nb;
    pr->k_top = k_max > 0.0 && isfinite(k_max) ? (double)exponent_of(k_max)
                                                : -2000.0;
    return 0;
}

/* The roots of p inside (0, y_b), as offsets, ascending, each once;
 * returns their number, or SIZE_MAX when interrupted. */
static size_t
nv_roots(const nv_problem *pr, double *roots, uba_ticker *ticker)
{
    size_t m = 0;
    for (size_t t = 0; t < pr->n; t++) {
        if ((t & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return SIZE_MAX;
        }
        if (pr->eta[t] > 0.0) {
            double rl;
            const double rh = root_of(pr->eta[t], &rl);
            const double r = yspace_offset(&pr->ys, rh, rl);
            if (r > 0.0 && r < pr->ys.yb) {
                roots[m++] = r;
            }
        }
    }
    if (sort_ascending(roots, m, ticker)) {
        return SIZE_MAX;
    }
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u == 0 || roots[i] > roots[u - 1]) {
            roots[u++] = roots[i];
        }
    }
    return u;
}

/* ---- evaluating V at many points ---------------------------------------- */

/* (v, v', v'') 2^E (derivatives in lam), renormalised when its largest
 * part leaves [2^-300, 2^300]. */
typedef struct nv_state {
    double v, d1, d2, E;
} nv_state;

static void
nv_state_scale(nv_state *s, double k)
{
    const int kk = (int)fmax(fmin(k, 2000.0), -2000.0);
    s->v = ldexp(s->v, -kk);
    s->d1 = ldexp(s->d1, -kk);
    s->d2 = ldexp(s->d2, -kk);
    s->E += k;
}

static void
nv_state_norm(nv_state *s)
{
    const double m = fmax(s->v, fmax(fabs(s->d1), fabs(s->d2)));
    if (m > 0x1p300 || (m < 0x1p-300 && m > 0.0)) {
        int k;
        (void)frexp(m, &k);
        nv_state_scale(s, (double)k);
    }
}

/* One step of the recursion in exact scaled arithmetic at lam = xh + xl
 * (and, if derivs, of its first two derivatives in lam). */
static void
nv_exact_step(const nv_problem *pr, size_t t, double xh, double xl,
              nv_state *s, int derivs)
{
    const double e = pr->eta[t];
    const double f = fma(-e, xl, fma(-e, xh, 1.0));
    const double f2 = f * f;
    if (derivs) {
        const double ef = e * f;
        s->d2 = f2 * s->d2 - 4.0 * ef * s->d1 + 2.0 * (e * e) * s->v;
        s->d1 = f2 * s->d1 - 2.0 * ef * s->v;
    }
    s->v *= f2;
    if (e != 0.0 && pr->sm > 0.0) {
        /* sigma2 eta^2 = cm 2^ce from the mantissas: never over- or
         * underflows */
        int e1, e2;
        const double m1 = frexp(e, &e1);
        const double cm = frexp(pr->sm * (m1 * m1), &e2);
        const double ce = (double)e2 + 2.0 * (double)e1 + (double)pr->se;
        if (s->v == 0.0 && s->d1 == 0.0 && s->d2 == 0.0) {
            s->v = cm;
            s->E = ce;
        }
        else if (ce > s->E) {
            nv_state_scale(s, ce - s->E);
            s->v += cm;
        }
        else {
            s->v += ldexp(cm, (int)fmax(ce - s->E, -2000.0));
        }
    }
    nv_state_norm(s);
}

/* The kernels: restrict (the lane arrays never overlap) lets the
 * compiler vectorize the loop over lanes. */
THEORY_CLONES
static void
nv_kernel(const double *restrict eta, const double *restrict k, size_t t0,
          size_t t1, const double *restrict xh, const double *restrict xl,
          double *restrict v, const double *restrict S)
{
    for (size_t t = t0; t < t1; t++) {
        const double e = eta[t], kt = k[t];
        for (size_t j = 0; j < NV_GROUP; j++) {
            const double f = fma(-e, xl[j], fma(-e, xh[j], 1.0));
            v[j] = fma(f * f, v[j], kt * S[j]);
        }
    }
}

THEORY_CLONES
static void
nv_kernel_d(const double *restrict eta, const double *restrict k, size_t t0,
            size_t t1, const double *restrict xh, const double *restrict xl,
            double *restrict v, double *restrict d1, double *restrict d2,
            const double *restrict S)
{
    for (size_t t = t0; t < t1; t++) {
        const double e = eta[t], kt = k[t];
        const double e2 = 2.0 * (e * e);
        for (size_t j = 0; j < NV_DGROUP; j++) {
            const double f = fma(-e, xl[j], fma(-e, xh[j], 1.0));
            const double f2 = f * f;
            const double ef = e * f;
            d2[j] = fma(f2, d2[j], fma(-4.0 * ef, d1[j], e2 * v[j]));
            d1[j] = fma(f2, d1[j], -2.0 * ef * v[j]);
            v[j] = fma(f2, v[j], kt * S[j]);
        }
    }
}

/*
 * A lane's S = 2^-E after its exponent E changed; 0 (false) when it must
 * take the exact path.  S is exact down to the smallest subnormal (E <=
 * 1074), and so is k_t S up to an absolute 2^-1075, nothing next to the
 * v >= 2^(grow - 1000) the blocks keep; beyond that S = 0 drops k_t 2^-E
 * < 2^-1100, as little, once E exceeds k_top + 1100.  E < -960 would put
 * k_t S out of range.
 */
static int
nv_lane_scale(const nv_problem *pr, double E, double *S)
{
    if (E >= -960.0 && E <= 1074.0) {
        *S = pow2(-(int)E);
        return 1;
    }
    if (E > pr->k_top + 1100.0) {
        *S = 0.0;
        return 1;
    }
    return 0;
}

/*
 * log V at y[0..cnt) (cnt <= the group size) into out, and with derivs
 * (log V)' and (log V)'' in y into o1, o2.  See the comment above: lanes
 * carry v 2^E and S = 2^-E (nv_lane_scale); a lane that cannot carry S
 * stays on the exact path.
 */
static void
nv_group(const nv_problem *pr, const double *y_in, size_t cnt, int derivs,
         double *out, double *o1, double *o2, uba_ticker *ticker)
{
    double xh[NV_GROUP], xl[NV_GROUP], v[NV_GROUP], d1[NV_GROUP];
    double d2[NV_GROUP], S[NV_GROUP], E[NV_GROUP], v0[NV_GROUP];
    double d10[NV_GROUP], d20[NV_GROUP];
    unsigned char exact[NV_GROUP];
    const size_t G = derivs ? NV_DGROUP : NV_GROUP;
    for (size_t j = 0; j < NV_GROUP; j++) {
        xh[j] = yspace_point(&pr->ys, y_in[j < cnt ? j : 0], &xl[j]);
        v[j] = 1.0;
        d1[j] = d2[j] = 0.0;
        S[j] = 1.0;
        E[j] = 0.0;
        exact[j] = (unsigned char)!pr->tame;
    }
    int any_exact = !pr->tame;
    size_t t0 = 0;
    for (size_t b = 0; b < pr->nblocks; b++) {
        const size_t t1 = (size_t)pr->cut[b];
        memcpy(v0, v, G * sizeof v[0]);
        if (derivs) {
            memcpy(d10, d1, G * sizeof d1[0]);
            memcpy(d20, d2, G * sizeof d2[0]);
            nv_kernel_d(pr->eta, pr->k, t0, t1, xh, xl, v, d1, d2, S);
        }
        else {
            nv_kernel(pr->eta, pr->k, t0, t1, xh, xl, v, S);
        }
        int all_fine = !any_exact;
        for (size_t j = 0; j < G; j++) {
            all_fine &= (v[j] >= 0x1p-100) & (v[j] <= 0x1p100);
        }
        if (derivs) {
            for (size_t j = 0; j < G; j++) {
                all_fine &= (fabs(d1[j]) <= 0x1p1000)
                    & (fabs(d2[j]) <= 0x1p1000);
            }
        }
        /* below 2^(grow - 1000), bits lost to a subnormal on the way
         * (at most 2^-1068 grown by 2^grow) could matter */
        const double low = pow2((int)pr->grow[b] - 1000);
        for (size_t j = 0; !all_fine && j < cnt; j++) {
            const int finite = !derivs || (fabs(d1[j]) <= 0x1p1000
                                           && fabs(d2[j]) <= 0x1p1000);
            if (!exact[j] && finite && v[j] >= 0x1p-100 && v[j] <= 0x1p100) {
                continue;
            }
            if (exact[j] || !finite || !(v[j] >= low && v[j] <= 0x1p1000)) {
                /* redo the block exactly, from its start */
                nv_state s = {v0[j], derivs ? d10[j] : 0.0,
                              derivs ? d20[j] : 0.0, E[j]};
                for (size_t t = t0; t < t1; t++) {
                    nv_exact_step(pr, t, xh[j], xl[j], &s, derivs);
                }
                v[j] = s.v;
                d1[j] = s.d1;
                d2[j] = s.d2;
                E[j] = s.E;
            }
            if (v[j] > 0.0) {
                /* rescale v (and its derivatives) into [1/2, 1); the lane
                 * goes (back) to the kernel if S can follow */
                const int k = exponent_of(v[j]);
                const double p = pow2(-k);
                v[j] *= p;
                d1[j] *= p;
                d2[j] *= p;
                E[j] += (double)k;
                exact[j] = (unsigned char)!(pr->tame
                                            && nv_lane_scale(pr, E[j], &S[j]));
            }
            else {
                exact[j] = 1;
            }
        }
        any_exact = 0;
        for (size_t j = 0; j < cnt; j++) {
            any_exact |= exact[j];
        }
        if (ticker_add(ticker, (double)(G * (t1 - t0)) * (derivs ? 3 : 1))) {
            return;
        }
        t0 = t1;
    }
    const double dy = pr->ys.scale;
    for (size_t j = 0; j < cnt; j++) {
        out[j] = v[j] > 0.0 ? log(v[j]) + E[j] * LN2 : -HUGE_VAL;
        if (derivs) {
            /* (log V)' and (log V)'' in y: d/dy = 2^j d/dlam */
            const double h1 = v[j] > 0.0 ? d1[j] / v[j] : 0.0;
            o1[j] = h1 * dy;
            o2[j] = v[j] > 0.0 ? (d2[j] / v[j] - h1 * h1) * (dy * dy)
                               : -HUGE_VAL;
        }
    }
}

/* nv_group over any number of points. */
void
nv_eval(const nv_problem *pr, const double *y, size_t cnt, int derivs,
        double *out, double *o1, double *o2, uba_ticker *ticker)
{
    const size_t G = derivs ? NV_DGROUP : NV_GROUP;
    for (size_t i = 0; i < cnt && !ticker->stopped; i += G) {
        const size_t m = cnt - i < G ? cnt - i : G;
        nv_group(pr, y + i, m, derivs, out + i, derivs ? o1 + i : NULL,
                 derivs ? o2 + i : NULL, ticker);
    }
}

/* ---- the search ------------------------------------------------------- */

/* The points evaluated so far, ascending in y, and a batch to add. */
typedef struct nv_points {
    const nv_layout *l;
    size_t np, nb;
} nv_points;

static size_t
lower_index(const double *a, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

static void
nv_propose(nv_points *P, double y, double yb)
{
    const nv_layout *l = P->l;
    if (!(y >= 0.0 && y <= yb) || P->nb >= NV_POINTS
        || P->np + P->nb >= NV_POINTS) {
        return;
    }
    const size_t i = lower_index(l->py, P->np, y);
    if (i < P->np && l->py[i] == y) {
        return;
    }
    l->by[P->nb++] = y;
}

/* Evaluates the batch and merges it into the points; returns the number
 * of new points. */
static size_t
nv_flush(const nv_problem *pr, nv_points *P, uba_ticker *ticker)
{
    const nv_layout *l = P->l;
    size_t nb = P->nb;
    P->nb = 0;
    if (nb == 0 || sort_ascending(l->by, nb, ticker)) {
        return 0;
    }
    size_t u = 0;
    for (size_t i = 0; i < nb; i++) {
        if (u == 0 || l->by[i] > l->by[u - 1]) {
            l->by[u++] = l->by[i];
        }
    }
    nb = u;
    nv_eval(pr, l->by, nb, 0, l->bv, NULL, NULL, ticker);
    if (ticker->stopped) {
        return 0;
    }
    size_t i = 0, j = 0, o = 0;
    while (i < P->np || j < nb) {
        if (j == nb || (i < P->np && l->py[i] <= l->by[j])) {
            l->ty[o] = l->py[i];
            l->tv[o++] = l->pv[i++];
        }
        else {
            l->ty[o] = l->by[j];
            l->tv[o++] = l->bv[j++];
        }
    }
    memcpy(l->py, l->ty, o * sizeof *l->py);
    memcpy(l->pv, l->tv, o * sizeof *l->pv);
    P->np = o;
    return nb;
}

/* The lobes: between consecutive roots, and from 0 and to y_b. */
typedef struct nv_lobes {
    const double *r;  /* roots, ascending, in (0, y_b) */
    size_t m;         /* m + 1 lobes                    */
    double yb;
} nv_lobes;

static double
lobe_lo(const nv_lobes *L, size_t i)
{
    return i == 0 ? 0.0 : L->r[i - 1];
}

static double
lobe_hi(const nv_lobes *L, size_t i)
{
    return i == L->m ? L->yb : L->r[i];
}

static double
lobe_mid(const nv_lobes *L, size_t i)
{
    const double lo = lobe_lo(L, i);
    return lo + 0.5 * (lobe_hi(L, i) - lo);
}

/* The lobe that holds y (a root belongs to the lobe on its right). */
static size_t
lobe_of(const nv_lobes *L, double y)
{
    size_t i = lower_index(L->r, L->m, y);
    if (i < L->m && L->r[i] == y) {
        i++;
    }
    return i;
}

/* Indices of the local maxima of the points within `margin` of the best,
 * the highest first; returns how many (at most k). */
static size_t
nv_candidates(const nv_points *P, double margin, size_t *idx, size_t k)
{
    const double *v = P->l->pv;
    const size_t np = P->np;
    double best = -HUGE_VAL;
    for (size_t q = 0; q < np; q++) {
        best = fmax(best, v[q]);
    }
    size_t count = 0;
    for (size_t q = 0; q < np; q++) {
        if (!(v[q] >= best - margin) || (q > 0 && v[q] < v[q - 1])
            || (q + 1 < np && v[q] < v[q + 1])) {
            continue;
        }
        /* insert into the sorted list of the k highest */
        size_t at = count < k ? count : k;
        while (at > 0 && v[idx[at - 1]] < v[q]) {
            if (at < k) {
                idx[at] = idx[at - 1];
            }
            at--;
        }
        if (at < k) {
            idx[at] = q;
            count += count < k;
        }
    }
    return count;
}

/* Samples the lobes between the neighbours of point q; returns how many
 * were proposed. */
static size_t
nv_zoom(nv_points *P, const nv_lobes *L, size_t q)
{
    const double *py = P->l->py;
    const double ylo = q > 0 ? py[q - 1] : 0.0;
    const double yhi = q + 1 < P->np ? py[q + 1] : L->yb;
    const size_t ilo = lobe_of(L, ylo), ihi = lobe_of(L, yhi);
    const size_t before = P->nb;
    const size_t span = ihi - ilo + 1;
    const size_t stride = span > NV_ZOOM ? (span + NV_ZOOM - 1) / NV_ZOOM : 1;
    for (size_t i = ilo + (stride - 1) / 2; i <= ihi; i += stride) {
        const double y = lobe_mid(L, i);
        if (y > ylo && y < yhi) {
            nv_propose(P, y, L->yb);
        }
    }
    return P->nb - before;
}

/* Newton on log V within [lo, hi] from each start; the best value and
 * its y come back in best, best_y. */
static void
nv_refine(const nv_problem *pr, const double *start, const double *lo_in,
          const double *hi_in, size_t cnt, double *best, double *best_y,
          uba_ticker *ticker)
{
    double x[NV_REFINE], lo[NV_REFINE], hi[NV_REFINE];
    double h[NV_REFINE], h1[NV_REFINE], h2[NV_REFINE];
    double ax[NV_REFINE], ah[NV_REFINE], a1[NV_REFINE], a2[NV_REFINE];
    size_t active[NV_REFINE], na = cnt;
    for (size_t i = 0; i < cnt; i++) {
        x[i] = start[i];
        lo[i] = lo_in[i];
        hi[i] = hi_in[i];
        active[i] = i;
    }
    for (int it = 0; it < NV_NEWTON_IT && na > 0; it++) {
        for (size_t a = 0; a < na; a++) {
            ax[a] = x[active[a]];
        }
        nv_eval(pr, ax, na, 1, ah, a1, a2, ticker);
        if (ticker->stopped) {
            return;
        }
        size_t keep = 0;
        for (size_t a = 0; a < na; a++) {
            const size_t i = active[a];
            h[i] = ah[a];
            h1[i] = a1[a];
            h2[i] = a2[a];
            if (h[i] > *best) {
                *best = h[i];
                *best_y = x[i];
            }
            if (h1[i] > 0.0) {
                lo[i] = x[i];
            }
            else if (h1[i] < 0.0) {
                hi[i] = x[i];
            }
            else {
                continue;  /* a stationary point */
            }
            double next = h2[i] < 0.0 ? x[i] - h1[i] / h2[i] : (double)NAN;
            if (!(next > lo[i] && next < hi[i])) {
                next = lo[i] + 0.5 * (hi[i] - lo[i]);
            }
            if (!(hi[i] - lo[i] > 4.0 * DBL_EPSILON * hi[i])
                || fabs(next - x[i]) <= 4.0 * DBL_EPSILON * x[i]) {
                continue;  /* converged to the last bits */
            }
            x[i] = next;
            active[keep++] = i;
        }
        na = keep;
    }
}

/*
 * The maximum of log V over [0, y_b] for a problem with its roots, by the
 * search described above; hints are extra points (in y) to screen.
 * Returns nonzero when interrupted.
 */
static int
nv_search(const nv_problem *pr, const nv_layout *l, size_t m,
          const double *hints, size_t nh, double *best, double *best_y,
          uba_ticker *ticker)
{
    const double yb = pr->ys.yb;
    const nv_lobes L = {l->roots, m, yb};
    nv_points P = {l, 0, 0};
    nv_propose(&P, 0.0, yb);
    nv_propose(&P, yb, yb);
    for (size_t i = 0; i < nh && i < NV_HINTS; i++) {
        nv_propose(&P, hints[i], yb);
    }
    const size_t lobes = m + 1;
    if ((double)lobes * (double)pr->n <= NV_FULL_SCREEN
        || lobes <= NV_SCREEN) {
        for (size_t i = 0; i < lobes; i++) {
            nv_propose(&P, lobe_mid(&L, i), yb);
        }
    }
    else {
        const size_t stride = (lobes + NV_SCREEN - 1) / NV_SCREEN;
        nv_propose(&P, lobe_mid(&L, 0), yb);
        nv_propose(&P, lobe_mid(&L, m), yb);
        for (size_t i = stride / 2; i < lobes; i += stride) {
            nv_propose(&P, lobe_mid(&L, i), yb);
        }
    }
    for (size_t i = 0; i < NV_UNIFORM; i++) {
        nv_propose(&P, yb * (((double)i + 0.5) / NV_UNIFORM), yb);
    }
    (void)nv_flush(pr, &P, ticker);
    size_t idx[NV_KEEP > NV_REFINE ? NV_KEEP : NV_REFINE];
    while (!ticker->stopped) {
        const size_t nc = nv_candidates(&P, LN2, idx, NV_KEEP);
        size_t added = 0;
        for (size_t c = 0; c < nc; c++) {
            added += nv_zoom(&P, &L, idx[c]);
        }
        if (added == 0 || nv_flush(pr, &P, ticker) == 0) {
            break;
        }
    }
    if (ticker->stopped) {
        return 1;
    }
    /* the best point, then Newton from the highest local maxima */
    *best = -HUGE_VAL;
    *best_y = 0.0;
    for (size_t q = 0; q < P.np; q++) {
        if (l->pv[q] > *best) {
            *best = l->pv[q];
            *best_y = l->py[q];
        }
    }
    const size_t nc = nv_candidates(&P, LN2, idx, NV_REFINE);
    double start[NV_REFINE], lo[NV_REFINE], hi[NV_REFINE];
    for (size_t c = 0; c < nc; c++) {
        const size_t q = idx[c];
        const double y = l->py[q];
        const size_t i = lobe_of(&L, y);
        start[c] = y;
        lo[c] = fmax(q > 0 ? l->py[q - 1] : 0.0, lobe_lo(&L, i));
        hi[c] = fmin(q + 1 < P.np ? l->py[q + 1] : yb, lobe_hi(&L, i));
    }
    nv_refine(pr, start, lo, hi, nc, best, best_y, ticker);
    return ticker->stopped;
}

/* Progress units of one noisy search over n steps (an estimate). */
double
nv_expected_units(size_t n)
{
    return 1200.0 * (double)n;
}

/* The noisy worst case for validated input with sigma2 > 0; hints (in
 * lam) are screened too.  Returns nonzero when interrupted. */
int
nv_run(const double *lrs, size_t n, double a, double b, double sigma2,
       double *work, const double *hints, size_t nh, double *log_out,
       double *lam_out, uba_ticker *ticker)
{
    const nv_layout l = nv_layout_of(work, n);
    nv_problem pr;
    if (nv_setup(&pr, &l, lrs, n, a, b, sigma2, ticker)) {
        return 1;
    }
    const size_t m = nv_roots(&pr, l.roots, ticker);
    if (m == SIZE_MAX) {
        return 1;
    }
    double hy[NV_HINTS];
    size_t nhy = 0;
    for (size_t i = 0; i < nh && nhy < NV_HINTS; i++) {
        hy[nhy++] = (hints[i] - a) / pr.ys.scale;
    }
    double best, best_y;
    if (nv_search(&pr, &l, m, hy, nhy, &best, &best_y, ticker)) {
        return 1;
    }
    *log_out = best;
    double lo;
    *lam_out = fmin(b, fmax(a, yspace_point(&pr.ys, best_y, &lo)));
    return 0;
}

uba_status
uba_worst_case_noisy_error(const double *lrs, size_t n, double lam_min,
                           double lam_max, double sigma2, double *work,
                           size_t work_len, double *log_error,
                           double *lam_at, size_t *bad_index,
                           const uba_progress *progress)
{
    const uba_status s = check_worst_case(lrs, n, lam_min, lam_max, sigma2,
                                          work, work_len, log_error,
                                          bad_index);
    if (s != UBA_OK) {
        return s;
    }
    double lam, lg;
    int stopped;
    if (sigma2 == 0.0) {
        uba_ticker ticker = ticker_start(progress, wc_expected_units(n));
        stopped = wc_run(lrs, n, lam_min, lam_max, work, &lg, &lam, &ticker);
        lg *= 2.0;
    }
    else {
        uba_ticker ticker = ticker_start(progress, nv_expected_units(n));
        stopped = nv_run(lrs, n, lam_min, lam_max, sigma2, work, NULL, 0,
                         &lg, &lam, &ticker);
    }
    if (stopped) {
        return UBA_E_INTERRUPTED;
    }
    *log_error = lg;
    if (lam_at != NULL) {
        *lam_at = lam;
    }
    return UBA_OK;
}

/* ========================================================================
 * The expected final loss of a step sequence over a spectrum
 * (uba_expected_loss)
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
 * with FMA where the CPU has them; every clone rounds alike,
 * theory_internal.h).
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

/* ---- the spectrum -------------------------------------------------------- */

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

/* ---- the steps, cut into blocks ------------------------------------------ */

int
el_blocks(el_steps *st, const double *eta, size_t n, double lam_lo,
          double lam_hi, double *cut, double *grow, uba_ticker *ticker)
{
    size_t nb = 0, start = 0;
    int growth = 0;
    double top = 0.0;
    for (size_t t = 0; t < n; t++) {
        if (t % SCAN_CHUNK == 0
            && ticker_add(ticker, (double)(n - t < SCAN_CHUNK ? n - t
                                                             : SCAN_CHUNK))) {
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

/* ---- a group of lanes --------------------------------------------------- */

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

int
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

double
el_lanes_padded(size_t n)
{
    return (double)EL_GROUP * ceil((double)n / EL_GROUP);
}

double
el_initial_loss(const uba_spectrum *sp)
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

/* The checks of uba_expected_loss before its workspace, in uba.h's
 * order; writes the smallest and largest eigenvalue. */
static uba_status
el_check(size_t n, const uba_spectrum *sp, double *lam_lo, double *lam_hi,
         size_t *bad_index)
{
    if (n == 0) {
        return UBA_E_LRS_EMPTY;
    }
    return check_spectrum(sp, lam_lo, lam_hi, bad_index);
}

uba_status
uba_expected_loss_check(size_t n, const uba_spectrum *sp, size_t *bad_index)
{
    double lam_lo, lam_hi;
    return el_check(n, sp, &lam_lo, &lam_hi, bad_index);
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
    double lam_lo = 0.0, lam_hi = 0.0;
    const uba_status s = el_check(n, sp, &lam_lo, &lam_hi, bad_index);
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
    for (size_t i0 = 0; i0 < n; i0 += SCAN_CHUNK) {
        const size_t i1 = n - i0 < SCAN_CHUNK ? n : i0 + SCAN_CHUNK;
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
