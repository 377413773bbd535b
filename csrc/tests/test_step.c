/* test_step.c -- C-only tests of uba_step_groups, the scheduler engine. */
#include "../uba.h"
#include "check.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 3

static const double BASE[N] = {0.05, 0.5, 1e-3};
static const double FLOOR[N] = {0.0, 1e-10, 1e-4};

/* The shared parameters, checked as a scheduler checks them when it is
 * made. */
static uba_group_step
made(double T, double phi, double W, double f)
{
    uba_group_step s;
    memset(&s, 0, sizeof s);
    CHECK(uba_group_step_init(&s, T, phi, W, f) == UBA_OK);
    return s;
}

static double
closed(const uba_group_step *s, size_t i, double t)
{
    uba_params p;
    double e = NAN;
    CHECK(uba_params_init(&p, s->T, s->phi, BASE[i], FLOOR[i],
                          s->warmup_steps,
                          s->warmup_start_factor * BASE[i]) == UBA_OK);
    CHECK(uba_eta(&p, t, &e) == UBA_OK);
    return e;
}

/* Steps a scheduler alone, as UBALR does: each step passes back what it
 * wrote, so nothing counts as touched. */
static void
untouched_steps_write_the_closed_form_with_no_drift(void)
{
    const uba_group_step cases[] = {made(100, 0.3, 0, 0), made(1000, 5, 0, 0),
                                    made(250, 1, 20, 0.1), made(10, 2, 3, 0)};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const uba_group_step *s = &cases[c];
        double lr[N], written[N], ratio[N], next[N];
        for (size_t i = 0; i < N; i++) {
            lr[i] = written[i] = closed(s, i, 0);
            ratio[i] = 1;
        }
        for (int t = 1; t < 3 * (int)s->T; t++) {
            CHECK(uba_step_groups(s, t - 1, t, N, BASE, FLOOR, lr, written,
                                  ratio, next, NULL) == UBA_OK);
            for (size_t i = 0; i < N; i++) {
                CHECK_EQ(next[i], closed(s, i, t));
                CHECK_EQ(ratio[i], 1.0);
                lr[i] = written[i] = next[i];
            }
        }
    }
}

static void
a_touched_lr_composes_multiplicatively_and_then_stays_exact(void)
{
    const uba_group_step s = made(20, 2, 0, 0);
    double lr[N], written[N], ratio[N] = {1, 1, 1}, next[N];
    for (size_t i = 0; i < N; i++) {
        lr[i] = written[i] = closed(&s, i, 4);
    }
    lr[0] *= 0.1;  /* another scheduler decays group 0 */
    CHECK(uba_step_groups(&s, 4, 5, N, BASE, FLOOR, lr, written, ratio,
                          next, NULL) == UBA_OK);
    CHECK_CLOSE(ratio[0], 0.1, 1e-15);
    CHECK_CLOSE(next[0], 0.1 * closed(&s, 0, 5), 1e-15);
    CHECK_EQ(ratio[1], 1.0);
    CHECK_EQ(next[1], closed(&s, 1, 5));
    /* untouched from here on: floor + r (e - floor), no compounding */
    for (int t = 6; t < 20; t++) {
        memcpy(lr, next, sizeof lr);
        memcpy(written, next, sizeof written);
        CHECK(uba_step_groups(&s, t - 1, t, N, BASE, FLOOR, lr, written,
                              ratio, next, NULL) == UBA_OK);
        CHECK_EQ(next[0], FLOOR[0] + ratio[0] * (closed(&s, 0, t) - FLOOR[0]));
        CHECK_CLOSE(next[0], 0.1 * closed(&s, 0, t), 1e-14);
    }
}

static void
a_touched_trough_adds_the_rise_as_cosine_annealing_does(void)
{
    const uba_group_step s = made(10, 2, 0, 0);
    double lr[N], written[N], ratio[N] = {1, 1, 1}, next[N];
    for (size_t i = 0; i < N; i++) {
        lr[i] = written[i] = FLOOR[i];  /* at t = T, untouched */
    }
    lr[2] = FLOOR[2] + 1e-5;             /* touched at the trough */
    CHECK(uba_step_groups(&s, 10, 11, N, BASE, FLOOR, lr, written, ratio,
                          next, NULL) == UBA_OK);
    CHECK_EQ(next[0], closed(&s, 0, 11));
    CHECK_EQ(ratio[0], 1.0);
    CHECK_CLOSE(next[2], lr[2] + (closed(&s, 2, 11) - FLOOR[2]), 1e-15);
    CHECK_CLOSE(ratio[2], (next[2] - FLOOR[2]) / (closed(&s, 2, 11)
                                                  - FLOOR[2]), 1e-15);
}

