/*
 * fuzz_uba.c -- libFuzzer harness over every entry point of uba.h.
 *
 * Built by `make -C csrc fuzz` with clang, -fsanitize=fuzzer,address,
 * undefined.  Each input is a little program: its first byte picks an
 * entry point, the rest feeds its arguments.  Numbers are drawn either as
 * raw 64-bit patterns (every NaN payload, infinity, subnormal) or from a
 * table of values that sit on the edges of the contracts (0, -0, the
 * smallest subnormal, 2^53 and its neighbours, DBL_MAX, ...), or as small
 * and huge integers, so that valid budgets and warmups come up often.
 *
 * Besides the sanitizers, every call is checked against its contract in
 * uba.h, and any violation aborts (a finding):
 *   - the status is the documented one (an independent oracle of which
 *     arguments are valid), never OK for an invalid argument;
 *   - on failure, out-parameters are untouched (the _fill buffers and the
 *     scheduler's state included, as uba.h promises for them);
 *   - on success, results are finite: g in [0, 1], eta between the values
 *     it interpolates, lrs and ratios finite;
 *   - the _fill forms agree bit for bit with the scalar forms;
 *   - g is non-increasing on [0, T], and eta monotone on each piece.
 *
 * The theory functions (byte 7 on) get the same treatment: the status is
 * the one uba.h's text gives (lrs entries checked one by one, the first
 * offending entry giving its status and *bad_index); outputs and lrs are
 * untouched on failure; results are finite (-inf only where documented),
 * Chebyshev steps positive, in [1/lam_max, 1/lam_min] and descending;
 * phi/kappa and curvature_params bit-exact; the bounds match their
 * formulas in long double; the worst cases are at least the values at
 * lam_min and lam_max, and the noisy one is exactly twice the residual for
 * sigma2 = 0.  Workspaces are malloc'ed to exactly the length passed
 * (exact, one short, zero or longer), so ASan sees a write past the
 * documented size, and one short must give UBA_E_WORKSPACE.  The work-size
 * functions are checked for any n (>= 4n + 24,576, <= about 12n + 24,576,
 * SIZE_MAX only on overflow, monotone).
 *
 * Every call whose work grows with its input gets, from a last byte of the
 * input, no progress hook or one that asks to stop at its first, second or
 * third poll (or never): the call must then stop with UBA_E_INTERRUPTED
 * (after its argument checks; before any bad entry of an array it had not
 * reached), leave its outputs untouched, and give the hook non-decreasing
 * fractions in [0, 1).
 *
 * Caps, so that each input runs well under 10 ms (these functions are
 * O(T log T) or more): MAX_N (64) step sizes for the residual and the
 * bounds and the noisy error, T <= MAX_CHEB_T (4096) for
 * uba_chebyshev_steps, T^2 * grid points <= OPT_PHI_BUDGET for
 * uba_optimal_phi and T * (grid points + 200) <= OPT_SC_BUDGET for
 * uba_optimal_phi_strongly_convex (3 grid points per decade of the phi
 * range).  A larger valid T is folded into the cap, but only when the call
 * would run: calls that must fail first (a bad argument, a NULL, a short
 * workspace) get any T, up to and past 2^53.
 *
 * A finding is written to build/fuzz/crash-<sha1>; replay it with
 * `build/fuzz/fuzz_uba build/fuzz/crash-<sha1>`, which prints the call
 * (arguments as hex floats) and the clause of the contract it broke.
 */
#include "../uba.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NAN and INFINITY are floats; clang's -Wdouble-promotion wants a cast. */
#define D_NAN ((double)NAN)
#define D_INF ((double)INFINITY)

/* The largest array and group count one input may ask for. */
#define MAX_N 64

/* ---- reading the input ---------------------------------------------- */

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t
take_byte(input *in)
{
    if (in->n == 0) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

static uint64_t
take_u64(input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | take_byte(in);
    }
    return v;
}

static double
bits_to_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Values on the edges of the contracts. */
static double
edge_value(uint8_t k)
{
    static const double table[] = {
        0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, 4.0, 7.0, 10.0, 0.1, 1e-3,
        1e6, 100.0, 1e-6, 1e300, -1e300, 1e-300,
        9007199254740992.0,          /* 2^53, the largest budget        */
        9007199254740994.0,          /* the next double above it        */
        9007199254740991.0,          /* 2^53 - 1                        */
        4503599627370496.5,          /* 2^52 + 1/2, a non-integer       */
        1099511627776.0,             /* 2^40                            */
        1099511627779.0,             /* 2^40 + 3, odd                   */
        9223372036854775808.0,       /* 2^63                            */
        18446744073709551616.0,      /* 2^64                            */
        DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN,
        4.9406564584124654e-324,     /* the smallest subnormal          */
        -4.9406564584124654e-324,
        2.2250738585072009e-308,     /* the largest subnormal           */
        0.99999999999999989,         /* 1 - 2^-53                       */
        1.0000000000000002,          /* 1 + 2^-52                       */
    };
    const size_t count = sizeof table / sizeof table[0];
    if (k < count) {
        return table[k];
    }
    switch (k % 4) {
    case 0: return D_NAN;
    case 1: return -D_NAN;
    case 2: return D_INF;
    default: return -D_INF;
    }
}

/* A double in one of several modes (the mode byte decides). */
static double
take_double(input *in)
{
    const uint8_t mode = take_byte(in);
    switch (mode % 8) {
    case 0:
    case 1:
        return bits_to_double(take_u64(in));          /* anything at all */
    case 2:
    case 3:
        return edge_value(take_byte(in) % 48);
    case 4:
        return (double)take_byte(in);                 /* small integers  */
    case 5: {
        const uint16_t v = (uint16_t)((take_byte(in) << 8) | take_byte(in));
        return (double)v;
    }
    case 6: {
        /* a huge integer, up to and past 2^53 */
        const uint64_t v = take_u64(in) >> (take_byte(in) % 12);
        return (double)v;
    }
    default: {
        /* a fraction of a small integer: 1/4 steps, maybe negative */
        const int v = (int8_t)take_byte(in);
        return v / 4.0;
    }
    }
}

/* ---- the oracle: which arguments uba.h calls valid ---------------------- */

static int
valid_budget(double T)
{
    return T >= 1.0 && T <= UBA_MAX_BUDGET && floor(T) == T;
}

static int
valid_phi(double phi)
{
    return isfinite(phi) && phi > 0.0;
}

static int
valid_step(double t)
{
    return isfinite(t) && t >= 0.0;
}

/* The index of the first step valid_step refuses, or n if none. */
static size_t
first_bad_step(const double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!valid_step(t[i])) {
            return i;
        }
    }
    return n;
}

static int
valid_warmup(double W, double T)
{
    return W >= 0.0 && W < T && floor(W) == W;
}

/* ---- findings --------------------------------------------------------- */

/* The call being checked, printed with a finding (hex floats: exact). */
static char context[512];

#define CONTEXT(...) snprintf(context, sizeof context, __VA_ARGS__)

static void
finding(const char *what, int line)
{
    fprintf(stderr, "fuzz_uba.c:%d: contract violated: %s\n  in %s\n", line,
            what, context);
    abort();
}

