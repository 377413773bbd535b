/* test_expected_loss.c -- C-only tests of the expected final loss of SGD
 * on a noisy quadratic over a spectrum (noisy_quadratic.c) and of
 * choose_phi, which minimises it (choose_phi.c).
 * References: the recursion of uba.h in long double, closed forms, and
 * brute-force scans over phi through uba_expected_loss itself. */
#include "../uba.h"
#include "check.h"
#include "draws.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A spectrum over arrays of n values each (weights NULL: 1 each). */
static uba_spectrum
spectrum(const double *lam, const double *w, const double *s,
         const double *v, size_t n)
{
    uba_spectrum sp = {lam, n, w, n, s, n, v, n};
    return sp;
}

/* The loss by the recursion of uba.h in long double, direction by
 * direction. */
static long double
ref_loss(const double *lrs, size_t n, const uba_spectrum *sp)
{
    long double total = 0;
    for (size_t k = 0; k < sp->n; k++) {
        const long double lam = sp->eigenvalues[k];
        const long double v = sp->noise[sp->n_noise == 1 ? 0 : k];
        long double m = sp->start[sp->n_start == 1 ? 0 : k];
        for (size_t t = 0; t < n; t++) {
            const long double e = lrs[t], f = 1 - e * lam;
            m = f * f * m + e * e * v;
        }
        const long double w = sp->weights == NULL
            ? 1 : sp->weights[sp->n_weights == 1 ? 0 : k];
        total += 0.5L * w * lam * m;
    }
    return total;
}

/* uba_expected_loss with a workspace of its size; NAN on failure. */
static double
loss_of(const double *lrs, size_t n, const uba_spectrum *sp)
{
    const size_t len = uba_expected_loss_work_size(n);
    double *work = doubles(len), loss = NAN;
    if (uba_expected_loss(lrs, n, sp, work, len, &loss, NULL, NULL, NULL)
        != UBA_OK) {
        loss = (double)NAN;
    }
    free(work);
    return loss;
}

/* The UBA values at t = 0..T-1, as uba_eta_fill gives them. */
static void
uba_steps(double *out, size_t T, double phi, double peak, double floor_)
{
    uba_params p;
    CHECK(uba_params_init(&p, (double)T, phi, peak, floor_, 0.0, 0.0)
          == UBA_OK);
    for (size_t t = 0; t < T; t++) {
        out[t] = (double)t;
    }
    CHECK(uba_eta_fill(&p, out, T, out, NULL, NULL) == UBA_OK);
}

/* The statuses a call gives after its _check has passed: from its
 * pointers, workspace or an entry of lrs (or none). */
static int
after_the_check(uba_status s)
{
    return s == UBA_OK || s == UBA_E_NULL || s == UBA_E_WORKSPACE
           || s == UBA_E_LRS || s == UBA_E_LRS_RANGE;
}

/* A call's status `full`, checked against its _check's status `pre`: the
 * same status (and the same bad index, for an entry), or UBA_OK where the
 * call's status comes after the check.  The indices are read here, once
 * both calls have written them. */
static uba_status
agrees_with_check(uba_status full, uba_status pre, const size_t *bad_full,
                  const size_t *bad_pre)
{
    CHECK(pre == full || (pre == UBA_OK && after_the_check(full)));
    if (pre == full && pre != UBA_OK && uba_status_blame(pre).entry) {
        CHECK(*bad_pre == *bad_full);
    }
    return full;
}

/* ---- the expected loss ---------------------------------------------------- */

