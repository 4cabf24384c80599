/*
 * Batched UDP transport for the TFTP sockets (Linux).
 *
 * It only moves bytes. Node's dgram costs one JS callback, one Buffer and one rinfo object per
 * received datagram, two recvmsg calls per wake-up, and a libuv watcher (three extra system calls)
 * per socket opened; in a boot storm (10 000 ACKs a second to hundreds of transfer sockets, hundreds
 * of sockets opened at once) that is most of the server's work. Here all sockets share one epoll set
 * of our own, which Node's loop watches as a single fd. When it is readable, one epoll_wait() returns
 * every ready socket; each is read (a transfer socket once, the listener up to readsPerWake times)
 * into one shared buffer, and after the loop's poll phase (a uv_check handle) JS is called once with
 * everything that arrived in that turn. Sends are plain sendto() calls; a datagram the kernel cannot
 * take now (EAGAIN: the send buffer is full) is copied into the socket's queue and sent, in order, once
 * the socket is writable.
 *
 * Sockets opened with `uring` use io_uring (uring.c) where the kernel has it: the datagrams JS sends
 * on them while it handles a batch are staged and submitted together when JS returns (one system call
 * for a storm's hundreds of DATA instead of one sendto each), and when several of them are readable
 * at once, one datagram of each is read with one system call. A staged datagram the kernel refuses
 * (EAGAIN) goes to its socket's queue like one refused by sendto; a socket never has more than one
 * datagram staged at a time, so that stays in order. Anything that must not wait (a send outside a
 * batch, sendMany, a close) first submits what that socket has staged.
 *
 * A socket with a pilot (pilot.h: a transfer of a cached file) has its in-order ACKs answered as
 * they are read, with the next prebuilt DATA packets, staged on the ring for the end of the wake-up;
 * only what the pilot does not take becomes a record for JS.
 *
 * Record layout in the shared buffer, each record 4-byte aligned, integers in host byte order:
 *   u32 socket id | u8[4] source IPv4 address | u16 source port | u16 length | data
 * A failed read is a record of length ERROR_RECORD with the errno (i32) in place of the address.
 *
 * One instance per process (the first init() wins; a worker thread that tries gets an error and its
 * caller falls back to node:dgram).
 */
#define _GNU_SOURCE /* sendmmsg */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pilot.h"
#include "uring.h"

#define HEADER_BYTES 12
/* A socket id is (generation << 20) | slot: a slot is reused by later sockets, the id is not (until
 * its 10-bit generation wraps), so a record of a closed socket still in a batch reaches nobody. Ten
 * bits keep every id below 2^30, a V8 small integer: with 12, a slot reused 1 024 times (the lowest
 * one, on a lightly loaded server, after 1 024 transfers) gave ids that V8 stores as heap numbers, and
 * the JS side's id array and every batch's id reads went over to doubles for good. */
#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define MAX_DATAGRAM 65536
#define EVENTS_PER_WAIT 256
#define ERROR_RECORD 0xffff /* no datagram is this long (IPv4 UDP payloads end at 65507) */
#define DEAD_AFTER 8         /* failed reads in a row before a socket is given up (no longer polled) */
#define QUEUE_MAX 65536      /* datagrams one socket may hold for a writable moment; beyond, they are lost */
/* The port field of an error record: which side failed. */
#define ERR_RECV 0
#define ERR_SEND 1

typedef struct queued {
  struct queued *next;
  struct sockaddr_in to;
  size_t len;
  unsigned char data[];
} queued_t;

typedef struct sock {
  int fd;
  int dead; /* reads failed DEAD_AFTER times in a row: no longer polled */
  uint32_t read_errors; /* failed reads since the last good one */
  uint32_t id;
  uint32_t reads_per_wake;
  int immediate; /* hand each datagram to JS at once (the listener: each request answered before the next is read) */
  int uring;     /* its sends inside a batch are staged on the ring, and it is read on the ring with other ready sockets */
  uint32_t queued;
  queued_t *head;
  queued_t *tail;
  uint32_t staged_in; /* the submission (st.submit_gen) its last staged datagram belongs to */
  pilot_t *pilot;     /* answers in-order ACKs of a prebuilt file here (pilot.h), or NULL */
  napi_ref pilot_ref; /* keeps the pilot's packets (a JS Buffer) alive */
  uint32_t busy_us;   /* after the pilot sends, keep the loop polling this long (as busyPoller does for JS) */
} sock_t;