/* A floor the lr's type cannot hold: the stored value at the trough is
 * the floor rounded (here to float32).  Untouched, the group keeps its
 * ratio and follows the closed form back up to exactly the base. */
static void
a_rounded_lr_at_the_trough_does_not_drift(void)
{
    const uba_group_step s = made(100, 2, 0, 0);
    const double base[1] = {1.0}, floor_value[1] = {0.3};
    uba_params p;
    CHECK(uba_params_init(&p, 100, 2, 1.0, 0.3, 0, 0) == UBA_OK);
    double lr[1], written[1], ratio[1] = {1.0}, next[1] = {NAN};
    for (int t = 1; t <= 200; t++) {
        double e = NAN;
        CHECK(uba_eta(&p, t - 1, &e) == UBA_OK);
        lr[0] = written[0] = (double)(float)e;  /* stored as float32 */
        CHECK(uba_step_groups(&s, t - 1, t, 1, base, floor_value, lr,
                              written, ratio, next, NULL) == UBA_OK);
        CHECK_EQ(ratio[0], 1.0);
        CHECK(uba_eta(&p, t, &e) == UBA_OK);
        CHECK_EQ(next[0], e);
    }
    CHECK_EQ(next[0], 1.0);
}

/* t_prev == t with nothing known: the ratio is read off the lr as it is
 * (how a scheduler adopts a group it has not written yet); at a trough no
 * ratio exists, and one stays unknown (NaN) unless the lr is the floor. */
static void
adopting_a_group_reads_its_ratio_off_the_lr(void)
{
    const uba_group_step s = made(100, 1, 10, 0.25);
    double lr[N], written[N] = {NAN, NAN, NAN}, ratio[N] = {NAN, NAN, NAN};
    double next[N];
    for (size_t i = 0; i < N; i++) {
        lr[i] = closed(&s, i, 0);
    }
    lr[1] = 0.4 * lr[1];  /* e.g. LinearLR created first */
    CHECK(uba_step_groups(&s, 0, 0, N, BASE, FLOOR, lr, written, ratio,
                          next, NULL) == UBA_OK);
    CHECK_EQ(ratio[0], 1.0);
    CHECK_EQ(next[0], lr[0]);
    CHECK_CLOSE(ratio[1], (lr[1] - FLOOR[1]) / (closed(&s, 1, 0) - FLOOR[1]),
                1e-15);
    CHECK_CLOSE(next[1], lr[1], 1e-15);

    const uba_group_step plain = made(100, 1, 0, 0);
    double at_floor[N] = {FLOOR[0], FLOOR[1], FLOOR[2] + 1e-6};
    double unknown[N] = {NAN, NAN, NAN};
    CHECK(uba_step_groups(&plain, 100, 100, N, BASE, FLOOR, at_floor,
                          written, unknown, next, NULL) == UBA_OK);
    CHECK_EQ(unknown[0], 1.0);  /* exactly at the floor: the trough rule */
    CHECK(isnan(unknown[2]));
    CHECK_EQ(next[0], FLOOR[0]);
    CHECK_EQ(next[2], at_floor[2]);
}

static void
the_first_step_scales_from_the_base_value(void)
{
    /* t_prev < 0: the lr before the first step is worth base. */
    const uba_group_step s = made(100, 1, 10, 0.25);
    double lr[N], written[N] = {NAN, NAN, NAN}, ratio[N] = {NAN, NAN, NAN};
    double next[N];
    for (size_t i = 0; i < N; i++) {
        lr[i] = BASE[i];
    }
    lr[1] = 0.4 * BASE[1];  /* e.g. LinearLR created first */
    CHECK(uba_step_groups(&s, -1, 0, N, BASE, FLOOR, lr, written, ratio,
                          next, NULL) == UBA_OK);
    CHECK_EQ(next[0], 0.25 * BASE[0]);
    CHECK_EQ(ratio[0], 1.0);
    CHECK_CLOSE(next[1], FLOOR[1] + (0.4 * BASE[1] - FLOOR[1])
                / (BASE[1] - FLOOR[1]) * (0.25 * BASE[1] - FLOOR[1]), 1e-15);
}

