/* The parallel driver: OpenMP workers train runs (most expensive first, dynamic schedule) and
 * hand results through a bounded queue to one writer thread that owns the store. The queue bound
 * keeps peak memory at (threads + capacity + 1) results whatever the sweep size. Prints nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <omp.h>

#include "gradsweep/data.h"
#include "gradsweep/driver.h"
#include "gradsweep/train.h"

/* A finished run on its way to the writer. */
typedef struct {
    size_t run;     /* index into plan->runs */
    gs_result *res; /* owned by the queue until popped */
} item;

/* Bounded FIFO between workers (producers) and the writer (consumer). */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    item *buf;
    size_t cap, head, len;
    int closed;        /* no more pushes: set after the parallel loop */
    atomic_int failed; /* writer hit an error: producers drop results and stop training */
} queue;

/* State shared by the workers and the writer for one gs_driver_run call. */
typedef struct {
    const gs_plan *plan;
    gs_store *st;
    queue q;
    gs_progress *progress;
    gs_error werr; /* writer's first error */
} shared;

static gs_status queue_init(queue *q, size_t cap, gs_error *err)
{
    memset(q, 0, sizeof *q);
    q->buf = calloc(cap, sizeof *q->buf);
    if (!q->buf)
        return gs_error_set(err, GS_ENOMEM, "driver: cannot allocate a queue of %zu results", cap);
    q->cap = cap;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    return GS_OK;
}

static void queue_free(queue *q)
{
    for (size_t i = 0; i < q->len; i++)
        gs_result_destroy(q->buf[(q->head + i) % q->cap].res);
    free(q->buf);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
}

/* Blocks while the queue is full; drops the result when the writer has failed. */
static void queue_push(queue *q, item it)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == q->cap && !q->failed)
        pthread_cond_wait(&q->not_full, &q->mu);
    if (q->failed) {
        pthread_mutex_unlock(&q->mu);
        gs_result_destroy(it.res);
        return;
    }
    q->buf[(q->head + q->len) % q->cap] = it;
    q->len++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

/* Pops one item, waiting at most `wait_s` seconds. Returns 1 with *it set, 0 on time-out, -1 when
 * the queue is closed and empty. */
static int queue_pop(queue *q, item *it, double wait_s)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)wait_s;
    dl.tv_nsec += (long)((wait_s - (double)(time_t)wait_s) * 1e9);
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    int r = 0;
    pthread_mutex_lock(&q->mu);
    while (q->len == 0 && !q->closed)
        if (pthread_cond_timedwait(&q->not_empty, &q->mu, &dl) == ETIMEDOUT)
            break;
    if (q->len > 0) {
        *it = q->buf[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        pthread_cond_signal(&q->not_full);
        r = 1;
    } else if (q->closed) {
        r = -1;
    }
    pthread_mutex_unlock(&q->mu);
    return r;
}

