/*
 * The native data plane of a read transfer of an in-memory file (the hot-file cache's prebuilt DATA
 * packets): the addon answers the client's in-order ACKs with the next DATA packets itself, as they
 * are read, without a trip through JS. A boot storm is one DATA per ACK on hundreds of sockets, and
 * JS, V8 and the batch hand-over cost several times the kernel's own work per datagram.
 *
 * It only ever does the common case: an ACK (4 or more bytes, opcode 4) from the transfer's peer for
 * the last block on the wire, when more blocks remain. That ACK moves the window and the pilot puts
 * the next blocks of the window on the wire. Anything else turns the pilot off, and the datagram goes
 * to JS, which reads the pilot's state and carries on: a duplicate or stale ACK, an ACK inside the
 * window (RFC 7440: the client missed a block), the final block's ACK, an ERROR, garbage. A datagram
 * from another TID goes to JS too (it answers ERROR 5), and the pilot stays on. JS keeps the timers, retransmissions, counters and events; it hands in-order
 * ACKs back to the pilot whenever its own state is settled.
 *
 * Pure: no I/O. udp_batch.c sends what pilot_answer() returns.
 */
#ifndef PUREBOOT_PILOT_H
#define PUREBOOT_PILOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct {
  const unsigned char *arena; /* every DATA packet, back to back: block n at (n - 1) * (blksize + 4) */
  uint32_t blksize;
  uint32_t blocks;    /* the final block's (absolute) number; it is shorter than blksize, maybe empty */
  uint32_t final_len; /* its packet's length (4 + its data) */
  uint32_t window;
  uint32_t last_acked;   /* absolute block numbers, as the JS transfer counts them */
  uint32_t next_send;
  uint32_t highest_sent; /* highest block on the wire so far */
  uint64_t bytes;        /* data bytes of the blocks the pilot was the first to send */
  uint64_t packets;      /* DATA packets it sent */
  uint64_t progress_at;  /* the caller's clock when an ACK last moved the window (ms) */
  uint32_t peer_addr;    /* network byte order */
  uint16_t peer_port;    /* network byte order */
  int on;
  struct iovec *out; /* window entries: the packets one answer sends */
} pilot_t;

/* Set up p (its out array is allocated: pilot_free() releases it); 0, or -1 when out of memory.
 * next_send - 1 blocks are on the wire and last_acked of them acknowledged. */
int pilot_init(pilot_t *p, const unsigned char *arena, size_t arena_len, uint32_t blksize, uint32_t window, uint32_t last_acked, uint32_t next_send, uint32_t highest_sent, uint32_t peer_addr, uint16_t peer_port);

void pilot_free(pilot_t *p);

/* A datagram on the pilot's socket: how many packets to send now (p->out[0..k), k >= 0), or -1: it
 * is not the pilot's to answer and goes to JS; the pilot is off unless it came from another TID. */
int pilot_answer(pilot_t *p, const unsigned char *data, size_t len, uint32_t from_addr, uint16_t from_port, uint64_t now);

#endif
