// readfile, the C reference: whole-file reads of many small files from the
// page cache, `depth` files in flight, each one a hard-linked chain on raw
// io_uring, as uring/fs readFile does:
//
//   OPENAT into registered slot k       (IOSQE_IO_LINK)
//   READ up to 64 KiB from slot k       (IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK)
//   CLOSE slot k                        (file_index = k + 1)
//
// A file counts when its close completes; its slot then takes the next file.
//
// usage: readfile DIR FILES DEPTH MS LATFILE     (files are DIR/f0 .. DIR/f{FILES-1})
#include "common.h"
#include <fcntl.h>

#define READ_SIZE 65536

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: readfile DIR FILES DEPTH MS LATFILE\n"); return 2; }
  const char *dir = argv[1];
  unsigned files = (unsigned)atoi(argv[2]);
  unsigned depth = (unsigned)atoi(argv[3]);
  double ms = atof(argv[4]);
  char **paths = calloc(files, sizeof *paths);
  for (unsigned i = 0; i < files; i++) {
    if (asprintf(&paths[i], "%s/f%u", dir, i) < 0) die("asprintf", ENOMEM);
  }
  struct ring r;
  ring_init(&r, depth * 4);
  /* A sparse table of `depth` slots (IORING_REGISTER_FILES2, 5.13+). */
  struct io_uring_rsrc_register reg;
  memset(&reg, 0, sizeof reg);
  reg.nr = depth;
  reg.flags = IORING_RSRC_REGISTER_SPARSE;
  if (syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_FILES2, &reg, sizeof reg) < 0) die("register files", errno);
  char *mem;
  if (posix_memalign((void **)&mem, 4096, (size_t)READ_SIZE * depth)) die("posix_memalign", ENOMEM);
  memset(mem, 0, (size_t)READ_SIZE * depth);
  uint64_t *started = calloc(depth, sizeof *started);
  struct lat l = { calloc(1 << 20, sizeof(uint32_t)), 0, 1 << 20 };
  unsigned next = 0;
  long ops = 0, tick = 0;
  unsigned to_submit = 0, chains = 0;
  #define CHAIN(k) do {                                                           \
    struct io_uring_sqe *s = ring_sqe(&r);                                        \
    s->opcode = IORING_OP_OPENAT; s->fd = AT_FDCWD;                               \
    s->addr = (uint64_t)(uintptr_t)paths[next]; s->open_flags = O_RDONLY;         \
    s->file_index = (k) + 1; s->flags = IOSQE_IO_LINK; s->user_data = (k) * 4u;  \
    s = ring_sqe(&r);                                                             \
    s->opcode = IORING_OP_READ; s->fd = (int)(k);                                 \
    s->addr = (uint64_t)(uintptr_t)(mem + (size_t)(k) * READ_SIZE);               \
    s->len = READ_SIZE; s->flags = IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;          \
    s->user_data = (k) * 4u + 1;                                                  \
    s = ring_sqe(&r);                                                             \
    s->opcode = IORING_OP_CLOSE; s->file_index = (k) + 1;                         \
    s->user_data = (k) * 4u + 2;                                                  \
    next = next + 1 == files ? 0 : next + 1;                                      \
    started[k] = now_ns(); to_submit += 3; chains++;                              \
  } while (0)
  for (unsigned k = 0; k < depth; k++) CHAIN(k);
  double t0 = now_s(), deadline = t0 + ms / 1000.0;
  int stop = 0;
  while (chains > 0) {
    ring_enter(&r, to_submit, 1);
    to_submit = 0;
    unsigned head = *r.cq_head, tail = cq_tail(&r);
    while (head != tail) {
      struct io_uring_cqe *c = cq_at(&r, head);
      unsigned k = (unsigned)(c->user_data >> 2), step = (unsigned)(c->user_data & 3);
      if (c->res < 0) die(step == 0 ? "openat" : step == 1 ? "read" : "close", -c->res);
      head++;
      if (step != 2) continue;
      chains--;
      ops++;
      if ((++tick & 3) == 0) lat_add(&l, now_ns() - started[k]);
      if ((ops & 255) == 0 && now_s() > deadline) stop = 1;
      if (!stop) CHAIN(k);
    }
    cq_advance(&r, head);
  }
  report(ops, now_s() - t0, &l, argv[5]);
  return 0;
}