#define REQUIRE(cond) \
    do { if (!(cond)) { finding(#cond, __LINE__); } } while (0)

static int
same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static double
lower(double a, double b)
{
    return a < b ? a : b;
}

static double
upper(double a, double b)
{
    return a > b ? a : b;
}

/*
 * A progress hook for the long calls, picked by one more byte at the end of
 * an input (older seeds, which end before it, get none): none, or one that
 * asks to stop at its first, second or third poll, or never.  It checks
 * that the fraction it is given never falls and stays in [0, 1).
 */
typedef struct hook_state {
    unsigned polls, stop_at;
    double last;
} hook_state;

static int
hook_poll(void *ctx, double fraction)
{
    hook_state *h = (hook_state *)ctx;
    REQUIRE(fraction >= h->last && fraction >= 0.0 && fraction < 1.0);
    h->last = fraction;
    h->polls++;
    return h->stop_at != 0 && h->polls >= h->stop_at;
}

static const uba_progress *
take_hook(input *in, hook_state *h, uba_progress *p)
{
    const uint8_t b = take_byte(in);
    h->polls = 0;
    h->stop_at = (b >> 1) % 4;
    h->last = 0.0;
    p->poll = hook_poll;
    p->ctx = h;
    return (b & 1) ? p : NULL;
}

/*
 * The status of a call with a hook: `before` is what the checks made
 * before any work give, `during` what the work itself may find (bad
 * entries met on the way, or UBA_OK), `works` whether there is work at
 * all.  The hook is polled once the work starts, and a stop it asks for
 * is the status, whatever the work would have found later.
 */
static uba_status
hooked_status(uba_status s, uba_status before, uba_status during, int works,
              const uba_progress *hook, const hook_state *h)
{
    if (before != UBA_OK) {
        REQUIRE(h->polls == 0);
        return before;
    }
    if (hook == NULL || !works) {
        return during;
    }
    REQUIRE(h->polls >= 1);
    const int asked = h->stop_at != 0 && h->polls >= h->stop_at;
    REQUIRE(asked == (s == UBA_E_INTERRUPTED));
    return asked ? UBA_E_INTERRUPTED : during;
}

/* ---- one entry point each ---------------------------------------------- */

static void
fuzz_strerror(input *in)
{
    int code = 0;
    for (int i = 0; i < 4; i++) {
        code = (int)((unsigned)code << 8 | take_byte(in));
    }
    const char *text = uba_strerror((uba_status)code);
    REQUIRE(text != NULL && strlen(text) > 0);
    /* what a status blames: ids in range, named, none for unknown codes */
    const uba_blame b = uba_status_blame((uba_status)code);
    REQUIRE((unsigned)b.arg < (unsigned)UBA_ARG_COUNT
            && (unsigned)b.pair < (unsigned)UBA_ARG_COUNT);
    REQUIRE(uba_arg_name(b.arg) != NULL && uba_arg_name(b.pair) != NULL);
    REQUIRE(uba_arg_name((uba_arg)code) != NULL);
    if ((unsigned)code >= (unsigned)UBA_STATUS_COUNT) {
        REQUIRE(b.arg == UBA_ARG_NONE && b.pair == UBA_ARG_NONE);
    }
    const char *version = uba_version();
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", UBA_VERSION_MAJOR,
             UBA_VERSION_MINOR, UBA_VERSION_PATCH);
    REQUIRE(version != NULL && strcmp(version, want) == 0);
}

static void
fuzz_shape(input *in)
{
    const double t = take_double(in), T = take_double(in);
    const double phi = take_double(in);
    const int null_out = (take_byte(in) & 15) == 0;
    double g = 123.0;
    CONTEXT("uba_shape(t=%a, T=%a, phi=%a)", t, T, phi);
    const uba_status s = uba_shape(t, T, phi, null_out ? NULL : &g);
    if (!valid_budget(T)) {
        REQUIRE(s == UBA_E_T);
    }
    else if (!valid_phi(phi)) {
        REQUIRE(s == UBA_E_PHI);
    }
    else if (!valid_step(t)) {
        REQUIRE(s == UBA_E_STEP);
    }
    else if (null_out) {
        REQUIRE(s == UBA_E_NULL);
    }
    else {
        REQUIRE(s == UBA_OK);
        REQUIRE(g >= 0.0 && g <= 1.0);
        if (t == 0.0) {
            REQUIRE(g == 1.0);
        }
        if (t == T) {
            REQUIRE(g == 0.0);
        }
        return;
    }
    REQUIRE(same_bits(g, 123.0));
}

static void
fuzz_shape_fill(input *in)
{
    const double T = take_double(in), phi = take_double(in);
    const uint8_t flags = take_byte(in);
    const size_t n = take_byte(in) % (MAX_N + 1);
    /* Exactly n elements on the heap, so ASan sees any overrun. */
    double *t = malloc((n > 0 ? n : 1) * sizeof *t);
    double *out = malloc((n > 0 ? n : 1) * sizeof *out);
    REQUIRE(t != NULL && out != NULL);
    for (size_t i = 0; i < n; i++) {
        t[i] = take_double(in);
        out[i] = -7.0;
    }
    const int alias = flags & 1, null_t = (flags & 0x0e) == 0x02;
    const int null_out = (flags & 0x0e) == 0x04;
    const int null_bad = (flags & 0x10) != 0;
    double *dst = alias ? t : out;
    double *copy = malloc((n > 0 ? n : 1) * sizeof *copy);
    REQUIRE(copy != NULL);
    memcpy(copy, t, n * sizeof *t);
    size_t bad = (size_t)-1;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    CONTEXT("uba_shape_fill(n=%zu, T=%a, phi=%a, flags=%u, hook=%u)", n, T,
            phi, (unsigned)flags, hook ? h.stop_at : 99u);
    const uba_status s = uba_shape_fill(null_t ? NULL : t, n, T, phi,
                                        null_out ? NULL : dst,
                                        null_bad ? NULL : &bad, hook);
    const size_t first_bad = first_bad_step(copy, n);
    const uba_status before = !valid_budget(T) ? UBA_E_T
        : !valid_phi(phi) ? UBA_E_PHI
        : n > 0 && (null_t || null_out) ? UBA_E_NULL : UBA_OK;
    const uba_status expected = hooked_status(
        s, before, first_bad < n ? UBA_E_STEP : UBA_OK, n > 0, hook, &h);
    REQUIRE(s == expected);
    if (s == UBA_E_STEP) {
        REQUIRE(null_bad || bad == first_bad);
    }
    else if (s == UBA_OK) {
        REQUIRE(s == UBA_OK);
        REQUIRE(bad == (size_t)-1);
        for (size_t i = 0; i < n; i++) {
            double g = D_NAN;
            REQUIRE(uba_shape(copy[i], T, phi, &g) == UBA_OK);
            REQUIRE(same_bits(dst[i], g));
        }
    }
    if (!alias) {
        REQUIRE(memcmp(t, copy, n * sizeof *t) == 0);  /* input is const */
    }
    free(t);
    free(out);
    free(copy);
}

/* Draws the six parameters; returns the status uba_params_init must give. */
static uba_status
draw_params(input *in, double v[6])
{
    for (int i = 0; i < 6; i++) {
        v[i] = take_double(in);
    }
    /* Valid warmups are rare by chance: often derive W from T. */
    const uint8_t w = take_byte(in);
    if ((w & 3) == 0 && valid_budget(v[0])) {
        v[4] = floor(v[0] * (w >> 2) / 64.0);
    }
    if (!valid_budget(v[0])) {
        return UBA_E_T;
    }
    if (!valid_phi(v[1])) {
        return UBA_E_PHI;
    }
    if (!isfinite(v[2])) {
        return UBA_E_ETA_MAX;
    }
    if (!isfinite(v[3])) {
        return UBA_E_ETA_MIN;
    }
    if (!valid_warmup(v[4], v[0])) {
        return UBA_E_WARMUP_STEPS;
    }
    if (!isfinite(v[5])) {
        return UBA_E_WARMUP_START;
    }
    return UBA_OK;
}

/* eta(t) lies between the two values it interpolates at t. */
static void
check_eta_range(const uba_params *p, double t, double e)
{
    REQUIRE(isfinite(e));
    if (t < p->warmup_steps) {
        REQUIRE(e >= lower(p->warmup_start, p->eta_max));
        REQUIRE(e <= upper(p->warmup_start, p->eta_max));
    }
    else {
        REQUIRE(e >= lower(p->eta_min, p->eta_max));
        REQUIRE(e <= upper(p->eta_min, p->eta_max));
    }
    if (t == p->warmup_steps) {
        REQUIRE(same_bits(e, p->eta_max) || (e == 0.0 && p->eta_max == 0.0));
    }
    if (t == p->T) {
        REQUIRE(same_bits(e, p->eta_min) || (e == 0.0 && p->eta_min == 0.0));
    }
}

static void
fuzz_params_and_eta(input *in)
{
    double v[6];
    const uba_status expected = draw_params(in, v);
    const int null_p = (take_byte(in) & 15) == 0;
    uba_params p, untouched;
    memset(&p, 0x5a, sizeof p);
    memcpy(&untouched, &p, sizeof p);
    CONTEXT("uba_params_init(T=%a, phi=%a, eta_max=%a, eta_min=%a, W=%a, "
            "start=%a)", v[0], v[1], v[2], v[3], v[4], v[5]);
    const uba_status s = uba_params_init(null_p ? NULL : &p, v[0], v[1], v[2],
                                         v[3], v[4], v[5]);
    if (expected != UBA_OK) {
        REQUIRE(s == expected);
        REQUIRE(memcmp(&p, &untouched, sizeof p) == 0);
        return;
    }
    if (null_p) {
        REQUIRE(s == UBA_E_NULL);
        return;
    }
    REQUIRE(s == UBA_OK);
    REQUIRE(uba_eta(NULL, 0.0, NULL) == UBA_E_NULL);
    REQUIRE(uba_eta(&p, 0.0, NULL) == UBA_E_NULL);
    /* A few steps: some arbitrary, some relative to T and W. */
    for (int k = 0; k < 4; k++) {
        double t = take_double(in);
        const uint8_t how = take_byte(in);
        if ((how & 3) == 1) {
            t = p.T * (how >> 2) / 63.0;
        }
        else if ((how & 3) == 2) {
            t = p.warmup_steps + (double)(how >> 2) - 32.0;
        }
        double e = 321.0;
        CONTEXT("uba_eta(t=%a) with T=%a, phi=%a, eta_max=%a, eta_min=%a, "
                "W=%a, start=%a", t, v[0], v[1], v[2], v[3], v[4], v[5]);
        const uba_status se = uba_eta(&p, t, &e);
        if (!valid_step(t)) {
            REQUIRE(se == UBA_E_STEP);
            REQUIRE(same_bits(e, 321.0));
            continue;
        }
        REQUIRE(se == UBA_OK);
        if (t <= p.T) {
            check_eta_range(&p, t, e);
        }
        else {
            REQUIRE(isfinite(e));
        }
    }
}

static void
fuzz_eta_fill(input *in)
{
    double v[6];
    if (draw_params(in, v) != UBA_OK) {
        REQUIRE(uba_eta_fill(NULL, NULL, 0, NULL, NULL, NULL) == UBA_E_NULL);
        return;
    }
    uba_params p;
    REQUIRE(uba_params_init(&p, v[0], v[1], v[2], v[3], v[4], v[5])
            == UBA_OK);
    const uint8_t flags = take_byte(in);
    const size_t n = take_byte(in) % (MAX_N + 1);
    double *t = malloc((n > 0 ? n : 1) * sizeof *t);
    double *out = malloc((n > 0 ? n : 1) * sizeof *out);
    double *copy = malloc((n > 0 ? n : 1) * sizeof *copy);
    REQUIRE(t != NULL && out != NULL && copy != NULL);
    for (size_t i = 0; i < n; i++) {
        const uint8_t how = take_byte(in);
        t[i] = (how & 1) ? take_double(in) : p.T * (how >> 1) / 127.0;
    }
    memcpy(copy, t, n * sizeof *t);
    const int alias = flags & 1;
    const int null_t = (flags & 0x0e) == 0x02;
    const int null_out = (flags & 0x0e) == 0x04;
    const int null_bad = (flags & 0x10) != 0;
    double *dst = alias ? t : out;
    size_t bad = (size_t)-1;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    CONTEXT("uba_eta_fill(n=%zu, flags=%u, hook=%u) with T=%a, phi=%a, "
            "eta_max=%a, eta_min=%a, W=%a, start=%a", n, (unsigned)flags,
            hook ? h.stop_at : 99u, v[0], v[1], v[2], v[3], v[4], v[5]);
    const uba_status s = uba_eta_fill(&p, null_t ? NULL : t, n,
                                      null_out ? NULL : dst,
                                      null_bad ? NULL : &bad, hook);
    const size_t first_bad = first_bad_step(copy, n);
    const uba_status expected = hooked_status(
        s, n > 0 && (null_t || null_out) ? UBA_E_NULL : UBA_OK,
        first_bad < n ? UBA_E_STEP : UBA_OK, n > 0, hook, &h);
    REQUIRE(s == expected);
    if (s == UBA_E_STEP) {
        REQUIRE(null_bad || bad == first_bad);
    }
    else if (s == UBA_OK) {
        for (size_t i = 0; i < n; i++) {
            double e = D_NAN;
            REQUIRE(uba_eta(&p, copy[i], &e) == UBA_OK);
            REQUIRE(same_bits(dst[i], e));
        }
    }
    free(t);
    free(out);
    free(copy);
}

/* g is non-increasing on [0, T]; eta is monotone on the warmup and on
 * the decay, in the direction its end values say. */
static void
fuzz_monotone(input *in)
{
    double v[6];
    if (draw_params(in, v) != UBA_OK) {
        return;
    }
    uba_params p;
    REQUIRE(uba_params_init(&p, v[0], v[1], v[2], v[3], v[4], v[5])
            == UBA_OK);
    /* Two steps in [0, T]: near each other (often adjacent integers). */
    const uint64_t r = take_u64(in);
    const uint8_t how = take_byte(in);
    double t1;
    if ((how & 3) == 0) {
        t1 = floor(p.T * ((double)(r >> 11) / 9007199254740992.0));
    }
    else if ((how & 3) == 1) {
        t1 = floor(p.T / 2) - (double)(how >> 2) + 16.0;
    }
    else if ((how & 3) == 2) {
        t1 = p.warmup_steps - (double)(how >> 2) + 16.0;
    }
    else {
        t1 = p.T * ((double)(r >> 11) / 9007199254740992.0);
    }
    const double gap = (take_byte(in) & 1) ? 1.0 : fabs(take_double(in));
    double t2 = t1 + gap;
    if (!(t1 >= 0.0 && t2 <= p.T && t1 <= t2)) {
        return;
    }
    double g1, g2;
    CONTEXT("monotone: t1=%a, t2=%a with T=%a, phi=%a, eta_max=%a, "
            "eta_min=%a, W=%a, start=%a", t1, t2, v[0], v[1], v[2], v[3],
            v[4], v[5]);
    REQUIRE(uba_shape(t1, p.T, p.phi, &g1) == UBA_OK);
    REQUIRE(uba_shape(t2, p.T, p.phi, &g2) == UBA_OK);
    REQUIRE(g1 >= g2);
    double e1, e2;
    REQUIRE(uba_eta(&p, t1, &e1) == UBA_OK);
    REQUIRE(uba_eta(&p, t2, &e2) == UBA_OK);
    const double W = p.warmup_steps;
    if (t2 < W) {           /* both in the warmup */
        REQUIRE(p.warmup_start <= p.eta_max ? e1 <= e2 : e1 >= e2);
    }
    else if (t1 >= W) {     /* both in the decay */
        REQUIRE(p.eta_max >= p.eta_min ? e1 >= e2 : e1 <= e2);
    }
}

static void
fuzz_step_groups(input *in)
{
    double T = take_double(in), phi = take_double(in);
    double W = take_double(in);
    const double f = take_double(in);
    const uint8_t w = take_byte(in);
    if ((w & 3) == 0 && valid_budget(T)) {
        W = floor(T * (w >> 2) / 64.0);
    }
    /* The shared parameters are checked once, by uba_group_step_init:
     * its status in the documented order, nothing written on failure, the
     * values kept on success.  Only a step from checked ones is made. */
    uba_group_step s = {-7.0, -7.0, -7.0, -7.0};
    const uba_group_step untouched = s;
    CONTEXT("uba_group_step_init(T=%a, phi=%a, W=%a, f=%a)", T, phi, W, f);
    const uba_status init = uba_group_step_init(&s, T, phi, W, f);
    const uba_status init_expected = !valid_budget(T) ? UBA_E_T
        : !valid_phi(phi) ? UBA_E_PHI
        : !valid_warmup(W, T) ? UBA_E_WARMUP_STEPS
        : !(isfinite(f) && f >= 0.0) ? UBA_E_WARMUP_FACTOR : UBA_OK;
    REQUIRE(init == init_expected);
    REQUIRE(uba_group_step_init(NULL, T, phi, W, f)
            == (init == UBA_OK ? UBA_E_NULL : init));
    if (init != UBA_OK) {
        REQUIRE(memcmp(&s, &untouched, sizeof s) == 0);
        return;
    }
    REQUIRE(same_bits(s.T, T) && same_bits(s.phi, phi)
            && same_bits(s.warmup_steps, W)
            && same_bits(s.warmup_start_factor, f));
    double t_prev = take_double(in), t = take_double(in);
    const uint8_t how = take_byte(in);
    if ((how & 3) == 0) {
        t_prev = t - 1.0;  /* the usual step */
    }
    else if ((how & 3) == 1) {
        t_prev = -1.0;     /* the first step, from the base values */
    }
    else if ((how & 3) == 2) {
        t_prev = t;        /* adopting the groups as they are */
    }
    const uint8_t flags = take_byte(in);
    const size_t n = take_byte(in) % 17;
    const size_t bytes = (n > 0 ? n : 1) * sizeof(double);
    double *base = malloc(bytes), *eta_min = malloc(bytes);
    double *lr_now = malloc(bytes), *written = malloc(bytes);
    double *ratio = malloc(bytes), *lr_next = malloc(bytes);
    double *ratio_copy = malloc(bytes), *next_copy = malloc(bytes);
    REQUIRE(base && eta_min && lr_now && written && ratio && lr_next
            && ratio_copy && next_copy);
    for (size_t i = 0; i < n; i++) {
        base[i] = take_double(in);
        eta_min[i] = (flags & 0x20) ? 0.0 : take_double(in);
        const uint8_t g = take_byte(in);
        /* untouched (lr == written), touched, or unknown (NaN) */
        lr_now[i] = (g & 3) == 0 ? base[i] : take_double(in);
        written[i] = (g & 12) == 0 ? D_NAN : ((g & 12) == 4 ? lr_now[i]
                                                          : take_double(in));
        ratio[i] = (g & 16) ? 1.0 : ((g & 32) ? D_NAN : take_double(in));
        lr_next[i] = -5.0;
    }
    memcpy(ratio_copy, ratio, n * sizeof *ratio);
    memcpy(next_copy, lr_next, n * sizeof *lr_next);
    const int null_s = (flags & 7) == 1;
    /* (flags & 7) == 2: one of the six arrays is NULL, picked by bits 3-4
     * and 6-7 (bit 5 zeroes the floors) */
    const int null_arr = (flags & 7) == 2;
    const int which = null_arr ? ((flags >> 3) & 3) + 4 * ((flags >> 6) & 1)
                               : -1;
    CONTEXT("uba_step_groups(T=%a, phi=%a, W=%a, f=%a, t_prev=%a, t=%a, "
            "n=%zu, flags=%u)", s.T, s.phi, s.warmup_steps,
            s.warmup_start_factor, t_prev, t, n, (unsigned)flags);
    size_t bad = SIZE_MAX;
    const uba_status st = uba_step_groups(
        null_s ? NULL : &s, t_prev, t, n, which == 0 ? NULL : base,
        which == 1 ? NULL : eta_min, which == 2 ? NULL : lr_now,
        which == 3 ? NULL : written, which == 4 ? NULL : ratio,
        which >= 5 ? NULL : lr_next, &bad);

    /* The documented order of checks. */
    uba_status first_bad_group = UBA_OK;
    size_t first_bad = SIZE_MAX;
    for (size_t i = 0; i < n && first_bad_group == UBA_OK; i++) {
        first_bad = i;
        if (!isfinite(base[i])) {
            first_bad_group = UBA_E_ETA_MAX;
        }
        else if (!isfinite(eta_min[i])) {
            first_bad_group = UBA_E_ETA_MIN;
        }
        else if (!isfinite(lr_now[i])) {
            first_bad_group = UBA_E_LR;
        }
    }
    const int all_finite = first_bad_group == UBA_OK;
    uba_status expected;
    if (null_s) {
        expected = UBA_E_NULL;
    }
    else if (!valid_step(t) || !isfinite(t_prev)) {
        expected = UBA_E_STEP;
    }
    else if (n > 0 && null_arr) {
        expected = UBA_E_NULL;
    }
    else if (!all_finite) {
        expected = first_bad_group;
    }
    else {
        expected = UBA_OK;
    }
    if (expected == UBA_OK) {
        /* Finite inputs can still overflow (f * base, a huge ratio): the
         * core then refuses with UBA_E_LR, naming a group, rather than
         * write an inf. */
        REQUIRE(st == UBA_OK || (st == UBA_E_LR && bad < n));
    }
    else {
        REQUIRE(st == expected);
        if (expected == first_bad_group) {
            REQUIRE(bad == first_bad);
        }
    }
    if (st == UBA_OK) {
        for (size_t i = 0; i < n; i++) {
            /* a ratio is finite, or NaN where none exists (a trough) */
            REQUIRE(isfinite(lr_next[i]) && !isinf(ratio[i]));
        }
    }
    else {
        REQUIRE(memcmp(ratio, ratio_copy, n * sizeof *ratio) == 0);
        REQUIRE(memcmp(lr_next, next_copy, n * sizeof *lr_next) == 0);
    }
    free(base);
    free(eta_min);
    free(lr_now);
    free(written);
    free(ratio);
    free(lr_next);
    free(ratio_copy);
    free(next_copy);
}

/* ---- theory (uba.h, part "Theory"; docs/theory.md sections 1-5) ----------- */

/* A size_t: small, 16-bit, an edge of the budget and workspace contracts,
 * or any 64-bit pattern shifted right by 0..63. */
static size_t
take_size(input *in)
{
    static const uint64_t table[] = {
        0, 1, 2, 3, 4, 31, 32, 33, 64, 65,
        UINT64_C(9007199254740991),     /* 2^53 - 1                     */
        UINT64_C(9007199254740992),     /* 2^53, the largest budget     */
        UINT64_C(9007199254740993),     /* 2^53 + 1: rounds to 2^53     */
        UINT64_C(9007199254740994),
        UINT64_C(1) << 32, UINT64_C(1) << 63,
        UINT64_MAX / 85, UINT64_MAX / 11, UINT64_MAX / 8,
        UINT64_MAX / 8 + 1, UINT64_MAX - 1, UINT64_MAX,
    };
    const uint8_t mode = take_byte(in);
    uint64_t v;
    switch (mode % 4) {
    case 0:
        v = take_byte(in);
        break;
    case 1:
        v = (uint64_t)take_byte(in) << 8;
        v |= take_byte(in);
        break;
    case 2:
        v = table[take_byte(in) % (sizeof table / sizeof table[0])];
        break;
    default:
        v = take_u64(in);
        v >>= take_byte(in) % 64;
        break;
    }
    return v > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)v;
}

/* The budget of the theory functions: an integer in [1, 2^53], compared
 * as an integer (a size_t above 2^53 may round to 2^53 as a double). */
static int
valid_budget_size(size_t T)
{
    return T >= 1 && (uint64_t)T <= (UINT64_C(1) << 53);
}

/* Largest sizes one input runs with (each call well under 10 ms; see the
 * header).  Larger valid sizes are still passed when the call must fail
 * before it uses them. */
#define MAX_CHEB_T 4096       /* uba_chebyshev_steps: O(T)               */
#define MAX_WC_N MAX_N        /* uba_worst_case_residual: O(n log n)     */
#define MAX_NOISY_N MAX_N     /* uba_worst_case_noisy_error: O(n) passes */
#define MAX_BOUND_N MAX_N     /* the three bounds: O(n)                  */
#define OPT_PHI_BUDGET 4096   /* uba_optimal_phi: grid points * T^2      */
#define OPT_SC_BUDGET 65536   /* optimal_phi_strongly_convex: points * T */

/* A curvature range: arbitrary, or lam_max derived from lam_min. */
static void
take_lam_range(input *in, double *lam_min, double *lam_max)
{
    const uint8_t how = take_byte(in);
    *lam_min = take_double(in);
    *lam_max = take_double(in);
    if ((how & 3) == 0) {
        *lam_max = *lam_min * fabs(*lam_max);  /* kappa = |drawn| */
    }
    else if ((how & 3) == 1) {
        *lam_max = *lam_min;
    }
}

/* The status uba.h gives a curvature range (UBA_OK if it is valid). */
static uba_status
range_status(double lam_min, double lam_max)
{
    if (!(isfinite(lam_min) && lam_min > 0.0)) {
        return UBA_E_LAM_MIN;
    }
    if (!(isfinite(lam_max) && lam_max >= lam_min)) {
        return UBA_E_LAM_MAX;
    }
    if (!isfinite(1.0 / lam_min) || !isfinite(2.0 * (lam_max / lam_min))) {
        return UBA_E_CURVATURE;
    }
    return UBA_OK;
}

static int
nonnegative(double x)
{
    return isfinite(x) && x >= 0.0;
}

/* n step sizes: arbitrary doubles, or q * scale with q in [0, 2) (steps
 * around a condition's edge, e.g. scale = 1/L or 1/lam_max). */
/* 1/x, or 1 for x == 0 (the harness runs with float-divide-by-zero). */
static double
inverse(double x)
{
    return x != 0.0 ? 1.0 / x : 1.0;
}

static double *
take_lrs(input *in, size_t n, double scale)
{
    double *lrs = malloc((n > 0 ? n : 1) * sizeof *lrs);
    REQUIRE(lrs != NULL);
    for (size_t i = 0; i < n; i++) {
        const uint8_t how = take_byte(in);
        lrs[i] = (how & 1) ? take_double(in) : scale * ((how >> 1) / 64.0);
    }
    return lrs;
}

static double *
copy_of(const double *a, size_t n)
{
    double *c = malloc((n > 0 ? n : 1) * sizeof *c);
    REQUIRE(c != NULL);
    memcpy(c, a, n * sizeof *a);
    return c;
}

/* The status of a per-entry check of lrs: the first entry that is not
 * finite gives E_LRS, the first outside the range the other status; the
 * index of that entry goes to *first. */
typedef int (*entry_ok)(double e, double arg);

static uba_status
entries_status(const double *lrs, size_t n, entry_ok ok, double arg,
               uba_status range_code, size_t *first)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(lrs[i])) {
            *first = i;
            return UBA_E_LRS;
        }
        if (!ok(lrs[i], arg)) {
            *first = i;
            return range_code;
        }
    }
    return UBA_OK;
}