static void
loss_matches_the_recursion_in_long_double(void)
{
    uint64_t state = 7;
    const size_t sizes[] = {1, 3, 31, 32, 33, 100};
    for (size_t c = 0; c < COUNT(sizes); c++) {
        const size_t d = sizes[c], n = 300 + 97 * c;
        double *lam = doubles(d), *w = doubles(d), *s = doubles(d);
        double *v = doubles(d), *lrs = doubles(n);
        for (size_t k = 0; k < d; k++) {
            lam[k] = pow(10.0, -4.0 * uniform(&state));
            w[k] = uniform(&state) * 3.0;
            s[k] = uniform(&state);
            v[k] = c % 2 ? 1e-3 * uniform(&state) : 0.0;
        }
        for (size_t t = 0; t < n; t++) {
            lrs[t] = 1.9 * uniform(&state);  /* stable: below 2/lam_max */
        }
        const uba_spectrum sp = spectrum(lam, w, s, v, d);
        double stability = 0.0;
        const size_t len = uba_expected_loss_work_size(n);
        double *work = doubles(len), loss = -1.0;
        CHECK(uba_expected_loss(lrs, n, &sp, work, len, &loss, &stability,
                                NULL, NULL) == UBA_OK);
        CHECK_CLOSE(loss, ref_loss(lrs, n, &sp), 1e-13);
        double top = 0.0, lam_max = 0.0;
        for (size_t t = 0; t < n; t++) {
            top = fmax(top, fabs(lrs[t]));
        }
        for (size_t k = 0; k < d; k++) {
            lam_max = fmax(lam_max, lam[k]);
        }
        CHECK_EQ(stability, top * lam_max);
        free(work);
        free(lam);
        free(w);
        free(s);
        free(v);
        free(lrs);
    }
}

static void
loss_of_one_step_and_of_constant_steps_is_the_closed_form(void)
{
    const double lam = 1.0, s = 1.0, v = 0.0, eta = 0.5;
    const uba_spectrum sp = {&lam, 1, NULL, 0, &s, 1, &v, 1};
    CHECK_EQ(loss_of(&eta, 1, &sp), 0.125);  /* (1 - 1/2)^2 / 2 */
    /* constant steps with noise: m_n = f^{2n} s + v eta^2 (1 - f^{2n}) /
     * (1 - f^2) */
    const double lam2 = 0.3, v2 = 0.01;
    const uba_spectrum sp2 = {&lam2, 1, NULL, 0, &s, 1, &v2, 1};
    double steps[1000];
    for (size_t t = 0; t < COUNT(steps); t++) {
        steps[t] = 0.2;
    }
    const long double f2 = powl(1 - 0.2L * 0.3L, 2), fn = powl(f2, 1000);
    const long double m = fn + 0.01L * 0.04L * (1 - fn) / (1 - f2);
    CHECK_CLOSE(loss_of(steps, COUNT(steps), &sp2), 0.5L * 0.3L * m, 1e-14);
}

static void
scalars_broadcast_as_arrays_of_copies(void)
{
    enum { D = 45, N = 200 };
    double lam[D], w[D], s[D], v[D], lrs[N];
    for (size_t k = 0; k < D; k++) {
        lam[k] = 1.0 / (double)(k + 1);
        w[k] = 2.5;
        s[k] = 0.75;
        v[k] = 1e-3;
    }
    for (size_t t = 0; t < N; t++) {
        lrs[t] = 0.9 * (1.0 - (double)t / N);
    }
    const uba_spectrum full = spectrum(lam, w, s, v, D);
    const double w1 = 2.5, s1 = 0.75, v1 = 1e-3;
    const uba_spectrum one = {lam, D, &w1, 1, &s1, 1, &v1, 1};
    CHECK_EQ(loss_of(lrs, N, &one), loss_of(lrs, N, &full));
    const double w_one = 1.0;
    const uba_spectrum unit = {lam, D, &w_one, 1, s, D, v, D};
    const uba_spectrum none = {lam, D, NULL, 0, s, D, v, D};
    CHECK_EQ(loss_of(lrs, N, &unit), loss_of(lrs, N, &none));
}

/* Scaling the steps by 2^k and the curvatures by 2^-k (noise by 2^-2k)
 * leaves every factor and every noise term as they were: the loss scales
 * by 2^-k exactly, whatever k. */
static void
loss_is_exactly_scale_equivariant(void)
{
    enum { D = 40, N = 500 };
    double lam[D], s[D], v[D], lrs[N], lam2[D], v2[D], lrs2[N];
    uint64_t state = 11;
    for (size_t k = 0; k < D; k++) {
        lam[k] = pow(2.0, -12.0 * uniform(&state));
        s[k] = 1.0;
        v[k] = 1e-2 * uniform(&state);
    }
    for (size_t t = 0; t < N; t++) {
        lrs[t] = 1.5 * (1.0 - (double)t / N);
    }
    const uba_spectrum sp = spectrum(lam, NULL, s, v, D);
    const double base = loss_of(lrs, N, &sp);
    const int shifts[] = {-450, -300, -1, 1, 300, 450};
    for (size_t c = 0; c < COUNT(shifts); c++) {
        const int k = shifts[c];
        for (size_t j = 0; j < D; j++) {
            lam2[j] = ldexp(lam[j], -k);
            v2[j] = ldexp(v[j], -2 * k);
        }
        for (size_t t = 0; t < N; t++) {
            lrs2[t] = ldexp(lrs[t], k);
        }
        const uba_spectrum sp2 = spectrum(lam2, NULL, s, v2, D);
        CHECK_EQ(loss_of(lrs2, N, &sp2), ldexp(base, -k));
    }
}

