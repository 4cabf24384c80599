/** bench:tftp's scenarios and the side-by-side table of their per-round results. */
import os from 'node:os';
import { median } from '@pureboot/core/testing';
import type { BenchServer } from './servers';

export interface Scenario<R extends { failed: number }> {
  label: string;
  unit: string;
  higherIsBetter: boolean;
  /** Only servers that grant windowsize take part in the ratio (others run it lock-step). */
  windowsize?: boolean;
  args(port: number): string[];
  value(r: R): number;
  /** Per server name, one result per round. */
  results?: Record<string, R[]>;
}


/** PureBoot against the best peer of each round (> 1: PureBoot is better), median over rounds. */
export function ratioToBestPeer<R extends { failed: number }>(sc: Scenario<R>, cols: BenchServer[]): { ratio: number; peer: string } | undefined {
  const res = sc.results ?? {};
  const ours = res.PureBoot;
  const peers = cols.filter((c) => !c.ours && (!sc.windowsize || c.windowsize) && res[c.name]);
  if (!ours || peers.length === 0) return undefined;
  const wins = new Map<string, number>();
  const ratios = ours.map((r, i) => {
    let best: { name: string; v: number } | undefined;
    for (const p of peers) {
      const pr = res[p.name][i];
      if (pr.failed) continue;
      const v = sc.value(pr);
      if (!best || (sc.higherIsBetter ? v > best.v : v < best.v)) best = { name: p.name, v };
    }
    if (!best) return Infinity;
    wins.set(best.name, (wins.get(best.name) ?? 0) + 1);
    if (r.failed) return 0;
    const v = sc.value(r);
    return sc.higherIsBetter ? v / best.v : best.v / v;
  });
  const peer = [...wins].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-';
  return { ratio: median(ratios), peer };
}

export function printTable<R extends { failed: number }>(scenarios: Scenario<R>[], cols: BenchServer[], rounds: number, serverCpu: (r: R) => number, clientCpu: (r: R) => number): void {
  const head = ['scenario', 'unit', ...cols.map((c) => c.name), 'PureBoot vs best peer'];
  const body = scenarios.map((sc) => {
    const cells = cols.map((c) => {
      const rs = sc.results?.[c.name] ?? [];
      if (rs.length === 0) return '-';
      const failed = rs.reduce((n, r) => n + r.failed, 0);
      const v = median(rs.map((r) => sc.value(r)));
      const star = sc.windowsize && !c.windowsize ? '*' : '';
      return `${v.toFixed(sc.higherIsBetter ? 1 : 0)}${star}${failed ? ` (${failed} failed)` : ''}`;
    });
    const r = ratioToBestPeer(sc, cols);
    return [sc.label, sc.unit, ...cells, r ? `${r.ratio.toFixed(2)}× (${r.peer})` : '-'];
  });
  const cpuRows = (what: string, unit: string, cpu: (r: R) => number) => {
    for (const sc of scenarios) {
      const cells = cols.map((c) => {
        const v = median((sc.results?.[c.name] ?? []).map(cpu));
        return Number.isFinite(v) ? v.toFixed(2) : '-';
      });
      body.push([`${what}: ${sc.label}`, unit, ...cells, '']);
    }
  };
  cpuRows('server CPU', 'core-0 s per run', serverCpu);
  cpuRows('client CPU', 'driver s per run', clientCpu);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`\n## bench:tftp — medians of ${rounds} interleaved rounds (servers on core 0, clients on core 1)\n\n`);
  process.stdout.write(`${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${body.map(line).join('\n')}\n`);
  process.stdout.write(
    `\n"vs best peer": median over rounds of PureBoot's value against the best peer of the same round (> 1: PureBoot ahead); the peer named is the one that was best most often.\n` +
      `"server CPU": busy seconds of core 0 (where the servers run; the others sit idle) during one run, 10 ms ticks: the server's processes and threads and the kernel's work on that core. "client CPU": user + system seconds of the driver process from the first request to the last transfer's end (curl runs in child processes: not counted).\n` +
      `* the server does not grant RFC 7440 windowsize: that row ran lock-step, and is left out of the ratio. Host: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}.\n`,
  );
}
