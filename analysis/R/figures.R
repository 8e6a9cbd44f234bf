# Figures 1 and 2 of a gradsweep output with ggplot2 (issue 5): per-layer gradient norms at step
# 0 and a later step, and the phase diagram of the first/last-layer gradient ratio at step 0 with
# the mean-field critical sigma_w. It reads through analysis/R/gradsweep.R and writes PNGs only.
#
# usage: Rscript analysis/R/figures.R OUT.h5 OUTDIR [--gs-exe PATH] [--step N]
#   --gs-exe PATH  gradsweep binary for the critical line (default: env GS_EXE, then PATH)
#   --step N       the later step of figure 1 (default: the last step recorded by the ok runs)

usage <- "usage: Rscript analysis/R/figures.R OUT.h5 OUTDIR [--gs-exe PATH] [--step N]"

script_dir <- function() {
    file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
    if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "analysis/R"
}
source(file.path(script_dir(), "gradsweep.R"))
suppressPackageStartupMessages(library(ggplot2))

die <- function(...) {
    message("figures.R: ", ...)
    quit(status = 2)
}

parse_args <- function(a) {
    opt <- list(exe = Sys.getenv("GS_EXE", ""), step = NA_integer_, pos = character(0))
    i <- 1
    while (i <= length(a)) {
        if (a[i] %in% c("--gs-exe", "--step")) {
            if (i == length(a)) die(a[i], " needs a value\n", usage)
            if (a[i] == "--gs-exe") opt$exe <- a[i + 1]
            else opt$step <- suppressWarnings(as.integer(a[i + 1]))
            if (a[i] == "--step" && (is.na(opt$step) || opt$step < 0)) {
                die("--step wants a step >= 0, not '", a[i + 1], "'")
            }
            i <- i + 2
        } else if (startsWith(a[i], "--")) {
            die("unknown option ", a[i], "\n", usage)
        } else {
            opt$pos <- c(opt$pos, a[i])
            i <- i + 1
        }
    }
    if (length(opt$pos) != 2) die(usage)
    if (opt$exe == "") opt$exe <- Sys.which("gradsweep")
    opt
}

# The config of every run (the run attributes, so axes and fixed values alike), with /summary.
CFG_KEYS <- c("model.sigma_w", "model.sigma_b", "model.depth", "model.activation", "model.init",
              "model.norm", "model.residual_every", "model.bias", "model.leaky_alpha",
              "model.elu_alpha")
load_runs <- function(path) {
    s <- read_summary(path)
    if (nrow(s) == 0) die(path, ": no stored runs")
    cfg <- read_run_attrs(path, CFG_KEYS, s$run_id)
    runs <- cbind(s, cfg[, -1, drop = FALSE])
    attr(runs, "axes") <- attr(s, "axes")
    attr(runs, "axis_keys") <- attr(s, "axis_keys")
    runs
}

# A facet label per run from the axes whose keys are not in `except` ("all runs" when none).
panel_of <- function(runs, except) {
    axes <- attr(runs, "axes")[!attr(runs, "axis_keys") %in% except]
    if (length(axes) == 0) return(rep("all runs", nrow(runs)))
    lab <- lapply(axes, function(a) paste0(a, " = ", as.character(runs[[a]])))
    do.call(paste, c(lab, sep = ", "))
}

# The last recorded step of each run (the last entry of its `step` dataset; NA when empty).
last_steps <- function(path, run_ids) {
    f <- gs_open(path)
    on.exit(f$close_all())
    vapply(run_ids, function(id) {
        ds <- f[["runs"]][[id]][["step"]]
        n <- ds$dims
        if (n == 0) NA_real_ else as.numeric(ds[n])
    }, numeric(1))
}

sweep_name <- function(path) {
    f <- gs_open(path)
    on.exit(f$close_all())
    h5attr(f, "name")
}

save_png <- function(plot, file, n_panels_x, n_panels_y) {
    ggsave(file, plot, width = min(4 + 3.2 * n_panels_x, 24), height = 2.5 + 3 * n_panels_y,
           dpi = 110, limitsize = FALSE)
    message("wrote ", file)
}