static void
divergence_is_inf_and_a_wiped_divergence_is_exact(void)
{
    /* 1000 steps of 3 at lam = 1: the loss is 4^1000 / 2, past double */
    double steps[700];
    for (size_t t = 0; t < 700; t++) {
        steps[t] = 3.0;
    }
    const double lam = 1.0, s = 1.0, v0 = 0.0, v = 0.5;
    const uba_spectrum quiet = {&lam, 1, NULL, 0, &s, 1, &v0, 1};
    CHECK(loss_of(steps, 700, &quiet) == HUGE_VAL);
    /* 600 divergent steps, then eta lam = 1 wipes the past, then 10 steps
     * of 0.1: what is left is the noise added since, finite */
    for (size_t t = 600; t < 700; t++) {
        steps[t] = t == 600 ? 1.0 : 0.1;
    }
    const uba_spectrum noisy = {&lam, 1, NULL, 0, &s, 1, &v, 1};
    long double m = 0.5L;  /* eta^2 v at the wiping step */
    for (int t = 0; t < 99; t++) {
        m = 0.81L * m + 0.01L * 0.5L;
    }
    CHECK_CLOSE(loss_of(steps, 700, &noisy), 0.5L * m, 1e-14);
}

static void
tiny_and_huge_values_keep_their_precision(void)
{
    enum { N = 3100 };
    double *steps = doubles(N);
    /* contract by 1e-20 a step for 100 steps (1e-2000, below double),
     * then grow by 4 a step for 3000: 2^6000 e-2000 = about 1.5e-194 */
    for (size_t t = 0; t < N; t++) {
        steps[t] = t < 100 ? 1.0 - 1e-10 : 3.0;
    }
    const double lam = 1.0, s = 1.0, v = 0.0;
    const uba_spectrum sp = {&lam, 1, NULL, 0, &s, 1, &v, 1};
    const long double e0 = 1.0L - (long double)(1.0 - 1e-10);  /* exact */
    const long double want = 0.5L * powl(e0, 200) * powl(4.0L, 3000);
    CHECK_CLOSE(loss_of(steps, N, &sp), want, 1e-12);
    /* a start below the smallest normal double */
    const double tiny = 1e-310, lam2[2] = {1.0, 2.0}, one[2] = {1.0, 1.0};
    const uba_spectrum sub = {lam2, 2, one, 2, &tiny, 1, &v, 1};
    double ten[10];
    for (size_t t = 0; t < 10; t++) {
        ten[t] = 0.1;
    }
    const long double sub_want = 0.5L * 1e-310L
        * (powl(0.81L, 10) + 2 * powl(0.64L, 10));
    CHECK_CLOSE(loss_of(ten, 10, &sub), sub_want, 1e-12);
    /* noise near the top of double range */
    const double huge_v = 1e300, zero = 0.0;
    const uba_spectrum loud = {&lam, 1, NULL, 0, &zero, 1, &huge_v, 1};
    double small[10];
    for (size_t t = 0; t < 10; t++) {
        small[t] = 1e-3;
    }
    long double m = 0;
    for (int t = 0; t < 10; t++) {
        m = (1 - 1e-3L) * (1 - 1e-3L) * m + 1e-6L * 1e300L;
    }
    CHECK_CLOSE(loss_of(small, 10, &loud), 0.5L * m, 1e-14);
    /* an exact zero: no start, no noise */
    const uba_spectrum none = {&lam, 1, NULL, 0, &zero, 1, &zero, 1};
    CHECK_EQ(loss_of(small, 10, &none), 0.0);
    free(steps);
}

/* Every status of uba.h's list, in its order, with its *bad_index; the
 * outputs untouched on failure. */
