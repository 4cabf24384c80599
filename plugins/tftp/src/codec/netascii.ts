/**
 * RFC 764 netascii for the sending side: LF → CR LF, a bare CR → CR NUL. Stateless per byte, so a
 * stream can be converted chunk by chunk.
 */
export function toNetascii(chunk: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a || chunk[i] === 0x0d) extra++;
  if (extra === 0) return chunk;
  const out = Buffer.allocUnsafe(chunk.length + extra);
  let j = 0;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (c === 0x0a) {
      out[j++] = 0x0d;
      out[j++] = 0x0a;
    } else if (c === 0x0d) {
      out[j++] = 0x0d;
      out[j++] = 0x00;
    } else out[j++] = c;
  }
  return out;
}

/**
 * The receiving side (used by the test client): CR LF → LF, CR NUL → CR. `pendingCr` carries a CR
 * that ended the previous chunk.
 */
export class NetasciiDecoder {
  private pendingCr = false;
  push(chunk: Buffer): Buffer {
    const out: number[] = [];
    for (const c of chunk) {
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === 0x0a) {
          out.push(0x0a);
          continue;
        }
        if (c === 0x00) {
          out.push(0x0d);
          continue;
        }
        out.push(0x0d);
      }
      if (c === 0x0d) this.pendingCr = true;
      else out.push(c);
    }
    return Buffer.from(out);
  }
  end(): Buffer {
    const out = this.pendingCr ? Buffer.from([0x0d]) : Buffer.alloc(0);
    this.pendingCr = false;
    return out;
  }
}
