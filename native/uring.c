// The native half of uring: syscalls and memory only. Every function returns
// a result or -errno and makes no policy; validation, defaults and errors live
// in TypeScript. Arguments are still re-checked here so that a caller who
// bypasses the TypeScript layer gets an exception, never a crash.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include "pins.h"

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "ERR_URING_NATIVE", "native call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

#define ARGS(n)                                                            \
  size_t argc = (n);                                                       \
  napi_value argv[(n) > 0 ? (n) : 1];                                      \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

// One ring as the addon sees it: the fd, the mappings, and the poll handle
// that tells JavaScript when the watched fd becomes readable.
typedef struct ring {
  napi_env env;
  int fd;
  void *ring_ptr;      // SQ ring (and CQ ring with IORING_FEAT_SINGLE_MMAP)
  size_t ring_size;
  void *cq_ptr;        // separate CQ ring mapping on kernels without SINGLE_MMAP
  size_t cq_size;
  void *sqes_ptr;
  size_t sqes_size;
  napi_ref buffers[4]; // the ArrayBuffers over the mappings and `live`, detached on close
  // Requests in flight, kept up to date by the TypeScript request table
  // through an ArrayBuffer over this field: teardown without JavaScript (a
  // worker that exits) reads it to know whether the kernel may still use
  // pinned memory.
  int32_t live;
  uv_poll_t *poll;     // owned by libuv until its close callback runs
  napi_ref callback;
  napi_async_context async_ctx;
  napi_async_cleanup_hook_handle cleanup;
  void *pins;          // pins.cc: backing stores held for requests in flight
  int poll_fd;
  int event_fd;        // eventfd polled instead of the ring fd (DEFER_TASKRUN), or -1
  int referenced;
  int closed;
  int finalized;
} ring_t;

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_number) return napi_get_value_int64(env, v, out) == napi_ok;
  if (t == napi_bigint) {
    bool lossless;
    return napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok;
  }
  return 0;
}

#define INT_ARG(i, name)                                                   \
  int64_t name;                                                            \
  if (argc <= (i) || !get_i64(env, argv[i], &name)) {                      \
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "argument " #name " must be an integer"); \
    return NULL;                                                           \
  }

static ring_t *get_ring(napi_env env, napi_value v) {
  ring_t *r = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, v, (void **)&r) != napi_ok || r == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a ring handle");
    return NULL;
  }
  return r;
}

// The memory behind a JS value: an ArrayBuffer, SharedArrayBuffer or view.
// Returns 0 when the value is none of these.
static int get_memory(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is)
    return napi_get_arraybuffer_info(env, v, data, len) == napi_ok;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t n, off;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &n, data, &ab, &off) != napi_ok) return 0;
    size_t el = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: el = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
      default: el = 1;
    }
    *len = n * el;
    return 1;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    napi_value ab;
    size_t off;
    return napi_get_dataview_info(env, v, len, data, &ab, &off) == napi_ok;
  }
  // SharedArrayBuffer has no dedicated N-API accessor before Node 23; it is
  // reached through a view by the TypeScript layer.
  return 0;
}

static void unmap_all(ring_t *r) {
  if (r->sqes_ptr) munmap(r->sqes_ptr, r->sqes_size);
  if (r->cq_ptr) munmap(r->cq_ptr, r->cq_size);
  if (r->ring_ptr) munmap(r->ring_ptr, r->ring_size);
  r->sqes_ptr = r->cq_ptr = r->ring_ptr = NULL;
}

static void poll_closed(uv_handle_t *h) { free(h); }

// Drops the pin table, unless requests are still in flight: then the kernel
// may still use the memory they point at (a worker torn down mid-request), so
// the table, and that memory, are left behind on purpose. Pins kept only as a
// cache (no request uses them) are dropped.
static void release_pins(ring_t *r) {
  if (r->pins && (pins_live(r->pins) == 0 || r->live == 0)) pins_destroy(r->pins);
  r->pins = NULL;
}

static void stop_poll(ring_t *r) {
  if (r->poll) {
    uv_poll_stop(r->poll);
    uv_close((uv_handle_t *)r->poll, poll_closed);
    r->poll = NULL;
  }
}

