// The few raw io_uring pieces the C reference programs share: setup and
// mmap of the rings, enter, and CPU/time accounting. The programs are what a
// careful C program does on io_uring without a library, so the benchmark can
// measure the JavaScript ring against the physical anchor in the same run.
#ifndef URING_BENCH_COMMON_H
#define URING_BENCH_COMMON_H
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

struct ring {
  int fd;
  unsigned *sq_tail, *sq_mask, *sq_array, sq_entries;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  unsigned sq_local_tail;
};

static inline void die(const char *what, int err) {
  fprintf(stderr, "%s: %s\n", what, strerror(err));
  exit(1);
}

static inline void ring_init(struct ring *r, unsigned entries) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  r->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
  if (r->fd < 0) die("io_uring_setup", errno);
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cq_size > sq_size) sq_size = cq_size; /* IORING_FEAT_SINGLE_MMAP, 5.4+ */
  char *sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) die("mmap sq", errno);
  r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) die("mmap sqes", errno);
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  r->sq_entries = p.sq_entries;
  for (unsigned i = 0; i < p.sq_entries; i++) r->sq_array[i] = i;
  r->cq_head = (unsigned *)(sq + p.cq_off.head);
  r->cq_tail = (unsigned *)(sq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(sq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
  r->sq_local_tail = *r->sq_tail;
}

/** The next SQE, zeroed; the caller checked there is room. */
static inline struct io_uring_sqe *ring_sqe(struct ring *r) {
  struct io_uring_sqe *s = &r->sqes[r->sq_local_tail & *r->sq_mask];
  r->sq_local_tail++;
  memset(s, 0, sizeof *s);
  return s;
}

/** Publishes the SQEs written since the last call and enters the kernel once. */
static inline int ring_enter(struct ring *r, unsigned submit, unsigned wait) {
  /* Release: the SQE contents before the tail that publishes them. */
  atomic_store_explicit((_Atomic unsigned *)r->sq_tail, r->sq_local_tail, memory_order_release);
  int ret;
  do {
    ret = (int)syscall(__NR_io_uring_enter, r->fd, submit, wait, wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
  } while (ret < 0 && errno == EINTR);
  if (ret < 0) die("io_uring_enter", errno);
  return ret;
}

/** The kernel's CQ tail: CQEs before it are fully written (acquire). */
static inline unsigned cq_tail(struct ring *r) {
  return atomic_load_explicit((_Atomic unsigned *)r->cq_tail, memory_order_acquire);
}

/** The CQE at position `i` of the completion queue. */
static inline struct io_uring_cqe *cq_at(struct ring *r, unsigned i) {
  return &r->cqes[i & *r->cq_mask];
}

/** Release: done reading the CQEs before `head` before the kernel may reuse them. */
static inline void cq_advance(struct ring *r, unsigned head) {
  atomic_store_explicit((_Atomic unsigned *)r->cq_head, head, memory_order_release);
}

static inline double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/** Sampled latencies (one op in four), written to a file for the harness. */
struct lat {
  uint32_t *ns;
  size_t n, cap;
};

static inline void lat_add(struct lat *l, uint64_t ns) {
  if (l->n < l->cap) l->ns[l->n++] = ns > 0xffffffffu ? 0xffffffffu : (uint32_t)ns;
}

/** Prints the round's result as one JSON line, and the latency samples to `path`. */
static inline void report(long ops, double seconds, struct lat *l, const char *path) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  double sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  if (path && *path) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(l->ns, sizeof(uint32_t), l->n, f); fclose(f); }
  }
  printf("{\"ops\":%ld,\"seconds\":%.6f,\"user\":%.6f,\"sys\":%.6f}\n", ops, seconds, user, sys);
}
#endif
