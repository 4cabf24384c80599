import { expect } from 'chai';
import { encodeRecord, JOURNAL_MAGIC, RECORD_HEADER, scanRecords, SNAPSHOT_MAGIC } from '@pureboot/plugin-storage-file';

const rec = (s: string) => encodeRecord(Buffer.from(s));

describe('storage-file record framing', () => {
  const file = Buffer.concat([JOURNAL_MAGIC, rec('["a"]'), rec('["bb"]'), rec('["ccc"]')]);
  const ends = [8, 8 + RECORD_HEADER + 5, 8 + 2 * RECORD_HEADER + 11, file.length];

  it('reads every record of an intact file', () => {
    const r = scanRecords(file, JOURNAL_MAGIC);
    expect(r.ok && r.records.map((x) => x.payload.toString())).to.deep.equal(['["a"]', '["bb"]', '["ccc"]']);
    expect(r.ok && r.records.map((x) => x.offset)).to.deep.equal(ends.slice(0, 3));
    expect(r.ok && r.torn).to.equal(undefined);
  });

  it('reports a record cut short, a zero-filled tail and a damaged last record as torn at the record start', () => {
    const cut = scanRecords(file.subarray(0, ends[2] + 5), JOURNAL_MAGIC);
    expect(cut).to.deep.include({ ok: true, validEnd: ends[2] });
    const zeros = scanRecords(Buffer.concat([file, Buffer.alloc(4096)]), JOURNAL_MAGIC);
    expect(zeros.ok && zeros.torn?.reason).to.equal('zero-filled tail');
    expect(zeros.ok && zeros.validEnd).to.equal(file.length);
    const lastBad = Buffer.from(file);
    lastBad[lastBad.length - 2] ^= 1;
    const r = scanRecords(lastBad, JOURNAL_MAGIC);
    expect(r.ok && r.torn?.offset).to.equal(ends[2]);
  });

  it('reports damage followed by more data as corruption with its offset', () => {
    const bad = Buffer.from(file);
    bad[ends[1] + RECORD_HEADER + 1] ^= 1;
    expect(scanRecords(bad, JOURNAL_MAGIC)).to.deep.equal({ ok: false, offset: ends[1], reason: 'record checksum mismatch' });
    const badHeader = Buffer.from(file);
    badHeader[ends[0]] ^= 0x40;
    expect(scanRecords(badHeader, JOURNAL_MAGIC)).to.deep.equal({ ok: false, offset: ends[0], reason: 'record header checksum mismatch' });
  });

  it('checks the file magic', () => {
    expect(scanRecords(file, SNAPSHOT_MAGIC)).to.deep.include({ ok: false, offset: 0 });
    expect(scanRecords(Buffer.from('PBJ'), JOURNAL_MAGIC)).to.deep.include({ ok: true, validEnd: 0 });
    expect(scanRecords(Buffer.from('XYZ'), JOURNAL_MAGIC)).to.deep.include({ ok: false });
    expect(scanRecords(Buffer.alloc(0), JOURNAL_MAGIC)).to.deep.equal({ ok: true, records: [], validEnd: 0, torn: undefined });
  });
});
