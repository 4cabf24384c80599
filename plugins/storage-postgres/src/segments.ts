import type { AddressRange } from '@pureboot/core';

/**
 * The dynamic ranges minus the excluded ones, as ordered segments: ranges keep their preference
 * order, each split around the exclusions. Pure; the allocation function searches these in order.
 */
export function allowedSegments(ranges: AddressRange[], exclude: AddressRange[] = []): AddressRange[] {
  const ex = exclude
    .map((r) => ({ start: Math.min(r.start, r.end), end: Math.max(r.start, r.end) }))
    .sort((a, b) => a.start - b.start);
  const out: AddressRange[] = [];
  for (const raw of ranges) {
    let start = Math.min(raw.start, raw.end);
    const end = Math.max(raw.start, raw.end);
    for (const e of ex) {
      if (e.end < start || e.start > end) continue;
      if (e.start > start) out.push({ start, end: e.start - 1 });
      start = Math.max(start, e.end + 1);
      if (start > end) break;
    }
    if (start <= end) out.push({ start, end });
  }
  return out;
}

/** Is `address` inside one of `ranges`? */
export function inRanges(address: number, ranges: AddressRange[]): boolean {
  return ranges.some((r) => address >= Math.min(r.start, r.end) && address <= Math.max(r.start, r.end));
}