// Releases everything the kernel shares with us. The ArrayBuffers are
// detached first so that JavaScript holding a stale view reads zero-length
// memory instead of an unmapped page.
static void release_ring(napi_env env, ring_t *r, int from_js) {
  if (r->closed) return;
  r->closed = 1;
  stop_poll(r);
  for (int i = 0; i < 4; i++) {
    if (!r->buffers[i]) continue;
    if (from_js) {
      napi_value ab;
      if (napi_get_reference_value(env, r->buffers[i], &ab) == napi_ok && ab != NULL)
        napi_detach_arraybuffer(env, ab);
    }
    napi_delete_reference(env, r->buffers[i]);
    r->buffers[i] = NULL;
  }
  if (r->callback) { napi_delete_reference(env, r->callback); r->callback = NULL; }
  if (r->async_ctx) { napi_async_destroy(env, r->async_ctx); r->async_ctx = NULL; }
  unmap_all(r);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  if (r->event_fd >= 0) close(r->event_fd);
  r->event_fd = -1;
  release_pins(r);
}

// A worker that exits tears its rings down here. The hook is asynchronous
// because closing the poll handle needs one more turn of the loop, and a
// worker's loop must be empty before Node closes it.
static void cleanup_poll_closed(uv_handle_t *h) {
  ring_t *r = (ring_t *)h->data;
  free(h);
  napi_remove_async_cleanup_hook(r->cleanup);
  r->cleanup = NULL;
  if (r->finalized) free(r);
}

static void env_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  ring_t *r = (ring_t *)arg;
  (void)handle;
  uv_poll_t *p = r->poll;
  r->poll = NULL;
  r->closed = 1;
  for (int i = 0; i < 4; i++) r->buffers[i] = NULL;  // references die with the env
  r->callback = NULL;
  r->async_ctx = NULL;
  unmap_all(r);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  if (r->event_fd >= 0) close(r->event_fd);
  r->event_fd = -1;
  release_pins(r);
  if (p) {
    uv_poll_stop(p);
    p->data = r;
    uv_close((uv_handle_t *)p, cleanup_poll_closed);
  } else {
    napi_remove_async_cleanup_hook(r->cleanup);
    r->cleanup = NULL;
  }
}

static void ring_finalize(napi_env env, void *data, void *hint) {
  ring_t *r = (ring_t *)data;
  (void)hint;
  if (!r->closed) {
    // Collected without close(). This only happens with nothing in flight:
    // while requests are pending the poll callback is a strong reference
    // that keeps the ring object reachable.
    release_ring(env, r, 0);
    if (r->cleanup) napi_remove_async_cleanup_hook(r->cleanup);
    r->cleanup = NULL;
    free(r);
  } else if (r->cleanup == NULL) {
    free(r);
  } else {
    r->finalized = 1;  // the environment hook is still closing the poll handle
  }
}

static void noop_finalize(napi_env env, void *data, void *hint) { (void)env; (void)data; (void)hint; }

static napi_value set_u32(napi_env env, napi_value obj, const char *k, uint32_t v) {
  napi_value x;
  napi_create_uint32(env, v, &x);
  napi_set_named_property(env, obj, k, x);
  return obj;
}

static napi_value make_ab(napi_env env, ring_t *r, int slot, void *ptr, size_t len) {
  napi_value ab;
  if (napi_create_external_arraybuffer(env, ptr, len, noop_finalize, NULL, &ab) != napi_ok)
    return NULL;
  napi_create_reference(env, ab, 0, &r->buffers[slot]);
  return ab;
}

