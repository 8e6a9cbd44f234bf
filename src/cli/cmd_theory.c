/* gradsweep theory: prints the mean-field predictions of include/gradsweep/theory.h for lists
 * of activations, sigma_w and sigma_b, or the critical line sigma_w(sigma_b) where chi1 = 1.
 * Argument parsing and printing only; the numbers come from the library (docs/theory.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "cli/cmd.h"
#include "gradsweep/config.h"
#include "gradsweep/net.h"
#include "gradsweep/spec.h"
#include "gradsweep/theory.h"

enum { EXIT_OK = 0, EXIT_USAGE = 2 };
#define LIST_MAX 100000 /* values one LIST may expand to */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gradsweep theory --activation A[,B...] --sigma-w LIST [--sigma-b LIST]\n"
            "                        [--alpha X] [--csv]\n"
            "       gradsweep theory --critical A[,B...] [--sigma-b LIST] [--alpha X] [--csv]\n"
            "\n"
            "Mean-field theory of deep random networks (Poole et al. 2016, Schoenholz et al.\n"
            "2017) for W_ij ~ N(0, sigma_w^2 / fan_in), b_i ~ N(0, sigma_b^2). The first form\n"
            "prints one row per (activation, sigma_w, sigma_b):\n"
            "  q_star      fixed point of the q-map reached from q = 1 (inf: grows without bound)\n"
            "  chi1        sigma_w^2 E[f'(sqrt(q*) z)^2], the per-layer factor of E|delta|^2\n"
            "  xi_grad     -1 / ln chi1, the gradient depth scale (negative: growth)\n"
            "  c_star      stable fixed point of the correlation map (1: ordered phase)\n"
            "  chi_c       slope of the correlation map at c_star; xi_c = -1 / ln chi_c\n"
            "  pred_slope  -0.5 ln chi1, the predicted slope of ln |delta_l| against l\n"
            "The second form prints the critical line: for each sigma_b the sigma_w with chi1 = 1\n"
            "(nan, with a note on stderr, where there is none) and q* there.\n"
            "\n"
            "  -a, --activation A,B  activations (");
    for (size_t i = 0; gs_act_names[i]; i++)
        fprintf(f, "%s%s", i ? " " : "", gs_act_names[i]);
    fprintf(f,
            ")\n"
            "  --sigma-w LIST        weight scales > 0\n"
            "  --sigma-b LIST        bias scales >= 0 (default 0; --critical: 0:0.5:0.05)\n"
            "  --alpha X             leaky_relu slope / elu alpha (defaults as model.leaky_alpha\n"
            "                        and model.elu_alpha)\n"
            "  --critical A,B        print the critical line of these activations\n"
            "  --csv                 comma-separated values with a header, full precision\n"
            "LIST: comma-separated numbers and ranges start:stop:step (stop included),\n"
            "e.g. 0.5,1,1.5 or 0.8:1.6:0.2 or 0,0.05:0.2:0.05.\n"
            "exit codes: 0 done, 2 usage error or invalid input\n");
}

typedef struct {
    double *v;
    size_t n;
} dlist;

static int push(dlist *l, double x)
{
    if (l->n >= LIST_MAX)
        return -1;
    if ((l->n & (l->n - 1)) == 0) { /* capacity doubles at powers of two */
        double *p = realloc(l->v, (l->n ? 2 * l->n : 1) * sizeof *p);
        if (!p)
            return -1;
        l->v = p;
    }
    l->v[l->n++] = x;
    return 0;
}

static int parse_num(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (errno || *end || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}

/* start + i step, rounded to 12 significant digits so that 0:1:0.1 gives 0.3, not
 * 0.30000000000000004. */
static double range_value(double start, double step, size_t i)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.12g", start + (double)i * step);
    return strtod(buf, NULL);
}

/* One item of a LIST: a number or start:stop:step. */
static int parse_item(const char *opt, const char *s, size_t len, dlist *l)
{
    const char *c1 = memchr(s, ':', len);
    double a, b, h;
    if (!c1) {
        if (parse_num(s, len, &a) != 0) {
            fprintf(stderr, "gradsweep theory: %s: '%.*s' is not a finite number\n", opt, (int)len,
                    s);
            return -1;
        }
        return push(l, a) == 0 ? 0 : (fprintf(stderr, "gradsweep theory: %s: too long\n", opt), -1);
    }
    const char *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s));
    if (!c2 || parse_num(s, (size_t)(c1 - s), &a) != 0 ||
        parse_num(c1 + 1, (size_t)(c2 - c1 - 1), &b) != 0 ||
        parse_num(c2 + 1, len - (size_t)(c2 + 1 - s), &h) != 0 || !(h > 0.0) || b < a) {
        fprintf(stderr,
                "gradsweep theory: %s: bad range '%.*s' (start:stop:step, finite numbers, step > "
                "0, stop >= start)\n",
                opt, (int)len, s);
        return -1;
    }
    /* the stop is included when it is within 1e-9 steps of a grid point (rounding) */
    double n = floor((b - a) / h + 1e-9) + 1.0;
    if (!(n <= LIST_MAX)) {
        fprintf(stderr, "gradsweep theory: %s: range '%.*s' has more than %d values\n", opt,
                (int)len, s, LIST_MAX);
        return -1;
    }
    for (size_t i = 0; i < (size_t)n; i++)
        if (push(l, range_value(a, h, i)) != 0) {
            fprintf(stderr, "gradsweep theory: %s: more than %d values\n", opt, LIST_MAX);
            return -1;
        }
    return 0;
}