typedef struct {
  napi_env env;
  napi_ref callback;
  napi_ref buffer_ref;
  napi_async_context async_context;
  unsigned char *buf;
  size_t cap;
  size_t used;
  uint32_t count;
  int epfd;
  uv_loop_t *loop;
  uv_poll_t poll;
  uv_check_t check;
  uv_idle_t idle;      /* active while the pilots busy-poll: libuv then polls without sleeping */
  uint64_t spin_until; /* uv_hrtime() */
  int spinning;
  uint64_t spins;      /* loop turns spent busy-polling for the pilots (tests) */
  int started;
  sock_t **socks;
  uint16_t *gens;
  uint32_t nsocks;
  uint32_t open;
  uint32_t next_free;
  napi_async_cleanup_hook_handle cleanup;
  int closing_handles;
  int in_batch;        /* JS is handling a batch (flush): its sends are staged on the ring */
  int reading;         /* on_epoll() is reading: the pilots' sends are staged on the ring */
  int ring_tried;      /* ring_setup() ran */
  int ring_problem;    /* errno of the ring's setup, 0 when it came up */
  uint32_t submit_gen; /* which submission the staged datagrams belong to (bumped by each submit) */
} state_t;

static state_t st;

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s failed: %s", syscall, strerror(err));
  napi_value m, code, e, errno_v, sys;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  const char *name = uv_err_name(-err); /* EADDRINUSE, EACCES, EPERM … as libuv and Node name them */
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &e);
  napi_create_int32(env, -err, &errno_v);
  napi_set_named_property(env, e, "errno", errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, e, "syscall", sys);
  napi_throw(env, e);
  return NULL;
}

static sock_t *by_id(uint32_t id) {
  uint32_t slot = id & SLOT_MASK;
  if (slot >= st.nsocks) return NULL;
  sock_t *s = st.socks[slot];
  return s && s->id == id ? s : NULL;
}

static void submit_staged(void);
static int send_one(sock_t *s, const void *data, size_t len, const struct sockaddr_in *to, int copy);
static uint32_t send_iov(sock_t *s, struct iovec *iov, uint32_t n, const struct sockaddr_in *to, int *first_errno);
static void on_send_failed(uint32_t sock_id, int err, const void *data, size_t len, const struct sockaddr_in *to);