// setup(entries, flags, sqThreadCpu, sqThreadIdle, cqEntries, wqFd)
// Returns -errno, or an object with the fd, the params and the mappings.
static napi_value js_setup(napi_env env, napi_callback_info info) {
  ARGS(6);
  INT_ARG(0, entries);
  INT_ARG(1, flags);
  INT_ARG(2, cpu);
  INT_ARG(3, idle);
  INT_ARG(4, cq_entries);
  INT_ARG(5, wq_fd);
  if (entries < 1 || entries > 0x8000 || flags < 0 || flags > 0xffffffff) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ring setup argument out of range");
    return NULL;
  }
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = (uint32_t)flags;
  p.sq_thread_cpu = (uint32_t)cpu;
  p.sq_thread_idle = (uint32_t)idle;
  p.cq_entries = (uint32_t)cq_entries;
  p.wq_fd = (uint32_t)wq_fd;
  int fd = (int)syscall(__NR_io_uring_setup, (unsigned)entries, &p);
  if (fd < 0) return make_int(env, -errno);

  ring_t *r = calloc(1, sizeof *r);
  if (!r) { close(fd); return make_int(env, -ENOMEM); }
  r->env = env;
  r->fd = fd;
  r->pins = pins_create();
  if (!r->pins) { close(fd); free(r); return make_int(env, -ENOMEM); }
  r->poll_fd = -1;
  r->event_fd = -1;
  size_t cqe_size = sizeof(struct io_uring_cqe) * ((p.flags & IORING_SETUP_CQE32) ? 2 : 1);
  size_t sqe_size = sizeof(struct io_uring_sqe) * ((p.flags & IORING_SETUP_SQE128) ? 2 : 1);
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * cqe_size;
  int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && cq_size > sq_size) sq_size = cq_size;
  r->ring_size = sq_size;
  r->ring_ptr = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (r->ring_ptr == MAP_FAILED) { r->ring_ptr = NULL; goto fail; }
  if (!single) {
    r->cq_size = cq_size;
    r->cq_ptr = mmap(NULL, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    if (r->cq_ptr == MAP_FAILED) { r->cq_ptr = NULL; goto fail; }
  }
  r->sqes_size = p.sq_entries * sqe_size;
  r->sqes_ptr = mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (r->sqes_ptr == MAP_FAILED) { r->sqes_ptr = NULL; goto fail; }

  napi_value out, handle, arr;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_external(env, r, ring_finalize, NULL, &handle));
  napi_set_named_property(env, out, "handle", handle);
  set_u32(env, out, "fd", (uint32_t)fd);
  set_u32(env, out, "sqEntries", p.sq_entries);
  set_u32(env, out, "cqEntries", p.cq_entries);
  set_u32(env, out, "flags", p.flags);
  set_u32(env, out, "features", p.features);
  uint32_t sqo[7] = {p.sq_off.head, p.sq_off.tail, p.sq_off.ring_mask, p.sq_off.ring_entries,
                     p.sq_off.flags, p.sq_off.dropped, p.sq_off.array};
  uint32_t cqo[7] = {p.cq_off.head, p.cq_off.tail, p.cq_off.ring_mask, p.cq_off.ring_entries,
                     p.cq_off.overflow, p.cq_off.cqes, p.cq_off.flags};
  CHECK(napi_create_array_with_length(env, 7, &arr));
  for (uint32_t i = 0; i < 7; i++) { napi_value x; napi_create_uint32(env, sqo[i], &x); napi_set_element(env, arr, i, x); }
  napi_set_named_property(env, out, "sqOff", arr);
  CHECK(napi_create_array_with_length(env, 7, &arr));
  for (uint32_t i = 0; i < 7; i++) { napi_value x; napi_create_uint32(env, cqo[i], &x); napi_set_element(env, arr, i, x); }
  napi_set_named_property(env, out, "cqOff", arr);
  napi_value ab = make_ab(env, r, 0, r->ring_ptr, r->ring_size);
  if (!ab) goto fail;
  napi_set_named_property(env, out, "sqRing", ab);
  ab = single ? ab : make_ab(env, r, 1, r->cq_ptr, r->cq_size);
  if (!ab) goto fail;
  napi_set_named_property(env, out, "cqRing", ab);
  ab = make_ab(env, r, 2, r->sqes_ptr, r->sqes_size);
  if (!ab) goto fail;
  napi_set_named_property(env, out, "sqes", ab);
  ab = make_ab(env, r, 3, &r->live, sizeof r->live);
  if (!ab) goto fail;
  napi_set_named_property(env, out, "live", ab);
  napi_add_async_cleanup_hook(env, env_cleanup, r, &r->cleanup);
  return out;

fail:;
  int err = errno ? errno : ENOMEM;
  unmap_all(r);
  close(fd);
  r->fd = -1;
  r->closed = 1;
  // r is freed by the external's finalizer if one was created; otherwise here.
  if (!r->buffers[0]) { release_pins(r); free(r); }
  return make_int(env, -err);
}

// enter(fd, toSubmit, minComplete, flags) -> result or -errno
static napi_value js_enter(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, flags;
  uint32_t to_submit, min_complete;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &to_submit) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &min_complete) != napi_ok ||
      napi_get_value_int32(env, argv[3], &flags) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "enter(fd, toSubmit, minComplete, flags) takes integers");
    return NULL;
  }
  int ret = (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, (unsigned)flags, NULL, (size_t)0);
  return make_int(env, ret < 0 ? -errno : ret);
}

