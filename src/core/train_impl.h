/* Template body of the per-precision part of a run, included by train.c once per compute
 * precision with R (double or float), S(n) a per-precision static name, P(n) the net's public
 * name (gs_net_##n or gs_netf_##n), NET the net type, TW the work member (d or f), NORM, STEP and
 * CLIP the float64 norm, optimizer step and clipping for R vectors. No include guard. */

/* The data set in R: float64 uses it in place; float32 converts inputs and targets once. */
static gs_status S(data_setup)(work *w, gs_error *err)
{
    const gs_dataset *ds = w->ds;
#if R_IS_DOUBLE
    (void)err;
    w->TW.x = ds->x;
    w->TW.y = ds->y;
    return GS_OK;
#else
    size_t nx = ds->n * ds->d, ny = ds->has_labels ? 0 : ds->n * ds->k; /* sizes exist already */
    w->TW.own_x = gs_train_alloc(nx, sizeof(R));
    w->TW.own_y = ny ? gs_train_alloc(ny, sizeof(R)) : NULL;
    if (!w->TW.own_x || (ny && !w->TW.own_y))
        return gs_error_set(err, GS_ENOMEM, "out of memory for a float32 copy of %zu samples",
                            ds->n);
    for (size_t i = 0; i < nx; i++)
        w->TW.own_x[i] = (R)ds->x[i];
    for (size_t i = 0; i < ny; i++)
        w->TW.own_y[i] = (R)ds->y[i];
    w->TW.x = w->TW.own_x;
    w->TW.y = w->TW.own_y;
    return GS_OK;
#endif
}

/* Copies rows idx[0..m) of the data set into x [m][d] and lab [m] (label data) or y [m][k]. */
static void S(gather_rows)(const work *w, const size_t *idx, size_t m, R *x, int32_t *lab, R *y)
{
    const gs_dataset *ds = w->ds;
    size_t d = ds->d, k = ds->k;
    for (size_t i = 0; i < m; i++) {
        memcpy(x + i * d, w->TW.x + idx[i] * d, d * sizeof *x);
        if (ds->has_labels)
            lab[i] = ds->label[idx[i]];
        else
            memcpy(y + i * k, w->TW.y + idx[i] * k, k * sizeof *y);
    }
}

/* Batch and eval buffers in R, filled once where they never change (the eval split; the
 * training samples of a full batch with a split). */
static gs_status S(buffer_setup)(work *w, gs_error *err)
{
    const gs_dataset *ds = w->ds;
    size_t m = w->n_eval, d = ds->d, k = ds->k;
    if (m > 0) {
        w->TW.xe = m <= SIZE_MAX / d ? gs_train_alloc(m * d, sizeof(R)) : NULL;
        w->TW.ye = !ds->has_labels && m <= SIZE_MAX / k ? gs_train_alloc(m * k, sizeof(R)) : NULL;
        if (!w->TW.xe || (!ds->has_labels && !w->TW.ye))
            return gs_error_set(err, GS_ENOMEM, "out of memory for the eval split of %zu samples",
                                m);
        S(gather_rows)(w, w->split + w->n_train, m, w->TW.xe, w->le, w->TW.ye);
    }
    if (w->full && !w->split)
        return GS_OK;
    w->TW.xb = w->B <= SIZE_MAX / d ? gs_train_alloc(w->B * d, sizeof(R)) : NULL;
    w->TW.yb = ds->has_labels ? NULL : gs_train_alloc(w->B * k, sizeof(R));
    if (!w->TW.xb || (!ds->has_labels && !w->TW.yb))
        return gs_error_set(err, GS_ENOMEM, "out of memory for batches of %zu rows", w->B);
    if (w->full)
        S(gather_rows)(w, w->split, w->B, w->TW.xb, w->lb, w->TW.yb);
    return GS_OK;
}

/* The probes' buffers in R: the initial weights and room for the weights before an update
 * (standard tier), the probe batch's rows, and room for batchnorm's running statistics. */