static int
within_eta_lam(double e, double lam_max)
{
    return fabs(e) * lam_max <= UBA_MAX_ETA_LAM;
}

static int
within_step_limit(double e, double limit)
{
    return e >= 0.0 && e <= limit;
}

/* a <= b within a relative tolerance (for sums of logs). */
static int
at_most(double a, double b, double rel)
{
    return a <= b + rel * (1.0 + fabs(b));
}

static double
log_add(double a, double b)
{
    if (a < b) {
        const double t = a;
        a = b;
        b = t;
    }
    if (b == -D_INF) {
        return a;
    }
    return a + log1p(exp(b - a));
}

/* log of the noisy-quadratic error at lam, term by term in the log. */
static double
ref_log_noisy(const double *lrs, size_t n, double lam, double sigma2)
{
    double v = 0.0;
    for (size_t t = 0; t < n; t++) {
        const double f = fma(-lrs[t], lam, 1.0);
        v = 2.0 * log(fabs(f)) + v;
        if (sigma2 > 0.0 && lrs[t] != 0.0) {
            v = log_add(v, log(sigma2) + 2.0 * log(fabs(lrs[t])));
        }
    }
    return v;
}

static void
fuzz_chebyshev(input *in)
{
    size_t T = take_size(in);
    double lam_min, lam_max;
    take_lam_range(in, &lam_min, &lam_max);
    const uint8_t flags = take_byte(in);
    const size_t T2 = take_size(in);  /* for the log residual, below */
    const int null_out = (flags & 15) == 0;
    uba_status expected = !valid_budget_size(T) ? UBA_E_T
                                                : range_status(lam_min,
                                                               lam_max);
    REQUIRE(uba_chebyshev_check(T, lam_min, lam_max) == expected);
    if (expected == UBA_OK && null_out) {
        expected = UBA_E_NULL;
    }
    if (expected == UBA_OK && T > MAX_CHEB_T) {
        T = 1 + T % MAX_CHEB_T;
    }
    /* The buffer: T doubles when the call may write (ASan sees an
     * overrun), else a few. */
    const size_t len = expected == UBA_OK ? T : 4;
    double *out = malloc(len * sizeof *out);
    REQUIRE(out != NULL);
    for (size_t i = 0; i < len; i++) {
        out[i] = -9.0;
    }
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    CONTEXT("uba_chebyshev_steps(T=%zu, lam_min=%a, lam_max=%a, flags=%u, "
            "hook=%u)", T, lam_min, lam_max, (unsigned)flags,
            hook ? h.stop_at : 99u);
    const uba_status s = uba_chebyshev_steps(T, lam_min, lam_max,
                                             null_out ? NULL : out, hook);
    REQUIRE(s == hooked_status(s, expected, UBA_OK, 1, hook, &h));
    if (s != UBA_OK && s != UBA_E_INTERRUPTED) {
        for (size_t i = 0; i < len; i++) {
            REQUIRE(same_bits(out[i], -9.0));
        }
    }
    else if (s == UBA_OK) {
        const double hi = 1.0 / lam_min, lo = 1.0 / lam_max;
        for (size_t k = 0; k < T; k++) {
            REQUIRE(isfinite(out[k]) && out[k] > 0.0);
            /* in [1/lam_max, 1/lam_min] (to rounding), never rising, and
             * exactly 1/lam_min when the range is one point */
            REQUIRE(out[k] <= hi * (1.0 + 4 * DBL_EPSILON));
            REQUIRE(out[k] >= lo * (1.0 - 4 * DBL_EPSILON)
                    - 2 * 4.9406564584124654e-324);  /* lo may be subnormal */
            if (k > 0) {
                REQUIRE(out[k] <= out[k - 1]);
            }
            if (lam_min == lam_max) {
                REQUIRE(same_bits(out[k], hi));
            }
        }
    }
    /* The log residual: O(1), so any valid T at all. */
    double lr = 5.0;
    const int null_lr = (flags & 0xf0) == 0;
    uba_status e2 = !valid_budget_size(T2) ? UBA_E_T
                                           : range_status(lam_min, lam_max);
    if (e2 == UBA_OK && null_lr) {
        e2 = UBA_E_NULL;
    }
    CONTEXT("uba_chebyshev_log_residual(T=%zu, lam_min=%a, lam_max=%a, "
            "flags=%u)", T2, lam_min, lam_max, (unsigned)flags);
    const uba_status s2 = uba_chebyshev_log_residual(T2, lam_min, lam_max,
                                                     null_lr ? NULL : &lr);
    REQUIRE(s2 == e2);
    if (s2 != UBA_OK) {
        REQUIRE(same_bits(lr, 5.0));
    }
    else if (lam_min == lam_max) {
        REQUIRE(lr == -D_INF);
    }
    else {
        /* 1/T_T(x) is in (0, 1]: its log is finite and <= 0 */
        REQUIRE(isfinite(lr) && lr <= 4 * DBL_EPSILON);
    }
    free(out);
}

