/*
 * bench:tftp's storm client in C: N TFTP read clients in one process, on one epoll set, so that the
 * client side of a boot storm costs a few microseconds per datagram and the server is what is
 * measured. (The project's node client, test/support/tftp-client.ts, costs 40-50 us per datagram on
 * the project VM: one core of it is saturated by a storm against any server, and every server's time
 * converges on the client's.)
 *
 *   storm-client N PORT FILE BLKSIZE WINDOWSIZE EXPECTED_FILE
 *
 * Each client has its own socket (its TID), sends an RRQ for FILE with blksize (and windowsize when
 * > 1), acknowledges an OACK with ACK 0, and checks every DATA block byte for byte against
 * EXPECTED_FILE. Lock-step (windowsize 1) ACKs every block; with a window every WINDOWSIZE-th and the
 * last; a block out of order re-ACKs the last one in order (RFC 7440). Block numbers roll over. A client
 * with nothing received for 1 s resends its last packet (5 times at most); the whole run ends after
 * 120 s. Prints one JSON line like the node driver's: wallMs, ok, failed, bytes, clientCpu, errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RESEND_NS 1000000000LL
#define DEADLINE_NS 120000000000LL
#define MAX_RESENDS 5

typedef struct {
  int fd;
  int done;     /* 1 ok, -1 failed */
  uint64_t expected; /* absolute number of the next block */
  uint32_t in_window;
  size_t blk;   /* as granted: 512 and 1 until an OACK says otherwise */
  uint32_t win;
  size_t bytes;
  struct sockaddr_in server; /* the transfer's TID once the first answer came */
  int have_server;
  unsigned char last[32];
  size_t last_len;
  int64_t last_activity;
  int64_t first_answer; /* ns after the start: the first datagram from the server */
  int64_t finished;     /* ns after the start: the final block */
  int resends;
  char error[96];
} client_t;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const unsigned char *expect_data;
static size_t expect_size;
static size_t blksize;
static uint32_t windowsize;
static struct sockaddr_in listener;

static int cmp64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return a < b ? -1 : a > b;
}

static void send_last(client_t *c) {
  const struct sockaddr_in *to = c->have_server ? &c->server : &listener;
  sendto(c->fd, c->last, c->last_len, 0, (const struct sockaddr *)to, sizeof *to);
}

static void ack(client_t *c, uint64_t block) {
  c->last[0] = 0;
  c->last[1] = 4;
  c->last[2] = (block >> 8) & 0xff;
  c->last[3] = block & 0xff;
  c->last_len = 4;
  send_last(c);
}

static void fail(client_t *c, const char *why) {
  if (c->done) return;
  c->done = -1;
  snprintf(c->error, sizeof c->error, "%s", why);
}