static gs_status S(probe_setup)(work *w, const gs_record *rec, gs_error *err)
{
    const NET *net = w->TW.net;
    size_t L = net->n_layers, nw = gs_probe_n_weights(net->n, L), nbn = 0;
    const gs_dataset *ds = w->ds;
    if (rec->level >= GS_LEVEL_STANDARD) {
        w->TW.w0 = gs_train_alloc(nw, sizeof(R));
        w->TW.wprev = gs_train_alloc(nw, sizeof(R));
        if (!w->TW.w0 || !w->TW.wprev)
            return gs_error_set(err, GS_ENOMEM, "out of memory for two copies of %zu weights", nw);
        memcpy(w->TW.w0, net->params, nw * sizeof(R)); /* the weights come first */
    }
    if (w->P == 0)
        return GS_OK;
    w->TW.xp = gs_train_alloc(w->P * ds->d, sizeof(R));
    w->TW.yp = ds->has_labels ? NULL : gs_train_alloc(w->P * ds->k, sizeof(R));
    for (size_t l = 0; net->run_mean && l + 1 < L; l++)
        nbn += 2 * net->n[l + 1];
    w->TW.bn = nbn ? gs_train_alloc(nbn, sizeof(R)) : NULL;
    if (!w->TW.xp || (!ds->has_labels && !w->TW.yp) || (nbn && !w->TW.bn))
        return gs_error_set(err, GS_ENOMEM, "out of memory for a probe batch of %zu rows", w->P);
    S(gather_rows)(w, w->pidx, w->P, w->TW.xp, w->lp, w->TW.yp);
    return GS_OK;
}

/* Net (parameters drawn now, after data and split; room for batches of max(B, P) rows),
 * optimizer, data in R and buffers. */
static gs_status S(typed_setup)(work *w, const gs_run_config *cfg, const gs_record *rec,
                                gs_error *err)
{
    gs_status st;
    const gs_dataset *ds = w->ds;
    size_t mb = w->B > w->P ? w->B : w->P;
    if ((st = P(create)(&w->TW.net, cfg, ds->d, ds->k, mb, err)) ||
        (st = P(init)(w->TW.net, cfg, w->rng, err)) ||
        (st = gs_optimizer_create(&w->opt, cfg, w->TW.net->n_params, err)))
        return st;
    w->norms = gs_train_alloc(w->TW.net->n_layers, sizeof *w->norms);
    if (!w->norms)
        return gs_error_set(err, GS_ENOMEM, "out of memory");
    if ((st = S(data_setup)(w, err)) || (st = S(buffer_setup)(w, err)))
        return st;
    return S(probe_setup)(w, rec, err);
}

/* Forward passes in evaluation mode over the eval split in chunks of at most B rows (the net's
 * buffers), appending one eval row: the mean loss over the split and, for label data, the
 * fraction of samples whose largest output (the first on ties) is the label, NaN for regression.
 * Overwrites only activation scratch that the next training forward overwrites; draws nothing
 * and leaves parameters, gradients, running statistics and optimizer state alone. */
static void S(evaluate)(work *w, gs_result *res, int64_t t)
{
    NET *net = w->TW.net;
    size_t d = w->ds->d, k = w->ds->k, m = w->n_eval, correct = 0;
    double sum = 0.0;
    for (size_t i0 = 0; i0 < m; i0 += w->B) {
        size_t c = m - i0 < w->B ? m - i0 : w->B;
        const int32_t *lab = w->le ? w->le + i0 : NULL;
        P(forward_eval)(net, w->TW.xe + i0 * d, c);
        sum += P(loss)(net, lab, w->TW.ye ? w->TW.ye + i0 * k : NULL, c) * (double)c;
        const R *o = net->h[net->n_layers - 1]; /* [c][k] */
        for (size_t r = 0; lab && r < c; r++) {
            size_t best = 0;
            for (size_t j = 1; j < k; j++)
                best = o[r * k + j] > o[r * k + best] ? j : best;
            correct += (int32_t)best == lab[r];
        }
    }
    size_t e = res->n_eval_rows++;
    assert(e < res->cap_eval);
    res->eval_step[e] = t;
    res->eval_loss[e] = sum / (double)m;
    res->eval_accuracy[e] = w->le ? (double)correct / (double)m : (double)NAN;
    res->final_eval_loss = res->eval_loss[e];
    res->final_eval_accuracy = res->eval_accuracy[e];
}

