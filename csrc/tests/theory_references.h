/* theory_references.h -- written by make_references.py (python
 * csrc/tests/make_references.py); do not edit.  The references of
 * test_theory.c's searches at 50 digits, each rounded once to double, with
 * the FNV-1a hash of the inputs it belongs to (make_references.py says how
 * they are made and found). */
#ifndef UBA_THEORY_REFERENCES_H
#define UBA_THEORY_REFERENCES_H

#include <stdint.h>

typedef struct reference {
    uint64_t inputs;  /* fnv1a of the inputs, in check.h's order */
    double value;
} reference;

/* max of log|p| on [a, b], hash of (a, b, eta): 7 sizes x 3 */
static const reference REF_RANDOM_SCHEDULES[21] = {
    {UINT64_C(0x1394940B4BE37382), 0x1.b7ada35a2709ap-4},
    {UINT64_C(0x5CA70E3CE2301A18), 0x1.5279999e48602p-4},
    {UINT64_C(0xA2CFEE390A63A56E), 0x1.dcd9174dde401p-7},
    {UINT64_C(0x527A5DC6DE65B55A), -0x1.379a2648b3078p+0},
    {UINT64_C(0x1A8B81CAA7509839), 0x1.669d93679dc68p-5},
    {UINT64_C(0x2756C05DF1B440F1), 0x1.08ab0f224cda9p-1},
    {UINT64_C(0x7318D60EADF35AC6), 0x1.090974e1707a9p+0},
    {UINT64_C(0xD34084EBE5FE033E), 0x1.91086ad84d62bp-3},
    {UINT64_C(0x5701C69FB92137FB), -0x1.c983f235800aap-4},
    {UINT64_C(0x6BF699F390837A2F), 0x1.e30164f5f0df5p+0},
    {UINT64_C(0xDD51D6729D0AF3B2), 0x1.ac0a5bb160defp+0},
    {UINT64_C(0x42B6E1E0DF759B0E), 0x1.38ee1b6861c67p+0},
    {UINT64_C(0x0D41841E526CBD6F), -0x1.f509a941183bcp+3},
    {UINT64_C(0x5169CD3792B3BD94), 0x1.392a735d593ebp+2},
    {UINT64_C(0x63A4A038BF87DCB3), 0x1.bfbe4b904bb29p+0},
    {UINT64_C(0x97B0C8683F7B0412), 0x1.68cdece9de8c3p+3},
    {UINT64_C(0x2040953696779D2F), 0x1.8a0dffab860c0p+4},
    {UINT64_C(0x66A834210E983C8A), 0x1.cdb704976160dp+3},
    {UINT64_C(0x485C1D5A9D4107B4), 0x1.b50b7dd1d8767p+5},
    {UINT64_C(0xFACF44BB645D883F), 0x1.c39bb14c27cc8p+5},
    {UINT64_C(0xD433A64517C9B990), 0x1.29f50e8d35eb8p+5},
};

/* max of log|p| on [a, a (1 + 1e-9)], hash of (a, b, eta) */
static const reference REF_NEAR_DEGENERATE[3] = {
    {UINT64_C(0x1C51ECFB3B24CB34), -0x1.9e82b4b1db799p+12},
    {UINT64_C(0x40A94393B4844BCC), -0x1.9e82bfffc46fdp+12},
    {UINT64_C(0x3874AD04ADC99E98), -0x1.9e82b7c3cf78fp+12},
};

/* log|p| at 5.5 + 4.5 cos(pi j / T), j = T/2-2..T/2+2, hash of eta */
static const reference REF_BUDGET_1E5[5] = {
    {UINT64_C(0xBBBC622069051165), -0x1.ffa2ac7e313c3p+15},
    {UINT64_C(0xBBBC622069051165), -0x1.ffa2ac7e313bdp+15},
    {UINT64_C(0xBBBC622069051165), -0x1.ffa2ac7e313bbp+15},
    {UINT64_C(0xBBBC622069051165), -0x1.ffa2ac7e313bdp+15},
    {UINT64_C(0xBBBC622069051165), -0x1.ffa2ac7e313c1p+15},
};

/* max of log V on the grid 1 + 49 j / 200000, hash of (eta, sigma2) */
static const reference REF_NOISY_DENSE[4] = {
    {UINT64_C(0xA1411D82443C1D46), -0x1.3a4f2b98f634cp-2},
    {UINT64_C(0x586316D8C45E8216), -0x1.3a4f2529c2fa7p-2},
    {UINT64_C(0xC5F7530F1C66FFFA), -0x1.3a4ca8196c82cp-2},
    {UINT64_C(0x97BD9112BE0FC035), -0x1.3953ec3d1183ep-2},
};

/* max of log V on [1, kappa], hash of (eta, sigma2) */
static const reference REF_NOISY_SEARCH[5] = {
    {UINT64_C(0x586E0E58F65F5802), -0x1.866407cb33115p+3},
    {UINT64_C(0x99A514E076C8CA27), -0x1.2ba0c556327a6p+3},
    {UINT64_C(0x25F8634780B0C43A), 0x1.7b6fde447cf05p+12},
    {UINT64_C(0x22DA22910A4BA2B2), -0x1.16c7ab4986a5bp+5},
    {UINT64_C(0x20E2AAA517F98A2F), -0x1.fc3bf82fb31c8p+3},
};

#endif /* UBA_THEORY_REFERENCES_H */