// register(fd, opcode, arg, nrArgs): arg is null, a number (passed as the
// pointer value itself), or memory whose address is passed.
static napi_value js_register(napi_env env, napi_callback_info info) {
  ARGS(4);
  INT_ARG(0, fd);
  INT_ARG(1, opcode);
  INT_ARG(3, nr);
  void *arg = NULL;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t == napi_number || t == napi_bigint) {
    int64_t v;
    get_i64(env, argv[2], &v);
    arg = (void *)(intptr_t)v;
  } else if (t != napi_null && t != napi_undefined) {
    size_t len;
    if (!get_memory(env, argv[2], &arg, &len)) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "register arg must be null, a number or memory");
      return NULL;
    }
  }
  int ret = (int)syscall(__NR_io_uring_register, (int)fd, (unsigned)opcode, arg, (unsigned)nr);
  return make_int(env, ret < 0 ? -errno : ret);
}

// address(memory) -> the address of its first byte, as a number. User-space
// addresses on 64-bit Linux fit in 53 bits, so a double holds them exactly.
static napi_value js_address(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data = NULL;
  size_t len = 0;
  if (argc < 1 || !get_memory(env, argv[0], &data, &len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "address() takes an ArrayBuffer or a view");
    return NULL;
  }
  napi_value out;
  napi_create_double(env, (double)(uintptr_t)data, &out);
  return out;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  ring_t *r = (ring_t *)h->data;
  (void)events;
  if (r == NULL || r->closed || r->callback == NULL) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, r->callback, &cb);
  if (cb == NULL) { napi_close_handle_scope(env, scope); return; }
  napi_get_global(env, &recv);
  napi_create_int32(env, status, &arg);
  // make_callback runs the microtask queue afterwards, as any libuv-driven
  // callback in Node does, so promises resolved here settle promptly.
  napi_status st = napi_make_callback(env, r->async_ctx, recv, cb, 1, &arg, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

// pollStart(handle, fd, callback): watch fd for readability on this thread's loop.
static napi_value js_poll_start(napi_env env, napi_callback_info info) {
  ARGS(3);
  ring_t *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  INT_ARG(1, fd);
  if (r->closed) return make_int(env, -EBADF);
  if (r->poll) return make_int(env, -EBUSY);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_t *p = calloc(1, sizeof *p);
  if (!p) return make_int(env, -ENOMEM);
  int rc = uv_poll_init(loop, p, (int)fd);
  if (rc < 0) { free(p); return make_int(env, rc); }
  p->data = r;
  if (!r->callback) {
    CHECK(napi_create_reference(env, argv[2], 1, &r->callback));
    napi_value name;
    napi_create_string_utf8(env, "uring:completion", NAPI_AUTO_LENGTH, &name);
    CHECK(napi_async_init(env, NULL, name, &r->async_ctx));
  }
  rc = uv_poll_start(p, UV_READABLE, on_poll);
  if (rc < 0) { uv_close((uv_handle_t *)p, poll_closed); return make_int(env, rc); }
  r->poll = p;
  r->poll_fd = (int)fd;
  if ((int)fd != r->fd) r->event_fd = (int)fd;  // the ring owns it from now on
  r->referenced = 1;
  return make_int(env, 0);
}

// pollRef(handle, on): whether the poll keeps the event loop alive.
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  ring_t *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  // While requests are pending the ring must stay alive and keep the loop
  // alive; when idle, the callback is held weakly so that a ring the user
  // forgot to close can still be collected (and its fd closed).
  if (r->poll && on != (bool)r->referenced) {
    uint32_t count;
    if (on) {
      uv_ref((uv_handle_t *)r->poll);
      if (r->callback) napi_reference_ref(env, r->callback, &count);
    } else {
      uv_unref((uv_handle_t *)r->poll);
      if (r->callback) napi_reference_unref(env, r->callback, &count);
    }
  }
  r->referenced = on;
  return NULL;
}

// close(handle): stop polling, detach and unmap the rings, close the fd.
static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  ring_t *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  release_ring(env, r, 1);
  if (r->cleanup) {
    napi_remove_async_cleanup_hook(r->cleanup);
    r->cleanup = NULL;
  }
  return make_int(env, 0);
}