/* Copies dW_l, db_l, dgamma_l, dbeta_l (and W_l, b_l, gamma_l, beta_l and the running
 * statistics: the state that produced them, before the update) into snapshot slot s, in
 * double (exact for float32). */
static void S(snapshot)(gs_result *res, const NET *net, size_t s)
{
    for (size_t l = 0; l < res->n_layers; l++) {
        size_t per = res->fan_in[l] * res->fan_out[l], nb = res->fan_out[l];
        S(put)(res->grads[l] + s * per, net->dw[l], per);
        if (res->bgrads)
            S(put)(res->bgrads[l] + s * nb, net->db[l], nb);
        if (res->weights)
            S(put)(res->weights[l] + s * per, net->w[l], per);
        if (res->biases)
            S(put)(res->biases[l] + s * nb, net->b[l], nb);
        if (l >= res->n_norm)
            continue;
        S(put)(res->ngrad_scale[l] + s * nb, net->dgamma[l], nb);
        S(put)(res->ngrad_shift[l] + s * nb, net->dbeta[l], nb);
        if (res->nscale) {
            S(put)(res->nscale[l] + s * nb, net->gamma[l], nb);
            S(put)(res->nshift[l] + s * nb, net->beta[l], nb);
        }
        if (res->nrun_mean) {
            S(put)(res->nrun_mean[l] + s * nb, net->run_mean[l], nb);
            S(put)(res->nrun_var[l] + s * nb, net->run_var[l], nb);
        }
    }
    res->n_snaps = s + 1;
}

/* The rows of the current batch: the gathered buffers, or the data set itself (a full batch
 * without a split). */
static void S(batch_src)(const work *w, const R **x, const R **y, const int32_t **lab)
{
    *x = w->TW.xb ? w->TW.xb : w->TW.x;
    *y = w->TW.xb ? w->TW.yb : w->TW.y;
    *lab = w->TW.xb ? w->lb : w->ds->label;
}

/* One forward/backward pass on the next batch; returns the loss and fills w->norms. Minibatches
 * walk a permutation of the training samples B rows at a time; a tail shorter than B is dropped and
 * a new epoch starts with a fresh shuffle (the first epoch is shuffled too), so every step sees
 * exactly B rows. */
static double S(pass)(work *w, size_t *pos)
{
    const R *x, *y;
    const int32_t *lab;
    if (!w->full) {
        if (*pos + w->B > w->n_train) {
            gsl_ran_shuffle(w->rng, w->perm, w->n_train, sizeof *w->perm);
            *pos = 0;
        }
        S(gather_rows)(w, w->perm + *pos, w->B, w->TW.xb, w->lb, w->TW.yb);
        *pos += w->B;
    }
    S(batch_src)(w, &x, &y, &lab);
    P(forward)(w->TW.net, x, w->B);
    double loss = P(loss)(w->TW.net, lab, y, w->B);
    P(backward)(w->TW.net, x, w->B);
    P(grad_norms)(w->TW.net, w->norms);
    return loss;
}

/* The backward pass of the last batch once more, with the hook armed for row r: the extra row of
 * a diverging step that was not planned. Loss and backward are deterministic functions of the
 * forward state, which they do not change, so the gradients come out bitwise the same. */
static void S(repass)(work *w, gs_result *res, size_t r)
{
    const R *x, *y;
    const int32_t *lab;
    S(batch_src)(w, &x, &y, &lab);
    w->TW.net->probe = hook_arm(w, res, r, 0);
    P(loss)(w->TW.net, lab, y, w->B);
    P(backward)(w->TW.net, x, w->B);
    w->TW.net->probe = NULL;
    P(grad_norms)(w->TW.net, w->norms);
}