static void
bad_input_is_refused_and_leaves_state_alone(void)
{
    const uba_group_step s = made(100, 1, 0, 0);
    double lr[N] = {1, 1, 1}, written[N] = {1, 1, 1}, ratio[N] = {1, 2, 3};
    double next[N] = {7, 7, 7};
    double bad_base[N] = {1, NAN, 1};
    double bad_floor[N] = {1, 1, INFINITY};
    size_t bad = 99;
    CHECK(uba_step_groups(NULL, 0, 1, N, BASE, FLOOR, lr, written, ratio,
                          next, &bad) == UBA_E_NULL);
    CHECK(uba_step_groups(&s, 0, 1, N, bad_base, FLOOR, lr, written, ratio,
                          next, &bad) == UBA_E_ETA_MAX);
    CHECK_EQ((double)bad, 1.0);
    CHECK(uba_step_groups(&s, 0, 1, N, BASE, bad_floor, lr, written, ratio,
                          next, &bad) == UBA_E_ETA_MIN);
    CHECK_EQ((double)bad, 2.0);
    CHECK(uba_step_groups(&s, 0, NAN, N, BASE, FLOOR, lr, written, ratio,
                          next, NULL) == UBA_E_STEP);
    CHECK(uba_step_groups(&s, NAN, 1, N, BASE, FLOOR, lr, written, ratio,
                          next, NULL) == UBA_E_STEP);
    CHECK(uba_step_groups(&s, 0, INFINITY, N, BASE, FLOOR, lr, written,
                          ratio, next, NULL) == UBA_E_STEP);
    CHECK(uba_step_groups(&s, 0, 1, N, BASE, FLOOR, NULL, written, ratio,
                          next, NULL) == UBA_E_NULL);
    lr[1] = INFINITY;
    CHECK(uba_step_groups(&s, 0, 1, N, BASE, FLOOR, lr, written, ratio,
                          next, &bad) == UBA_E_LR);
    CHECK_EQ((double)bad, 1.0);
    lr[1] = 1;
    /* a rise that would overflow the lr: refused, nothing written */
    double huge_lr[N] = {1, 1e308, 1}, zero_floor[N] = {0, 0, 0};
    double unknown[N] = {NAN, NAN, NAN};
    CHECK(uba_step_groups(&s, 101, 102, N, BASE, zero_floor, huge_lr,
                          unknown, ratio, next, &bad) == UBA_E_LR);
    CHECK_EQ((double)bad, 1.0);
    CHECK_EQ(ratio[0], 1);
    CHECK_EQ(ratio[1], 2);
    CHECK_EQ(ratio[2], 3);
    CHECK_EQ(next[0], 7);
    CHECK(uba_step_groups(&s, 0, 1, 0, NULL, NULL, NULL, NULL, NULL, NULL,
                          NULL) == UBA_OK);
}

/* uba_group_step_init refuses each bad field with its status, in the
 * order uba.h lists them, and writes nothing then. */
