/*
 * theory_internal.c -- what the theory's sections share that is not inline
 * (theory_internal.h declares it): sorting without allocation.
 */
#include "theory_internal.h"

static void
sift_down(double *a, size_t root, size_t end)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= end) {
            return;
        }
        if (child + 1 < end && a[child] < a[child + 1]) {
            child++;
        }
        if (!(a[root] < a[child])) {
            return;
        }
        const double tmp = a[root];
        a[root] = a[child];
        a[child] = tmp;
        root = child;
    }
}

/* One pass counts rises and falls: sorted input is kept, reversed input
 * reversed, anything else heapsorted (see theory_internal.h). */
int
sort_ascending(double *a, size_t n, uba_ticker *ticker)
{
    size_t up = 0, down = 0;
    for (size_t i = 1; i < n; i++) {
        up += a[i] < a[i - 1];
        down += a[i] > a[i - 1];
        if ((i & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return 1;
        }
    }
    if (up == 0) {
        return ticker_add(ticker, (double)n);
    }
    if (down == 0) {
        for (size_t i = 0, j = n - 1; i < j; i++, j--) {
            const double tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
        return ticker_add(ticker, (double)n);
    }
    for (size_t start = n / 2; start-- > 0;) {
        sift_down(a, start, n);
    }
    for (size_t end = n - 1; end > 0; end--) {
        const double tmp = a[0];
        a[0] = a[end];
        a[end] = tmp;
        sift_down(a, 0, end);
        if ((end & 4095) == 0 && ticker_add(ticker, 4096.0 * 16.0)) {
            return 1;
        }
    }
    return 0;
}