static void
fuzz_phi_kappa(input *in)
{
    const double kappa = take_double(in), phi = take_double(in);
    const uint8_t flags = take_byte(in);
    double got = 77.0;
    CONTEXT("uba_phi_from_kappa(kappa=%a, flags=%u)", kappa,
            (unsigned)flags);
    uba_status s = uba_phi_from_kappa(kappa, (flags & 1) ? NULL : &got);
    if (!(isfinite(kappa) && kappa >= 1.0 && isfinite(2.0 * kappa))) {
        REQUIRE(s == UBA_E_KAPPA);
    }
    else if (flags & 1) {
        REQUIRE(s == UBA_E_NULL);
    }
    else {
        REQUIRE(s == UBA_OK && same_bits(got, 2.0 * kappa));
        double back = 0.0;
        REQUIRE(uba_kappa_from_phi(got, &back) == UBA_OK);
        REQUIRE(same_bits(back, kappa));
    }
    if (s != UBA_OK) {
        REQUIRE(same_bits(got, 77.0));
    }
    got = 77.0;
    CONTEXT("uba_kappa_from_phi(phi=%a, flags=%u)", phi, (unsigned)flags);
    s = uba_kappa_from_phi(phi, (flags & 2) ? NULL : &got);
    if (!(isfinite(phi) && phi >= 2.0)) {
        REQUIRE(s == UBA_E_PHI_KAPPA);
    }
    else if (flags & 2) {
        REQUIRE(s == UBA_E_NULL);
    }
    else {
        REQUIRE(s == UBA_OK && same_bits(got, 0.5 * phi));
        REQUIRE(isfinite(got) && got >= 1.0);
    }
    if (s != UBA_OK) {
        REQUIRE(same_bits(got, 77.0));
    }
}

