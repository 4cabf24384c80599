import { Counter, Gauge, type Registry } from 'prom-client';

export interface FileStoreStats {
  /** Records replayed from the journal at the last open. */
  loadedRecords: number;
  loadMs: number;
  /** Incomplete last records cut off at open (crash while appending). */
  tornTails: number;
  tornBytes: number;
  recordsWritten: number;
  batches: number;
  fsyncs: number;
  writeFailures: number;
  compactions: number;
  compactionFailures: number;
  generation: number;
  journalBytes: number;
}

export function emptyStats(): FileStoreStats {
  return { loadedRecords: 0, loadMs: 0, tornTails: 0, tornBytes: 0, recordsWritten: 0, batches: 0, fsyncs: 0, writeFailures: 0, compactions: 0, compactionFailures: 0, generation: 0, journalBytes: 0 };
}

function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter<string> {
  return (registry.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

/** prom-client view of a file store's stats (all optional: a store without a registry only keeps stats). */
export class FileStoreMetrics {
  private readonly records?: Counter<string>;
  private readonly fsyncs?: Counter<string>;
  private readonly failures?: Counter<string>;
  private readonly torn?: Counter<string>;
  private readonly compactions?: Counter<string>;

  constructor(registry: Registry | undefined, stats: () => FileStoreStats) {
    if (!registry) return;
    this.records = counter(registry, 'pureboot_storage_file_records_written_total', 'Journal records written (one per store operation that changed something).');
    this.fsyncs = counter(registry, 'pureboot_storage_file_fsyncs_total', 'fdatasync calls on the journal (one per group-commit batch unless fsync=never).');
    this.failures = counter(registry, 'pureboot_storage_file_write_failures_total', 'Journal batches that failed and were rolled back.', ['reason']);
    this.torn = counter(registry, 'pureboot_storage_file_torn_records_total', 'Incomplete last journal records cut off at load (a crash while appending).');
    this.compactions = counter(registry, 'pureboot_storage_file_compactions_total', 'Compactions (snapshot + new journal).', ['result']);
    if (!registry.getSingleMetric('pureboot_storage_file_journal_bytes')) {
      new Gauge({
        name: 'pureboot_storage_file_journal_bytes',
        help: 'Size of the current journal (since the last compaction).',
        registers: [registry],
        collect() {
          this.set(stats().journalBytes);
        },
      });
    }
  }

  written(records: number, fsynced: boolean): void {
    this.records?.inc(records);
    if (fsynced) this.fsyncs?.inc();
  }

  writeFailed(reason: 'disk-full' | 'io'): void {
    this.failures?.inc({ reason });
  }

  tornTail(): void {
    this.torn?.inc();
  }

  compaction(result: 'ok' | 'failed'): void {
    this.compactions?.inc({ result });
  }
}