// getRlimit(resource) -> [soft, hard] (-1 for infinity); setRlimit(resource, soft)
static napi_value js_get_rlimit(napi_env env, napi_callback_info info) {
  ARGS(1);
  INT_ARG(0, res);
  struct rlimit rl;
  if (getrlimit((int)res, &rl) < 0) return make_int(env, -errno);
  napi_value out, a, b;
  napi_create_array_with_length(env, 2, &out);
  napi_create_double(env, rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur, &a);
  napi_create_double(env, rl.rlim_max == RLIM_INFINITY ? -1 : (double)rl.rlim_max, &b);
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, b);
  return out;
}

static napi_value js_set_rlimit(napi_env env, napi_callback_info info) {
  ARGS(2);
  INT_ARG(0, res);
  INT_ARG(1, soft);
  struct rlimit rl;
  if (getrlimit((int)res, &rl) < 0) return make_int(env, -errno);
  rl.rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft;
  if (setrlimit((int)res, &rl) < 0) return make_int(env, -errno);
  return make_int(env, 0);
}

// sendFds(socket, fds[]) sends the fds with SCM_RIGHTS and one data byte.
static napi_value js_send_fds(napi_env env, napi_callback_info info) {
  ARGS(2);
  INT_ARG(0, sock);
  uint32_t n = 0;
  bool is_array = false;
  napi_is_array(env, argv[1], &is_array);
  if (!is_array || napi_get_array_length(env, argv[1], &n) != napi_ok || n == 0 || n > 64) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds must be an array of 1 to 64 integers");
    return NULL;
  }
  int fds[64];
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    int64_t v;
    napi_get_element(env, argv[1], i, &e);
    if (!get_i64(env, e, &v)) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds must be integers");
      return NULL;
    }
    fds[i] = (int)v;
  }
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  char ctl[CMSG_SPACE(sizeof(int) * 64)];
  memset(ctl, 0, sizeof ctl);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  ssize_t rc = sendmsg((int)sock, &msg, MSG_NOSIGNAL);
  return make_int(env, rc < 0 ? -errno : rc);
}

// socketpair(type) -> [fd0, fd1] (close-on-exec) or -errno
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  ARGS(1);
  INT_ARG(0, type);
  int sv[2];
  if (socketpair(AF_UNIX, (int)type | SOCK_CLOEXEC, 0, sv) < 0) return make_int(env, -errno);
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, sv[0]));
  napi_set_element(env, out, 1, make_int(env, sv[1]));
  return out;
}

// pipe() -> [readFd, writeFd] (close-on-exec) or -errno
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return make_int(env, -errno);
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, fds[0]));
  napi_set_element(env, out, 1, make_int(env, fds[1]));
  return out;
}

// closeFd(fd) -> 0 or -errno
static napi_value js_close_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  INT_ARG(0, fd);
  return make_int(env, close((int)fd) < 0 ? -errno : 0);
}

// eventfd() -> a non-blocking, close-on-exec eventfd, or -errno.
static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return make_int(env, fd < 0 ? -errno : fd);
}

// drainEventfd(fd) -> the counter value read (0 if none), or -errno.
static napi_value js_drain_eventfd(napi_env env, napi_callback_info info) {
  ARGS(1);
  INT_ARG(0, fd);
  uint64_t v = 0;
  ssize_t n = read((int)fd, &v, sizeof v);
  if (n < 0) return make_int(env, errno == EAGAIN ? 0 : -errno);
  return make_int(env, (int64_t)v);
}

// ids() -> [uid, euid, gid, egid]; read at every submission batch to refuse
// work after the process changed credentials.
static napi_value js_ids(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_array_with_length(env, 4, &out);
  napi_set_element(env, out, 0, make_int(env, getuid()));
  napi_set_element(env, out, 1, make_int(env, geteuid()));
  napi_set_element(env, out, 2, make_int(env, getgid()));
  napi_set_element(env, out, 3, make_int(env, getegid()));
  return out;
}

// ---- socket helpers --------------------------------------------------------
// Synchronous fallbacks for socket calls that have no io_uring opcode on the
// running kernel (bind and listen before Linux 6.11) or none at all
// (setsockopt with an int value, getsockname, getpeername). Flat, -errno.

// bind(fd, sockaddr bytes) -> 0 or -errno
static napi_value js_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  INT_ARG(0, fd);
  void *data = NULL;
  size_t len = 0;
  if (!get_memory(env, argv[1], &data, &len) || len == 0 || len > sizeof(struct sockaddr_storage)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "bind() takes a sockaddr buffer");
    return NULL;
  }
  return make_int(env, bind((int)fd, (const struct sockaddr *)data, (socklen_t)len) < 0 ? -errno : 0);
}

