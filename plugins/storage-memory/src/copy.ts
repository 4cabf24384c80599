/**
 * Deep copy of stored records. Records are plain data (objects, arrays, strings, numbers, booleans,
 * null), so a direct walk is several times faster than `structuredClone` on the per-boot hot path;
 * anything else (Date, Map, typed arrays, class instances) is handed to `structuredClone` so the
 * semantics stay those of a structured clone.
 */
export function deepCopy<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = deepCopy(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k in v as Record<string, unknown>) {
    if (Object.prototype.hasOwnProperty.call(v, k)) {
      out[k] = deepCopy((v as Record<string, unknown>)[k]);
    }
  }
  return out as T;
}

/** Freeze a plain value and everything in it (stored records, so that `peek` can hand them out). */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}