static void
loss_refuses_bad_input_in_order(void)
{
    double lam[3] = {1.0, 0.5, 0.25}, w[3] = {1, 1, 1}, s[3] = {1, 1, 1};
    double v[3] = {0, 0, 0}, lrs[4] = {0.1, 0.2, 0.3, 0.4}, work[8];
    double loss = 7.0, stab = 8.0;
    size_t bad = 99;
    uba_spectrum sp = spectrum(lam, w, s, v, 3);
    size_t bad_pre = 98;
#define EL(lr, n_, spp, wk, wl)                                            \
    agrees_with_check(                                                     \
        uba_expected_loss(lr, n_, spp, wk, wl, &loss, &stab, &bad, NULL),  \
        uba_expected_loss_check(n_, spp, &bad_pre), &bad, &bad_pre)
    CHECK(EL(lrs, 0, &sp, work, 8) == UBA_E_LRS_EMPTY);
    CHECK(EL(lrs, 4, NULL, work, 8) == UBA_E_NULL);
    sp.n = 0;
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_E_EIGENVALUES_EMPTY);
    sp.n = 3;
    sp.n_weights = 2;
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_E_WEIGHTS_LENGTH);
    sp.n_weights = 3;
    sp.n_start = 0;
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_E_START_LENGTH);
    sp.n_start = 3;
    sp.n_noise = 4;
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_E_NOISE_LENGTH);
    sp.n_noise = 3;
    sp.eigenvalues = NULL;
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_E_NULL);
    sp.eigenvalues = lam;
    const struct {
        double *a;
        uba_status status;
    } entries[] = {{lam, UBA_E_EIGENVALUES}, {w, UBA_E_WEIGHTS},
                   {s, UBA_E_START}, {v, UBA_E_NOISE}};
    const double bad_values[] = {-1.0, (double)NAN, (double)INFINITY,
                                 -0.5e-320};
    for (size_t e = 0; e < COUNT(entries); e++) {
        for (size_t b = 0; b < COUNT(bad_values); b++) {
            const double keep = entries[e].a[2];
            entries[e].a[2] = bad_values[b];
            bad = 99;
            CHECK(EL(lrs, 4, &sp, work, 8) == entries[e].status);
            CHECK(bad == 2);
            entries[e].a[2] = keep;
        }
    }
    lam[1] = -0.0;  /* -0 is 0: allowed */
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_OK);
    lam[1] = 0.5;
    loss = 7.0;
    stab = 8.0;
    CHECK(EL(NULL, 4, &sp, work, 8) == UBA_E_NULL);
    CHECK(EL(lrs, 4, &sp, NULL, 8) == UBA_E_NULL);
    CHECK(uba_expected_loss(lrs, 4, &sp, work, 8, NULL, NULL, NULL, NULL)
          == UBA_E_NULL);
    CHECK(EL(lrs, 4, &sp, work, 7) == UBA_E_WORKSPACE);
    lrs[2] = (double)NAN;
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_E_LRS && bad == 2);
    lrs[2] = 2e100;  /* times lam_max 1: past UBA_MAX_ETA_LAM */
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_E_LRS_RANGE && bad == 2);
    CHECK(loss == 7.0 && stab == 8.0);
    lrs[2] = -1e100;  /* negative steps are steps too: f^2 = 1e200 lam^2 */
    CHECK(EL(lrs, 4, &sp, work, 8) == UBA_OK && stab == 1e100);
    CHECK_CLOSE(loss, ref_loss(lrs, 4, &sp), 1e-14);
#undef EL
    CHECK(uba_expected_loss_work_size(SIZE_MAX) == SIZE_MAX);
    CHECK(uba_expected_loss_work_size(10) == 20);
}

/* ---- choose_phi ------------------------------------------------------------ */

typedef struct stop_after {
    int polls, at;
} stop_after;

static int
stop_poll(void *ctx, double fraction)
{
    stop_after *h = (stop_after *)ctx;
    CHECK(fraction >= 0.0 && fraction < 1.0);
    return ++h->polls >= h->at;
}

/* A power-law spectrum lam_k = k^-alpha, d directions. */
static void
power_law(double *lam, size_t d, double alpha)
{
    for (size_t k = 0; k < d; k++) {
        lam[k] = pow((double)(k + 1), -alpha);
    }
}

