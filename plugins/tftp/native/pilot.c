/* The native data plane of a hot-file read transfer (see pilot.h). */
#include "pilot.h"

#include <stdlib.h>

int pilot_init(pilot_t *p, const unsigned char *arena, size_t arena_len, uint32_t blksize, uint32_t window, uint32_t last_acked, uint32_t next_send, uint32_t highest_sent, uint32_t peer_addr, uint16_t peer_port) {
  size_t stride = (size_t)blksize + 4;
  /* The packets of packetize(): full blocks, then one short one (of arena_len % stride - 4 bytes). */
  p->blocks = (uint32_t)(arena_len / stride) + 1;
  p->final_len = (uint32_t)(arena_len % stride);
  p->arena = arena;
  p->blksize = blksize;
  p->window = window;
  p->last_acked = last_acked;
  p->next_send = next_send;
  p->highest_sent = highest_sent;
  p->bytes = 0;
  p->packets = 0;
  p->progress_at = 0;
  p->peer_addr = peer_addr;
  p->peer_port = peer_port;
  p->out = calloc(window, sizeof *p->out);
  p->on = p->out != NULL;
  return p->on ? 0 : -1;
}

void pilot_free(pilot_t *p) {
  free(p->out);
  p->out = NULL;
  p->on = 0;
}

int pilot_answer(pilot_t *p, const unsigned char *data, size_t len, uint32_t from_addr, uint16_t from_port, uint64_t now) {
  if (!p->on) return -1;
  /* Another TID: JS answers it with ERROR 5, which touches nothing of the transfer; the pilot stays. */
  if (from_addr != p->peer_addr || from_port != p->peer_port) return -1;
  if (len < 4 || data[0] != 0 || data[1] != 4) goto off;
  /* The absolute block in [last_acked, last_acked + 65535] with these low 16 bits (rollover). */
  uint32_t b16 = (uint32_t)data[2] << 8 | data[3];
  uint32_t abs = p->last_acked + ((b16 - (p->last_acked & 0xffff)) & 0xffff);
  /* Only the ACK of the last block on the wire, the final block excepted. */
  if (abs == p->last_acked || abs != p->next_send - 1 || abs >= p->blocks) goto off;
  p->last_acked = abs;
  p->progress_at = now;
  int k = 0;
  size_t stride = (size_t)p->blksize + 4;
  while (p->next_send - p->last_acked <= p->window && p->next_send <= p->blocks) {
    uint32_t n = p->next_send++;
    p->out[k].iov_base = (void *)(p->arena + (size_t)(n - 1) * stride);
    p->out[k].iov_len = n == p->blocks ? p->final_len : stride;
    if (n > p->highest_sent) {
      p->highest_sent = n;
      p->bytes += p->out[k].iov_len - 4;
    }
    k++;
  }
  p->packets += (uint64_t)k;
  return k;
off:
  p->on = 0;
  return -1;
}
