/**
 * Named tap stages (tapable `stage`: lower runs first). Plugins tap at DEFAULT unless they have a
 * reason not to; the core's and the plugins' built-in behaviour taps at BUILTIN so any plugin pre-empts it.
 */
export const Stage = Object.freeze({
  /** Guards that must see everything first (rate limits, allowlists). */
  GUARD: -200,
  EARLY: -100,
  DEFAULT: 0,
  LATE: 100,
  /** Built-in default behaviour: the static-root resolver, the DHCP allocator, the lifecycle script. */
  BUILTIN: 1000,
  /** Last-resort fallbacks that run after the built-in behaviour. */
  FALLBACK: 2000,
});
