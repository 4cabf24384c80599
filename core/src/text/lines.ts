/** Splits chunks of process output into lines (without the newline); `flush()` emits a trailing partial line. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; flush(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk.toString();
      const parts = rest.split(/\r?\n/);
      rest = parts.pop() ?? '';
      for (const p of parts) onLine(p);
      // A runaway line without newline is cut rather than buffered forever.
      if (rest.length > 65536) {
        onLine(rest);
        rest = '';
      }
    },
    flush() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}
