/* PROTOCOL.md §13: the device's compiled limits and the narrowing rule (see edn_limits.h). */
#include "edn_limits.h"

const edn_limits_t edn_compiled_limits = {
    EDN_LIMIT_FMIN, EDN_LIMIT_FMAX, EDN_LIMIT_PWMIN, EDN_LIMIT_PWMAX, EDN_LIMIT_AMIN, EDN_LIMIT_AMAX,
    EDN_LIMIT_QMAX, EDN_LIMIT_TMAX, EDN_LIMIT_VC,   EDN_LIMIT_WDOG,  EDN_LIMIT_SLEW,
};

int edn_limits_check(const edn_limits_t *l)
{
    const edn_limits_t *c = &edn_compiled_limits;
    if (l->fmin < c->fmin || l->fmin > l->fmax) return 1;
    if (l->fmax > c->fmax) return 2;
    if (l->pwmin < c->pwmin || l->pwmin > l->pwmax) return 3;
    if (l->pwmax > c->pwmax) return 4;
    if (l->amin < c->amin || l->amin > l->amax) return 5;
    if (l->amax > c->amax) return 6;
    if (l->qmax < 1u || l->qmax > c->qmax) return 7;
    if (l->tmax < 1u || l->tmax > c->tmax) return 8;
    if (l->vc < 1u || l->vc > c->vc) return 9;
    if (l->wdog < 1u || l->wdog > c->wdog) return 10;
    if (l->slew < 1u || l->slew > c->slew) return 11;
    return 0;
}