static void
fuzz_curvature_params(input *in)
{
    double lam_min, lam_max;
    take_lam_range(in, &lam_min, &lam_max);
    const uint8_t flags = take_byte(in);
    double v[3] = {11.0, 12.0, 13.0};
    const int which_null = (flags & 3) == 0 ? (flags >> 2) % 3 : -1;
    CONTEXT("uba_curvature_params(lam_min=%a, lam_max=%a, flags=%u)",
            lam_min, lam_max, (unsigned)flags);
    const uba_status s = uba_curvature_params(
        lam_min, lam_max, which_null == 0 ? NULL : &v[0],
        which_null == 1 ? NULL : &v[1], which_null == 2 ? NULL : &v[2]);
    uba_status expected = range_status(lam_min, lam_max);
    if (expected == UBA_OK && which_null >= 0) {
        expected = UBA_E_NULL;
    }
    REQUIRE(s == expected);
    if (s != UBA_OK) {
        REQUIRE(same_bits(v[0], 11.0) && same_bits(v[1], 12.0)
                && same_bits(v[2], 13.0));
        return;
    }
    REQUIRE(same_bits(v[0], 1.0 / lam_min));
    REQUIRE(same_bits(v[1], 1.0 / lam_max));
    REQUIRE(same_bits(v[2], 2.0 * (lam_max / lam_min)));
    REQUIRE(isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]));
    REQUIRE(v[2] >= 2.0);
}

/* The workspace-size functions, for any n or T. */
static void
check_work_sizes(size_t n)
{
    const size_t w = uba_worst_case_work_size(n);
    CONTEXT("uba_worst_case_work_size(n=%zu) = %zu", n, w);
    REQUIRE(w >= 85);
    if (w != SIZE_MAX) {
        /* "at least 4n + 24,576 and at most about 12n + 24,576" */
        REQUIRE((w - 24576) / 4 >= n && w >= 24576);
        if (n <= SIZE_MAX / 16) {
            REQUIRE(w <= 12 * n + 24576 + 86);
        }
    }
    else {
        REQUIRE(n > SIZE_MAX / 12);  /* SIZE_MAX only on overflow */
    }
    if (n < SIZE_MAX) {
        REQUIRE(uba_worst_case_work_size(n + 1) >= w);  /* monotone */
    }
    const size_t o = uba_optimal_phi_work_size(n);
    CONTEXT("uba_optimal_phi_work_size(T=%zu) = %zu", n, o);
    REQUIRE(o >= n && o > 0);
    if (w == SIZE_MAX) {
        REQUIRE(o == SIZE_MAX);  /* overflow is reported, not wrapped */
    }
}

/* A workspace of exactly `len` doubles (ASan catches any write past it). */
static double *
workspace(size_t len)
{
    double *w = malloc((len > 0 ? len : 1) * sizeof *w);
    REQUIRE(w != NULL);
    for (size_t i = 0; i < len; i++) {
        w[i] = D_NAN;  /* a workspace is output only: garbage in */
    }
    return w;
}

/* The workspace length to pass: exact, one short, zero, or generous. */
static size_t
work_length(uint8_t how, size_t need)
{
    switch (how & 3) {
    case 0:
    case 1:
        return need;
    case 2:
        return need - 1;
    default:
        return (how & 4) ? 0 : need + (how >> 3);
    }
}

/* uba_worst_case_residual and uba_worst_case_noisy_error (noisy != 0). */
static void
fuzz_worst_case(input *in, int noisy)
{
    check_work_sizes(take_size(in));
    double lam_min, lam_max;
    take_lam_range(in, &lam_min, &lam_max);
    const double sigma2 = noisy ? take_double(in) : 0.0;
    const uint8_t flags = take_byte(in), whow = take_byte(in);
    const size_t cap = noisy ? MAX_NOISY_N : MAX_WC_N;
    const size_t n = take_byte(in) % (cap + 1);
    double *lrs = take_lrs(in, n, inverse(lam_max));
    double *copy = copy_of(lrs, n);
    const size_t need = uba_worst_case_work_size(n);
    const size_t wlen = work_length(whow, need);
    double *work = workspace(wlen);
    /* bits 0-2: one NULL pointer (lrs, work, result, lam_at, bad) */
    const int which_null = (flags & 7) < 5 ? -1 : (flags >> 3) % 5;
    double result = 3.0, lam_at = 4.0;
    size_t bad = (size_t)-1;
    CONTEXT("%s(n=%zu, lam_min=%a, lam_max=%a, sigma2=%a, work_len=%zu "
            "of %zu, flags=%u, lrs[0]=%a)", noisy ? "uba_worst_case_noisy_error"
            : "uba_worst_case_residual", n, lam_min, lam_max, sigma2, wlen,
            need, (unsigned)flags, n > 0 ? lrs[0] : 0.0);
    const double *a_lrs = which_null == 0 ? NULL : lrs;
    double *a_work = which_null == 1 ? NULL : work;
    double *a_res = which_null == 2 ? NULL : &result;
    double *a_at = which_null == 3 ? NULL : &lam_at;
    size_t *a_bad = which_null == 4 ? NULL : &bad;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    const uba_status s = noisy
        ? uba_worst_case_noisy_error(a_lrs, n, lam_min, lam_max, sigma2,
                                     a_work, wlen, a_res, a_at, a_bad, hook)
        : uba_worst_case_residual(a_lrs, n, lam_min, lam_max, a_work, wlen,
                                  a_res, a_at, a_bad, hook);
    size_t first = n;
    uba_status expected = range_status(lam_min, lam_max);
    if (expected == UBA_OK && noisy && !nonnegative(sigma2)) {
        expected = UBA_E_SIGMA2;
    }
    if (expected == UBA_OK && n == 0) {
        expected = UBA_E_LRS_EMPTY;
    }
    REQUIRE(uba_worst_case_check(n, lam_min, lam_max, sigma2) == expected);
    if (expected == UBA_OK) {
        if (which_null >= 0 && which_null <= 2) {
            expected = UBA_E_NULL;
        }
        else if (wlen < need) {
            expected = UBA_E_WORKSPACE;
        }
        else {
            expected = entries_status(copy, n, within_eta_lam, lam_max,
                                      UBA_E_LRS_RANGE, &first);
        }
    }
    REQUIRE(s == hooked_status(s, expected, UBA_OK, 1, hook, &h));
    REQUIRE(memcmp(lrs, copy, n * sizeof *lrs) == 0);  /* lrs is const */
    if (s == UBA_E_LRS || s == UBA_E_LRS_RANGE) {
        REQUIRE(which_null == 4 || bad == first);
    }
    else {
        REQUIRE(bad == (size_t)-1);
    }
    if (s != UBA_OK) {
        REQUIRE(same_bits(result, 3.0) && same_bits(lam_at, 4.0));
    }
    else {
        /* -inf only for an exact zero, which needs lam_min == lam_max */
        REQUIRE(isfinite(result) || (result == -D_INF && lam_min == lam_max));
        if (which_null != 3) {
            REQUIRE(lam_at >= lam_min && lam_at <= lam_max);
        }
        else {
            REQUIRE(same_bits(lam_at, 4.0));
        }
        /* the maximum is at least the value at either end */
        const double fa = noisy ? ref_log_noisy(copy, n, lam_min, sigma2)
                                : 0.5 * ref_log_noisy(copy, n, lam_min, 0.0);
        const double fb = noisy ? ref_log_noisy(copy, n, lam_max, sigma2)
                                : 0.5 * ref_log_noisy(copy, n, lam_max, 0.0);
        REQUIRE(at_most(fa, result, 1e-9) || fa == -D_INF);
        REQUIRE(at_most(fb, result, 1e-9) || fb == -D_INF);
        if (noisy && sigma2 == 0.0) {
            /* exactly twice the log residual */
            double r = 0.0;
            REQUIRE(uba_worst_case_residual(copy, n, lam_min, lam_max, work,
                                            wlen, &r, NULL, NULL, NULL) == UBA_OK);
            REQUIRE(same_bits(result, 2.0 * r));
        }
    }
    free(lrs);
    free(copy);
    free(work);
}

static int
sum_fits(long double x)
{
    return x <= (long double)DBL_MAX * 0.5L;
}

/* |got - want| small relative to want (want in double range). */
static int
close_to(double got, long double want, long double rel)
{
    if (want > (long double)DBL_MAX) {
        return isinf(got) || (long double)got >= (long double)DBL_MAX
            * (1.0L - rel);
    }
    const long double err = fabsl((long double)got - want);
    return err <= rel * want + 0x1p-1000L;
}