/* Saves (save = 1) or restores batchnorm's running statistics. */
static void S(bn_keep)(work *w, int save)
{
    NET *net = w->TW.net;
    R *buf = w->TW.bn;
    for (size_t l = 0; buf && l + 1 < net->n_layers; l++) {
        size_t n = net->n[l + 1];
        R *v[2] = {net->run_mean[l], net->run_var[l]};
        for (int k = 0; k < 2; k++, buf += n)
            memcpy(save ? buf : v[k], save ? v[k] : buf, n * sizeof *buf);
    }
}

/* The probe pass of snapshot s: a training-mode forward (and, with record.deltas, loss and
 * backward) on the probe batch, capturing h_l and dL/dh_l; the running statistics are put back,
 * and the step's own pass, which comes next, overwrites every gradient and activation. */
static void S(probe_pass)(work *w, gs_result *res, size_t s)
{
    NET *net = w->TW.net;
    size_t L = net->n_layers, Pr = w->P;
    S(bn_keep)(w, 1);
    P(forward)(net, w->TW.xp, Pr);
    if (res->probe_delta) {
        for (size_t l = 0; l < L; l++)
            w->cap[l] = res->probe_delta[l] + s * Pr * res->fan_out[l];
        memset(&w->hook, 0, sizeof w->hook);
        w->hook.capture = w->cap;
        P(loss)(net, w->lp, w->TW.yp, Pr);
        net->probe = &w->hook;
        P(backward)(net, w->TW.xp, Pr);
        net->probe = NULL;
    }
    for (size_t l = 0; res->probe_h && l < L; l++)
        S(put)(res->probe_h[l] + s * Pr * res->fan_out[l], net->h[l], Pr * res->fan_out[l]);
    S(bn_keep)(w, 0);
}

/* Jacobian row res->n_jac of step t: J at each of the first jac_inputs probe samples (the net in
 * evaluation mode; only activation scratch changes) and its spectrum. */
static void S(jacobians)(work *w, gs_result *res, int64_t t)
{
    size_t j = res->n_jac++, d = w->ds->d;
    assert(j < res->cap_jac);
    res->jac_step[j] = t;
    for (size_t i = 0; i < res->jac_inputs; i++) {
        P(jacobian)(w->TW.net, w->TW.xp + i * d, w->jac, w->jwork);
        jac_spectrum(w, res, j, i);
    }
}

/* Histogram row res->n_hist of step t: the weight-gradient counts (the delta counts were taken
 * by the hook during backward). */
static void S(hist_grads)(work *w, gs_result *res, int64_t t)
{
    const NET *net = w->TW.net;
    size_t L = net->n_layers, h = res->n_hist++, k = res->hist_bins;
    assert(h < res->cap_hist);
    res->hist_step[h] = t;
    for (size_t l = 0; l < L; l++)
        HIST(&w->hist, net->dw[l], net->n[l] * net->n[l + 1], res->hist_grad + (h * L + l) * k,
             res->hist_grad_out + (h * L + l) * GS_PROBE_HIST_OUT);
}

/* The tensor statistics of row r from the net after the pass (before evaluation overwrites the
 * activations, before clipping changes the gradients and before the update). */
static void S(row_stats)(work *w, gs_result *res, size_t r)
{
    const NET *net = w->TW.net;
    size_t L = net->n_layers, H = L - 1;
    int std = res->level >= GS_LEVEL_STANDARD;
    double *dead = res->dead_frac + r * H, *sat = res->sat_frac + r * H;
    double *am = std ? res->act_mean + r * H : NULL, *as = std ? res->act_std + r * H : NULL;
    S(gs_probe_forward)(net, w->B, &w->pact, w->alive, res->q + r * L, dead, sat, am, as);
    if (std) {
        double *bn = res->bias_grad_norm ? res->bias_grad_norm + r * L : NULL;
        S(gs_probe_grads)(net, res->grad_mean_abs + r * L, res->grad_max_abs + r * L, bn);
        /* one pass: distance from the initial weights, norm, and the copy the update ratio
         * compares with (the weights do not change until the update) */
        double *dist = res->weight_dist_init + r * L, *wn = res->weight_norm + r * L;
        S(gs_probe_wdist)(net, w->TW.w0, dist, wn, 0, w->TW.wprev);
    }
    row_scalars(w, res, r);
}