static void
group_step_init_refuses_each_bad_field(void)
{
    const uba_group_step before = {-1, -1, -1, -1};
    const struct {
        double T, phi, W, f;
        uba_status status;
    } cases[] = {
        {0, 1, 0, 0, UBA_E_T},
        {-5, 1, 0, 0, UBA_E_T},
        {2.5, 1, 0, 0, UBA_E_T},
        {NAN, 1, 0, 0, UBA_E_T},
        {9007199254740994.0, 1, 0, 0, UBA_E_T},
        {10, 0, 0, 0, UBA_E_PHI},
        {10, -1, 0, 0, UBA_E_PHI},
        {10, INFINITY, 0, 0, UBA_E_PHI},
        {10, NAN, 0, 0, UBA_E_PHI},
        {10, 1, 10, 0, UBA_E_WARMUP_STEPS},
        {10, 1, -1, 0, UBA_E_WARMUP_STEPS},
        {10, 1, 0.5, 0, UBA_E_WARMUP_STEPS},
        {10, 1, NAN, 0, UBA_E_WARMUP_STEPS},
        {10, 1, 0, -0.5, UBA_E_WARMUP_FACTOR},
        {10, 1, 0, NAN, UBA_E_WARMUP_FACTOR},
        {10, 1, 0, INFINITY, UBA_E_WARMUP_FACTOR},
        {0, 0, 10, NAN, UBA_E_T},  /* the first bad field is reported */
        {10, 0, 10, NAN, UBA_E_PHI},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uba_group_step s = before;
        CHECK(uba_group_step_init(&s, cases[c].T, cases[c].phi, cases[c].W,
                                  cases[c].f) == cases[c].status);
        CHECK(memcmp(&s, &before, sizeof s) == 0);
    }
    CHECK(uba_group_step_init(NULL, 10, 1, 0, 0) == UBA_E_NULL);
    uba_group_step s = before;
    CHECK(uba_group_step_init(&s, 9007199254740992.0, 1e-300, 9007199254740991.0,
                              0) == UBA_OK);
    CHECK_EQ(s.T, 9007199254740992.0);
    CHECK_EQ(s.phi, 1e-300);
    CHECK_EQ(s.warmup_steps, 9007199254740991.0);
    CHECK_EQ(s.warmup_start_factor, 0.0);
}

/* The step with parameters checked once gives the bits the step gave when
 * it checked them itself at every call (before uba_group_step_init): a
 * hash of lr_next, ratio and the status over a sweep of schedules, steps
 * and group states (untouched, touched, unknown, scaled), printed by that
 * step. */
#define OLD_STEP_HASH UINT64_C(0xDB0B1372F0F7CEEE)

static void
a_step_from_checked_parameters_gives_the_old_bits(void)
{
    static const double budgets[] = {1, 10, 1000, 9007199254740992.0};
    static const double phis[] = {1e-3, 1, 2, 300};
    static const double factors[] = {0, 0.25, 1};
    static const double steps[][2] = {{-1, 0}, {0, 1}, {4, 5}, {9, 10},
                                      {10, 11}, {500, 499}, {1999, 2000},
                                      {3, 3}, {0.5, 7.25}};
    enum { G = 5 };
    const double base[G] = {0.1, 1.0, 3e-4, 2.0, 0.5};
    const double floor_[G] = {0, 0.01, 1e-6, 2.0, -0.5};
    uint64_t h = CHECK_FNV_START;
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        const double T = budgets[b];
        const double W = T > 5 ? floor(T / 5) : 0;
        for (size_t p = 0; p < sizeof phis / sizeof phis[0]; p++) {
            for (size_t f = 0; f < sizeof factors / sizeof factors[0]; f++) {
                const uba_group_step s = made(T, phis[p], W, factors[f]);
                for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
                    double lr[G] = {0.1, 0.7, 3e-4, 2.0, 0.1};
                    double written[G] = {0.1, 0.6, NAN, 2.0, 0.1};
                    double ratio[G] = {1, 1, NAN, 1, 0.5};
                    double next[G];
                    const uba_status st = uba_step_groups(
                        &s, steps[k][0], steps[k][1], G, base, floor_, lr,
                        written, ratio, next, NULL);
                    const double code = (double)st;
                    h = check_fnv1a(h, &code, 1);
                    if (st == UBA_OK) {
                        h = check_fnv1a(h, next, G);
                        h = check_fnv1a(h, ratio, G);
                    }
                }
            }
        }
    }
    if (h != OLD_STEP_HASH) {
        fprintf(stderr, "step hash 0x%016" PRIX64 ", expected 0x%016" PRIX64
                "\n", h, OLD_STEP_HASH);
    }
    CHECK(h == OLD_STEP_HASH);
}

int
main(void)
{
    RUN(untouched_steps_write_the_closed_form_with_no_drift);
    RUN(a_touched_lr_composes_multiplicatively_and_then_stays_exact);
    RUN(a_touched_trough_adds_the_rise_as_cosine_annealing_does);
    RUN(a_rounded_lr_at_the_trough_does_not_drift);
    RUN(adopting_a_group_reads_its_ratio_off_the_lr);
    RUN(the_first_step_scales_from_the_base_value);
    RUN(bad_input_is_refused_and_leaves_state_alone);
    RUN(group_step_init_refuses_each_bad_field);
    RUN(a_step_from_checked_parameters_gives_the_old_bits);
    return check_summary("test_step");
}