# Figure 1: ||dL/dW_l|| against l (log y) at step 0 and a later step, one curve per run coloured
# by sigma_w, a column of panels per value of the other axes.
figure1 <- function(path, runs, later, file) {
    last <- last_steps(path, runs$run_id)
    if (is.na(later)) {
        ok <- last[runs$status == "ok"]
        later <- max(if (length(ok) && any(!is.na(ok))) ok else last, na.rm = TRUE)
    }
    if (!is.finite(later)) die(path, ": no run recorded any statistics row")
    d <- read_layer_stats(path, "grad_norm", step = unique(c(0, later)))
    d$sigma_w <- runs$model.sigma_w[match(d$run_id, runs$run_id)]
    d$panel <- panel_of(runs, "model.sigma_w")[match(d$run_id, runs$run_id)]
    d$when <- factor(sprintf("step %d", d$step), levels = sprintf("step %d", unique(c(0, later))))
    drop <- !(is.finite(d$value) & d$value > 0)
    notes <- character(0)
    if (any(drop)) notes <- c(notes, sprintf("%d zero/non-finite norms not drawn", sum(drop)))
    n_short <- sum(is.na(last) | last < later)
    if (n_short) notes <- c(notes, sprintf("%d run(s) ended before step %d", n_short, later))
    d <- d[!drop, ]
    sw <- range(runs$model.sigma_w)
    trans <- if (sw[1] > 0 && sw[2] / sw[1] >= 8) "log10" else "identity"
    p <- ggplot(d, aes(layer, value, colour = sigma_w, group = run_id)) +
        geom_line(alpha = 0.85) +
        geom_point(size = 0.9) +
        scale_y_log10(breaks = scales::breaks_log(8)) +
        scale_x_continuous(breaks = function(r) unique(round(pretty(r)))) +
        scale_colour_viridis_c(name = "\u03c3_w", trans = trans, end = 0.92) +
        facet_grid(when ~ panel, scales = "free_x") +
        labs(x = "weight layer l  (0 = input side, L-1 = readout)",
             y = "gradient norm \u2016\u2202L/\u2202W_l\u2016_F  (loss per unit weight, log scale)",
             title = sprintf("%s: per-layer gradient norm at step 0 and step %d", sweep_name(path),
                             later),
             subtitle = "one curve per run, coloured by the weight scale \u03c3_w",
             caption = if (length(notes)) paste(notes, collapse = "; ") else NULL) +
        theme_bw()
    save_png(p, file, length(unique(d$panel)), nlevels(d$when))
}

# The critical sigma_w (chi1 = 1) from `gradsweep theory --critical`: list(value, note).
critical_sigma_w <- function(exe, act, sigma_b, alpha) {
    args <- c("theory", "--critical", act, "--sigma-b", format(sigma_b, digits = 17), "--csv")
    if (!is.na(alpha)) args <- c(args, "--alpha", format(alpha, digits = 17))
    err <- tempfile()
    on.exit(unlink(err))
    out <- suppressWarnings(system2(exe, args, stdout = TRUE, stderr = err))
    status <- attr(out, "status")
    if (!is.null(status) && status != 0) {
        return(list(value = NA_real_, note = sprintf("%s failed (exit %d): %s", basename(exe),
                                                     status, paste(readLines(err), collapse = " "))))
    }
    tab <- read.csv(text = out, stringsAsFactors = FALSE)
    v <- as.numeric(tab$sigma_w[1])
    note <- if (is.na(v)) sprintf("%s: no critical point (%s)", act,
                                  paste(readLines(err), collapse = " ")) else NULL
    list(value = v, note = note)
}

# The critical line of each panel of figure 2, where mean-field theory describes the runs
# (init normal, no norm, no residual blocks); notes say why a panel has none.
critical_lines <- function(runs, panels, exe) {
    crit <- data.frame(panel = character(0), sigma_w = numeric(0), sigma_b = numeric(0))
    notes <- character(0)
    if (!nzchar(exe) || !file.exists(exe)) {
        return(list(crit = crit, notes = "no critical line: gradsweep binary not found (set GS_EXE or --gs-exe)"))
    }
    for (p in unique(panels)) {
        r <- runs[match(p, panels), ]
        if (r$model.init != "normal" || r$model.norm != "none" || r$model.residual_every != 0) {
            notes <- c(notes, sprintf("%s: no critical line (init %s, norm %s): theory is for init normal without norm or residuals",
                                      p, r$model.init, r$model.norm))
            next
        }
        sigma_b <- if (identical(r$model.bias, "false")) 0 else r$model.sigma_b
        alpha <- switch(r$model.activation, leaky_relu = r$model.leaky_alpha,
                        elu = r$model.elu_alpha, NA_real_)
        c1 <- critical_sigma_w(exe, r$model.activation, sigma_b, alpha)
        if (!is.null(c1$note)) notes <- c(notes, c1$note)
        if (!is.na(c1$value)) {
            crit <- rbind(crit, data.frame(panel = p, sigma_w = c1$value, sigma_b = sigma_b))
        }
    }
    list(crit = crit, notes = notes)
}

# Axis breaks at the grid values when they are few, else the default ones.
grid_breaks <- function(v) {
    u <- sort(unique(v))
    if (length(u) <= 10) u else waiver()
}

# Cell edges for a grid of values: midpoints between neighbours, half a gap beyond the ends.
cell_edges <- function(v, pad) {
    u <- sort(unique(v))
    if (length(u) == 1) return(list(lo = setNames(u - pad, u), hi = setNames(u + pad, u)))
    mid <- (u[-1] + u[-length(u)]) / 2
    lo <- c(u[1] - (mid[1] - u[1]), mid)
    hi <- c(mid, u[length(u)] + (u[length(u)] - mid[length(mid)]))
    list(lo = setNames(lo, u), hi = setNames(hi, u))
}