static int parse_list(const char *opt, const char *s, dlist *l)
{
    l->n = 0;
    for (const char *p = s;; p++) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (parse_item(opt, p, len, l) != 0)
            return -1;
        if (!e)
            return 0;
        p = e;
    }
}

/* Activation names, comma-separated, into acts (at most GS_ACT__COUNT * 4 entries). */
static int parse_acts(const char *opt, const char *s, int *acts, size_t *n, size_t max)
{
    *n = 0;
    for (const char *p = s;; p++) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[64];
        int found = -1;
        if (len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            for (int k = 0; k < GS_ACT__COUNT; k++)
                if (strcmp(name, gs_act_names[k]) == 0)
                    found = k;
        }
        if (found < 0) {
            const char *near = len < sizeof name ? gs_nearest_name(name, gs_act_names) : NULL;
            fprintf(stderr, "gradsweep theory: %s: unknown activation '%.*s'", opt, (int)len, p);
            if (near)
                fprintf(stderr, " (did you mean '%s'?)", near);
            fprintf(stderr, "; one of:");
            for (int k = 0; k < GS_ACT__COUNT; k++)
                fprintf(stderr, " %s", gs_act_names[k]);
            fprintf(stderr, "\n");
            return -1;
        }
        if (*n >= max) {
            fprintf(stderr, "gradsweep theory: %s: more than %zu activations\n", opt, max);
            return -1;
        }
        acts[(*n)++] = found;
        if (!e)
            return 0;
        p = e;
    }
}

typedef struct {
    const char *acts, *critical, *sw, *sb, *alpha;
    int csv;
} opts;

/* "--name value" or "--name=value"; returns the value and advances *i, or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, const char *alt)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strcmp(a, name) == 0 || (alt && strcmp(a, alt) == 0)) {
        if (*i + 1 >= argc)
            return "";
        return argv[++*i];
    }
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    return NULL;
}

/* Returns -1 (usage error, printed), 1 (help printed) or 0. */
static int parse_args(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--csv") == 0) {
            o->csv = 1;
        } else if ((v = opt_value(argc, argv, &i, "--activation", "-a"))) {
            o->acts = v;
        } else if ((v = opt_value(argc, argv, &i, "--critical", NULL))) {
            o->critical = v;
        } else if ((v = opt_value(argc, argv, &i, "--sigma-w", NULL))) {
            o->sw = v;
        } else if ((v = opt_value(argc, argv, &i, "--sigma-b", NULL))) {
            o->sb = v;
        } else if ((v = opt_value(argc, argv, &i, "--alpha", NULL))) {
            o->alpha = v;
        } else {
            fprintf(stderr,
                    "gradsweep theory: unknown argument '%s' (see gradsweep theory --help)\n", a);
            return -1;
        }
        if (v && !*v) {
            fprintf(stderr, "gradsweep theory: %s needs a value\n", a);
            return -1;
        }
    }
    if (!o->acts == !o->critical) {
        fprintf(stderr, "gradsweep theory: give either --activation (with --sigma-w) or "
                        "--critical (see gradsweep theory --help)\n");
        return -1;
    }
    if (o->acts && !o->sw) {
        fprintf(stderr, "gradsweep theory: --activation needs --sigma-w\n");
        return -1;
    }
    if (o->critical && o->sw) {
        fprintf(stderr, "gradsweep theory: --critical computes sigma_w; drop --sigma-w\n");
        return -1;
    }
    return 0;
}

/* The activation parameter: --alpha, else the spec defaults of model.leaky_alpha / elu_alpha. */
static double act_alpha(int act, int have_alpha, double alpha)
{
    if (act != GS_ACT_LEAKY_RELU && act != GS_ACT_ELU)
        return 0.0;
    if (have_alpha)
        return alpha;
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.activation = act;
    return gs_act_alpha(&cfg);
}

/* A library message without its "theory: " (the CLI's prefix says it). */
static const char *msg_body(const char *msg)
{
    return strncmp(msg, "theory: ", 8) == 0 ? msg + 8 : msg;
}

static void print_num(int csv, double x)
{
    if (csv)
        printf(",%.17g", x);
    else
        printf(" %12.6g", x);
}