static void on_datagram(client_t *c, const unsigned char *p, ssize_t n, const struct sockaddr_in *from) {
  if (n < 4) return;
  if (!c->have_server) {
    c->server = *from;
    c->have_server = 1;
  } else if (from->sin_port != c->server.sin_port || from->sin_addr.s_addr != c->server.sin_addr.s_addr) {
    return;
  }
  uint16_t op = (p[0] << 8) | p[1];
  if (op == 5) {
    char msg[64];
    int m = snprintf(msg, sizeof msg, "ERROR %u ", (p[2] << 8) | p[3]);
    for (ssize_t i = 4; i < n && p[i] && m < (int)sizeof msg - 1; i++) msg[m++] = p[i] >= 32 && p[i] < 127 && p[i] != '"' && p[i] != '\\' ? (char)p[i] : '?';
    msg[m] = 0;
    fail(c, msg);
    return;
  }
  if (op == 6) {
    if (c->expected == 1) {
      for (ssize_t i = 2; i < n;) {
        const char *name = (const char *)p + i;
        size_t nl = strnlen(name, (size_t)(n - i));
        if (i + (ssize_t)nl + 1 >= n) break;
        const char *value = name + nl + 1;
        size_t vl = strnlen(value, (size_t)(n - i - (ssize_t)nl - 1));
        if (strcasecmp(name, "blksize") == 0) c->blk = (size_t)atoi(value);
        if (strcasecmp(name, "windowsize") == 0) c->win = (uint32_t)atoi(value);
        i += (ssize_t)(nl + vl + 2);
      }
    }
    ack(c, 0);
    return;
  }
  if (op != 3) return;
  uint16_t block = (p[2] << 8) | p[3];
  size_t len = (size_t)n - 4;
  if (block != (uint16_t)(c->expected & 0xffff)) {
    c->in_window = 0;
    ack(c, c->expected - 1);
    return;
  }
  size_t off = (size_t)(c->expected - 1) * c->blk;
  if (off + len > expect_size || memcmp(expect_data + off, p + 4, len) != 0) {
    fail(c, "data differs from the file");
    return;
  }
  c->bytes += len;
  c->expected++;
  c->in_window++;
  if (len < c->blk) {
    ack(c, c->expected - 1);
    c->done = c->bytes == expect_size ? 1 : -1;
    if (c->done < 0) snprintf(c->error, sizeof c->error, "got %zu bytes of %zu", c->bytes, expect_size);
    return;
  }
  if (c->in_window >= c->win) {
    c->in_window = 0;
    ack(c, c->expected - 1);
  }
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s N PORT FILE BLKSIZE WINDOWSIZE EXPECTED_FILE\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]);
  int port = atoi(argv[2]);
  const char *file = argv[3];
  blksize = (size_t)atoi(argv[4]);
  windowsize = (uint32_t)atoi(argv[5]);
  if (windowsize < 1) windowsize = 1;
  int efd = open(argv[6], O_RDONLY);
  struct stat sb;
  if (efd < 0 || fstat(efd, &sb) < 0) {
    perror(argv[6]);
    return 2;
  }
  expect_size = (size_t)sb.st_size;
  expect_data = expect_size ? mmap(NULL, expect_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, efd, 0) : (const unsigned char *)"";
  if (expect_data == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  memset(&listener, 0, sizeof listener);
  listener.sin_family = AF_INET;
  listener.sin_port = htons((uint16_t)port);
  listener.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  unsigned char rrq[512];
  size_t rl = 0;
  rrq[rl++] = 0;
  rrq[rl++] = 1;
  rl += (size_t)snprintf((char *)rrq + rl, sizeof rrq - rl, "%s", file) + 1;
  rl += (size_t)snprintf((char *)rrq + rl, sizeof rrq - rl, "octet") + 1;
  rl += (size_t)snprintf((char *)rrq + rl, sizeof rrq - rl, "blksize") + 1;
  rl += (size_t)snprintf((char *)rrq + rl, sizeof rrq - rl, "%zu", blksize) + 1;
  if (windowsize > 1) {
    rl += (size_t)snprintf((char *)rrq + rl, sizeof rrq - rl, "windowsize") + 1;
    rl += (size_t)snprintf((char *)rrq + rl, sizeof rrq - rl, "%u", windowsize) + 1;
  }
  if (rl > sizeof rrq - 1 || rl > 32 * 16) {
    fprintf(stderr, "request too long\n");
    return 2;
  }

  client_t *cs = calloc((size_t)n, sizeof *cs);
  int ep = epoll_create1(0);
  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  int64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    client_t *c = &cs[i];
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&any, sizeof any) < 0) {
      perror("socket");
      return 2;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->expected = 1;
    c->blk = 512;
    c->win = 1;
    c->last_activity = t0;
    c->last_len = 0; /* nothing acknowledged yet: a resend is the RRQ */
    sendto(c->fd, rrq, rl, 0, (struct sockaddr *)&listener, sizeof listener);
  }
  int remaining = n;
  unsigned char buf[65536];
  struct epoll_event evs[256];
  int64_t last_scan = t0;
  while (remaining > 0) {
    int k = epoll_wait(ep, evs, 256, 100);
    int64_t t = now_ns();
    for (int j = 0; j < k; j++) {
      client_t *c = &cs[evs[j].data.u32];
      if (c->done) {
        /* Drain and ignore (a retransmission after our final ACK). */
        recv(c->fd, buf, sizeof buf, 0);
        continue;
      }
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t got = recvfrom(c->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
      if (got < 0) continue;
      c->last_activity = t;
      if (!c->first_answer) c->first_answer = t - t0;
      on_datagram(c, buf, got, &from);
      if (c->done) {
        remaining--;
        c->finished = t - t0;
      }
    }
    if (t - last_scan >= 100000000LL) {
      last_scan = t;
      for (int i = 0; i < n; i++) {
        client_t *c = &cs[i];
        if (c->done) continue;
        if (t - t0 > DEADLINE_NS) {
          fail(c, "deadline");
          remaining--;
          continue;
        }
        if (t - c->last_activity < RESEND_NS) continue;
        if (++c->resends > MAX_RESENDS) {
          fail(c, "timeout");
          remaining--;
          continue;
        }
        c->last_activity = t;
        if (c->last_len) send_last(c);
        else sendto(c->fd, rrq, rl, 0, (struct sockaddr *)&listener, sizeof listener);
      }
    }
  }
  int64_t t1 = now_ns();
  struct rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);
  double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
               (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  int ok = 0;
  size_t bytes = 0;
  const char *errs[3] = {0};
  int nerr = 0;
  for (int i = 0; i < n; i++) {
    bytes += cs[i].bytes;
    if (cs[i].done == 1) ok++;
    else {
      int seen = 0;
      for (int e = 0; e < nerr; e++) seen |= strcmp(errs[e], cs[i].error) == 0;
      if (!seen && nerr < 3) errs[nerr++] = cs[i].error;
    }
    close(cs[i].fd);
  }
  printf("{\"wallMs\":%.3f,\"ok\":%d,\"failed\":%d,\"bytes\":%zu,\"clientCpu\":%.4f,\"errors\":[", (double)(t1 - t0) / 1e6, ok, n - ok, bytes, cpu);
  for (int e = 0; e < nerr; e++) printf("%s\"%s\"", e ? "," : "", errs[e]); /* messages hold no quotes */
  printf("]");
  if (getenv("STORM_TRACE")) {
    /* When the clients got their first answer and their last block (ms after the start): quartiles. */
    int64_t *a = malloc(sizeof *a * (size_t)n), *f = malloc(sizeof *f * (size_t)n);
    for (int i = 0; i < n; i++) {
      a[i] = cs[i].first_answer;
      f[i] = cs[i].finished;
    }
    qsort(a, (size_t)n, sizeof *a, cmp64);
    qsort(f, (size_t)n, sizeof *f, cmp64);
    printf(",\"firstAnswerMs\":[%.1f,%.1f,%.1f,%.1f,%.1f],\"doneMs\":[%.1f,%.1f,%.1f,%.1f,%.1f]", a[0] / 1e6, a[n / 4] / 1e6, a[n / 2] / 1e6, a[3 * n / 4] / 1e6, a[n - 1] / 1e6, f[0] / 1e6, f[n / 4] / 1e6, f[n / 2] / 1e6, f[3 * n / 4] / 1e6,
           f[n - 1] / 1e6);
  }
  printf("}\n");
  return 0;
}