# Figure 2: heat map over (sigma_w, depth) of log10(||dL/dW_0|| / ||dL/dW_{L-1}||) at step 0,
# replicates averaged, a panel per activation (and other axes), the critical sigma_w dashed.
figure2 <- function(path, runs, exe, file) {
    runs$ratio <- log10(runs$grad_norm_first_step0 / runs$grad_norm_last_step0)
    runs$ratio[!is.finite(runs$ratio)] <- NA
    runs$panel <- panel_of(runs, c("model.sigma_w", "model.depth", "model.activation"))
    runs$panel <- if (all(runs$panel == "all runs")) runs$model.activation else
        paste0(runs$model.activation, ": ", runs$panel)
    cell <- aggregate(ratio ~ panel + model.sigma_w + model.depth, data = runs,
                      FUN = function(x) mean(x), na.action = na.pass)
    names(cell) <- c("panel", "sigma_w", "depth", "ratio")
    sw <- range(cell$sigma_w)
    logx <- sw[1] > 0 && sw[2] / sw[1] >= 8 # a log-spaced grid: cells and axis in log10
    xe <- if (logx) lapply(cell_edges(log10(cell$sigma_w), 0.05), function(e) 10^e) else
        cell_edges(cell$sigma_w, 0.1 * max(abs(cell$sigma_w), 1))
    ye <- cell_edges(cell$depth, 0.5)
    key_x <- as.character(if (logx) log10(cell$sigma_w) else cell$sigma_w)
    key_y <- as.character(cell$depth)
    cell$xmin <- xe$lo[key_x]; cell$xmax <- xe$hi[key_x]
    cell$ymin <- ye$lo[key_y]; cell$ymax <- ye$hi[key_y]
    cl <- critical_lines(runs, runs$panel, exe)
    m <- max(abs(cell$ratio), 0.1, na.rm = TRUE)
    sb <- unique(cl$crit$sigma_b)
    p <- ggplot(cell) +
        geom_rect(aes(xmin = xmin, xmax = xmax, ymin = ymin, ymax = ymax, fill = ratio)) +
        scale_fill_distiller(palette = "RdBu", limits = c(-m, m), na.value = "grey70",
                             name = "log10 of\nfirst / last\nlayer grad norm") +
        facet_wrap(~panel) +
        scale_x_continuous(breaks = grid_breaks(cell$sigma_w), labels = function(b) signif(b, 3),
                           trans = if (logx) "log10" else "identity") +
        scale_y_continuous(breaks = grid_breaks(cell$depth)) +
        labs(x = "weight scale \u03c3_w  (model.sigma_w; init normal: W ~ N(0, \u03c3_w\u00b2 / fan_in))",
             y = "depth (hidden layers)",
             title = sprintf("%s: gradient ratio \u2016\u2202L/\u2202W_0\u2016 / \u2016\u2202L/\u2202W_L-1\u2016 at step 0",
                             sweep_name(path)),
             subtitle = paste("blue: vanishing toward the input, red: exploding; mean of replicates",
                              if (nrow(cl$crit)) sprintf("\ndashed: mean-field critical \u03c3_w (\u03c7\u2081 = 1) at \u03c3_b = %s",
                                                         paste(format(sb), collapse = ", ")) else ""),
             caption = if (length(cl$notes)) paste(strwrap(cl$notes, 110), collapse = "\n") else NULL) +
        theme_bw()
    if (nrow(cl$crit)) {
        p <- p + geom_vline(data = cl$crit, aes(xintercept = sigma_w), linetype = "dashed",
                            linewidth = 0.8)
    }
    for (n in cl$notes) message("figures.R: note: ", n)
    n_panel <- length(unique(cell$panel))
    cols <- ceiling(sqrt(n_panel))
    save_png(p, file, cols, ceiling(n_panel / cols))
    invisible(cl$crit)
}

main <- function() {
    opt <- parse_args(commandArgs(trailingOnly = TRUE))
    path <- opt$pos[1]
    outdir <- opt$pos[2]
    runs <- tryCatch(load_runs(path), error = function(e) die(conditionMessage(e)))
    dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
    figure1(path, runs, opt$step, file.path(outdir, "fig1_grad_norm_per_layer.png"))
    crit <- figure2(path, runs, opt$exe, file.path(outdir, "fig2_phase_diagram.png"))
    csv <- file.path(outdir, "fig2_critical_sigma_w.csv")
    unlink(csv) # no stale line from an earlier call
    if (nrow(crit)) {
        crit$sigma_w <- sprintf("%.17g", crit$sigma_w) # full precision, as gradsweep printed it
        crit$sigma_b <- sprintf("%.17g", crit$sigma_b)
        write.csv(crit, csv, row.names = FALSE,
                  quote = c(1))
    }
}

main()
