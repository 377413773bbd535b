/*
 * status.c -- what each status says: the argument(s) it blames, as ids
 * (uba_status_blame) and in words (uba_status_argument), and the rule that
 * argument broke (uba_status_rule); and the library's version.  See uba.h.
 */
#include "uba.h"

#include <stddef.h>

/* The names uba.h gives the arguments, by id. */
static const char *const ARG_NAME[UBA_ARG_COUNT] = {
    [UBA_ARG_NONE] = "",
    [UBA_ARG_T] = "T",
    [UBA_ARG_PHI] = "phi",
    [UBA_ARG_ETA_MAX] = "eta_max",
    [UBA_ARG_ETA_MIN] = "eta_min",
    [UBA_ARG_WARMUP_STEPS] = "warmup_steps",
    [UBA_ARG_WARMUP_START] = "warmup_start",
    [UBA_ARG_WARMUP_FACTOR] = "warmup_start_factor",
    [UBA_ARG_STEP] = "t",
    [UBA_ARG_LR_NOW] = "lr_now",
    [UBA_ARG_LAM_MIN] = "lam_min",
    [UBA_ARG_LAM_MAX] = "lam_max",
    [UBA_ARG_KAPPA] = "kappa",
    [UBA_ARG_LRS] = "lrs",
    [UBA_ARG_L] = "L",
    [UBA_ARG_MU] = "mu",
    [UBA_ARG_SIGMA2] = "sigma2",
    [UBA_ARG_F_GAP] = "f_gap",
    [UBA_ARG_DIST2] = "dist2",
    [UBA_ARG_PHI_LO] = "phi_lo",
    [UBA_ARG_PHI_HI] = "phi_hi",
    [UBA_ARG_EIGENVALUES] = "eigenvalues",
    [UBA_ARG_WEIGHTS] = "weights",
    [UBA_ARG_START] = "start",
    [UBA_ARG_NOISE] = "noise",
};

/*
 * One row per status: what it blames, the same in words (as uba.h spells
 * the arguments), and the rule that argument broke.  uba_strerror() gives
 * words and rule in one sentence (one literal, concatenated at compile
 * time); bindings that name arguments their own way use the ids and the
 * rule.  The words repeat the ids' names so that every string stays
 * static; csrc/tests/test_status.c checks that they agree, and that every
 * status has its row.
 */
typedef struct status_text {
    uba_blame blame;
    const char *argument;
    const char *rule;
    const char *sentence;
} status_text;

#define NO_ARGUMENT(words, rule) \
    {{UBA_ARG_NONE, UBA_ARG_NONE, 0}, words, rule, words " " rule}