/* Hand the batch to JS: callback(count, usedBytes). JS may open and close sockets meanwhile. */
static void flush(void) {
  if (st.count == 0) return;
  napi_env env = st.env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(env, st.callback, &cb);
  napi_get_global(env, &recv); /* MakeCallback wants an object as receiver */
  napi_create_uint32(env, st.count, &argv[0]);
  napi_create_uint32(env, (uint32_t)st.used, &argv[1]);
  /* Sends are staged only when there are several datagrams to answer: one alone (a lock-step
   * transfer's ACK) is answered by a sendto at once, without waiting for the end of the callback. */
  st.in_batch = st.count > 1;
  /* Nothing is read into the buffer while JS runs, but a submission made inside JS (a second send,
   * sendMany, close, a full stage) may add error records: they go after the batch JS is reading, and
   * move to the front once it returns. */
  size_t batch = st.used;
  st.count = 0;
  napi_status s = napi_make_callback(env, st.async_context, recv, cb, 2, argv, &result);
  st.in_batch = 0;
  submit_staged(); /* the DATA this batch's ACKs called for: one system call for all of them */
  st.used -= batch;
  memmove(st.buf, st.buf + batch, st.used);
  if (s == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void on_check(uv_check_t *h) {
  (void)h;
  flush();
}

static void watch(sock_t *s, int op) {
  if (s->dead) return;
  struct epoll_event ev;
  ev.events = EPOLLIN | (s->head ? EPOLLOUT : 0);
  ev.data.u64 = s->id;
  epoll_ctl(st.epfd, op, s->fd, &ev);
}

/* An error for JS (onError): errno in place of the address, the side in the port field. The caller
 * made sure a record fits (read_socket), or there is room for a header (send_queue checks). */
static void error_record(sock_t *s, int e, uint16_t side) {
  unsigned char *rec = st.buf + st.used;
  uint16_t mark = ERROR_RECORD;
  memcpy(rec, &s->id, 4);
  memcpy(rec + 4, &e, 4);
  memcpy(rec + 8, &side, 2);
  memcpy(rec + 10, &mark, 2);
  st.used += HEADER_BYTES;
  st.count++;
}

static void send_queue(sock_t *s) {
  while (s->head) {
    queued_t *q = s->head;
    ssize_t n = sendto(s->fd, q->data, q->len, 0, (struct sockaddr *)&q->to, sizeof q->to);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    /* Sent, or failed for good (ENOBUFS included: the socket is writable, waiting would spin): the
     * datagram is lost, as UDP may lose it anyway, and JS hears of it like of a direct send. */
    if (n < 0 && st.cap - st.used >= HEADER_BYTES) error_record(s, errno, ERR_SEND);
    s->head = q->next;
    if (!s->head) s->tail = NULL;
    s->queued--;
    free(q);
  }
  watch(s, EPOLL_CTL_MOD); /* nothing left to send: readable only */
}

/* A record of a datagram s received (room for it was made by the caller). */
static void datagram_record(sock_t *s, ssize_t n, const struct sockaddr_in *from, const unsigned char *data) {
  unsigned char *rec = st.buf + st.used;
  if (n > MAX_DATAGRAM - 1) n = MAX_DATAGRAM - 1; /* truncated; no TFTP peer sends this much */
  memcpy(rec, &s->id, 4);
  memcpy(rec + 4, &from->sin_addr.s_addr, 4);
  uint16_t port = ntohs(from->sin_port), len = (uint16_t)n;
  memcpy(rec + 8, &port, 2);
  memcpy(rec + 10, &len, 2);
  if (data && n > 0) memcpy(rec + HEADER_BYTES, data, (size_t)n);
  st.used += (HEADER_BYTES + (size_t)n + 3) & ~(size_t)3;
  st.count++;
}

static void on_idle(uv_idle_t *h) {
  st.spins++;
  if (uv_hrtime() < st.spin_until) return;
  uv_idle_stop(h);
  st.spinning = 0;
}

/* Keep the loop polling for us microseconds: the client's next ACK is read as it arrives, not after
 * the wake-up of an idle CPU (core/src/net/busy-poll.ts, for the sends JS makes). */
static void spin(uint32_t us) {
  uint64_t until = uv_hrtime() + (uint64_t)us * 1000;
  if (until > st.spin_until) st.spin_until = until;
  if (st.spinning) return;
  st.spinning = 1;
  uv_idle_start(&st.idle, on_idle);
}

/* A datagram for a socket with a pilot: 1 when the pilot answered it (its DATA are sent or staged),
 * 0 when it goes to JS (the pilot is off now, unless the datagram came from another TID; JS takes
 * its state with unpilot()). */
static int piloted(sock_t *s, const unsigned char *data, ssize_t n, const struct sockaddr_in *from) {
  if (n < 0) return 0;
  int k = pilot_answer(s->pilot, data, (size_t)n, from->sin_addr.s_addr, from->sin_port, uv_now(st.loop));
  if (k < 0) return 0;
  struct sockaddr_in to = *from;
  int err = 0;
  /* Staged without a copy: the pilot's packets stay alive until it is dropped, which submits first. */
  if (k == 1) err = -send_one(s, s->pilot->out[0].iov_base, s->pilot->out[0].iov_len, &to, 0);
  else if (k > 1) send_iov(s, s->pilot->out, (uint32_t)k, &to, &err);
  if (err && st.cap - st.used >= HEADER_BYTES) error_record(s, err, ERR_SEND); /* lost: JS hears of it as of a send of its own */
  if (k > 0 && s->busy_us) spin(s->busy_us);
  return 1;
}

/* A failed read: 1 when it was no failure (nothing there). Otherwise the error goes to JS (onError),
 * as dgram does, and the socket stays polled (2): the kernel reports most errors once (ECONNABORTED
 * after a socket destroy; a socket bound to its port still receives afterwards). Only an error that
 * repeats on every read gives the socket up (0). */
static int read_failed(sock_t *s, int e) {
  if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) return 1;
  error_record(s, e, ERR_RECV);
  if (++s->read_errors < DEAD_AFTER) return 2;
  s->dead = 1;
  epoll_ctl(st.epfd, EPOLL_CTL_DEL, s->fd, NULL);
  return 0;
}

/* Read up to reads_per_wake datagrams of one socket into the batch. Level-triggered: what is not
 * read now is reported again next turn. */
static void read_socket(uint32_t id) {
  sock_t *s = by_id(id);
  for (uint32_t i = 0; s && i < s->reads_per_wake; i++) {
    if (st.cap - st.used < HEADER_BYTES + MAX_DATAGRAM) {
      flush();
      s = by_id(id); /* JS may have closed it */
      if (!s) return;
    }
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    unsigned char *rec = st.buf + st.used;
    ssize_t n = recvfrom(s->fd, rec + HEADER_BYTES, MAX_DATAGRAM, MSG_TRUNC, (struct sockaddr *)&from, &flen);
    if (n < 0) {
      if (read_failed(s, errno) != 2) return;
      continue;
    }
    s->read_errors = 0;
    if (from.sin_family != AF_INET) continue;
    if (s->pilot && piloted(s, rec + HEADER_BYTES, n, &from)) continue;
    datagram_record(s, n, &from, NULL); /* read in place */
    if (s->immediate) {
      /* JS runs now, microtasks included: a request's async chain (hooks, lookup, OACK) completes
       * before the next one is read, instead of every request of the burst advancing together. */
      flush();
      s = by_id(id);
    }
  }
}

/* Ready sockets read together (one datagram each) on the ring: their ids, and their fds. */
static uint32_t ring_ids[EVENTS_PER_WAIT];
static int ring_fds[EVENTS_PER_WAIT];

static void ring_received(uint32_t i, ssize_t n, const unsigned char *data, const struct sockaddr_in *from) {
  if (!by_id(ring_ids[i])) return; /* closed by JS during a flush of this loop */
  if (st.cap - st.used < HEADER_BYTES + (n > 0 ? (size_t)n : 0) + 4) flush(); /* room for its record */
  sock_t *s = by_id(ring_ids[i]);
  if (!s) return;
  if (n < 0) {
    read_failed(s, (int)-n);
    return;
  }
  s->read_errors = 0;
  if (from->sin_family != AF_INET) return;
  if (s->pilot && piloted(s, data, n, from)) return;
  datagram_record(s, n, from, data);
}

/* Read one datagram of each of the k collected sockets: on the ring when there are several, with
 * recvfrom otherwise (or without a ring). */
static void read_collected(uint32_t k) {
  if (k >= 2 && uring_recv(ring_fds, k, MAX_DATAGRAM - 1, ring_received) == 0) return;
  for (uint32_t i = 0; i < k; i++) read_socket(ring_ids[i]);
}

/* Take every ready socket. */
static void read_ready(void) {
  struct epoll_event evs[EVENTS_PER_WAIT];
  for (int round = 0; round < 4; round++) {
    int n = epoll_wait(st.epfd, evs, EVENTS_PER_WAIT, 0);
    /* Two passes: immediate sockets (the listener) first, so new requests are answered before the
     * running transfers' ACKs of the same wake-up are served (a storm's requests do not wait behind
     * the DATA of the transfers that started first); then everything else. */
    for (int pass = 0; pass < 2; pass++) {
      uint32_t k = 0; /* sockets of the second pass that read one datagram: read together */
      for (int i = 0; i < n; i++) {
        uint32_t id = (uint32_t)evs[i].data.u64;
        sock_t *s = by_id(id);
        if (!s) continue; /* closed since (by JS, during a flush in this loop) */
        if (s->immediate != (pass == 0)) continue;
        if (evs[i].events & EPOLLOUT) send_queue(s);
        if (!(evs[i].events & (EPOLLIN | EPOLLERR)) || s->dead) continue;
        if (pass == 0 || !s->uring || s->reads_per_wake != 1) {
          /* read_socket() may flush (JS closes sockets, their fd numbers are reused): the collected
           * fds are read first. */
          read_collected(k);
          k = 0;
          read_socket(id);
          continue;
        }
        if (k == uring_recv_max()) {
          read_collected(k);
          k = 0;
        }
        ring_ids[k] = id;
        ring_fds[k++] = s->fd;
      }
      read_collected(k);
    }
    if (n < EVENTS_PER_WAIT) return;
  }
}

/* Node's loop saw our epoll set readable. The DATA the pilots answered with are staged meanwhile and
 * leave together at the end (one system call on the ring), before JS sees what the pilots did not take. */
static void on_epoll(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)events;
  if (status < 0) return;
  st.reading = 1;
  read_ready();
  st.reading = 0;
  submit_staged();
}

