/* Parameter initialisation of the network core: draws W and b from the run's RNG per the init
 * kind. Kept apart from net.c because gsl_randist.h (via gsl_cblas.h) and OpenBLAS's cblas.h
 * declare the same CBLAS enums and cannot be included in one translation unit. */
#include <math.h>
#include <stddef.h>

#include <gsl/gsl_randist.h>

#include "gradsweep/net.h"

void gs_net_init(gs_net *net, const gs_run_config *cfg, gsl_rng *rng)
{
    for (size_t l = 0; l < net->n_layers; l++) {
        size_t n_in = net->n[l], n_out = net->n[l + 1];
        /* normal (mean-field): Var(w) = sigma_w^2 / fan_in; normal_std: Var(w) = sigma_w^2. */
        double sw = cfg->init == GS_INIT_NORMAL ? cfg->sigma_w / sqrt((double)n_in) : cfg->sigma_w;
        double *w = net->w[l]; /* [n_out][n_in] */
        for (size_t i = 0; i < n_out * n_in; i++)
            w[i] = gsl_ran_gaussian(rng, sw);
        double *b = net->b[l]; /* [n_out] */
        for (size_t i = 0; i < n_out; i++)
            b[i] = cfg->sigma_b == 0.0 ? 0.0 : gsl_ran_gaussian(rng, cfg->sigma_b);
    }
}
