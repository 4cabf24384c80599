/*
 * Batched UDP transport for the TFTP transfer sockets (Linux).
 *
 * It only moves bytes. Node's dgram costs one JS callback, one Buffer and one rinfo object per
 * received datagram, and two recvmsg calls per wake-up; in a boot storm (10 000 ACKs a second from
 * hundreds of transfer sockets) that per-datagram cost is most of the server's CPU. Here every
 * socket is polled by libuv on Node's own loop, a readable socket is read once into one shared
 * buffer, and after the loop's poll phase (a uv_check handle) JS is called once with everything
 * that arrived. Sends are plain sendto() calls; a send the kernel cannot take now (EAGAIN) is
 * copied into the socket's queue and sent when the socket is writable, in order.
 *
 * Record layout in the shared buffer, each record 4-byte aligned, integers in host byte order:
 *   u32 socket id | u8[4] source IPv4 address | u16 source port (host order) | u16 length | data
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER_BYTES 12
/* A socket id is (generation << 20) | slot: a slot is reused by later sockets, the id is not (until
 * its 12-bit generation wraps), so records of a closed socket still in a batch reach nobody. */
#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define MAX_DATAGRAM 65536

typedef struct queued {
  struct queued *next;
  struct sockaddr_in to;
  size_t len;
  unsigned char data[];
} queued_t;

typedef struct sock {
  uv_poll_t poll;
  int fd;
  uint32_t id;
  int events;
  int closing;
  uint32_t reads_per_wake;
  queued_t *head;
  queued_t *tail;
  uint32_t queued;
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
  uv_check_t check;
  int started;
  sock_t **socks;
  uint16_t *gens;
  uint32_t nsocks;
  uint32_t next_free;
} state_t;

static state_t st;

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s failed: %s", syscall, strerror(err));
  napi_value m, code, e, errno_v, sys;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EMFILE ? "EMFILE" : err == ENFILE ? "ENFILE" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &e);
  napi_create_int32(env, -err, &errno_v);
  napi_set_named_property(env, e, "errno", errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, e, "syscall", sys);
  napi_throw(env, e);
  return NULL;
}

/* Hand the batch to JS: callback(count, usedBytes). */
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
  st.count = 0;
  st.used = 0;
  napi_status s = napi_make_callback(env, st.async_context, recv, cb, 2, argv, &result);
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

static void set_events(sock_t *s, int events);

static void send_queue(sock_t *s) {
  while (s->head) {
    queued_t *q = s->head;
    ssize_t n = sendto(s->fd, q->data, q->len, 0, (struct sockaddr *)&q->to, sizeof q->to);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) return;
    /* Sent, or failed for good (the datagram is lost, as UDP may lose it anyway). */
    s->head = q->next;
    if (!s->head) s->tail = NULL;
    s->queued--;
    free(q);
  }
  set_events(s, UV_READABLE);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  sock_t *s = (sock_t *)h->data;
  if (s->closing) return;
  if (status < 0) return;
  if (events & UV_WRITABLE) send_queue(s);
  if (!(events & UV_READABLE)) return;
  /* Level-triggered: what is not read now is reported again next turn. A transfer socket reads one
   * datagram per wake-up (its client sends one ACK per window); the listener drains a burst. */
  for (uint32_t i = 0; i < s->reads_per_wake; i++) {
    if (st.cap - st.used < HEADER_BYTES + MAX_DATAGRAM) flush();
    if (s->closing) return; /* closed by JS during that flush */
    if (st.cap - st.used < HEADER_BYTES + MAX_DATAGRAM) return; /* buffer too small: read next turn */
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    unsigned char *rec = st.buf + st.used;
    ssize_t n = recvfrom(s->fd, rec + HEADER_BYTES, MAX_DATAGRAM, MSG_TRUNC, (struct sockaddr *)&from, &flen);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      continue; /* an ICMP error queued on the socket: nothing to hand on */
    }
    if (n > MAX_DATAGRAM - 1) n = MAX_DATAGRAM - 1; /* truncated; no TFTP peer sends this much */
    if (from.sin_family != AF_INET) continue;
    memcpy(rec, &s->id, 4);
    memcpy(rec + 4, &from.sin_addr.s_addr, 4);
    uint16_t port = ntohs(from.sin_port), len = (uint16_t)n;
    memcpy(rec + 8, &port, 2);
    memcpy(rec + 10, &len, 2);
    st.used += (HEADER_BYTES + (size_t)n + 3) & ~(size_t)3;
    st.count++;
  }
}

static void set_events(sock_t *s, int events) {
  if (s->events == events) return;
  s->events = events;
  uv_poll_start(&s->poll, events, on_poll);
}

static void on_closed(uv_handle_t *h) {
  sock_t *s = (sock_t *)h->data;
  while (s->head) {
    queued_t *q = s->head;
    s->head = q->next;
    free(q);
  }
  close(s->fd);
  free(s);
}

static sock_t *lookup(napi_env env, napi_value v) {
  uint32_t id;
  if (napi_get_value_uint32(env, v, &id) != napi_ok || (id & SLOT_MASK) >= st.nsocks || !st.socks[id & SLOT_MASK] || st.socks[id & SLOT_MASK]->id != id) {
    napi_throw_error(env, "PB_ERR_TFTP_NATIVE", "unknown socket id");
    return NULL;
  }
  return st.socks[id & SLOT_MASK];
}