static int has_staged(const sock_t *s);

static void drop_pilot(sock_t *s) {
  if (!s->pilot) return;
  if (has_staged(s)) submit_staged(); /* it may be sent from the pilot's packets */
  pilot_free(s->pilot);
  free(s->pilot);
  s->pilot = NULL;
  /* After a ring failure the kernel may still read packets it was given without a copy: keep them. */
  if (!uring_leaked()) napi_delete_reference(st.env, s->pilot_ref);
  s->pilot_ref = NULL;
}

static void remove_socket(sock_t *s) {
  if (has_staged(s)) submit_staged(); /* its last datagrams leave before the fd is closed */
  st.socks[s->id & SLOT_MASK] = NULL;
  if ((s->id & SLOT_MASK) < st.next_free) st.next_free = s->id & SLOT_MASK;
  /* Explicit DEL: a child forked this instant may briefly hold the file, keeping it in the set. */
  if (!s->dead) epoll_ctl(st.epfd, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  drop_pilot(s);
  while (s->head) {
    queued_t *q = s->head;
    s->head = q->next;
    free(q);
  }
  free(s);
  if (--st.open == 0) uv_unref((uv_handle_t *)&st.poll); /* no socket open: do not keep the process alive */
}

static sock_t *lookup(napi_env env, napi_value v) {
  uint32_t id;
  sock_t *s = napi_get_value_uint32(env, v, &id) == napi_ok ? by_id(id) : NULL;
  if (!s) napi_throw_error(env, "PB_ERR_TFTP_NATIVE", "unknown socket id");
  return s;
}

/* The environment is going away (a worker thread ends, or the process exits): close everything and
 * take the handles off its loop, so that nothing of ours is left on a loop that is freed. */
static void on_handle_closed(uv_handle_t *h) {
  (void)h;
  if (--st.closing_handles > 0) return;
  close(st.epfd);
  free(st.socks);
  free(st.gens);
  napi_async_cleanup_hook_handle cleanup = st.cleanup;
  memset(&st, 0, sizeof st); /* another environment may init() now */
  napi_remove_async_cleanup_hook(cleanup);
}

static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  (void)arg;
  uring_close(on_send_failed);
  for (uint32_t i = 0; i < st.nsocks; i++)
    if (st.socks[i]) remove_socket(st.socks[i]);
  st.closing_handles = 3;
  uv_close((uv_handle_t *)&st.poll, on_handle_closed);
  uv_close((uv_handle_t *)&st.check, on_handle_closed);
  uv_close((uv_handle_t *)&st.idle, on_handle_closed);
}