static int
choose(size_t T, const uba_spectrum *sp, double lo, double hi,
       double floor_, double phi_lo, double phi_hi, uba_phi_choice *out)
{
    const size_t len = uba_choose_phi_work_size(T);
    double *work = doubles(len);
    const uba_status s = uba_choose_phi(T, sp, lo, hi, floor_, phi_lo,
                                        phi_hi, work, len, out, NULL, NULL);
    free(work);
    return s == UBA_OK;
}

static void
choose_phi_beats_a_scan_and_reports_its_own_losses(void)
{
    enum { D = 200, T = 300 };
    double lam[D], s = 1.0, v[D], *eta = doubles(T);
    power_law(lam, D, 1.5);
    for (size_t k = 0; k < D; k++) {
        v[k] = 1e-2 * lam[k];  /* Hessian-shaped noise */
    }
    const uba_spectrum sp = {lam, D, NULL, 0, &s, 1, v, D};
    uba_phi_choice c;
    CHECK(choose(T, &sp, 1.0, 1.0, 0.0, 0x1p-10, 0x1p10, &c));
    /* the half-octave scan through uba_expected_loss */
    double best = HUGE_VAL;
    for (int i = -20; i <= 20; i++) {
        uba_steps(eta, T, pow(2.0, i / 2.0), 1.0, 0.0);
        best = fmin(best, loss_of(eta, T, &sp));
    }
    CHECK(c.loss <= best * (1 + 1e-12));
    uba_steps(eta, T, c.phi, 1.0, 0.0);
    CHECK_EQ(c.loss, loss_of(eta, T, &sp));
    CHECK_CLOSE(c.loss, ref_loss(eta, T, &sp), 1e-13);
    uba_steps(eta, T, 1.0, 1.0, 0.0);
    CHECK_EQ(c.loss_default, loss_of(eta, T, &sp));
    uba_steps(eta, T, 2.0, 1.0, 0.0);
    CHECK_EQ(c.loss_cosine, loss_of(eta, T, &sp));
    CHECK(c.eta_max == 1.0 && c.eta_lo == 1.0 && c.eta_hi == 1.0);
    CHECK(c.flat_lo <= c.phi && c.phi <= c.flat_hi);
    CHECK(c.phi_at_end == 0 && c.peak_at_end == 0 && c.lam_max == 1.0);
    long double initial = 0;
    for (size_t k = 0; k < D; k++) {
        initial += 0.5L * lam[k];
    }
    CHECK_CLOSE(c.initial_loss, initial, 1e-14);
    /* the flat range's edges are within about 1% of the best */
    for (int side = 0; side < 2; side++) {
        const double edge = side ? c.flat_hi : c.flat_lo;
        if (edge > 0x1p-10 && edge < 0x1p10) {
            uba_steps(eta, T, edge, 1.0, 0.0);
            CHECK_CLOSE(loss_of(eta, T, &sp) / c.loss, 1.01, 2e-3);
        }
    }
    free(eta);
}

static void
choose_phi_with_the_peak_beats_a_grid(void)
{
    enum { D = 100, T = 200 };
    double lam[D], s = 1.0, v = 1e-3, *eta = doubles(T);
    power_law(lam, D, 1.0);
    const uba_spectrum sp = {lam, D, NULL, 0, &s, 1, &v, 1};
    uba_phi_choice c;
    CHECK(choose(T, &sp, 0.0, HUGE_VAL, 0.0, 0x1p-10, 0x1p10, &c));
    CHECK(c.eta_hi == 2.0 && c.eta_lo == 0x1p-19);
    CHECK(c.eta_max >= c.eta_lo && c.eta_max <= c.eta_hi);
    double best = HUGE_VAL;
    for (int i = 0; i <= 40; i++) {  /* half-octave peaks, down to 2^-19 */
        for (int j = -20; j <= 20; j += 2) {
            uba_steps(eta, T, pow(2.0, j / 2.0), 2.0 * pow(2.0, -i / 2.0),
                      0.0);
            best = fmin(best, loss_of(eta, T, &sp));
        }
    }
    CHECK(c.loss <= best * (1 + 1e-9));
    if (!(c.loss <= best * (1 + 1e-9))) {
        printf("phi %g peak %g loss %.17g best %.17g\n", c.phi, c.eta_max, c.loss, best);
    }
    uba_steps(eta, T, c.phi, c.eta_max, 0.0);
    CHECK_EQ(c.loss, loss_of(eta, T, &sp));
    free(eta);
}

