/* io_uring for udp_batch.c (see uring.h). */
#define _GNU_SOURCE
#include "uring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ENTRIES 256
#define STAGE_BYTES (1u << 20) /* staged sends: 256 full Ethernet datagrams, or 16 of the largest */
#define RECV_SLOTS 128
#define RECV_SLOT_BYTES 65536u /* mapped lazily: a 4-byte ACK touches one page of its slot */
#define PENDING ((ssize_t)1 << 40) /* a result not in yet (a CQE's result is an int) */

typedef struct {
  struct msghdr mh;
  struct iovec iov;
  struct sockaddr_in addr;
  uint32_t sock_id;
  int fd;
} entry_t;

static struct {
  int fd; /* the ring; -1 when there is none */
  unsigned entries;
  unsigned char *sq_ptr, *cq_ptr;
  size_t sq_len, cq_len, sqes_len;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe *cqes;
  struct io_uring_sqe *sqes;
  entry_t *sends; /* staged sends (entries of them) */
  unsigned count;
  unsigned char *stage;
  size_t used;
  entry_t *recvs; /* RECV_SLOTS */
  unsigned char *slots;
  uint8_t send_op; /* IORING_OP_SEND with its address (6.0), or IORING_OP_SENDMSG where that is refused */
  int receiving; /* uring_recv() is handing out results (its slots must stay mapped) */
  int give_up;   /* the ring failed while receiving was set: unmap once it ends */
  int leak;      /* the ring failed with requests taken and not completed: their memory is never freed */
  ssize_t *send_results; /* per entry of one submission: its result, or PENDING while it has none */
  ssize_t *recv_results;
} r = {.fd = -1};

/* A failed ring kept requests the kernel took and never completed: memory they point to may still be read. */
static int leaked_ever;

int uring_leaked(void) {
  return leaked_ever;
}

static void unmap(void) {
  if (r.leak) leaked_ever = 1;
  if (r.sqes) munmap(r.sqes, r.sqes_len);
  if (r.cq_ptr && r.cq_ptr != r.sq_ptr) munmap(r.cq_ptr, r.cq_len);
  if (r.sq_ptr) munmap(r.sq_ptr, r.sq_len);
  if (r.fd >= 0) close(r.fd);
  if (r.leak) {
    /* A request the kernel took and never completed may still write a source address into its entry
     * or a datagram into its slot (an io-wq worker): that memory is left alone, once per process. */
    memset(&r, 0, sizeof r);
    r.fd = -1;
    return;
  }
  if (r.slots) munmap(r.slots, (size_t)RECV_SLOTS * RECV_SLOT_BYTES);
  free(r.sends);
  free(r.recvs);
  free(r.send_results);
  free(r.recv_results);
  free(r.stage);
  memset(&r, 0, sizeof r);
  r.fd = -1;
}

static void *map_ring(size_t len, off_t what) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r.fd, what);
  return p == MAP_FAILED ? NULL : p;
}

int uring_init(void) {
  if (r.fd >= 0) return 0;
  struct io_uring_params p;
  /* Single issuer and cooperative task work where the kernel has them (6.0, 5.19); plain otherwise. */
  const unsigned flag_sets[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN, IORING_SETUP_COOP_TASKRUN, 0};
  int fd = -1, err = 0;
  for (unsigned i = 0; i < sizeof flag_sets / sizeof flag_sets[0] && fd < 0; i++) {
    memset(&p, 0, sizeof p);
    p.flags = flag_sets[i];
    fd = (int)syscall(__NR_io_uring_setup, ENTRIES, &p);
    err = fd < 0 ? errno : 0;
    if (fd < 0 && err != EINVAL) break; /* ENOSYS, EPERM (disabled, seccomp): no ring at all */
  }
  if (fd < 0) return err ? err : ENOSYS;
  r.fd = fd;
  r.entries = p.sq_entries;
  r.send_op = IORING_OP_SEND;
  r.sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r.cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && r.cq_len > r.sq_len) r.sq_len = r.cq_len;
  r.sq_ptr = map_ring(r.sq_len, IORING_OFF_SQ_RING);
  if (single) {
    r.cq_ptr = r.sq_ptr;
    r.cq_len = r.sq_len;
  } else if (r.sq_ptr) {
    r.cq_ptr = map_ring(r.cq_len, IORING_OFF_CQ_RING);
  }
  r.sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
  if (r.cq_ptr) r.sqes = map_ring(r.sqes_len, IORING_OFF_SQES);
  if (!r.sqes) {
    err = errno;
    unmap();
    return err;
  }
  r.sq_head = (unsigned *)(r.sq_ptr + p.sq_off.head);
  r.sq_tail = (unsigned *)(r.sq_ptr + p.sq_off.tail);
  r.sq_mask = (unsigned *)(r.sq_ptr + p.sq_off.ring_mask);
  r.sq_array = (unsigned *)(r.sq_ptr + p.sq_off.array);
  r.cq_head = (unsigned *)(r.cq_ptr + p.cq_off.head);
  r.cq_tail = (unsigned *)(r.cq_ptr + p.cq_off.tail);
  r.cq_mask = (unsigned *)(r.cq_ptr + p.cq_off.ring_mask);
  r.cqes = (struct io_uring_cqe *)(r.cq_ptr + p.cq_off.cqes);
  r.sends = calloc(r.entries, sizeof *r.sends);
  r.recvs = calloc(RECV_SLOTS, sizeof *r.recvs);
  r.send_results = calloc(r.entries, sizeof *r.send_results);
  r.recv_results = calloc(RECV_SLOTS, sizeof *r.recv_results);
  r.stage = malloc(STAGE_BYTES);
  void *slots = mmap(NULL, (size_t)RECV_SLOTS * RECV_SLOT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  r.slots = slots == MAP_FAILED ? NULL : slots;
  if (!r.sends || !r.recvs || !r.send_results || !r.recv_results || !r.stage || !r.slots) {
    unmap();
    return ENOMEM;
  }
  return 0;
}