/* Bounds (a), (b), (c): kind 0, 1, 2. */
static void
fuzz_bound(input *in, int kind)
{
    const double L = take_double(in);
    double mu = kind == 2 ? take_double(in) : 0.0;
    const double sigma2 = take_double(in), gap = take_double(in);
    const uint8_t flags = take_byte(in);
    if (kind == 2 && (flags & 0x40) && isfinite(L)) {
        mu = L * (fabs(mu) / (1.0 + fabs(mu)));  /* a mu in [0, L] */
    }
    const size_t n = take_byte(in) % (MAX_BOUND_N + 1);
    double *lrs = take_lrs(in, n, inverse(L));
    double *copy = copy_of(lrs, n);
    const int null_lrs = (flags & 7) == 1, null_out = (flags & 7) == 2;
    const int null_bad = (flags & 0x08) != 0;
    double bound = 6.0;
    size_t bad = (size_t)-1;
    static const char *const names[] = {
        "uba_bound_nonconvex", "uba_bound_convex", "uba_bound_strongly_convex"
    };
    CONTEXT("%s(n=%zu, mu=%a, L=%a, sigma2=%a, gap=%a, flags=%u, "
            "lrs[0]=%a)", names[kind], n, mu, L, sigma2, gap,
            (unsigned)flags, n > 0 ? lrs[0] : 0.0);
    const double *a_lrs = null_lrs ? NULL : lrs;
    double *a_out = null_out ? NULL : &bound;
    size_t *a_bad = null_bad ? NULL : &bad;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    uba_status s;
    if (kind == 0) {
        s = uba_bound_nonconvex(a_lrs, n, L, sigma2, gap, a_out, a_bad, hook);
    }
    else if (kind == 1) {
        s = uba_bound_convex(a_lrs, n, L, sigma2, gap, a_out, a_bad, hook);
    }
    else {
        s = uba_bound_strongly_convex(a_lrs, n, mu, L, sigma2, gap, a_out,
                                      a_bad, hook);
    }
    /* the oracle, in the order uba.h lists */
    /* 1/(2L), 1/L */
    const double limit = (kind == 1 ? 0.5 : 1.0) * inverse(L);
    size_t first = n;
    uba_status expected = UBA_OK, during = UBA_OK;
    if (!(isfinite(L) && L > 0.0)) {
        expected = UBA_E_L;
    }
    else if (kind == 2 && !(isfinite(mu) && mu > 0.0 && mu <= L)) {
        expected = UBA_E_MU;
    }
    else if (!nonnegative(sigma2)) {
        expected = UBA_E_SIGMA2;
    }
    else if (!nonnegative(gap)) {
        expected = kind == 1 ? UBA_E_DIST2 : UBA_E_F_GAP;
    }
    else if (n == 0) {
        expected = UBA_E_LRS_EMPTY;
    }
    else if (null_lrs || null_out) {
        expected = UBA_E_NULL;
    }
    else {
        /* the entries are checked as the work reaches them */
        during = entries_status(copy, n, within_step_limit, limit,
                                UBA_E_STEP_CONDITION, &first);
        if (during == UBA_OK && kind != 2) {
            int any = 0;
            for (size_t i = 0; i < n; i++) {
                any |= copy[i] > 0.0;
            }
            if (!any) {
                during = UBA_E_LRS_ZERO;
            }
        }
    }
    REQUIRE(s == hooked_status(s, expected, during, 1, hook, &h));
    REQUIRE(memcmp(lrs, copy, n * sizeof *lrs) == 0);
    if (s == UBA_E_LRS || s == UBA_E_STEP_CONDITION) {
        REQUIRE(null_bad || bad == first);
    }
    else {
        REQUIRE(bad == (size_t)-1);
    }
    if (s != UBA_OK) {
        REQUIRE(same_bits(bound, 6.0));
    }
    else {
        REQUIRE(!isnan(bound) && bound >= 0.0);
        /* the formula of uba.h in long double (wider exponent range) */
        long double want;
        if (kind < 2) {
            long double s1 = 0.0L, s2 = 0.0L;
            for (size_t i = 0; i < n; i++) {
                s1 += (long double)copy[i];
                s2 += (long double)copy[i] * (long double)copy[i];
            }
            want = kind == 0
                ? (2.0L * (long double)gap + (long double)L * (long double)sigma2 * s2) / s1
                : ((long double)gap + (long double)sigma2 * s2) / s1;
        }
        else {
            want = (long double)gap;
            for (size_t i = 0; i < n; i++) {
                const long double e = (long double)copy[i];
                /* 1 - mu eta with one rounding: near mu eta = 1 it is
                 * tiny, and a long double product would not be exact */
                const double f1 = fma(-mu, copy[i], 1.0);
                const long double f = f1 < 0.0 ? 0.0L : (long double)f1;
                want = f * want
                    + 0.5L * (long double)sigma2 * (long double)L * e * e;
            }
        }
        const size_t len = strlen(context);
        snprintf(context + len, sizeof context - len, " = %a, want %La",
                 bound, want);
        if (sum_fits(want)) {
            REQUIRE(isfinite(bound));
        }
        REQUIRE(close_to(bound, want, 1e-9L));
    }
    free(lrs);
    free(copy);
}

/* Grid points of the phi minimisers' scan (3 per decade, at least 3). */
static double
phi_grid_points(double phi_lo, double phi_hi)
{
    return fmax(3.0, ceil(3.0 * (log(phi_hi) - log(phi_lo)) / log(10.0))
                + 1.0);
}

static int
valid_phi_range(double lo, double hi)
{
    return isfinite(lo) && isfinite(hi) && lo > 0.0 && lo < hi;
}

/* The workspace length of a call that passes its other checks, whose work
 * is T^k steps: a short one (1 in 8: any T, the call must fail first), or
 * one `whow` picks after T is folded into [1, cap] (*T and *need updated,
 * need = size_of(T)), so that the call runs briefly. */
static size_t
fold_budget(uint8_t whow, size_t cap, size_t (*size_of)(size_t), size_t *T,
            size_t *need)
{
    if ((whow & 3) == 2 && (whow & 4)) {
        return *T > cap ? 64 : *need - 1;  /* short: any T */
    }
    if (*T > cap) {
        *T = 1 + *T % cap;
        *need = size_of(*T);
    }
    return work_length(whow, *need);
}

static void
fuzz_optimal_phi(input *in)
{
    size_t T = take_size(in);
    double lam_min, lam_max;
    take_lam_range(in, &lam_min, &lam_max);
    const double sigma2 = take_double(in);
    double eta_max = take_double(in), eta_min = take_double(in);
    const double phi_lo = take_double(in), phi_hi = take_double(in);
    const uint8_t flags = take_byte(in), whow = take_byte(in);
    if ((flags & 0x30) == 0x10 && isfinite(lam_min) && lam_min > 0.0) {
        eta_max = 1.0 / lam_min;  /* the curvature parameters */
        eta_min = inverse(lam_max);
    }
    else if ((flags & 0x30) == 0x20) {
        eta_min = eta_max;       /* a constant schedule */
    }
    const int which_null = (flags & 7) < 5 ? -1 : (flags >> 6) % 3;
    uba_status expected = UBA_OK;
    if (!valid_budget_size(T)) {
        expected = UBA_E_T;
    }
    else if ((expected = range_status(lam_min, lam_max)) != UBA_OK) {
    }
    else if (!nonnegative(sigma2)) {
        expected = UBA_E_SIGMA2;
    }
    else if (!isfinite(eta_max)) {
        expected = UBA_E_ETA_MAX;
    }
    else if (!isfinite(eta_min)) {
        expected = UBA_E_ETA_MIN;
    }
    else if (!(fabs(eta_max) * lam_max <= 0.5 * UBA_MAX_ETA_LAM
               && fabs(eta_min) * lam_max <= 0.5 * UBA_MAX_ETA_LAM)) {
        expected = UBA_E_ETA_RANGE;
    }
    else if (!valid_phi_range(phi_lo, phi_hi)) {
        expected = UBA_E_PHI_RANGE;
    }
    REQUIRE(uba_optimal_phi_check(T, lam_min, lam_max, sigma2, eta_max,
                                  eta_min, phi_lo, phi_hi) == expected);
    REQUIRE(uba_phi_range_check(phi_lo, phi_hi)
            == (valid_phi_range(phi_lo, phi_hi) ? UBA_OK : UBA_E_PHI_RANGE));
    if (expected == UBA_OK && which_null >= 0) {
        expected = UBA_E_NULL;
    }
    /* Keep the run short: T^2 * grid points <= OPT_PHI_BUDGET, unless the
     * workspace is to be short (then any valid T: the call must fail). */
    size_t need = uba_optimal_phi_work_size(T);
    size_t wlen;
    if (expected == UBA_OK) {
        const double pts = phi_grid_points(phi_lo, phi_hi);
        size_t cap = (size_t)sqrt(OPT_PHI_BUDGET / pts);
        cap = cap < 1 ? 1 : cap;
        wlen = fold_budget(whow, cap, uba_optimal_phi_work_size, &T, &need);
        if (wlen < need) {
            expected = UBA_E_WORKSPACE;
        }
    }
    else {
        wlen = work_length(whow, T <= 64 ? need : 64);
    }
    double *work = workspace(wlen);
    double phi = 8.0, obj = 9.0;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    CONTEXT("uba_optimal_phi(T=%zu, lam_min=%a, lam_max=%a, sigma2=%a, "
            "eta_max=%a, eta_min=%a, phi_lo=%a, phi_hi=%a, work_len=%zu of "
            "%zu, flags=%u)", T, lam_min, lam_max, sigma2, eta_max, eta_min,
            phi_lo, phi_hi, wlen, need, (unsigned)flags);
    const uba_status s = uba_optimal_phi(T, lam_min, lam_max, sigma2,
                                         eta_max, eta_min, phi_lo, phi_hi,
                                         which_null == 0 ? NULL : work, wlen,
                                         which_null == 1 ? NULL : &phi,
                                         which_null == 2 ? NULL : &obj, hook);
    REQUIRE(s == hooked_status(s, expected, UBA_OK, 1, hook, &h));
    if (s != UBA_OK) {
        REQUIRE(same_bits(phi, 8.0) && same_bits(obj, 9.0));
    }
    else {
        REQUIRE(isfinite(obj));
        if (eta_max == eta_min) {
            REQUIRE(same_bits(phi, 2.0 * (lam_max / lam_min)));
        }
        else {
            REQUIRE(phi >= phi_lo && phi <= phi_hi);
        }
    }
    free(work);
}

