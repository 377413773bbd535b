/* test_status.c -- C-only tests of the status table (status.c): every
 * status blames the argument(s) it names, with ids a binding can map
 * without reading text, and the table is complete. */
#include "../uba.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

/* The statuses that are about no argument; every other status must blame
 * one.  A status added without its row in status.c blames none, and fails
 * here. */
static int
about_no_argument(uba_status s)
{
    return s == UBA_OK || s == UBA_E_NULL || s == UBA_E_WORKSPACE
           || s == UBA_E_INTERRUPTED;
}

/* Every status has its row: an argument (or, listed above, none), a rule
 * and a sentence that is the argument's words and the rule. */
static void
every_status_blames_an_argument(void)
{
    for (int s = 0; s < UBA_STATUS_COUNT; s++) {
        const uba_blame b = uba_status_blame((uba_status)s);
        const char *words = uba_status_argument((uba_status)s);
        const char *rule = uba_status_rule((uba_status)s);
        CHECK(words != NULL && rule != NULL && rule[0] != '\0');
        if (about_no_argument((uba_status)s)) {
            CHECK(b.arg == UBA_ARG_NONE && b.pair == UBA_ARG_NONE);
            continue;
        }
        CHECK(b.arg > UBA_ARG_NONE && b.arg < UBA_ARG_COUNT);
        CHECK(b.pair >= UBA_ARG_NONE && b.pair < UBA_ARG_COUNT);
        CHECK(b.pair != b.arg);
        CHECK(b.entry == 0 || b.pair == UBA_ARG_NONE);
        char sentence[256];
        snprintf(sentence, sizeof sentence, "%s %s", words, rule);
        CHECK(strcmp(uba_strerror((uba_status)s), sentence) == 0);
        if (strcmp(uba_strerror((uba_status)s), sentence) != 0) {
            fprintf(stderr, "  status %d: %s\n", s, uba_strerror((uba_status)s));
        }
    }
}

/* The words a status gives its argument are the names of its ids:
 * "phi", "lrs[i]" for an entry, "(lam_min, lam_max)" for a pair.  So the
 * ids and the text cannot drift apart. */
static void
words_are_the_names_of_the_ids(void)
{
    for (int s = 0; s < UBA_STATUS_COUNT; s++) {
        const uba_blame b = uba_status_blame((uba_status)s);
        if (b.arg == UBA_ARG_NONE) {
            continue;
        }
        char expected[128];
        if (b.pair != UBA_ARG_NONE) {
            snprintf(expected, sizeof expected, "(%s, %s)",
                     uba_arg_name(b.arg), uba_arg_name(b.pair));
        }
        else {
            snprintf(expected, sizeof expected, "%s%s", uba_arg_name(b.arg),
                     b.entry ? "[i]" : "");
        }
        CHECK(strcmp(uba_status_argument((uba_status)s), expected) == 0);
        if (strcmp(uba_status_argument((uba_status)s), expected) != 0) {
            fprintf(stderr, "  status %d: \"%s\", ids say \"%s\"\n", s,
                    uba_status_argument((uba_status)s), expected);
        }
    }
}

/* Every argument id has a name, distinct from the others; unknown ids and
 * codes give empty strings, never NULL. */
static void
every_argument_has_a_name(void)
{
    CHECK(strcmp(uba_arg_name(UBA_ARG_NONE), "") == 0);
    for (int a = 1; a < UBA_ARG_COUNT; a++) {
        const char *name = uba_arg_name((uba_arg)a);
        CHECK(name != NULL && name[0] != '\0');
        for (int b = 1; b < a; b++) {
            CHECK(strcmp(name, uba_arg_name((uba_arg)b)) != 0);
        }
    }
    CHECK(strcmp(uba_arg_name(UBA_ARG_COUNT), "") == 0);
    CHECK(strcmp(uba_arg_name((uba_arg)-1), "") == 0);
    const uba_blame unknown = uba_status_blame((uba_status)999);
    CHECK(unknown.arg == UBA_ARG_NONE && unknown.pair == UBA_ARG_NONE);
    CHECK(strcmp(uba_status_argument((uba_status)999), "") == 0);
}

/* A few statuses, by hand: what a binding relies on. */
static void
statuses_blame_what_uba_h_says(void)
{
    const uba_blame curvature = uba_status_blame(UBA_E_CURVATURE);
    CHECK(curvature.arg == UBA_ARG_LAM_MIN && curvature.pair == UBA_ARG_LAM_MAX);
    const uba_blame range = uba_status_blame(UBA_E_PHI_RANGE);
    CHECK(range.arg == UBA_ARG_PHI_LO && range.pair == UBA_ARG_PHI_HI);
    const uba_blame entry = uba_status_blame(UBA_E_STEP_CONDITION);
    CHECK(entry.arg == UBA_ARG_LRS && entry.entry == 1);
    const uba_blame empty = uba_status_blame(UBA_E_LRS_EMPTY);
    CHECK(empty.arg == UBA_ARG_LRS && empty.entry == 0);
    CHECK(uba_status_blame(UBA_E_PHI_KAPPA).arg == UBA_ARG_PHI);
    CHECK(uba_status_blame(UBA_E_ETA_MAX_L).arg == UBA_ARG_ETA_MAX);
    CHECK(uba_status_blame(UBA_E_WARMUP_FACTOR).arg == UBA_ARG_WARMUP_FACTOR);
    CHECK(uba_status_blame(UBA_E_LR).arg == UBA_ARG_LR_NOW);
    /* a spectrum: its arrays' entries, lengths and emptiness, and the
     * peak of uba_choose_phi, whose range is the user's eta_max */
    const uba_blame eig = uba_status_blame(UBA_E_EIGENVALUES);
    CHECK(eig.arg == UBA_ARG_EIGENVALUES && eig.entry == 1);
    CHECK(uba_status_blame(UBA_E_EIGENVALUES_EMPTY).arg == UBA_ARG_EIGENVALUES);
    CHECK(uba_status_blame(UBA_E_EIGENVALUES_EMPTY).entry == 0);
    CHECK(uba_status_blame(UBA_E_WEIGHTS).arg == UBA_ARG_WEIGHTS);
    CHECK(uba_status_blame(UBA_E_WEIGHTS_LENGTH).entry == 0);
    CHECK(uba_status_blame(UBA_E_START).arg == UBA_ARG_START);
    CHECK(uba_status_blame(UBA_E_NOISE_LENGTH).arg == UBA_ARG_NOISE);
    CHECK(uba_status_blame(UBA_E_PEAK).arg == UBA_ARG_ETA_MAX);
}

int
main(void)
{
    RUN(every_status_blames_an_argument);
    RUN(words_are_the_names_of_the_ids);
    RUN(every_argument_has_a_name);
    RUN(statuses_blame_what_uba_h_says);
    return check_summary("test_status");
}
