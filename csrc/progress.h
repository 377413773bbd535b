/*
 * progress.h -- polling a caller's uba_progress hook (internal to the core).
 *
 * Long loops count their work in units (one step of one evaluation, one
 * element of a buffer) and report it with ticker_add; the hook is polled at
 * the first report and then each time another UBA_POLL_UNITS units have
 * been done, about a millisecond of the cheapest work, so that a caller
 * waiting for Ctrl-C sees it promptly and a slow hook costs little.  The
 * fraction it is given is done / total, capped below 1 (total is an
 * estimate for the searches).
 */
#ifndef UBA_PROGRESS_H
#define UBA_PROGRESS_H

#include "uba.h"

#define UBA_POLL_UNITS 1048576.0

typedef struct uba_ticker {
    const uba_progress *hook;  /* NULL: never polled                   */
    double done;               /* units of work so far                 */
    double total;              /* expected units (an estimate), > 0    */
    double next;               /* poll when done reaches this          */
    int stopped;               /* the hook asked to stop               */
} uba_ticker;

static inline uba_ticker
ticker_start(const uba_progress *hook, double total)
{
    uba_ticker k = {hook != NULL && hook->poll != NULL ? hook : NULL, 0.0,
                    total > 1.0 ? total : 1.0, 0.0, 0};
    return k;
}

/* Adds `units` of work; returns nonzero once the hook has asked to stop. */
static inline int
ticker_add(uba_ticker *k, double units)
{
    k->done += units;
    if (k->hook != NULL && !k->stopped && k->done >= k->next) {
        k->next = k->done + UBA_POLL_UNITS;
        const double f = k->done / k->total;
        if (k->hook->poll(k->hook->ctx, f < 0.99 ? f : 0.99) != 0) {
            k->stopped = 1;
        }
    }
    return k->stopped;
}

#endif /* UBA_PROGRESS_H */