static void queue_close(queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

static void queue_fail(queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->failed = 1;
    for (size_t i = 0; i < q->len; i++)
        gs_result_destroy(q->buf[(q->head + i) % q->cap].res);
    q->len = 0;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

/* Writer thread: stores results as they arrive and commits a segment whenever one is due (also
 * while idle, so a slow sweep still reaches disk every few seconds). */
static void *writer_main(void *arg)
{
    shared *sh = arg;
    item it;
    int r;
    while ((r = queue_pop(&sh->q, &it, 0.25)) >= 0) {
        if (r == 1) {
            gs_status s = gs_store_add_run(sh->st, &sh->plan->runs[it.run], it.res, &sh->werr);
            gs_result_destroy(it.res);
            if (s != GS_OK)
                goto fail;
        }
        if (gs_store_commit_due(sh->st)) {
            if (gs_store_commit(sh->st, &sh->werr) != GS_OK)
                goto fail;
            if (sh->progress)
                atomic_store(&sh->progress->committed, gs_store_committed(sh->st));
        }
    }
    if (gs_store_commit(sh->st, &sh->werr) != GS_OK)
        goto fail;
    if (sh->progress)
        atomic_store(&sh->progress->committed, gs_store_committed(sh->st));
    return NULL;
fail:
    queue_fail(&sh->q);
    return NULL;
}

/* A run to train, keyed for the schedule. */
typedef struct {
    double cost;
    size_t index; /* plan order, breaks ties so the schedule is deterministic */
} job;

/* Most expensive first; ties in plan order. */
static int by_cost(const void *a, const void *b)
{
    const job *ja = a, *jb = b;
    if (ja->cost != jb->cost)
        return ja->cost > jb->cost ? -1 : 1;
    return ja->index < jb->index ? -1 : ja->index > jb->index;
}

/* Orders todo (plan indices) most expensive first. */
static gs_status schedule(const gs_plan *plan, size_t *todo, size_t n_todo, gs_error *err)
{
    job *jobs = malloc((n_todo + 1) * sizeof *jobs);
    if (!jobs)
        return gs_error_set(err, GS_ENOMEM, "driver: out of memory scheduling %zu runs", n_todo);
    for (size_t i = 0; i < n_todo; i++)
        jobs[i] = (job){plan->runs[todo[i]].cost, todo[i]};
    qsort(jobs, n_todo, sizeof *jobs, by_cost);
    for (size_t i = 0; i < n_todo; i++)
        todo[i] = jobs[i].index;
    free(jobs);
    return GS_OK;
}

/* Trains the runs in todo on opts->threads threads; the first worker error is kept in err. */
static gs_status train_all(shared *sh, const size_t *todo, size_t n_todo, const gs_plan_data *data,
                           const gs_driver_opts *opts, gs_error *err)
{
    gs_status first = GS_OK;
    int abort_all = 0;
    long long nt = (long long)n_todo;
#pragma omp parallel for schedule(dynamic, 1) num_threads(opts->threads)
    for (long long t = 0; t < nt; t++) {
        int skip;
#pragma omp atomic read
        skip = abort_all;
        if (skip || atomic_load(&sh->q.failed) || (opts->stop && atomic_load(opts->stop)))
            continue;
        size_t r = todo[t];
        const gs_run *run = &sh->plan->runs[r];
        gs_result *res = NULL;
        gs_error e;
        gs_error_clear(&e);
        gs_status s =
            gs_train_run(&res, run, &sh->plan->record, gs_plan_data_get(data, r), opts->stop, &e);
        if (s == GS_EINTR)
            continue;
        if (s != GS_OK) {
#pragma omp critical(gs_driver_err)
            {
                if (first == GS_OK) {
                    first = s;
                    gs_error_set(err, s, "run %s: %s", run->id, e.msg);
                }
                abort_all = 1;
            }
            continue;
        }
        if (sh->progress) {
            atomic_fetch_add(&sh->progress->done, 1);
            if (res->status == GS_RUN_DIVERGED)
                atomic_fetch_add(&sh->progress->diverged, 1);
            else if (res->status == GS_RUN_STOPPED)
                atomic_fetch_add(&sh->progress->stopped, 1);
        }
        queue_push(&sh->q, (item){r, res});
    }
    return first;
}

gs_status gs_driver_run(const gs_plan *plan, gs_store *st, const gs_driver_opts *opts,
                        gs_error *err)
{
    gs_status s = GS_OK;
    size_t *todo = NULL, n_todo = 0;
    gs_plan_data *own_data = NULL;
    const gs_plan_data *data = opts->data;
    shared sh;
    int q_ok = 0, writer_up = 0;
    pthread_t writer;

    memset(&sh, 0, sizeof sh);
    sh.plan = plan;
    sh.st = st;
    sh.progress = opts->progress;
    gs_error_clear(&sh.werr);
    if (opts->threads < 1) {
        s = gs_error_set(err, GS_EINVAL, "driver: threads must be >= 1 (got %d)", opts->threads);
        goto done;
    }
    todo = malloc((plan->n_runs + 1) * sizeof *todo);
    if (!todo) {
        s = gs_error_set(err, GS_ENOMEM, "driver: out of memory for %zu runs", plan->n_runs);
        goto done;
    }
    for (size_t i = 0; i < plan->n_runs; i++)
        if (!gs_store_has_run(st, plan->runs[i].id))
            todo[n_todo++] = i;
    if (sh.progress) {
        atomic_store(&sh.progress->total, n_todo);
        atomic_store(&sh.progress->skipped, plan->n_runs - n_todo);
    }
    s = schedule(plan, todo, n_todo, err);
    if (s != GS_OK)
        goto done;

    if (!data) {
        s = gs_plan_data_load(&own_data, plan, err);
        if (s != GS_OK)
            goto done;
        data = own_data;
    }
    s = queue_init(&sh.q, opts->queue_cap ? opts->queue_cap : 2 * (size_t)opts->threads, err);
    if (s != GS_OK)
        goto done;
    q_ok = 1;
    if (pthread_create(&writer, NULL, writer_main, &sh) != 0) {
        s = gs_error_set(err, GS_ENOMEM, "driver: cannot start the writer thread");
        goto done;
    }
    writer_up = 1;
    /* BLAS inside a worker runs on that worker's thread only (DESIGN.md 3). */
    openblas_set_num_threads(1);
    s = train_all(&sh, todo, n_todo, data, opts, err);

done:
    if (q_ok)
        queue_close(&sh.q);
    if (writer_up)
        pthread_join(writer, NULL);
    if (s == GS_OK && sh.werr.status != GS_OK) {
        s = sh.werr.status;
        *err = sh.werr;
    }
    /* A signal that came after the last run was committed interrupted nothing. */
    int all_in = 1;
    for (size_t i = 0; s == GS_OK && all_in && i < n_todo; i++)
        all_in = gs_store_has_run(st, plan->runs[todo[i]].id);
    if (s == GS_OK && opts->stop && atomic_load(opts->stop) && !all_in)
        s = gs_error_set(err, GS_EINTR, "interrupted: %zu of %zu runs committed",
                         gs_store_committed(st), plan->n_runs);
    if (q_ok)
        queue_free(&sh.q);
    gs_plan_data_destroy(own_data);
    free(todo);
    if (sh.progress)
        atomic_store(&sh.progress->finished, 1);
    return s;
}