// listen(fd, backlog) -> 0 or -errno
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(2);
  INT_ARG(0, fd);
  INT_ARG(1, backlog);
  return make_int(env, listen((int)fd, (int)backlog) < 0 ? -errno : 0);
}

// setsockopt(fd, level, name, int value) -> 0 or -errno
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  INT_ARG(0, fd);
  INT_ARG(1, level);
  INT_ARG(2, name);
  INT_ARG(3, value);
  int v = (int)value;
  return make_int(env, setsockopt((int)fd, (int)level, (int)name, &v, sizeof v) < 0 ? -errno : 0);
}

// getsockname(fd, out) / getpeername(fd, out) -> address length or -errno
static napi_value sockname(napi_env env, napi_callback_info info, int peer) {
  ARGS(2);
  INT_ARG(0, fd);
  void *data = NULL;
  size_t len = 0;
  if (!get_memory(env, argv[1], &data, &len) || len == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an output buffer");
    return NULL;
  }
  socklen_t sl = (socklen_t)len;
  int rc = peer ? getpeername((int)fd, (struct sockaddr *)data, &sl)
                : getsockname((int)fd, (struct sockaddr *)data, &sl);
  return make_int(env, rc < 0 ? -errno : (int64_t)sl);
}
static napi_value js_getsockname(napi_env env, napi_callback_info info) { return sockname(env, info, 0); }
static napi_value js_getpeername(napi_env env, napi_callback_info info) { return sockname(env, info, 1); }

// pin(handle, id, view) -> the address of the view's first byte, or a
// negative PIN_* code (not a view, detached, resizable). The ring holds the
// view's backing store in pin slot `id` until unpin(handle, id).
static napi_value js_pin(napi_env env, napi_callback_info info) {
  ARGS(3);
  ring_t *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  uint32_t id;
  if (napi_get_value_uint32(env, argv[1], &id) != napi_ok || id > 0x7fffffff) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "pin id must be a uint32");
    return NULL;
  }
  double addr = r->closed ? PIN_DETACHED : pins_pin(r->pins, id, argv[2]);
  napi_value out;
  napi_create_double(env, addr, &out);
  return out;
}

// unpin(handle, id): the kernel is done with the memory pinned in slot `id`.
static napi_value js_unpin(napi_env env, napi_callback_info info) {
  ARGS(2);
  ring_t *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  uint32_t id;
  if (napi_get_value_uint32(env, argv[1], &id) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "pin id must be a uint32");
    return NULL;
  }
  if (r->pins) pins_unpin(r->pins, id);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setup", NULL, js_setup, NULL, NULL, NULL, napi_default, NULL},
      {"enter", NULL, js_enter, NULL, NULL, NULL, napi_default, NULL},
      {"register", NULL, js_register, NULL, NULL, NULL, napi_default, NULL},
      {"address", NULL, js_address, NULL, NULL, NULL, napi_default, NULL},
      {"pin", NULL, js_pin, NULL, NULL, NULL, napi_default, NULL},
      {"unpin", NULL, js_unpin, NULL, NULL, NULL, napi_default, NULL},
      {"pollStart", NULL, js_poll_start, NULL, NULL, NULL, napi_default, NULL},
      {"pollRef", NULL, js_poll_ref, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"getRlimit", NULL, js_get_rlimit, NULL, NULL, NULL, napi_default, NULL},
      {"setRlimit", NULL, js_set_rlimit, NULL, NULL, NULL, napi_default, NULL},
      {"sendFds", NULL, js_send_fds, NULL, NULL, NULL, napi_default, NULL},
      {"socketpair", NULL, js_socketpair, NULL, NULL, NULL, napi_default, NULL},
      {"pipe", NULL, js_pipe, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, js_close_fd, NULL, NULL, NULL, napi_default, NULL},
      {"eventfd", NULL, js_eventfd, NULL, NULL, NULL, napi_default, NULL},
      {"drainEventfd", NULL, js_drain_eventfd, NULL, NULL, NULL, napi_default, NULL},
      {"ids", NULL, js_ids, NULL, NULL, NULL, napi_default, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_default, NULL},
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_default, NULL},
      {"setsockopt", NULL, js_setsockopt, NULL, NULL, NULL, napi_default, NULL},
      {"getsockname", NULL, js_getsockname, NULL, NULL, NULL, napi_default, NULL},
      {"getpeername", NULL, js_getpeername, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
