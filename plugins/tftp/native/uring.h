/*
 * io_uring for udp_batch.c: many sockets' datagrams moved with one system call. It only moves bytes.
 *
 *  - Sends: the datagrams JS sends while it handles one batch of received datagrams are copied here
 *    and submitted together (one io_uring_enter for up to a few hundred sockets) instead of one
 *    sendto() each.
 *  - Receives: when epoll reports many transfer sockets readable at once, one datagram of each is
 *    read with one io_uring_enter instead of one recvfrom() each.
 *
 * Why: on the VM this is measured on, a system call costs over 1 us on its own (a paravirtualised
 * kernel with page-table isolation) and a loopback sendto() of a 1468-byte datagram about 5 us; the
 * same datagrams submitted 100 at a time cost about 2.5 us each. A boot storm is one DATA per ACK on
 * hundreds of sockets: bench:tftp's storm went from 151 to 102 ms with batched sends.
 *
 * A minimal ring of our own: no liburing, only <linux/io_uring.h> and the three system calls. Where
 * io_uring is missing or refused (old kernel, kernel.io_uring_disabled, a seccomp filter),
 * uring_init() says why and the caller uses sendto()/recvfrom().
 */
#ifndef PUREBOOT_URING_H
#define PUREBOOT_URING_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What became of a staged datagram that the kernel did not take: err is a positive errno; data is
 * valid during the call only. */
typedef void (*uring_send_failed)(uint32_t sock_id, int err, const void *data, size_t len, const struct sockaddr_in *to);

/* One datagram read by uring_recv(): len >= 0 and its bytes (valid during the call only), or len < 0
 * (-errno, EAGAIN included: nothing was there). */
typedef void (*uring_received)(uint32_t i, ssize_t len, const unsigned char *data, const struct sockaddr_in *from);

/* Set up the ring; 0, or a positive errno (no io_uring here). */
int uring_init(void);

/* Whether uring_init() succeeded and the ring has not been closed (or given up) since. */
int uring_ready(void);

/* Stage one datagram for fd (of socket sock_id): copied into the staging area, or (copy 0) sent
 * from data itself, which the caller keeps valid until the submission. 0, or -1 when the stage is
 * full (submit, then stage again). */
int uring_stage_send(uint32_t sock_id, int fd, const void *data, size_t len, const struct sockaddr_in *to, int copy);

/* Datagrams staged and not yet submitted. */
unsigned uring_staged(void);

/* Put every staged datagram on the wire (in the order staged) and wait for their completions; each
 * one the kernel refused goes to failed(). */
void uring_submit_sends(uring_send_failed failed);

/* Most sockets uring_recv() reads at once. */
unsigned uring_recv_max(void);

/* Read one datagram (up to maxlen <= 65536 bytes; a longer one is truncated to maxlen) from each of
 * fds[0..n) (n <= uring_recv_max()), without waiting, and hand each result to received(i, ...) in
 * index order. 0, or ENOSYS when there is no ring (nothing was read: the caller reads with recvfrom).
 * Should the ring fail under it, what it did not read is read with recvfrom, and the ring is given up. */
int uring_recv(const int *fds, uint32_t n, size_t maxlen, uring_received received);

/* Whether a ring failed with requests taken and never completed (their memory must never be freed:
 * data staged without a copy included). */
int uring_leaked(void);

/* Submit what is staged, then release the ring. */
void uring_close(uring_send_failed failed);

#endif