/* init(buffer, callback) */
static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (st.started) {
    napi_throw_error(env, "PB_ERR_TFTP_NATIVE", "already initialised in this process");
    return NULL;
  }
  void *data;
  size_t len;
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (argc < 2 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok || len < 2 * (HEADER_BYTES + MAX_DATAGRAM) || t != napi_function) {
    napi_throw_type_error(env, NULL, "init(buffer >= 128 KiB, callback)");
    return NULL;
  }
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return throw_errno(env, "epoll_create1", errno);
  st.epfd = epfd;
  st.env = env;
  st.buf = data;
  st.cap = len;
  napi_create_reference(env, argv[0], 1, &st.buffer_ref);
  napi_create_reference(env, argv[1], 1, &st.callback);
  napi_value name;
  napi_create_string_utf8(env, "pureboot:tftp-udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &st.async_context); /* NULL: Node keeps its own resource object alive */
  struct uv_loop_s *loop;
  napi_get_uv_event_loop(env, &loop);
  st.loop = loop;
  uv_poll_init(loop, &st.poll, epfd);
  uv_poll_start(&st.poll, UV_READABLE, on_epoll);
  uv_unref((uv_handle_t *)&st.poll);
  uv_check_init(loop, &st.check);
  uv_check_start(&st.check, on_check);
  uv_unref((uv_handle_t *)&st.check);
  uv_idle_init(loop, &st.idle);
  uv_unref((uv_handle_t *)&st.idle); /* an idle handle still keeps poll's timeout at 0 when unreferenced */
  napi_add_async_cleanup_hook(env, on_env_cleanup, NULL, &st.cleanup);
  st.submit_gen = 1;
  st.started = 1;
  return NULL;
}

/* The ring is set up when it is first asked for (a socket opened with uring, or ring()). */
static void ring_setup(void) {
  if (st.ring_tried) return;
  st.ring_tried = 1;
  st.ring_problem = uring_init();
}

/* ring() -> 1 when io_uring is in use for the sockets opened with it, else -errno: why not (its setup
 * failed, or it failed later and was given up: EIO). */
static napi_value js_ring(napi_env env, napi_callback_info info) {
  (void)info;
  ring_setup();
  napi_value r;
  napi_create_int32(env, uring_ready() ? 1 : -(st.ring_problem ? st.ring_problem : EIO), &r);
  return r;
}

/* open(address, port, recvBufferBytes, readsPerWake, immediate, uring) -> [id, localPort] */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!st.started) {
    napi_throw_error(env, "PB_ERR_TFTP_NATIVE", "init() first");
    return NULL;
  }
  char addr[64];
  size_t alen;
  uint32_t port = 0, rcvbuf = 0, reads = 1;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], addr, sizeof addr, &alen) != napi_ok || napi_get_value_uint32(env, argv[1], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "open(address, port, recvBufferBytes?, readsPerWake?, immediate?, uring?)");
    return NULL;
  }
  if (argc > 2) napi_get_value_uint32(env, argv[2], &rcvbuf);
  if (argc > 3) napi_get_value_uint32(env, argv[3], &reads);
  bool immediate = false;
  if (argc > 4) napi_get_value_bool(env, argv[4], &immediate);
  bool use_ring = false;
  if (argc > 5) napi_get_value_bool(env, argv[5], &use_ring);
  if (reads < 1) reads = 1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "open: not an IPv4 address");
    return NULL;
  }
  uint32_t slot = st.next_free;
  while (slot < st.nsocks && st.socks[slot]) slot++;
  if (slot >= st.nsocks) {
    uint32_t n = st.nsocks ? st.nsocks * 2 : 256;
    if (n > SLOT_MASK + 1) return throw_errno(env, "open", EMFILE);
    sock_t **socks = realloc(st.socks, n * sizeof *socks);
    if (!socks) return throw_errno(env, "open", ENOMEM);
    st.socks = socks;
    uint16_t *gens = realloc(st.gens, n * sizeof *gens);
    if (!gens) return throw_errno(env, "open", ENOMEM);
    st.gens = gens;
    memset(socks + st.nsocks, 0, (n - st.nsocks) * sizeof *socks);
    memset(gens + st.nsocks, 0, (n - st.nsocks) * sizeof *gens);
    st.nsocks = n;
  }
  sock_t *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "open", ENOMEM);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    free(s);
    return throw_errno(env, "socket", errno);
  }
  if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf); /* capped by rmem_max, like dgram */
  socklen_t slen = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || (port == 0 && getsockname(fd, (struct sockaddr *)&sa, &slen) < 0)) {
    int e = errno;
    close(fd);
    free(s);
    return throw_errno(env, "bind", e);
  }
  s->fd = fd;
  s->id = ((uint32_t)(st.gens[slot]++ & 0x3ff) << SLOT_BITS) | slot;
  s->reads_per_wake = reads;
  s->immediate = immediate;
  s->uring = use_ring;
  if (use_ring) ring_setup();
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = s->id};
  if (epoll_ctl(st.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int e = errno;
    close(fd);
    free(s);
    return throw_errno(env, "epoll_ctl", e);
  }
  st.socks[slot] = s;
  st.next_free = slot + 1;
  if (st.open++ == 0) uv_ref((uv_handle_t *)&st.poll); /* an open socket keeps the process alive, as with dgram */
  napi_value out, v;
  napi_create_array_with_length(env, 2, &out);
  napi_create_uint32(env, s->id, &v);
  napi_set_element(env, out, 0, v);
  napi_create_uint32(env, ntohs(sa.sin_port), &v);
  napi_set_element(env, out, 1, v);
  return out;
}

