# Readers for gradsweep outputs (schema gradsweep/1, docs/schema.md) in R with hdf5r.
# Plain functions, no package: source("analysis/R/gradsweep.R"). They open the index OUT.h5, which
# follows its external links into the segments; they read, never write, and load only what asked.
#
# hdf5r reports every dimension in reverse of the C order of docs/schema.md: a [T, L] statistic
# reads as an L x T matrix and a [S, fan_out, fan_in] tensor as fan_in x fan_out x S. These
# functions undo that, so their results are in the orientation of the schema.

suppressPackageStartupMessages(library(hdf5r))

# Opens OUT.h5 read-only; stops with the path when it is missing or not a gradsweep index.
gs_open <- function(path) {
    if (!file.exists(path)) stop(sprintf("%s: no such file", path), call. = FALSE)
    f <- tryCatch(H5File$new(path, mode = "r"), error = function(e) {
        stop(sprintf("%s: not an HDF5 file (%s)", path, conditionMessage(e)), call. = FALSE)
    })
    schema <- if (f$attr_exists("schema")) h5attr(f, "schema") else ""
    if (schema != "gradsweep/1" || !f$exists("summary")) {
        f$close_all()
        stop(sprintf("%s: not a gradsweep index (schema '%s', want 'gradsweep/1' with /summary)",
                     path, schema), call. = FALSE)
    }
    f
}

# The summary table of an open index, with the axis names attached as attribute "axes".
summary_of <- function(f) {
    ds <- f[["summary"]]
    s <- if (ds$dims == 0) NULL else ds$read()
    if (is.null(s)) {
        cols <- h5attr(ds, "columns")
        s <- as.data.frame(setNames(replicate(length(cols), character(0), simplify = FALSE), cols))
    }
    # seed is uint64 but always in [1, 2^32 - 1] (gs_run_seed), so a double holds it exactly.
    if ("seed" %in% names(s)) s$seed <- as.numeric(s$seed)
    attr(s, "axes") <- string_list_attr(ds, "axes")
    attr(s, "axis_keys") <- string_list_attr(ds, "axis_keys")
    s
}

# A string-array attribute; character(0) for an empty one (a sweep without axes), which hdf5r
# cannot read.
string_list_attr <- function(obj, name) {
    a <- obj$attr_open(name)
    on.exit(a$close())
    if (prod(a$get_space()$dims) == 0) character(0) else as.character(a$read())
}

# read_summary(path): data.frame of /summary, one row per stored run in plan order. Strings are
# character, integers integer (or double beyond 32 bits), reals double; every sweep axis is a
# column named as in docs/schema.md (attr(x, "axes") lists them, in spec order, and
# attr(x, "axis_keys") their spec key paths, such as "model.sigma_w").
read_summary <- function(path) {
    f <- gs_open(path)
    on.exit(f$close_all())
    summary_of(f)
}

# The group /runs/<run_id> of an open index; stops naming the run when it is not stored.
run_group <- function(f, path, run_id) {
    if (!is.character(run_id) || length(run_id) != 1 || !f$exists(paste0("runs/", run_id))) {
        stop(sprintf("%s: no run '%s' (read_summary(path)$run_id lists the stored runs)",
                     path, paste(run_id, collapse = ",")), call. = FALSE)
    }
    f[["runs"]][[run_id]]
}

# One run's statistic in long form: the rows of steps `step` (all when NULL).
layer_stats_of_run <- function(g, name, step) {
    steps <- g[["step"]]$read()
    ds <- g[[name]]
    d <- ds$dims # R order: [layer, T] for a [T, L] statistic, [T] for a per-step one
    if (length(d) > 2 || d[length(d)] != length(steps)) {
        stop(sprintf("'%s' is not a per-step statistic (dims %s in C order, %d steps)", name,
                     paste(rev(d), collapse = " x "), length(steps)), call. = FALSE)
    }
    rows <- if (is.null(step)) seq_along(steps) else which(steps %in% step)
    n_layer <- if (length(d) == 2) d[1] else 1L
    if (length(rows) == 0 || n_layer == 0) {
        return(data.frame(step = integer(0), layer = integer(0), value = numeric(0)))
    }
    m <- if (length(d) == 2) ds[, rows, drop = FALSE] else matrix(ds[rows], nrow = 1)
    data.frame(step = rep(steps[rows], each = n_layer),
               layer = if (length(d) == 2) rep(seq_len(n_layer) - 1L, length(rows)) else NA_integer_,
               value = as.vector(m))
}

