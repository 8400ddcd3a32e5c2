// randread, the C reference: random reads of `bs` bytes from one file in the
// page cache, `depth` in flight, on raw io_uring. Each reaped batch is
// answered with as many new reads and one io_uring_enter that submits them
// and waits for the next completion. The offsets follow the sequence the
// JavaScript variants use (xorshift, seeded alike).
//
// usage: randread PATH BS DEPTH BLOCKS SEED MS LATFILE
#include "common.h"
#include <fcntl.h>

static uint32_t x;
static uint32_t xorshift(void) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

static struct ring r;
static int fd;
static unsigned bs;
static uint64_t blocks;
static char *mem;
static uint64_t *started;

/** Queues the next read of slot `k` (its own buffer, the next offset of the sequence). */
static void read_next(unsigned k) {
  struct io_uring_sqe *s = ring_sqe(&r);
  s->opcode = IORING_OP_READ;
  s->fd = fd;
  s->addr = (uint64_t)(uintptr_t)(mem + (size_t)k * bs);
  s->len = bs;
  s->off = (uint64_t)(xorshift() % blocks) * bs;
  s->user_data = k;
  started[k] = now_ns();
}

int main(int argc, char **argv) {
  if (argc < 8) { fprintf(stderr, "usage: randread PATH BS DEPTH BLOCKS SEED MS LATFILE\n"); return 2; }
  const char *path = argv[1];
  bs = (unsigned)atoi(argv[2]);
  unsigned depth = (unsigned)atoi(argv[3]);
  blocks = strtoull(argv[4], NULL, 10);
  unsigned seed = (unsigned)atoi(argv[5]);
  double ms = atof(argv[6]);
  x = (0x12345u + depth + seed * 7919u) ? (0x12345u + depth + seed * 7919u) : 0x9e3779b9u;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open", errno);
  ring_init(&r, depth * 2);
  if (posix_memalign((void **)&mem, 4096, (size_t)bs * depth)) die("posix_memalign", ENOMEM);
  memset(mem, 0, (size_t)bs * depth);
  started = calloc(depth, sizeof *started);
  struct lat l = { calloc(1 << 20, sizeof(uint32_t)), 0, 1 << 20 };
  long ops = 0, tick = 0;
  for (unsigned k = 0; k < depth; k++) read_next(k);
  double t0 = now_s(), deadline = t0 + ms / 1000.0;
  unsigned to_submit = depth, in_flight = depth;
  int stop = 0;
  while (in_flight > 0) {
    ring_enter(&r, to_submit, 1);
    to_submit = 0;
    unsigned head = *r.cq_head, tail = cq_tail(&r);
    while (head != tail) {
      struct io_uring_cqe *c = cq_at(&r, head);
      unsigned k = (unsigned)c->user_data;
      if (c->res < 0) die("read", -c->res);
      head++;
      in_flight--;
      ops++;
      if ((++tick & 3) == 0) lat_add(&l, now_ns() - started[k]);
      if ((ops & 255) == 0 && now_s() > deadline) stop = 1;
      if (!stop) {
        read_next(k);
        to_submit++;
        in_flight++;
      }
    }
    cq_advance(&r, head);
  }
  report(ops, now_s() - t0, &l, argv[7]);
  return 0;
}