/* The destination of a send: an IPv4 address as a host-order integer, and a port. */
static struct sockaddr_in ipv4_to(uint32_t address, uint32_t port) {
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(address);
  to.sin_port = htons((uint16_t)port);
  return to;
}

/* Copy a datagram into the socket's queue (sent in order once the socket is writable); 0 or -ENOMEM. */
static int enqueue(sock_t *s, const void *data, size_t len, const struct sockaddr_in *to) {
  if (s->queued >= QUEUE_MAX || s->dead) return -ENOBUFS;
  queued_t *q = malloc(sizeof *q + len);
  if (!q) return -ENOMEM;
  q->next = NULL;
  q->to = *to;
  q->len = len;
  memcpy(q->data, data, len);
  int was_empty = s->head == NULL;
  if (s->tail) s->tail->next = q;
  else s->head = q;
  s->tail = q;
  s->queued++;
  if (was_empty) watch(s, EPOLL_CTL_MOD); /* now also writable */
  return 0;
}

/* ---- sends staged on the ring (uring.c) while JS handles a batch ---- */

/* Whether s has a datagram staged for the coming submission. */
static int has_staged(const sock_t *s) {
  return s->staged_in == st.submit_gen && uring_staged() > 0;
}

static sock_t *closing; /* js_close(): the socket whose staged datagram is submitted before its fd closes */
static int closing_err;  /* ... and what became of it: returned by close(), as send() returns it */

/* A staged datagram the kernel did not take: a full send buffer queues a copy (sent in order once
 * the socket is writable, as after sendto); anything else loses it and JS hears of it (onError, or
 * close()'s result when the socket is being closed). */
static void on_send_failed(uint32_t sock_id, int err, const void *data, size_t len, const struct sockaddr_in *to) {
  sock_t *s = by_id(sock_id);
  if (!s) return;
  if (err == EAGAIN || err == EWOULDBLOCK) {
    int rc = enqueue(s, data, len, to);
    if (rc == 0) return;
    err = -rc;
  }
  if (s == closing) { /* a record would reach nobody: JS has already let go of the id */
    closing_err = err;
    return;
  }
  if (st.cap - st.used >= HEADER_BYTES) error_record(s, err, ERR_SEND);
}

static void submit_staged(void) {
  if (uring_staged() == 0) return;
  if (++st.submit_gen == 0) st.submit_gen = 1; /* from here on, no socket counts as staged (0: never staged) */
  uring_submit_sends(on_send_failed);
}

/* Stage a datagram for s (inside a batch, nothing queued for s): at most one per socket per
 * submission, so a datagram refused with EAGAIN is queued before any later one of its socket.
 * 0, or -1 when the ring cannot take it (the caller sends it itself). */
static int stage(sock_t *s, const void *data, size_t len, const struct sockaddr_in *to, int copy) {
  if (has_staged(s)) submit_staged();
  if (s->head) return -1; /* its staged datagram was refused (EAGAIN) and queued: this one goes behind it */
  if (uring_stage_send(s->id, s->fd, data, len, to, copy) < 0) {
    submit_staged(); /* the stage is full */
    if (s->head || uring_stage_send(s->id, s->fd, data, len, to, copy) < 0) return -1;
  }
  s->staged_in = st.submit_gen;
  return 0;
}

