/* A micro-benchmark of the in-memory decision path for bench/ to call: n_nodes nodes
 * (32 cpu, 128Gi, 110 pods, a few labels and a PreferNoSchedule taint on some), n_pods
 * pods (small requests, some with tolerations / node affinity), each scheduled and assumed
 * in turn. Pods are parsed before the clock starts: only decisions are timed, in CPU time
 * of the calling thread (the path is single-threaded and CPU-bound, which keeps the figure
 * meaningful on a loaded machine). Returns decisions per second, or a negative errno. */
#pragma once

#include <stddef.h>

double sched_bench_decisions(size_t n_nodes, size_t n_pods);