static void
choose_phi_reports_an_answer_at_an_end(void)
{
    enum { D = 50, T = 100 };
    double lam[D], s = 1.0, v = 0.0;
    power_law(lam, D, 2.0);
    const uba_spectrum sp = {lam, D, NULL, 0, &s, 1, &v, 1};
    uba_phi_choice c;
    /* no noise, a small peak: stay at the peak as long as possible */
    CHECK(choose(T, &sp, 0.1, 0.1, 0.0, 0.25, 64.0, &c));
    CHECK(c.phi_at_end == -1 && c.phi == 0.25 && c.flat_lo == 0.25);
    /* loud noise, a large peak: decay at once */
    const double loud = 10.0;
    const uba_spectrum noisy = {lam, D, NULL, 0, &s, 1, &loud, 1};
    CHECK(choose(T, &noisy, 1.0, 1.0, 0.0, 0.25, 64.0, &c));
    CHECK(c.phi_at_end == 1 && c.phi == 64.0);
    /* a constant schedule: phi changes nothing, 1 is kept */
    CHECK(choose(T, &sp, 0.5, 0.5, 0.5, 0x1p-10, 0x1p10, &c));
    CHECK(fabs(c.phi - 1.0) < 1e-12 && c.phi_at_end == 0);
    CHECK(c.flat_lo == 0x1p-10 && c.flat_hi == 0x1p10);
    CHECK(c.loss == c.loss_default && c.loss == c.loss_cosine);
}

static void
choose_phi_refuses_bad_input_in_order(void)
{
    double lam[2] = {1.0, 0.5}, s = 1.0, v = 0.0, work[8];
    const uba_spectrum sp = {lam, 2, NULL, 0, &s, 1, &v, 1};
    uba_phi_choice c;
    memset(&c, 0x5a, sizeof c);
    uba_phi_choice same = c;
    size_t bad = 99;
    size_t bad_pre = 98;
#define CP(T_, spp, lo, hi, fl, plo, phi_, wk, wl)                         \
    agrees_with_check(                                                     \
        uba_choose_phi(T_, spp, lo, hi, fl, plo, phi_, wk, wl, &c, &bad,   \
                       NULL),                                              \
        uba_choose_phi_check(T_, spp, lo, hi, fl, plo, phi_, &bad_pre),    \
        &bad, &bad_pre)
    const size_t need = uba_choose_phi_work_size(4);
    double *w = doubles(need);
    CHECK(CP(0, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, w, need) == UBA_E_T);
    CHECK(CP((size_t)1 << 53, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, NULL, 0)
          == UBA_E_NULL);
    CHECK(CP(((size_t)1 << 53) + 1, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, w, need)
          == UBA_E_T);
    lam[1] = -2.0;
    CHECK(CP(4, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, w, need) == UBA_E_EIGENVALUES);
    CHECK(bad == 1);
    lam[1] = 0.5;
    const double peaks[][2] = {
        {0.0, 0.0}, {-1.0, -1.0}, {(double)NAN, (double)NAN},
        {(double)INFINITY, (double)INFINITY}, {2.0, 1.0}, {-1.0, 2.0},
        {(double)NAN, 1.0}, {0.0, (double)NAN}, {3.0, (double)INFINITY},
        {(double)INFINITY, 1.0}};
    for (size_t i = 0; i < COUNT(peaks); i++) {
        CHECK(CP(4, &sp, peaks[i][0], peaks[i][1], 0.0, 0.5, 2.0, w, need)
              == UBA_E_PEAK);
    }
    /* hi = inf is 2/lam_max; with every eigenvalue 0 there is none */
    const double zeros[2] = {0.0, 0.0};
    const uba_spectrum flat = {zeros, 2, NULL, 0, &s, 1, &v, 1};
    CHECK(CP(4, &flat, 0.0, (double)INFINITY, 0.0, 0.5, 2.0, w, need)
          == UBA_E_PEAK);
    CHECK(CP(4, &flat, 1.0, 1.0, 0.0, 0.5, 2.0, w, need) == UBA_OK);
    CHECK(c.loss == 0.0 && c.initial_loss == 0.0);
    memset(&c, 0x5a, sizeof c);
    CHECK(CP(4, &sp, 1.0, 1.0, (double)NAN, 0.5, 2.0, w, need)
          == UBA_E_ETA_MIN);
    CHECK(CP(4, &sp, 1e100, 1e100, 0.0, 0.5, 2.0, w, need)
          == UBA_E_ETA_RANGE);
    CHECK(CP(4, &sp, 1.0, 1.0, -1e100, 0.5, 2.0, w, need)
          == UBA_E_ETA_RANGE);
    CHECK(CP(4, &sp, 1.0, 1.0, 0.0, 2.0, 0.5, w, need) == UBA_E_PHI_RANGE);
    CHECK(CP(4, &sp, 1.0, 1.0, 0.0, 0.0, 0.5, w, need) == UBA_E_PHI_RANGE);
    CHECK(CP(4, &sp, 1.0, 1.0, 0.0, 0.5, (double)INFINITY, w, need)
          == UBA_E_PHI_RANGE);
    CHECK(CP(4, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, NULL, need) == UBA_E_NULL);
    CHECK(uba_choose_phi(4, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, w, need, NULL,
                         NULL, NULL) == UBA_E_NULL);
    CHECK(CP(4, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, work, 8) == UBA_E_WORKSPACE);
    CHECK(CP(4, &sp, 1.0, 1.0, 0.0, 0.5, 2.0, w, need - 1)
          == UBA_E_WORKSPACE);
    CHECK(memcmp(&c, &same, sizeof c) == 0);
    /* a range's ends: lo = 0 is 2^-20 hi, hi = inf the stability limit */
    CHECK(CP(4, &sp, 0.0, 8.0, 0.0, 0.5, 2.0, w, need) == UBA_OK);
    CHECK(c.eta_lo == 8.0 * 0x1p-20 && c.eta_hi == 8.0);
    CHECK(CP(4, &sp, 0.25, (double)INFINITY, 0.0, 0.5, 2.0, w, need)
          == UBA_OK);
    CHECK(c.eta_lo == 0.25 && c.eta_hi == 2.0);
#undef CP
    CHECK(uba_choose_phi_work_size(SIZE_MAX / 2) == SIZE_MAX);
    free(w);
}