/* init(buffer, callback) */
static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (st.started) {
    napi_throw_error(env, "PB_ERR_TFTP_NATIVE", "already initialised");
    return NULL;
  }
  void *data;
  size_t len;
  if (argc < 2 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok || len < 2 * (HEADER_BYTES + MAX_DATAGRAM)) {
    napi_throw_type_error(env, NULL, "init(buffer >= 128 KiB, callback)");
    return NULL;
  }
  st.env = env;
  st.buf = data;
  st.cap = len;
  napi_create_reference(env, argv[0], 1, &st.buffer_ref);
  napi_create_reference(env, argv[1], 1, &st.callback);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "pureboot:tftp-udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &st.async_context);
  struct uv_loop_s *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_check_init(loop, &st.check);
  uv_check_start(&st.check, on_check);
  uv_unref((uv_handle_t *)&st.check);
  st.started = 1;
  return NULL;
}

/* open(address, port, recvBufferBytes, readsPerWake) -> [id, localPort] */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!st.started) {
    napi_throw_error(env, "PB_ERR_TFTP_NATIVE", "init() first");
    return NULL;
  }
  char addr[64];
  size_t alen;
  uint32_t port = 0, rcvbuf = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], addr, sizeof addr, &alen) != napi_ok || napi_get_value_uint32(env, argv[1], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "open(address, port, recvBufferBytes?, readsPerWake?)");
    return NULL;
  }
  uint32_t reads = 1;
  if (argc > 2) napi_get_value_uint32(env, argv[2], &rcvbuf);
  if (argc > 3) napi_get_value_uint32(env, argv[3], &reads);
  if (reads < 1) reads = 1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "open: not an IPv4 address");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  socklen_t slen = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &slen);
  uint32_t slot = st.next_free;
  while (slot < st.nsocks && st.socks[slot]) slot++;
  if (slot >= st.nsocks) {
    uint32_t n = st.nsocks ? st.nsocks * 2 : 256;
    sock_t **grown = n <= SLOT_MASK + 1 ? realloc(st.socks, n * sizeof *grown) : NULL;
    uint16_t *gens = grown ? realloc(st.gens, n * sizeof *gens) : NULL;
    if (grown) st.socks = grown;
    if (!grown || !gens) {
      close(fd);
      return throw_errno(env, "open", grown ? ENOMEM : EMFILE);
    }
    memset(grown + st.nsocks, 0, (n - st.nsocks) * sizeof *grown);
    memset(gens + st.nsocks, 0, (n - st.nsocks) * sizeof *gens);
    st.socks = grown;
    st.gens = gens;
    st.nsocks = n;
  }
  uint32_t id = ((uint32_t)(st.gens[slot]++ & 0xfff) << SLOT_BITS) | slot;
  sock_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->fd = fd;
  s->id = id;
  s->reads_per_wake = reads;
  struct uv_loop_s *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  set_events(s, UV_READABLE);
  st.socks[slot] = s;
  st.next_free = slot + 1;
  napi_value out, v;
  napi_create_array_with_length(env, 2, &out);
  napi_create_uint32(env, id, &v);
  napi_set_element(env, out, 0, v);
  napi_create_uint32(env, ntohs(sa.sin_port), &v);
  napi_set_element(env, out, 1, v);
  return out;
}

/* send(id, buffer, addressU32 (host order), port) -> 0, or -errno when the datagram was lost */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t *s = lookup(env, argv[0]);
  if (!s) return NULL;
  void *data;
  size_t len;
  uint32_t a, port;
  if (argc < 4 || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || napi_get_value_uint32(env, argv[2], &a) != napi_ok || napi_get_value_uint32(env, argv[3], &port) != napi_ok) {
    napi_throw_type_error(env, NULL, "send(id, buffer, address, port)");
    return NULL;
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(a);
  to.sin_port = htons((uint16_t)port);
  int rc = 0;
  if (!s->head) {
    ssize_t n = sendto(s->fd, data, len, 0, (struct sockaddr *)&to, sizeof to);
    if (n >= 0) goto done;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
      rc = -errno;
      goto done;
    }
  }
  queued_t *q = malloc(sizeof *q + len);
  if (!q) {
    rc = -ENOMEM;
    goto done;
  }
  q->next = NULL;
  q->to = to;
  q->len = len;
  memcpy(q->data, data, len);
  if (s->tail) s->tail->next = q;
  else s->head = q;
  s->tail = q;
  s->queued++;
  set_events(s, UV_READABLE | UV_WRITABLE);
done:;
  napi_value r;
  napi_create_int32(env, rc, &r);
  return r;
}

/* pending(id) -> datagrams queued for a writable socket */
static napi_value js_pending(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t *s = lookup(env, argv[0]);
  if (!s) return NULL;
  napi_create_uint32(env, s->queued, &r);
  return r;
}

/* close(id): stops polling; queued datagrams are dropped; records already batched still arrive. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t *s = lookup(env, argv[0]);
  if (!s) return NULL;
  uint32_t slot = s->id & SLOT_MASK;
  st.socks[slot] = NULL;
  if (slot < st.next_free) st.next_free = slot;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
  return NULL;
}

/* open sockets (tests: nothing leaks) */
static napi_value js_count(napi_env env, napi_callback_info info) {
  (void)info;
  uint32_t n = 0;
  for (uint32_t i = 0; i < st.nsocks; i++) n += st.socks[i] != NULL;
  napi_value r;
  napi_create_uint32(env, n, &r);
  return r;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"pending", NULL, js_pending, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"openCount", NULL, js_count, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
