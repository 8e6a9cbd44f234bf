/* gradsweep report OUT.h5 [-o DIR]: runs the Python report (python3 -m gradsweep.report,
 * analysis/gradsweep/report.py) on an output and passes its exit code through. This file only
 * finds the interpreter and the analysis package and starts them (posix_spawn, no shell). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cmd.h"

#ifndef GS_ANALYSIS_DIR
#define GS_ANALYSIS_DIR "analysis"
#endif
#define DEFAULT_PYTHON "/usr/bin/python3"
#define MAX_STEPS 64

extern char **environ;

enum { RC_OK = 0, RC_FAIL = 1, RC_USAGE = 2 };

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gradsweep report OUT.h5 [-o DIR] [--step S ...]\n"
            "\n"
            "Writes the standard figures of a sweep (per-layer gradient norms, phase diagram,\n"
            "trainability map, loss curves, gradient histograms, dead/saturated units, Jacobian\n"
            "spectra, update ratios; those the output's axes and records allow) as PNGs and\n"
            "DIR/index.html with the spec and a summary table (docs/analysis.md).\n"
            "Runs %s -m gradsweep.report with PYTHONPATH set to the analysis directory.\n"
            "\n"
            "  -o, --output DIR  output directory (default: OUT without .h5, plus _report)\n"
            "  --step S          a step of the per-layer gradient figure (repeatable;\n"
            "                    default: 0 and the last step)\n"
            "environment: GS_PYTHON (interpreter, default %s), GS_ANALYSIS_DIR (default\n"
            "%s)\n"
            "exit codes: 0 written, 1 a figure failed or Python is missing, 2 usage error or\n"
            "not a gradsweep output\n",
            DEFAULT_PYTHON, DEFAULT_PYTHON, GS_ANALYSIS_DIR);
}

typedef struct {
    char *path, *out; /* borrowed from argv */
    char *steps[MAX_STEPS];
    int n_steps;
} opts;

static int is_step(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return !errno && end != s && !*end && v >= 0;
}

/* Returns -1 to continue, else the exit code (help, usage error). */
static int parse(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return RC_OK;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--step") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "gradsweep report: %s needs a value\n", a);
                return RC_USAGE;
            }
            if (strcmp(a, "--step") != 0) {
                o->out = argv[++i];
            } else if (!is_step(argv[i + 1]) || o->n_steps == MAX_STEPS) {
                fprintf(stderr,
                        "gradsweep report: --step '%s': expected a step >= 0 (at most %d)\n",
                        argv[i + 1], MAX_STEPS);
                return RC_USAGE;
            } else {
                o->steps[o->n_steps++] = argv[++i];
            }
        } else if (a[0] == '-' || o->path) {
            fprintf(stderr, "gradsweep report: unexpected argument '%s'\n", a);
            usage(stderr);
            return RC_USAGE;
        } else {
            o->path = a;
        }
    }
    if (!o->path) {
        usage(stderr);
        return RC_USAGE;
    }
    return -1;
}

/* OUT.h5 -> OUT_report (also for OUT.h5.d); anything else gets _report appended. Caller frees. */
static char *default_out(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n > 5 && strncmp(path + n - 5, ".h5.d", 5) == 0)
        n -= 5;
    else if (n > 3 && strncmp(path + n - 3, ".h5", 3) == 0)
        n -= 3;
    char *out = malloc(n + sizeof "_report");
    if (out)
        snprintf(out, n + sizeof "_report", "%.*s_report", (int)n, path);
    return out;
}

/* Spawns argv (PATH search for a bare name) with stderr to /dev/null when quiet; returns the
 * wait status, or -1 with errno when it could not start. */
static int spawn_wait(char *const argv[], int quiet)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) {
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return -1;
    return ws;
}

/* PYTHONPATH = the analysis dir (before any inherited entries); GS_EXE = this binary when
 * unset, so the report's `gradsweep theory` is the same build. 0 or -1 (out of memory). */
static int set_env(const char *analysis)
{
    const char *old = getenv("PYTHONPATH");
    size_t n = strlen(analysis) + (old ? strlen(old) + 1 : 0) + 1;
    char *pp = malloc(n);
    if (!pp)
        return -1;
    snprintf(pp, n, "%s%s%s", analysis, old && *old ? ":" : "", old && *old ? old : "");
    int rc = setenv("PYTHONPATH", pp, 1);
    free(pp);
    if (!getenv("GS_EXE")) {
        char self[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len > 0) {
            self[len] = '\0';
            rc |= setenv("GS_EXE", self, 1);
        }
    }
    return rc;
}

static int install_hint(const char *python)
{
    fprintf(stderr,
            "gradsweep report: %s cannot run or cannot import h5py, numpy, pandas and "
            "matplotlib.\nInstall them (Debian/Ubuntu):\n"
            "  apt-get install python3-h5py python3-numpy python3-pandas python3-matplotlib\n"
            "or point GS_PYTHON at a Python 3 that has them.\n",
            python);
    return RC_FAIL;
}

static int run_report(const opts *o, char *python, char *out)
{
    char m[] = "-m", mod[] = "gradsweep.report", dash_o[] = "-o", step[] = "--step";
    char *argv[6 + 2 * MAX_STEPS];
    int k = 0;
    argv[k++] = python;
    argv[k++] = m;
    argv[k++] = mod;
    argv[k++] = o->path;
    argv[k++] = dash_o;
    argv[k++] = out;
    for (int i = 0; i < o->n_steps; i++) {
        argv[k++] = step;
        argv[k++] = o->steps[i];
    }
    argv[k] = NULL;
    int ws = spawn_wait(argv, 0);
    if (ws < 0) {
        fprintf(stderr, "gradsweep report: cannot start %s: %s\n", python, strerror(errno));
        return install_hint(python);
    }
    if (WIFSIGNALED(ws)) {
        fprintf(stderr, "gradsweep report: %s was killed by signal %d\n", python, WTERMSIG(ws));
        return RC_FAIL;
    }
    return WEXITSTATUS(ws);
}

int gs_cmd_report(int argc, char **argv)
{
    opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct stat st;
    if (stat(o.path, &st) != 0) {
        fprintf(stderr, "gradsweep report: %s: %s\n", o.path, strerror(errno));
        return RC_USAGE;
    }
    char dflt_python[] = DEFAULT_PYTHON;
    char *python = getenv("GS_PYTHON");
    python = python && *python ? python : dflt_python;
    const char *analysis = getenv("GS_ANALYSIS_DIR");
    analysis = analysis && *analysis ? analysis : GS_ANALYSIS_DIR;
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/gradsweep/report.py", analysis);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr,
                "gradsweep report: %s: %s (the analysis package; set GS_ANALYSIS_DIR to the "
                "repository's analysis directory)\n",
                probe, strerror(errno));
        return RC_FAIL;
    }
    char *out = o.out ? NULL : default_out(o.path);
    if ((!o.out && !out) || set_env(analysis) != 0) {
        fprintf(stderr, "gradsweep report: out of memory\n");
        free(out);
        return RC_FAIL;
    }
    char c[] = "-c", imports[] = "import h5py, numpy, pandas, matplotlib";
    char *check[] = {python, c, imports, NULL};
    int ws = spawn_wait(check, 1);
    if (ws < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        rc = install_hint(python);
    else
        rc = run_report(&o, python, o.out ? o.out : out);
    free(out);
    return rc;
}