static void
long_calls_stop_when_their_hook_asks(void)
{
    enum { D = 64, T = 100000 };
    double lam[D], s = 1.0, v = 1e-3, *lrs = doubles(T);
    power_law(lam, D, 1.0);
    const uba_spectrum sp = {lam, D, NULL, 0, &s, 1, &v, 1};
    for (size_t t = 0; t < T; t++) {
        lrs[t] = 0.5;
    }
    for (int at = 1; at <= 3; at++) {
        stop_after h = {0, at};
        const uba_progress hook = {stop_poll, &h};
        const size_t len = uba_expected_loss_work_size(T);
        double *work = doubles(len), loss = 3.0;
        CHECK(uba_expected_loss(lrs, T, &sp, work, len, &loss, NULL, NULL,
                                &hook) == UBA_E_INTERRUPTED);
        CHECK(loss == 3.0 && h.polls == at);
        free(work);
        const size_t clen = uba_choose_phi_work_size(T);
        double *cwork = doubles(clen);
        uba_phi_choice c;
        memset(&c, 0x5a, sizeof c);
        const uba_phi_choice same = c;
        h.polls = 0;
        CHECK(uba_choose_phi(T, &sp, 0.0, (double)INFINITY, 0.0, 0x1p-10,
                             0x1p10, cwork, clen, &c, NULL, &hook)
              == UBA_E_INTERRUPTED);
        CHECK(memcmp(&c, &same, sizeof c) == 0 && h.polls == at);
        free(cwork);
    }
    free(lrs);
}

int
main(void)
{
    RUN(loss_matches_the_recursion_in_long_double);
    RUN(loss_of_one_step_and_of_constant_steps_is_the_closed_form);
    RUN(scalars_broadcast_as_arrays_of_copies);
    RUN(loss_is_exactly_scale_equivariant);
    RUN(divergence_is_inf_and_a_wiped_divergence_is_exact);
    RUN(tiny_and_huge_values_keep_their_precision);
    RUN(loss_refuses_bad_input_in_order);
    RUN(choose_phi_beats_a_scan_and_reports_its_own_losses);
    RUN(choose_phi_with_the_peak_beats_a_grid);
    RUN(choose_phi_reports_an_answer_at_an_end);
    RUN(choose_phi_refuses_bad_input_in_order);
    RUN(long_calls_stop_when_their_hook_asks);
    return check_summary("test_expected_loss");
}
