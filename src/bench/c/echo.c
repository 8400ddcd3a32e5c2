// echo, the C reference server: TCP on 127.0.0.1, one multishot accept, a
// multishot receive per connection into a shared provided-buffer ring, and a
// send of each received chunk straight from its buffer, which returns to the
// ring when the send completes. It prints its port, then serves until killed;
// the harness reads its CPU time from /proc between rounds.
//
// usage: echo
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define NBUF 256
#define BUFSZ 16384
#define MAXCONN 4096
enum { ACCEPT = 1, RECV = 2, SEND = 3 };
#define UD(kind, fd, bid) (((uint64_t)(kind) << 56) | ((uint64_t)(uint32_t)(fd) << 16) | (uint64_t)(bid))

static struct ring r;
static struct io_uring_buf_ring *br;
static char *bufs;
static unsigned short br_tail;

static void give_back(unsigned bid) {
  struct io_uring_buf *b = &br->bufs[br_tail & (NBUF - 1)];
  b->addr = (uint64_t)(uintptr_t)(bufs + (size_t)bid * BUFSZ);
  b->len = BUFSZ;
  b->bid = (unsigned short)bid;
  br_tail++;
  /* Release: the entry before the tail that covers it (no syscall orders it). */
  atomic_store_explicit((_Atomic unsigned short *)&br->tail, br_tail, memory_order_release);
}

static unsigned pending;

static struct io_uring_sqe *sqe(void) {
  if (r.sq_local_tail - *r.sq_tail >= r.sq_entries) { ring_enter(&r, pending, 0); pending = 0; }
  pending++;
  return ring_sqe(&r);
}

static void arm_recv(int fd) {
  struct io_uring_sqe *s = sqe();
  s->opcode = IORING_OP_RECV;
  s->fd = fd;
  s->ioprio = IORING_RECV_MULTISHOT;
  s->flags = IOSQE_BUFFER_SELECT;
  s->buf_group = 0;
  s->user_data = UD(RECV, fd, 0);
}

int main(void) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 511) < 0) die("listen", errno);
  socklen_t al = sizeof a;
  getsockname(lfd, (struct sockaddr *)&a, &al);
  ring_init(&r, 1024);
  /* The provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19+), group 0. */
  br = mmap(NULL, NBUF * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (br == MAP_FAILED) die("mmap", errno);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)br;
  reg.ring_entries = NBUF;
  reg.bgid = 0;
  if (syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) die("register pbuf ring", errno);
  if (posix_memalign((void **)&bufs, 4096, (size_t)NBUF * BUFSZ)) die("posix_memalign", ENOMEM);
  for (unsigned b = 0; b < NBUF; b++) give_back(b);
  struct io_uring_sqe *s = sqe();
  s->opcode = IORING_OP_ACCEPT;
  s->fd = lfd;
  s->ioprio = IORING_ACCEPT_MULTISHOT;
  s->accept_flags = SOCK_CLOEXEC;
  s->user_data = UD(ACCEPT, lfd, 0);
  printf("%u\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    ring_enter(&r, pending, 1);
    pending = 0;
    unsigned head = *r.cq_head, tail = cq_tail(&r);
    while (head != tail) {
      struct io_uring_cqe *c = cq_at(&r, head);
      int kind = (int)(c->user_data >> 56), fd = (int)((c->user_data >> 16) & 0xffffffffu);
      unsigned bid = (unsigned)(c->user_data & 0xffff);
      int res = c->res;
      unsigned flags = c->flags;
      head++;
      if (kind == ACCEPT) {
        if (res >= 0) {
          setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          arm_recv(res);
        }
        if (!(flags & IORING_CQE_F_MORE)) die("accept", res < 0 ? -res : EIO);
      } else if (kind == RECV) {
        if (res > 0) {
          unsigned b = flags >> IORING_CQE_BUFFER_SHIFT;
          struct io_uring_sqe *t = sqe();
          t->opcode = IORING_OP_SEND;
          t->fd = fd;
          t->addr = (uint64_t)(uintptr_t)(bufs + (size_t)b * BUFSZ);
          t->len = (unsigned)res;
          t->msg_flags = MSG_NOSIGNAL;
          t->user_data = UD(SEND, fd, b);
          if (!(flags & IORING_CQE_F_MORE)) arm_recv(fd);
        } else if (res == -ENOBUFS) {
          arm_recv(fd); /* buffers come back as sends complete */
        } else {
          if (flags & IORING_CQE_F_BUFFER) give_back(flags >> IORING_CQE_BUFFER_SHIFT);
          if (!(flags & IORING_CQE_F_MORE)) close(fd); /* end of stream or error */
        }
      } else if (kind == SEND) {
        give_back(bid);
      }
    }
    cq_advance(&r, head);
  }
}