static void
fuzz_optimal_phi_sc(input *in)
{
    size_t T = take_size(in);
    const double L = take_double(in);
    double mu = take_double(in);
    const double sigma2 = take_double(in), f_gap = take_double(in);
    double eta_max = take_double(in);
    const double phi_lo = take_double(in), phi_hi = take_double(in);
    const uint8_t flags = take_byte(in);
    if ((flags & 0x10) && isfinite(L)) {
        mu = L * fabs(mu) / (1.0 + fabs(mu));
    }
    if ((flags & 0x20) && isfinite(L) && L > 0.0) {
        eta_max = (1.0 / L) * ((flags >> 6) + 1) / 4.0;  /* up to 1/L */
    }
    const int which_null = (flags & 7) == 1 ? 0 : ((flags & 7) == 2 ? 1 : -1);
    uba_status expected = UBA_OK;
    if (!valid_budget_size(T)) {
        expected = UBA_E_T;
    }
    else if (!(isfinite(L) && L > 0.0)) {
        expected = UBA_E_L;
    }
    else if (!(isfinite(mu) && mu > 0.0 && mu <= L)) {
        expected = UBA_E_MU;
    }
    else if (!nonnegative(sigma2)) {
        expected = UBA_E_SIGMA2;
    }
    else if (!nonnegative(f_gap)) {
        expected = UBA_E_F_GAP;
    }
    else if (!(isfinite(eta_max) && eta_max > 0.0 && eta_max <= 1.0 / L)) {
        expected = UBA_E_ETA_MAX_L;
    }
    else if (!valid_phi_range(phi_lo, phi_hi)) {
        expected = UBA_E_PHI_RANGE;
    }
    else if (which_null >= 0) {
        expected = UBA_E_NULL;
    }
    if (expected == UBA_OK) {
        /* O(T) per trial: T * grid points <= OPT_SC_BUDGET */
        const double pts = phi_grid_points(phi_lo, phi_hi);
        const size_t cap = (size_t)fmax(1.0, OPT_SC_BUDGET / (pts + 200.0));
        if (T > cap) {
            T = 1 + T % cap;
        }
    }
    double phi = 8.0, bound = 9.0;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    CONTEXT("uba_optimal_phi_strongly_convex(T=%zu, mu=%a, L=%a, sigma2=%a, "
            "f_gap=%a, eta_max=%a, phi_lo=%a, phi_hi=%a, flags=%u)", T, mu,
            L, sigma2, f_gap, eta_max, phi_lo, phi_hi, (unsigned)flags);
    const uba_status s = uba_optimal_phi_strongly_convex(
        T, mu, L, sigma2, f_gap, eta_max, phi_lo, phi_hi,
        which_null == 0 ? NULL : &phi, which_null == 1 ? NULL : &bound, hook);
    REQUIRE(s == hooked_status(s, expected, UBA_OK,
                               f_gap != 0.0 || sigma2 != 0.0, hook, &h));
    if (s != UBA_OK) {
        REQUIRE(same_bits(phi, 8.0) && same_bits(bound, 9.0));
        return;
    }
    REQUIRE(phi >= phi_lo && phi <= phi_hi);
    REQUIRE(!isnan(bound) && bound >= 0.0);
    if (f_gap == 0.0 && sigma2 == 0.0) {
        REQUIRE(same_bits(phi, phi_lo) && bound == 0.0);
        return;
    }
    /* bound (c) is at most f_gap + (sigma2 / (2 L)) T: finite if that is */
    if (sum_fits((long double)f_gap
                 + 0.5L * (long double)sigma2 / (long double)L
                 * (long double)T)) {
        REQUIRE(isfinite(bound));
    }
}

/* ---- the noisy quadratic over a spectrum (noisy_quadratic.c,
 *      choose_phi.c) ------------------------------------------------------ */

/* Directions one input may ask for (two lane groups and a part), and the
 * work of a choose_phi call: evaluations * T * padded directions. */
#define MAX_SPECTRUM 40
#define CHOOSE_BUDGET 2000000.0

/* A spectrum, its arrays exactly as long as passed (ASan sees overruns),
 * and how it was drawn. */
typedef struct fz_spectrum {
    uba_spectrum sp;
    double *arrays[4];
    uba_status status;  /* what uba.h's checks give it                    */
    size_t bad;         /* the entry the status is about                  */
    double lam_max;     /* the largest eigenvalue when valid              */
} fz_spectrum;

/* n values: arbitrary doubles, or k^-p style positives, or zeros. */
static double *
take_values(input *in, size_t n, uint8_t how)
{
    double *a = malloc((n > 0 ? n : 1) * sizeof *a);
    REQUIRE(a != NULL);
    for (size_t i = 0; i < n; i++) {
        switch ((how >> 4) % 4) {
        case 0:
            a[i] = take_double(in);
            break;
        case 1:
            a[i] = pow((double)(i + 1), -(double)(take_byte(in) % 4));
            break;
        case 2:
            a[i] = (double)take_byte(in) / 64.0;
            break;
        default:
            a[i] = (take_byte(in) & 1) ? take_double(in) : 0.5;
            break;
        }
    }
    return a;
}

/* The length of a broadcast argument: 1, n, or a wrong one. */
static size_t
take_length(uint8_t how, size_t n)
{
    switch (how % 8) {
    case 0:
    case 1:
    case 2:
        return 1;
    case 3:
    case 4:
    case 5:
        return n;
    case 6:
        return n + 1;
    default:
        return n > 1 ? n - 1 : 0;
    }
}

/* The first entry of a[0..count) that is not finite and >= 0, or count. */
static size_t
first_negative(const double *a, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!nonnegative(a[i])) {
            return i;
        }
    }
    return count;
}

static void
take_spectrum(input *in, fz_spectrum *f)
{
    const uint8_t shape = take_byte(in);
    const size_t n = take_byte(in) % (MAX_SPECTRUM + 1);
    const uint8_t hw = take_byte(in), hs = take_byte(in), hv = take_byte(in);
    const uint8_t he = take_byte(in);
    const int no_weights = (hw & 8) != 0;
    const size_t counts[4] = {n, no_weights ? 0 : take_length(hw, n),
                              take_length(hs, n), take_length(hv, n)};
    const uint8_t hows[4] = {he, hw, hs, hv};
    for (int i = 0; i < 4; i++) {
        f->arrays[i] = take_values(in, counts[i], hows[i]);
    }
    f->sp.eigenvalues = (shape & 7) == 1 ? NULL : f->arrays[0];
    f->sp.n = n;
    f->sp.weights = no_weights ? NULL : f->arrays[1];
    f->sp.n_weights = counts[1];
    f->sp.start = (shape & 7) == 2 ? NULL : f->arrays[2];
    f->sp.n_start = counts[2];
    f->sp.noise = f->arrays[3];
    f->sp.n_noise = counts[3];
    /* the oracle, in uba.h's order */
    f->bad = (size_t)-1;
    f->lam_max = 0.0;
    if (n == 0) {
        f->status = UBA_E_EIGENVALUES_EMPTY;
    }
    else if (!no_weights && counts[1] != 1 && counts[1] != n) {
        f->status = UBA_E_WEIGHTS_LENGTH;
    }
    else if (counts[2] != 1 && counts[2] != n) {
        f->status = UBA_E_START_LENGTH;
    }
    else if (counts[3] != 1 && counts[3] != n) {
        f->status = UBA_E_NOISE_LENGTH;
    }
    else if (f->sp.eigenvalues == NULL || f->sp.start == NULL) {
        f->status = UBA_E_NULL;
    }
    else {
        static const uba_status entry[4] = {UBA_E_EIGENVALUES, UBA_E_WEIGHTS,
                                            UBA_E_START, UBA_E_NOISE};
        f->status = UBA_OK;
        for (int i = 0; i < 4 && f->status == UBA_OK; i++) {
            const size_t k = first_negative(f->arrays[i], counts[i]);
            if (k < counts[i]) {
                f->status = entry[i];
                f->bad = k;
            }
        }
        for (size_t k = 0; k < n && f->status == UBA_OK; k++) {
            f->lam_max = upper(f->lam_max, f->arrays[0][k]);
        }
    }
}

static void
free_spectrum(fz_spectrum *f)
{
    for (int i = 0; i < 4; i++) {
        free(f->arrays[i]);
    }
}

/* The loss in long double, direction by direction (1 - eta lam by fmal:
 * the exact product, rounded once). */
static long double
ref_expected_loss(const double *lrs, size_t n, const uba_spectrum *sp)
{
    long double total = 0;
    for (size_t k = 0; k < sp->n; k++) {
        const long double lam = (long double)sp->eigenvalues[k];
        const long double v = (long double)sp->noise[sp->n_noise == 1 ? 0 : k];
        long double m = (long double)sp->start[sp->n_start == 1 ? 0 : k];
        for (size_t t = 0; t < n; t++) {
            const long double e = (long double)lrs[t];
            const long double f = fmal(-e, lam, 1.0L);
            m = f * f * m + e * e * v;
        }
        const long double w = sp->weights == NULL
            ? 1 : (long double)sp->weights[sp->n_weights == 1 ? 0 : k];
        total += 0.5L * w * lam * m;
    }
    return total;
}

static void
fuzz_expected_loss(input *in)
{
    fz_spectrum f;
    take_spectrum(in, &f);
    const uint8_t flags = take_byte(in), whow = take_byte(in);
    const size_t n = take_byte(in) % (MAX_N + 1);
    double *lrs = take_lrs(in, n, inverse(f.lam_max));
    double *copy = copy_of(lrs, n);
    const size_t need = uba_expected_loss_work_size(n);
    const size_t wlen = need == 0 ? 0 : work_length(whow, need);  /* no -1 */
    double *work = workspace(wlen);
    /* one NULL pointer: lrs, work, loss, the spectrum, stability, bad */
    const int which_null = (flags & 7) < 4 ? -1 : (flags >> 3) % 6;
    double loss = 3.0, stability = 4.0;
    size_t bad = (size_t)-1;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    CONTEXT("uba_expected_loss(n=%zu, d=%zu, counts=%zu/%zu/%zu, work_len=%zu "
            "of %zu, flags=%u, lrs[0]=%a)", n, f.sp.n, f.sp.n_weights,
            f.sp.n_start, f.sp.n_noise, wlen, need, (unsigned)flags,
            n > 0 ? lrs[0] : 0.0);
    const uba_status s = uba_expected_loss(
        which_null == 0 ? NULL : lrs, n, which_null == 3 ? NULL : &f.sp,
        which_null == 1 ? NULL : work, wlen, which_null == 2 ? NULL : &loss,
        which_null == 4 ? NULL : &stability, which_null == 5 ? NULL : &bad,
        hook);
    size_t first = n;
    uba_status before = UBA_OK, during = UBA_OK;
    if (n == 0) {
        before = UBA_E_LRS_EMPTY;
    }
    else if (which_null == 3) {
        before = UBA_E_NULL;
    }
    else if (f.status != UBA_OK) {
        before = f.status;
    }
    /* the checks before the workspace: the _check function gives them */
    size_t check_bad = (size_t)-1;
    REQUIRE(uba_expected_loss_check(n, which_null == 3 ? NULL : &f.sp,
                                    &check_bad) == before);
    REQUIRE(check_bad == (before == f.status && before != UBA_OK
                          ? f.bad : (size_t)-1));
    if (before != UBA_OK) {
    }
    else if (which_null >= 0 && which_null <= 2) {
        before = UBA_E_NULL;
    }
    else if (wlen < need) {
        before = UBA_E_WORKSPACE;
    }
    else {
        during = entries_status(copy, n, within_eta_lam, f.lam_max,
                                UBA_E_LRS_RANGE, &first);
    }
    REQUIRE(s == hooked_status(s, before, during, 1, hook, &h));
    REQUIRE(memcmp(lrs, copy, n * sizeof *lrs) == 0);  /* lrs is const */
    if (which_null != 5) {
        if (s == UBA_E_LRS || s == UBA_E_LRS_RANGE) {
            REQUIRE(bad == first);
        }
        else if (s == f.status && f.bad != (size_t)-1 && s != UBA_OK) {
            REQUIRE(bad == f.bad);
        }
        else {
            REQUIRE(bad == (size_t)-1);
        }
    }
    if (s != UBA_OK) {
        REQUIRE(same_bits(loss, 3.0) && same_bits(stability, 4.0));
    }
    else {
        REQUIRE(!isnan(loss) && loss >= 0.0);
        double top = 0.0;
        for (size_t t = 0; t < n; t++) {
            top = upper(top, fabs(copy[t]));
        }
        if (which_null != 4) {
            REQUIRE(same_bits(stability, top * f.lam_max));
        }
        const long double want = ref_expected_loss(copy, n, &f.sp);
        if (!isnan(want)) {
            const size_t len = strlen(context);
            snprintf(context + len, sizeof context - len, " = %a, want %La",
                     loss, want);
            REQUIRE(close_to(loss, want, 1e-9L));
        }
    }
    free(lrs);
    free(copy);
    free(work);
    free_spectrum(&f);
}