static int run_points(const opts *o, const int *acts, size_t n_acts, const dlist *sw,
                      const dlist *sb, int have_alpha, double alpha)
{
    static const char *const cols[] = {"sigma_w", "sigma_b", "q_star", "chi1",      "xi_grad",
                                       "c_star",  "chi_c",   "xi_c",   "pred_slope"};
    printf(o->csv ? "activation" : "%-10s", "activation");
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        printf(o->csv ? ",%s" : " %12s", cols[k]);
    printf("\n");
    for (size_t a = 0; a < n_acts; a++)
        for (size_t i = 0; i < sw->n; i++)
            for (size_t j = 0; j < sb->n; j++) {
                gs_theory t;
                gs_error err;
                double al = act_alpha(acts[a], have_alpha, alpha);
                gs_status st = gs_theory_point(acts[a], al, sw->v[i], sb->v[j], &t, &err);
                if (st != GS_OK) {
                    fflush(stdout);
                    fprintf(stderr, "gradsweep theory: %s\n", msg_body(err.msg));
                    return gs_status_exit_code(st);
                }
                printf(o->csv ? "%s" : "%-10s", gs_act_names[acts[a]]);
                double row[] = {sw->v[i], sb->v[j], t.q_star, t.chi1,      t.xi_grad,
                                t.c_star, t.chi_c,  t.xi_c,   t.pred_slope};
                for (size_t k = 0; k < sizeof row / sizeof *row; k++)
                    print_num(o->csv, row[k]);
                printf("\n");
            }
    return EXIT_OK;
}

static int run_critical(const opts *o, const int *acts, size_t n_acts, const dlist *sb,
                        int have_alpha, double alpha)
{
    printf(o->csv ? "activation,sigma_b,sigma_w,q_star\n" : "%-10s %12s %12s %12s\n", "activation",
           "sigma_b", "sigma_w", "q_star");
    for (size_t a = 0; a < n_acts; a++)
        for (size_t j = 0; j < sb->n; j++) {
            gs_error err;
            gs_theory t = {(double)NAN, (double)NAN, (double)NAN, (double)NAN,
                           (double)NAN, (double)NAN, (double)NAN};
            double sw, al = act_alpha(acts[a], have_alpha, alpha);
            gs_status st = gs_theory_critical(acts[a], al, sb->v[j], &sw, &err);
            if (st == GS_OK)
                st = gs_theory_point(acts[a], al, sw, sb->v[j], &t, &err);
            if (st != GS_OK) {
                fflush(stdout);
                fprintf(stderr, "gradsweep theory: note: %s\n", msg_body(err.msg));
            }
            printf(o->csv ? "%s" : "%-10s", gs_act_names[acts[a]]);
            print_num(o->csv, sb->v[j]);
            print_num(o->csv, sw);
            print_num(o->csv, t.q_star);
            printf("\n");
        }
    return EXIT_OK;
}

int gs_cmd_theory(int argc, char **argv)
{
    gsl_set_error_handler_off(); /* statuses, never an abort (main does it too) */
    opts o = {0};
    dlist sw = {0}, sb = {0};
    int acts[4 * GS_ACT__COUNT];
    size_t n_acts = 0;
    double alpha = 0.0;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        rc = rc > 0 ? EXIT_OK : EXIT_USAGE;
        goto done;
    }
    rc = EXIT_USAGE;
    const char *aopt = o.acts ? "--activation" : "--critical";
    if (parse_acts(aopt, o.acts ? o.acts : o.critical, acts, &n_acts, sizeof acts / sizeof *acts))
        goto done;
    if (o.sw && parse_list("--sigma-w", o.sw, &sw) != 0)
        goto done;
    if (parse_list("--sigma-b", o.sb ? o.sb : o.acts ? "0" : "0:0.5:0.05", &sb) != 0)
        goto done;
    if (o.alpha && (parse_num(o.alpha, strlen(o.alpha), &alpha) != 0 || alpha < 0.0)) {
        fprintf(stderr, "gradsweep theory: --alpha: expected a finite number >= 0, got '%s'\n",
                o.alpha);
        goto done;
    }
    for (size_t i = 0; i < sw.n; i++)
        if (!(sw.v[i] > 0.0)) {
            fprintf(stderr, "gradsweep theory: --sigma-w: values must be > 0, got %g\n", sw.v[i]);
            goto done;
        }
    for (size_t i = 0; i < sb.n; i++)
        if (!(sb.v[i] >= 0.0)) {
            fprintf(stderr, "gradsweep theory: --sigma-b: values must be >= 0, got %g\n", sb.v[i]);
            goto done;
        }
    if (o.acts)
        rc = run_points(&o, acts, n_acts, &sw, &sb, o.alpha != NULL, alpha);
    else
        rc = run_critical(&o, acts, n_acts, &sb, o.alpha != NULL, alpha);
done:
    free(sw.v);
    free(sb.v);
    return rc;
}