int uring_ready(void) {
  return r.fd >= 0 && !r.give_up;
}

/* The ring failed under us (it should not): give it up, once uring_recv() no longer hands out its slots. */
static void drop_ring(void) {
  if (r.receiving) r.give_up = 1;
  else unmap();
}

unsigned uring_staged(void) {
  return r.count;
}

unsigned uring_recv_max(void) {
  return RECV_SLOTS;
}

/* The entry's msghdr: one iovec, the address field as name (destination, or source when read). */
static void point_msghdr(entry_t *e) {
  memset(&e->mh, 0, sizeof e->mh);
  e->mh.msg_name = &e->addr;
  e->mh.msg_namelen = sizeof e->addr;
  e->mh.msg_iov = &e->iov;
  e->mh.msg_iovlen = 1;
}

/* A staged datagram sent without the ring: 0, or -errno. */
static ssize_t send_now(const entry_t *e) {
  return sendto(e->fd, e->iov.iov_base, e->iov.iov_len, MSG_DONTWAIT, (const struct sockaddr *)&e->addr, sizeof e->addr) < 0 ? -errno : 0;
}

int uring_stage_send(uint32_t sock_id, int fd, const void *data, size_t len, const struct sockaddr_in *to, int copy) {
  if (!uring_ready() || r.count >= r.entries || (copy && len > STAGE_BYTES - r.used)) return -1;
  entry_t *e = &r.sends[r.count++];
  e->iov.iov_len = len;
  if (copy) {
    memcpy(r.stage + r.used, data, len);
    e->iov.iov_base = r.stage + r.used;
    r.used += (len + 7) & ~(size_t)7;
    if (r.used > STAGE_BYTES) r.used = STAGE_BYTES;
  } else {
    e->iov.iov_base = (void *)data;
  }
  e->addr = *to;
  point_msghdr(e);
  e->sock_id = sock_id;
  e->fd = fd;
  return 0;
}

/*
 * Submit n prepared entries as one operation each (op, with flags) and wait for all their
 * completions; results[i] gets each one's result. 0, or the errno of a ring that failed under us:
 * then results[i] == PENDING marks the entries it never completed, and *consumed how many of the
 * first it took (those may still be in the kernel's hands; the rest never reached it).
 */
static int run(entry_t *es, ssize_t *results, unsigned n, uint8_t op, uint32_t flags, unsigned *consumed) {
  unsigned tail = *r.sq_tail, mask = *r.sq_mask, start = tail;
  for (unsigned i = 0; i < n; i++, tail++) {
    unsigned idx = tail & mask;
    struct io_uring_sqe *q = &r.sqes[idx];
    memset(q, 0, sizeof *q);
    q->opcode = op;
    q->fd = es[i].fd;
    if (op == IORING_OP_SEND) { /* sendto(): the buffer itself, the address beside it (no msghdr to copy in) */
      q->addr = (uint64_t)(uintptr_t)es[i].iov.iov_base;
      q->len = (uint32_t)es[i].iov.iov_len;
      q->addr2 = (uint64_t)(uintptr_t)&es[i].addr;
      q->addr_len = sizeof es[i].addr;
    } else {
      q->addr = (uint64_t)(uintptr_t)&es[i].mh;
      q->len = 1;
    }
    q->msg_flags = flags;
    q->user_data = i;
    r.sq_array[idx] = idx;
    results[i] = PENDING;
  }
  __atomic_store_n(r.sq_tail, tail, __ATOMIC_RELEASE);
  unsigned submitted = 0, completed = 0;
  int err = 0;
  while (completed < n && !err) {
    int rc = (int)syscall(__NR_io_uring_enter, r.fd, n - submitted, n - completed, IORING_ENTER_GETEVENTS, NULL, 0);
    /* A failure still reaps what completed before it (a datagram read is not to be reported lost). */
    if (rc < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) err = errno;
    if (rc > 0) submitted += (unsigned)rc;
    unsigned head = *r.cq_head;
    unsigned ctail = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);
    for (; head != ctail; head++) {
      struct io_uring_cqe *c = &r.cqes[head & *r.cq_mask];
      if (c->user_data < n && results[c->user_data] == PENDING) {
        results[c->user_data] = c->res;
        completed++;
      }
    }
    __atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
  }
  *consumed = err ? __atomic_load_n(r.sq_head, __ATOMIC_ACQUIRE) - start : n;
  return err;
}