# read_layer_stats(path, name, step = NULL): long data.frame with columns run_id, <axis columns>,
# step, layer, value for a statistic of every run: a [T, L] one (grad_norm, delta_norm, q, ...;
# layer = weight layer 0..L-1, the readout last), a [T, H] one (dead_frac, sat_frac, act_mean,
# act_std; layer = hidden layer 0..H-1) or a [T] one (loss, delta_slope, ...; layer = NA). step
# keeps only those steps (a vector; runs that did not record one just lack its rows). Runs without
# the dataset (outputs older than the statistic, docs/schema.md "Versions") are left out with a
# warning; no run having it is an error.
read_layer_stats <- function(path, name, step = NULL) {
    f <- gs_open(path)
    on.exit(f$close_all())
    s <- summary_of(f)
    keep <- c("run_id", attr(s, "axes"))
    parts <- list()
    missing <- character(0)
    for (i in seq_len(nrow(s))) {
        g <- f[["runs"]][[s$run_id[i]]]
        if (!g$exists(name)) {
            missing <- c(missing, s$run_id[i])
            next
        }
        long <- layer_stats_of_run(g, name, step)
        if (nrow(long) > 0) parts[[length(parts) + 1]] <- cbind(s[rep(i, nrow(long)), keep,
                                                                    drop = FALSE], long)
    }
    if (nrow(s) > 0 && length(missing) == nrow(s)) {
        stop(sprintf("%s: no run has a dataset '%s' (docs/schema.md lists them)", path, name),
             call. = FALSE)
    }
    if (length(missing) > 0) {
        warning(sprintf("%d run(s) have no '%s' (e.g. %s); left out", length(missing), name,
                        missing[1]), call. = FALSE)
    }
    if (length(parts) == 0) {
        out <- s[0, keep, drop = FALSE]
        return(cbind(out, data.frame(step = integer(0), layer = integer(0), value = numeric(0))))
    }
    out <- do.call(rbind, parts)
    rownames(out) <- NULL
    out
}

# read_tensor(path, run_id, layer, step, group = "grads", kind = "W"): the snapshot of
# <group>/<kind><layer, 3 digits> of a run at a step, in C (schema) order without the step
# dimension: a matrix [fan_out, fan_in] for W (row = output unit, column = input unit, as W_l),
# a vector [fan_out] for b, gamma, beta, running_mean, running_var, a matrix [sample, fan_out]
# for probe/h and probe/delta. group is "grads", "weights" or "probe"; the row is looked up in
# <group>/step. Stops with a message naming what is missing: the run, the dataset (with the
# layers that exist) or the step (with the steps that exist).
read_tensor <- function(path, run_id, layer, step, group = "grads", kind = "W") {
    f <- gs_open(path)
    on.exit(f$close_all())
    g <- run_group(f, path, run_id)
    if (!g$exists(group) || !g[[group]]$exists("step")) {
        stop(sprintf("%s: run %s has no group '%s' with snapshots", path, run_id, group),
             call. = FALSE)
    }
    grp <- g[[group]]
    name <- sprintf("%s%03d", kind, as.integer(layer))
    if (!grp$exists(name)) {
        have <- grep(sprintf("^%s[0-9]{3}$", kind), grp$ls()$name, value = TRUE)
        stop(sprintf("%s: run %s has no %s/%s (it has: %s)", path, run_id, group, name,
                     if (length(have)) paste(sort(have), collapse = " ") else "none"),
             call. = FALSE)
    }
    steps <- grp[["step"]]$read()
    s <- match(step, steps)
    if (length(step) != 1 || is.na(s)) {
        stop(sprintf("%s: run %s has no %s snapshot at step %s; available steps: %s", path,
                     run_id, group, paste(step, collapse = ","),
                     if (length(steps)) paste(steps, collapse = ", ") else "none"), call. = FALSE)
    }
    ds <- grp[[name]]
    d <- ds$dims # R order: [..., S], the step last
    if (length(d) == 1) stop(sprintf("%s/%s has no step dimension", group, name), call. = FALSE)
    idx <- c(rep(list(quote(expr = )), length(d) - 1), list(s))
    x <- do.call(`[`, c(list(ds), idx, list(drop = FALSE)))
    x <- array(x, dim = d[-length(d)])
    if (length(d) == 2) as.vector(x) else aperm(x) # back to C order: [fan_out, fan_in]
}

# read_run_attrs(path, keys, run_ids = NULL): data.frame with run_id and one column per run
# attribute in keys (config keys such as "model.sigma_b", or results such as "steps_done"), for
# the given runs (all stored runs when NULL). A key a run lacks (an output older than the key,
# docs/schema.md) is NA there.
read_run_attrs <- function(path, keys, run_ids = NULL) {
    f <- gs_open(path)
    on.exit(f$close_all())
    if (is.null(run_ids)) run_ids <- summary_of(f)$run_id
    cols <- lapply(keys, function(k) {
        vals <- lapply(run_ids, function(id) {
            g <- run_group(f, path, id)
            if (g$attr_exists(k)) h5attr(g, k) else NA
        })
        if (length(vals)) unlist(vals) else logical(0)
    })
    out <- data.frame(run_id = as.character(run_ids), stringsAsFactors = FALSE)
    for (i in seq_along(keys)) out[[keys[i]]] <- cols[[i]]
    out
}