/* The expected evaluations of a choose_phi call (as choose_phi.c counts
 * them, generously). */
static double
choose_evaluations(int ranged, double lo, double hi, double phi_lo,
                   double phi_hi)
{
    const double octaves = log2(phi_hi) - log2(phi_lo);
    double count = fmin(1024.0, ceil(4.0 * octaves) + 1.0) + 40.0;
    if (ranged) {
        const double peak = fmin(64.0, ceil(0.5 * (log2(hi) - log2(lo))) + 1.0);
        const double phis = fmin(64.0, ceil(0.5 * octaves) + 1.0);
        count += fmax(3.0, peak) * fmax(3.0, phis) + 8.0 * 3.0 * 40.0;
    }
    return count;
}

static void
fuzz_choose_phi(input *in)
{
    size_t T = take_size(in);
    fz_spectrum f;
    take_spectrum(in, &f);
    double lo = take_double(in), hi = take_double(in);
    const double eta_min = take_double(in);
    double phi_lo = take_double(in), phi_hi = take_double(in);
    const uint8_t flags = take_byte(in), whow = take_byte(in);
    switch ((flags >> 3) % 4) {
    case 0:
        hi = lo;  /* a fixed peak */
        break;
    case 1:
        lo = 0.0;  /* the default range */
        hi = D_INF;
        break;
    default:
        break;
    }
    if (flags & 0x40) {
        phi_lo = 0x1p-10;  /* the default phi range */
        phi_hi = 0x1p10;
    }
    const int which_null = (flags & 7) < 5 ? -1 : (flags & 7) - 5;  /* 0-2 */
    /* the oracle, in uba.h's order */
    const int ranged = lo != hi;
    double rlo = lo, rhi = hi;
    uba_status expected = UBA_OK;
    if (!valid_budget_size(T)) {
        expected = UBA_E_T;
    }
    else if (which_null == 0) {
        expected = UBA_E_NULL;
    }
    else if (f.status != UBA_OK) {
        expected = f.status;
    }
    else {
        if (ranged) {
            if (!(lo >= 0.0 && isfinite(lo) && lo < hi)) {
                expected = UBA_E_PEAK;
            }
            else {
                rhi = hi == D_INF ? (f.lam_max > 0.0 ? 2.0 / f.lam_max : D_INF)
                                  : hi;
                rlo = lo == 0.0 ? 0x1p-20 * rhi : lo;
            }
        }
        if (expected == UBA_OK && !(isfinite(rhi) && rlo > 0.0 && rlo <= rhi)) {
            expected = UBA_E_PEAK;
        }
        else if (expected == UBA_OK && !isfinite(eta_min)) {
            expected = UBA_E_ETA_MIN;
        }
        else if (expected == UBA_OK
                 && !(upper(rhi, fabs(eta_min)) * f.lam_max
                      <= 0.5 * UBA_MAX_ETA_LAM)) {
            expected = UBA_E_ETA_RANGE;
        }
        else if (expected == UBA_OK && !valid_phi_range(phi_lo, phi_hi)) {
            expected = UBA_E_PHI_RANGE;
        }
    }
    /* the checks before the workspace: the _check function gives them */
    size_t check_bad = (size_t)-1;
    REQUIRE(uba_choose_phi_check(T, which_null == 0 ? NULL : &f.sp, lo, hi,
                                 eta_min, phi_lo, phi_hi, &check_bad)
            == expected);
    REQUIRE(check_bad == (expected == f.status && expected != UBA_OK
                          ? f.bad : (size_t)-1));
    if (expected == UBA_OK && which_null > 0) {
        expected = UBA_E_NULL;
    }
    size_t need = uba_choose_phi_work_size(T), wlen;
    if (expected == UBA_OK) {
        const double lanes = 32.0 * ceil((double)f.sp.n / 32.0);
        const double evals = choose_evaluations(ranged, rlo, rhi, phi_lo,
                                                phi_hi);
        const size_t cap = (size_t)fmax(1.0, CHOOSE_BUDGET / (evals * lanes));
        wlen = fold_budget(whow, cap, uba_choose_phi_work_size, &T, &need);
        if (wlen < need) {
            expected = UBA_E_WORKSPACE;
        }
    }
    else {
        wlen = work_length(whow, T <= 64 ? need : 64);
    }
    double *work = workspace(wlen);
    uba_phi_choice c;
    memset(&c, 0x5a, sizeof c);
    const uba_phi_choice untouched = c;
    size_t bad = (size_t)-1;
    hook_state h;
    uba_progress hp;
    const uba_progress *hook = take_hook(in, &h, &hp);
    CONTEXT("uba_choose_phi(T=%zu, d=%zu, eta=(%a, %a), eta_min=%a, phi=(%a, "
            "%a), work_len=%zu of %zu, flags=%u)", T, f.sp.n, lo, hi, eta_min,
            phi_lo, phi_hi, wlen, need, (unsigned)flags);
    const uba_status s = uba_choose_phi(
        T, which_null == 0 ? NULL : &f.sp, lo, hi, eta_min, phi_lo, phi_hi,
        which_null == 1 ? NULL : work, wlen, which_null == 2 ? NULL : &c,
        &bad, hook);
    REQUIRE(s == hooked_status(s, expected, UBA_OK, 1, hook, &h));
    if (s == f.status && f.bad != (size_t)-1 && s != UBA_OK) {
        REQUIRE(bad == f.bad);
    }
    else {
        REQUIRE(bad == (size_t)-1);
    }
    if (s != UBA_OK) {
        REQUIRE(memcmp(&c, &untouched, sizeof c) == 0);
    }
    else {
        REQUIRE(c.phi >= phi_lo && c.phi <= phi_hi);
        REQUIRE(c.flat_lo >= phi_lo && c.flat_lo <= c.phi);
        REQUIRE(c.flat_hi >= c.phi && c.flat_hi <= phi_hi);
        REQUIRE(same_bits(c.eta_lo, rlo) && same_bits(c.eta_hi, rhi));
        REQUIRE(c.eta_max >= rlo && c.eta_max <= rhi);
        REQUIRE(same_bits(c.lam_max, f.lam_max));
        REQUIRE(c.phi_at_end >= -1 && c.phi_at_end <= 1);
        REQUIRE(c.peak_at_end >= -1 && c.peak_at_end <= 1);
        REQUIRE(ranged || c.peak_at_end == 0);
        const double losses[4] = {c.loss, c.loss_default, c.loss_cosine,
                                  c.initial_loss};
        for (int i = 0; i < 4; i++) {
            REQUIRE(!isnan(losses[i]) && losses[i] >= 0.0);
        }
        REQUIRE(c.evaluations >= 3.0);
        /* the loss is uba_expected_loss of the schedule, bit for bit */
        uba_params p;
        REQUIRE(uba_params_init(&p, (double)T, c.phi, c.eta_max, eta_min, 0.0,
                                0.0) == UBA_OK);
        double *eta = workspace(T), again = -1.0;
        for (size_t t = 0; t < T; t++) {
            eta[t] = (double)t;
        }
        REQUIRE(uba_eta_fill(&p, eta, T, eta, NULL, NULL) == UBA_OK);
        REQUIRE(uba_expected_loss(eta, T, &f.sp, work, wlen, &again, NULL,
                                  NULL, NULL) == UBA_OK);
        REQUIRE(same_bits(again, c.loss));
        free(eta);
    }
    free(work);
    free_spectrum(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    switch (take_byte(&in) % 16) {
    case 0: fuzz_strerror(&in); break;
    case 1: fuzz_shape(&in); break;
    case 2: fuzz_shape_fill(&in); break;
    case 3: fuzz_params_and_eta(&in); break;
    case 4: fuzz_eta_fill(&in); break;
    case 5: fuzz_monotone(&in); break;
    case 6: fuzz_step_groups(&in); break;
    case 7: fuzz_chebyshev(&in); break;
    case 8: fuzz_phi_kappa(&in); break;
    case 9: fuzz_curvature_params(&in); break;
    case 10: fuzz_worst_case(&in, 0); break;
    case 11: fuzz_worst_case(&in, 1); break;
    case 12: fuzz_bound(&in, 0); break;
    case 13: fuzz_bound(&in, 1); break;
    case 14: fuzz_bound(&in, 2); break;
    default: {
        /* odd: optimal_phi; even, by bits 1-2: the strongly convex one
         * (0 and 3), expected_loss (1), choose_phi (2) */
        const uint8_t which = take_byte(&in);
        if (which & 1) {
            fuzz_optimal_phi(&in);
        }
        else if (((which >> 1) & 3) == 1) {
            fuzz_expected_loss(&in);
        }
        else if (((which >> 1) & 3) == 2) {
            fuzz_choose_phi(&in);
        }
        else {
            fuzz_optimal_phi_sc(&in);
        }
        break;
    }
    }
#ifdef FUZZ_TRACE
    fprintf(stderr, "last call: %s\n", context);  /* -DFUZZ_TRACE */
#endif
    return 0;
}