#define ONE(arg, words, rule) \
    {{UBA_ARG_##arg, UBA_ARG_NONE, 0}, words, rule, words " " rule}
#define ENTRY(arg, words, rule) \
    {{UBA_ARG_##arg, UBA_ARG_NONE, 1}, words, rule, words " " rule}
#define PAIR(arg, pair, words, rule) \
    {{UBA_ARG_##arg, UBA_ARG_##pair, 0}, words, rule, words " " rule}

static const status_text STATUS[UBA_STATUS_COUNT] = {
    [UBA_OK] = {{UBA_ARG_NONE, UBA_ARG_NONE, 0}, "", "no error", "no error"},
    [UBA_E_NULL] = NO_ARGUMENT("a required pointer", "is NULL"),
    [UBA_E_T] = ONE(T, "T", "must be an integer in [1, 2**53]"),
    [UBA_E_PHI] = ONE(PHI, "phi", "must be a finite number > 0"),
    [UBA_E_ETA_MAX] = ONE(ETA_MAX, "eta_max", "must be a finite number"),
    [UBA_E_ETA_MIN] = ONE(ETA_MIN, "eta_min", "must be a finite number"),
    [UBA_E_WARMUP_STEPS] = ONE(WARMUP_STEPS, "warmup_steps",
                               "must be an integer in [0, T)"),
    [UBA_E_WARMUP_START] = ONE(WARMUP_START, "warmup_start",
                               "must be a finite number"),
    [UBA_E_WARMUP_FACTOR] = ONE(WARMUP_FACTOR, "warmup_start_factor",
                                "must be a finite number >= 0"),
    [UBA_E_STEP] = ONE(STEP, "t", "must be a finite number >= 0"),
    [UBA_E_LR] = ENTRY(LR_NOW, "lr_now[i]", "must be a finite number"),
    [UBA_E_LAM_MIN] = ONE(LAM_MIN, "lam_min", "must be a finite number > 0"),
    [UBA_E_LAM_MAX] = ONE(LAM_MAX, "lam_max",
                          "must be a finite number >= lam_min"),
    [UBA_E_CURVATURE] = PAIR(LAM_MIN, LAM_MAX, "(lam_min, lam_max)",
                             "must give finite 1/lam_min and "
                             "2*lam_max/lam_min"),
    [UBA_E_KAPPA] = ONE(KAPPA, "kappa", "must be a finite number >= 1 "
                                        "(with 2*kappa finite)"),
    [UBA_E_PHI_KAPPA] = ONE(PHI, "phi", "must be a finite number >= 2 "
                                        "to be 2*kappa with kappa >= 1"),
    [UBA_E_LRS_EMPTY] = ONE(LRS, "lrs", "must hold at least one step size"),
    [UBA_E_LRS] = ENTRY(LRS, "lrs[i]", "must be a finite number"),
    [UBA_E_LRS_RANGE] = ENTRY(LRS, "lrs[i]", "must be at most 1e100 / "
                                             "lam_max in absolute value"),
    [UBA_E_LRS_ZERO] = ONE(LRS, "lrs",
                           "must hold at least one step size > 0"),
    [UBA_E_STEP_CONDITION] = ENTRY(LRS, "lrs[i]", "must meet the bound's "
                                                  "step-size condition"),
    [UBA_E_L] = ONE(L, "L", "must be a finite number > 0"),
    [UBA_E_MU] = ONE(MU, "mu", "must be a finite number in (0, L]"),
    [UBA_E_SIGMA2] = ONE(SIGMA2, "sigma2", "must be a finite number >= 0"),
    [UBA_E_F_GAP] = ONE(F_GAP, "f_gap", "must be a finite number >= 0"),
    [UBA_E_DIST2] = ONE(DIST2, "dist2", "must be a finite number >= 0"),
    [UBA_E_ETA_RANGE] = PAIR(ETA_MAX, ETA_MIN, "(eta_max, eta_min)",
                             "must both be at most 5e99 / lam_max "
                             "in absolute value"),
    [UBA_E_ETA_MAX_L] = ONE(ETA_MAX, "eta_max",
                            "must be a finite number in (0, 1/L]"),
    [UBA_E_PHI_RANGE] = PAIR(PHI_LO, PHI_HI, "(phi_lo, phi_hi)",
                             "must satisfy 0 < phi_lo < phi_hi, "
                             "both finite"),
    [UBA_E_WORKSPACE] = NO_ARGUMENT("the workspace",
                                    "is shorter than its documented size"),
    [UBA_E_INTERRUPTED] = NO_ARGUMENT("the computation",
                                      "was interrupted by its progress "
                                      "hook"),
    [UBA_E_EIGENVALUES_EMPTY] = ONE(EIGENVALUES, "eigenvalues",
                                    "must hold at least one value"),
    [UBA_E_EIGENVALUES] = ENTRY(EIGENVALUES, "eigenvalues[i]",
                                "must be a finite number >= 0"),
    [UBA_E_WEIGHTS_LENGTH] = ONE(WEIGHTS, "weights", "must hold one value, "
                                                     "or one per eigenvalue"),
    [UBA_E_WEIGHTS] = ENTRY(WEIGHTS, "weights[i]",
                            "must be a finite number >= 0"),
    [UBA_E_START_LENGTH] = ONE(START, "start", "must hold one value, "
                                               "or one per eigenvalue"),
    [UBA_E_START] = ENTRY(START, "start[i]", "must be a finite number >= 0"),
    [UBA_E_NOISE_LENGTH] = ONE(NOISE, "noise", "must hold one value, "
                                               "or one per eigenvalue"),
    [UBA_E_NOISE] = ENTRY(NOISE, "noise[i]", "must be a finite number >= 0"),
    [UBA_E_PEAK] = ONE(ETA_MAX, "eta_max",
                       "must be a finite number > 0, or a range (lo, hi) "
                       "with 0 <= lo < hi <= inf (lo = 0: 2**-20 * hi; "
                       "hi = inf: the stability limit 2/max(eigenvalues)) "
                       "that resolves to finite numbers > 0"),
};

static const status_text *
status_text_of(uba_status status)
{
    static const status_text unknown = {{UBA_ARG_NONE, UBA_ARG_NONE, 0}, "",
                                        "unknown uba_status",
                                        "unknown uba_status"};
    if ((unsigned)status >= (unsigned)UBA_STATUS_COUNT) {
        return &unknown;
    }
    return &STATUS[status];
}

uba_blame
uba_status_blame(uba_status status)
{
    return status_text_of(status)->blame;
}

const char *
uba_arg_name(uba_arg arg)
{
    if ((unsigned)arg >= (unsigned)UBA_ARG_COUNT || ARG_NAME[arg] == NULL) {
        return "";
    }
    return ARG_NAME[arg];
}

const char *
uba_strerror(uba_status status)
{
    return status_text_of(status)->sentence;
}

const char *
uba_status_argument(uba_status status)
{
    return status_text_of(status)->argument;
}

const char *
uba_status_rule(uba_status status)
{
    return status_text_of(status)->rule;
}

#define UBA_STR2(x) #x
#define UBA_STR(x) UBA_STR2(x)

const char *
uba_version(void)
{
    return UBA_STR(UBA_VERSION_MAJOR) "." UBA_STR(UBA_VERSION_MINOR)
        "." UBA_STR(UBA_VERSION_PATCH);
}