/* The step loop. A non-finite loss, weight-gradient norm or bias/norm gradient is a result, not
 * an error: the run is marked diverged at that step, its statistics row is always recorded (and
 * its snapshot when planned), and no update is applied; steps_done counts the updates applied.
 * A row at which a state listed in train.stop_on holds ends the run the same way (stopped).
 * Per step: probe pass and Jacobian (snapshot steps), the pass (the hook armed on row and
 * histogram steps), row statistics, evaluation, snapshot (raw gradients), global norm,
 * clipping, row and verdict, optimizer update with the scheduled lr (torch order:
 * clip_grad_norm_ before optimizer.step), update ratio. Nothing here allocates. */
static gs_status S(loop)(work *w, const gs_run *run, const gs_record *rec, gs_result *res,
                         const atomic_int *stop, gs_error *err)
{
    const gs_run_config *cfg = &run->cfg;
    NET *net = w->TW.net;
    size_t L = net->n_layers, pos = w->n_train, snap = 0;
    int64_t eval_per = gs_train_eval_period(cfg, rec);
    for (int64_t t = 0; t < cfg->steps; t++) {
        if (stop && t % 16 == 0 && atomic_load(stop))
            return gs_error_set(err, GS_EINTR, "interrupted at step %lld", (long long)t);
        int snap_due = snap < res->cap_snaps && res->snap_plan[snap] == t;
        if (snap_due && (res->probe_h || res->probe_delta))
            S(probe_pass)(w, res, snap);
        if (res->n_jac < res->cap_jac && (t == 0 || snap_due))
            S(jacobians)(w, res, t);
        int row = t % w->every == 0, hist = w->hist.bins > 0 && t % w->hist_every == 0;
        size_t r = res->n_rows;
        net->probe = hook_arm(w, res, row ? r : SIZE_MAX, hist);
        double loss = S(pass)(w, &pos);
        net->probe = NULL;
        int finite = isfinite(loss) && P(aux_grads_finite)(net);
        for (size_t l = 0; l < L; l++)
            finite = finite && isfinite(w->norms[l]);
        if (!finite && !row) {
            row = 1;
            S(repass)(w, res, r);
        }
        if (hist)
            S(hist_grads)(w, res, t);
        if (row)
            S(row_stats)(w, res, r);
        if (w->n_eval > 0 && eval_due(t, cfg->steps, eval_per))
            S(evaluate)(w, res, t); /* after backward: the gradients are already in place */
        if (t == 0) {
            res->grad_norm0_first = w->norms[0];
            res->grad_norm0_last = w->norms[L - 1];
        }
        if (snap_due)
            S(snapshot)(res, net, snap++); /* the gradients before clipping */
        /* The global norm costs a pass over all gradients: only when a row or clipping needs it. */
        row_extra x = {gs_opt_lr(cfg, t), 0,
                       row || cfg->clip_norm > 0.0 ? NORM(net->grads, net->n_params) : (double)NAN};
        if (finite)
            x.clipped = CLIP(cfg, net->grads, net->n_params, x.gnorm);
        unsigned states = 0;
        if (row) {
            add_row(res, t, loss, w->norms, &x);
            states = row_verdict(w, res, r, t, loss, finite);
        }
        res->final_loss = loss;
        if (!finite) {
            res->status = GS_RUN_DIVERGED;
            res->diverged_step = t;
            return GS_OK;
        }
        if (states & w->stop_mask) {
            res->status = GS_RUN_STOPPED;
            return GS_OK; /* steps_done == t */
        }
        int ratio = row && res->update_ratio; /* row_stats copied the weights into wprev */
        STEP(w->opt, net->params, net->grads, x.lr);
        if (ratio) {
            double *u = res->update_ratio + r * L, *wn = w->pe; /* pe is free after the row */
            S(gs_probe_wdist)(net, w->TW.wprev, u, wn, 1, NULL);
            for (size_t l = 0; l < L; l++)
                u[l] /= wn[l];
        }
        res->steps_done = t + 1;
    }
    return GS_OK;
}