/* Every one of a submission's n sends failed as an unconnected socket's send without an address does. */
static int refused_address(unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (r.send_results[i] != -EDESTADDRREQ && r.send_results[i] != -EINVAL) return 0;
  return 1;
}

void uring_submit_sends(uring_send_failed failed) {
  if (r.fd < 0 || r.count == 0) return;
  unsigned n = r.count;
  r.count = 0;
  if (n == 1 || r.give_up) {
    /* One datagram (a lock-step transfer alone): sendto costs less than a ring round (about 4.8
     * against 5.9 us here); the ring pays from two on. (And a ring being given up sends no more.) */
    for (unsigned i = 0; i < n; i++) {
      entry_t *e = &r.sends[i];
      ssize_t res = send_now(e);
      if (res < 0) failed(e->sock_id, (int)-res, e->iov.iov_base, e->iov.iov_len, &e->addr);
    }
    r.used = 0;
    if (r.give_up && !r.receiving) unmap(); /* a ring given up during a read, with sends staged then */
    return;
  }
  unsigned consumed;
  /* MSG_DONTWAIT: a full send buffer completes with -EAGAIN (the caller queues a copy and waits for
   * the socket to be writable, as after sendto) instead of being retried by the kernel later. */
  int broken = run(r.sends, r.send_results, n, r.send_op, MSG_DONTWAIT, &consumed);
  if (!broken && r.send_op == IORING_OP_SEND && refused_address(n)) {
    /* A kernel whose IORING_OP_SEND takes no address (before 6.0) refuses them all, and sent none:
     * sendmsg from now on, these included. */
    r.send_op = IORING_OP_SENDMSG;
    broken = run(r.sends, r.send_results, n, r.send_op, MSG_DONTWAIT, &consumed);
  }
  for (unsigned i = 0; i < n; i++) {
    entry_t *e = &r.sends[i];
    ssize_t res = r.send_results[i];
    if (res == PENDING && i >= consumed) { /* the broken ring never took it: sendto */
      res = send_now(e);
    } else if (res == PENDING) {
      res = -broken; /* taken and not completed: reported lost */
      r.leak = 1;
    }
    if (res < 0) failed(e->sock_id, (int)-res, e->iov.iov_base, e->iov.iov_len, &e->addr);
  }
  r.used = 0;
  if (broken) drop_ring();
}

int uring_recv(const int *fds, uint32_t n, size_t maxlen, uring_received received) {
  if (!uring_ready() || r.receiving) return ENOSYS;
  if (maxlen > RECV_SLOT_BYTES) maxlen = RECV_SLOT_BYTES;
  if (n > RECV_SLOTS) n = RECV_SLOTS;
  for (uint32_t i = 0; i < n; i++) {
    entry_t *e = &r.recvs[i];
    e->fd = fds[i];
    e->iov.iov_base = r.slots + (size_t)i * RECV_SLOT_BYTES;
    e->iov.iov_len = maxlen;
    point_msghdr(e);
  }
  unsigned consumed;
  int broken = run(r.recvs, r.recv_results, n, IORING_OP_RECVMSG, MSG_DONTWAIT | MSG_TRUNC, &consumed);
  /* A broken ring takes no more submissions (its SQ still holds the entries it did not consume). */
  if (broken) r.give_up = 1;
  /* What the broken ring never took is read now, before received() runs JS, which may close these
   * fds and have their numbers reused. */
  for (uint32_t i = 0; i < n; i++) {
    entry_t *e = &r.recvs[i];
    if (r.recv_results[i] == PENDING && i >= consumed) {
      socklen_t flen = sizeof e->addr;
      ssize_t res = recvfrom(e->fd, e->iov.iov_base, maxlen, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&e->addr, &flen);
      r.recv_results[i] = res < 0 ? -errno : res;
    }
  }
  /* received() may run JS (a full batch is flushed), whose sends use the ring meanwhile. */
  r.receiving = 1;
  for (uint32_t i = 0; i < n; i++) {
    entry_t *e = &r.recvs[i];
    ssize_t res = r.recv_results[i];
    if (res == PENDING) {
      res = -broken; /* taken and not completed */
      r.leak = 1;
    }
    if (res > (ssize_t)maxlen) res = (ssize_t)maxlen;
    received(i, res, e->iov.iov_base, &e->addr);
  }
  r.receiving = 0;
  /* Datagrams staged before or during this read (the pilots' answers) still go out, with sendto, at
   * the next submission, which then lets the ring go. */
  if ((broken || r.give_up) && r.count == 0) unmap();
  return 0;
}

void uring_close(uring_send_failed failed) {
  if (r.fd < 0) return;
  uring_submit_sends(failed);
  r.receiving = 0;
  unmap();
}