/* One datagram for s. Inside a batch (JS handling one) or a read (pilots answering ACKs), it is
 * staged on the ring and sent with the others when that ends (flush, on_epoll); errors come back as
 * records, like those of a queued datagram. Otherwise sendto(), and a full send buffer queues a copy.
 * copy 0: data stays valid until the submission (a pilot's packets), so it is not copied to be staged.
 * 0, or -errno when the datagram was lost. */
static int send_one(sock_t *s, const void *data, size_t len, const struct sockaddr_in *to, int copy) {
  if ((st.in_batch || st.reading) && s->uring && !s->head && stage(s, data, len, to, copy) == 0) return 0;
  if (has_staged(s)) submit_staged(); /* keep the order of its datagrams */
  if (!s->head) {
    if (sendto(s->fd, data, len, 0, (const struct sockaddr *)to, sizeof *to) >= 0) return 0;
    /* Only a full send buffer is worth waiting for; ENOBUFS and the rest lose the datagram. */
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
  }
  return enqueue(s, data, len, to);
}

#define SEND_MANY_MAX 64

/* Datagrams for s, in as few sendmmsg calls as it takes (64 datagrams each), after anything already
 * queued: how many were lost for good (the first one's errno in *first_errno). */
static uint32_t send_iov(sock_t *s, struct iovec *iov, uint32_t n, const struct sockaddr_in *to, int *first_errno) {
  if (has_staged(s)) submit_staged(); /* keep the order of its datagrams */
  struct mmsghdr msgs[SEND_MANY_MAX];
  uint32_t lost = 0;
  for (uint32_t base = 0; base < n; base += SEND_MANY_MAX) {
    uint32_t k = n - base < SEND_MANY_MAX ? n - base : SEND_MANY_MAX;
    for (uint32_t i = 0; i < k; i++) {
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = (void *)to;
      msgs[i].msg_hdr.msg_namelen = sizeof *to;
      msgs[i].msg_hdr.msg_iov = &iov[base + i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint32_t i = 0;
    while (i < k) {
      int rc = 0;
      if (s->head) { /* earlier datagrams wait in the queue: keep the order */
        rc = enqueue(s, iov[base + i].iov_base, iov[base + i].iov_len, to);
      } else {
        int sent = sendmmsg(s->fd, msgs + i, k - i, 0);
        if (sent > 0) {
          i += (uint32_t)sent;
          continue;
        }
        rc = errno == EAGAIN || errno == EWOULDBLOCK ? enqueue(s, iov[base + i].iov_base, iov[base + i].iov_len, to) : -errno;
      }
      if (rc < 0) { /* refused for good (as with send): lost, the rest still go */
        lost++;
        if (!*first_errno) *first_errno = -rc;
      }
      i++;
    }
  }
  return lost;
}

/* sendMany(id, buffers[], addressU32, port) -> 0, or [lost, first errno] when datagrams were lost:
 * a window in as few sendmmsg calls as it takes (64 datagrams each), after anything already queued. */
static napi_value js_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t n, a, port;
  bool is_array = false;
  if (argc >= 4) napi_is_array(env, argv[1], &is_array);
  if (!is_array || napi_get_array_length(env, argv[1], &n) != napi_ok || napi_get_value_uint32(env, argv[2], &a) != napi_ok || napi_get_value_uint32(env, argv[3], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "sendMany(id, buffers, address, port)");
    return NULL;
  }
  /* Every buffer first: reading an element can run JS (an accessor), which could close the socket. */
  struct iovec *iov = n ? malloc(n * sizeof *iov) : NULL;
  if (n && !iov) return throw_errno(env, "sendMany", ENOMEM);
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, argv[1], i, &el) != napi_ok || napi_get_buffer_info(env, el, &iov[i].iov_base, &iov[i].iov_len) != napi_ok) {
      free(iov);
      napi_throw_type_error(env, NULL, "sendMany: buffers must be Buffers");
      return NULL;
    }
  }
  sock_t *s = lookup(env, argv[0]);
  if (!s) {
    free(iov);
    return NULL;
  }
  struct sockaddr_in to = ipv4_to(a, port);
  int first_errno = 0;
  uint32_t lost = send_iov(s, iov, n, &to, &first_errno);
  free(iov);
  napi_value r;
  if (lost == 0) {
    napi_create_int32(env, 0, &r);
    return r;
  }
  napi_value v;
  napi_create_array_with_length(env, 2, &r);
  napi_create_uint32(env, lost, &v);
  napi_set_element(env, r, 0, v);
  napi_create_int32(env, first_errno, &v);
  napi_set_element(env, r, 1, v);
  return r;
}

/* send(id, buffer, addressU32 (host order), port) -> 0, or -errno when the datagram was lost */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "send(id, buffer, address, port)");
    return NULL;
  }
  sock_t *s = lookup(env, argv[0]);
  if (!s) return NULL;
  void *data;
  size_t len;
  uint32_t a, port;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || napi_get_value_uint32(env, argv[2], &a) != napi_ok || napi_get_value_uint32(env, argv[3], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "send(id, buffer, address, port)");
    return NULL;
  }
  struct sockaddr_in to = ipv4_to(a, port);
  int rc = send_one(s, data, len, &to, 1);
  napi_value r;
  napi_create_int32(env, rc, &r);
  return r;
}

