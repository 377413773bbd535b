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
    const char *version = uba_version();
    REQUIRE(version != NULL && strcmp(version, "0.1.0") == 0);
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
    CONTEXT("uba_shape_fill(n=%zu, T=%a, phi=%a, flags=%u)", n, T, phi,
            (unsigned)flags);
    const uba_status s = uba_shape_fill(null_t ? NULL : t, n, T, phi,
                                        null_out ? NULL : dst,
                                        null_bad ? NULL : &bad);
    size_t first_bad = n;
    for (size_t i = 0; i < n; i++) {
        if (!valid_step(copy[i])) {
            first_bad = i;
            break;
        }
    }
    if (!valid_budget(T)) {
        REQUIRE(s == UBA_E_T);
    }
    else if (!valid_phi(phi)) {
        REQUIRE(s == UBA_E_PHI);
    }
    else if (n > 0 && (null_t || null_out)) {
        REQUIRE(s == UBA_E_NULL);
    }
    else if (first_bad < n) {
        REQUIRE(s == UBA_E_STEP);
        REQUIRE(null_bad || bad == first_bad);
    }
    else {
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
        REQUIRE(uba_eta_fill(NULL, NULL, 0, NULL, NULL) == UBA_E_NULL);
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
    CONTEXT("uba_eta_fill(n=%zu, flags=%u) with T=%a, phi=%a, eta_max=%a, "
            "eta_min=%a, W=%a, start=%a", n, (unsigned)flags, v[0], v[1],
            v[2], v[3], v[4], v[5]);
    const uba_status s = uba_eta_fill(&p, null_t ? NULL : t, n,
                                      null_out ? NULL : dst,
                                      null_bad ? NULL : &bad);
    size_t first_bad = n;
    for (size_t i = 0; i < n; i++) {
        if (!valid_step(copy[i])) {
            first_bad = i;
            break;
        }
    }
    if (n > 0 && (null_t || null_out)) {
        REQUIRE(s == UBA_E_NULL);
    }
    else if (first_bad < n) {
        REQUIRE(s == UBA_E_STEP && (null_bad || bad == first_bad));
    }
    else {
        REQUIRE(s == UBA_OK);
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
    uba_group_step s;
    s.T = take_double(in);
    s.phi = take_double(in);
    s.warmup_steps = take_double(in);
    s.warmup_start_factor = take_double(in);
    const uint8_t w = take_byte(in);
    if ((w & 3) == 0 && valid_budget(s.T)) {
        s.warmup_steps = floor(s.T * (w >> 2) / 64.0);
    }
    double t_prev = take_double(in), t = take_double(in);
    const uint8_t how = take_byte(in);
    if ((how & 3) == 0) {
        t_prev = t - 1.0;  /* the usual step */
    }
    else if ((how & 3) == 1) {
        t_prev = -1.0;     /* the first step, from the base values */
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
        /* untouched (lr == written), touched, or first step (NaN) */
        lr_now[i] = (g & 3) == 0 ? base[i] : take_double(in);
        written[i] = (g & 12) == 0 ? D_NAN : ((g & 12) == 4 ? lr_now[i]
                                                          : take_double(in));
        ratio[i] = (g & 16) ? 1.0 : take_double(in);
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
    const uba_status st = uba_step_groups(
        null_s ? NULL : &s, t_prev, t, n, which == 0 ? NULL : base,
        which == 1 ? NULL : eta_min, which == 2 ? NULL : lr_now,
        which == 3 ? NULL : written, which == 4 ? NULL : ratio,
        which >= 5 ? NULL : lr_next);

    /* The documented order of checks. */
    int all_finite = 1;
    uba_status first_bad_group = UBA_OK;
    for (size_t i = 0; i < n && first_bad_group == UBA_OK; i++) {
        if (!isfinite(base[i])) {
            first_bad_group = UBA_E_ETA_MAX;
        }
        else if (!isfinite(eta_min[i])) {
            first_bad_group = UBA_E_ETA_MIN;
        }
        else if (!isfinite(lr_now[i]) || !isfinite(ratio_copy[i])) {
            first_bad_group = UBA_E_LR;
        }
    }
    all_finite = first_bad_group == UBA_OK;
    uba_status expected;
    if (null_s) {
        expected = UBA_E_NULL;
    }
    else if (!valid_budget(s.T)) {
        expected = UBA_E_T;
    }
    else if (!valid_phi(s.phi)) {
        expected = UBA_E_PHI;
    }
    else if (!valid_warmup(s.warmup_steps, s.T)) {
        expected = UBA_E_WARMUP_STEPS;
    }
    else if (!isfinite(s.warmup_start_factor)) {
        expected = UBA_E_WARMUP_START;
    }
    else if (!valid_step(t) || isnan(t_prev) || t_prev > t) {
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
         * core then refuses with UBA_E_LR rather than write an inf. */
        REQUIRE(st == UBA_OK || st == UBA_E_LR);
    }
    else {
        REQUIRE(st == expected);
    }
    if (st == UBA_OK) {
        for (size_t i = 0; i < n; i++) {
            REQUIRE(isfinite(lr_next[i]) && isfinite(ratio[i]));
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    switch (take_byte(&in) % 7) {
    case 0: fuzz_strerror(&in); break;
    case 1: fuzz_shape(&in); break;
    case 2: fuzz_shape_fill(&in); break;
    case 3: fuzz_params_and_eta(&in); break;
    case 4: fuzz_eta_fill(&in); break;
    case 5: fuzz_monotone(&in); break;
    default: fuzz_step_groups(&in); break;
    }
    return 0;
}