/* pending(id) -> datagrams queued until the socket is writable */
static napi_value js_pending(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t *s = argc ? lookup(env, argv[0]) : NULL;
  if (!s) return NULL;
  napi_create_uint32(env, s->queued, &r);
  return r;
}

/* close(id) -> 0, or -errno when its staged datagram was refused: the socket is closed at once;
 * queued datagrams are dropped; its records still in a batch are skipped by JS (their id is no longer
 * open). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t *s = argc ? lookup(env, argv[0]) : NULL;
  if (!s) return NULL;
  closing = s;
  closing_err = 0;
  remove_socket(s);
  closing = NULL;
  napi_value r;
  napi_create_int32(env, -closing_err, &r);
  return r;
}

/* pilot(id, packets, blksize, window, lastAcked, nextSend, highestSent, addressU32, port, busyUs) ->
 * true: from now on the addon answers the in-order ACKs of this transfer (pilot.h). packets: every
 * DATA packet of the file back to back, as packetize() builds them. Replaces an earlier pilot. */
static napi_value js_pilot(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t v[8];
  void *data;
  size_t len;
  int ok = argc == 10 && napi_get_buffer_info(env, argv[1], &data, &len) == napi_ok;
  for (int i = 0; ok && i < 8; i++) ok = napi_get_value_uint32(env, argv[i + 2], &v[i]) == napi_ok;
  /* blksize 8..65464, a window, next_send after last_acked, a port */
  if (!ok || v[0] < 8 || v[0] > 65464 || v[1] < 1 || v[3] <= v[2] || v[4] < v[3] - 1 || v[6] > 65535) {
    napi_throw_type_error(env, NULL, "pilot(id, packets, blksize, window, lastAcked, nextSend, highestSent, address, port, busyUs)");
    return NULL;
  }
  sock_t *s = lookup(env, argv[0]);
  if (!s) return NULL;
  drop_pilot(s);
  pilot_t *p = malloc(sizeof *p);
  if (!p || pilot_init(p, data, len, v[0], v[1], v[2], v[3], v[4], htonl(v[5]), htons((uint16_t)v[6])) < 0) {
    free(p);
    return throw_errno(env, "pilot", ENOMEM);
  }
  if (v[3] > p->blocks + 1) {
    pilot_free(p);
    free(p);
    napi_throw_range_error(env, NULL, "pilot: nextSend is past the final block");
    return NULL;
  }
  p->progress_at = uv_now(st.loop);
  napi_create_reference(env, argv[1], 1, &s->pilot_ref);
  s->pilot = p;
  s->busy_us = v[7];
  napi_value r;
  napi_get_boolean(env, true, &r);
  return r;
}

/* unpilot(id) -> 0 when it had no pilot, else [lastAcked, nextSend, highestSent, bytes, idleMs, packets]:
 * where the pilot got to (bytes: data bytes of the blocks it sent first; idleMs: since an ACK last
 * moved the window, or since pilot(); packets: DATA it sent). The pilot is gone after this. */
static napi_value js_unpilot(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r, x;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t *s = argc ? lookup(env, argv[0]) : NULL;
  if (!s) return NULL;
  pilot_t *p = s->pilot;
  if (!p) {
    napi_create_int32(env, 0, &r);
    return r;
  }
  double out[6] = {p->last_acked, p->next_send, p->highest_sent, (double)p->bytes, (double)(uv_now(st.loop) - p->progress_at), (double)p->packets};
  napi_create_array_with_length(env, 6, &r);
  for (uint32_t i = 0; i < 6; i++) {
    napi_create_double(env, out[i], &x);
    napi_set_element(env, r, i, x);
  }
  drop_pilot(s);
  return r;
}

/* spins() -> loop turns spent busy-polling after pilots sent (tests) */
static napi_value js_spins(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_create_double(env, (double)st.spins, &r);
  return r;
}

/* open sockets (tests: nothing leaks) */
static napi_value js_count(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_create_uint32(env, st.open, &r);
  return r;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"sendMany", NULL, js_send_many, NULL, NULL, NULL, napi_default, NULL},
      {"pending", NULL, js_pending, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"openCount", NULL, js_count, NULL, NULL, NULL, napi_default, NULL},
      {"ring", NULL, js_ring, NULL, NULL, NULL, napi_default, NULL},
      {"pilot", NULL, js_pilot, NULL, NULL, NULL, napi_default, NULL},
      {"unpilot", NULL, js_unpilot, NULL, NULL, NULL, napi_default, NULL},
      {"spins", NULL, js_spins, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
