import { expect } from 'chai';
import type { PostgresStores } from '../src/index';
import { dropSchema, openStores, randomSchema, requirePostgres, sql } from './support/pg';

const MAC = 'aa:bb:cc:00:00:01';

describe('storage-postgres: node store and boot events on a real PostgreSQL', () => {
  const schema = randomSchema();
  let st: PostgresStores;
  before(async function () {
    await requirePostgres(this);
    st = openStores(schema, { nodeHistoryLimit: 3, bootEventsPerNode: 5 });
    await st.start();
  });
  after(async () => {
    await st?.close();
    await dropSchema(schema);
  });
  beforeEach(() => sql(`TRUNCATE "${schema}".nodes, "${schema}".boot_events`));

  it('creates once (version 1, creation in history); a second create returns the existing record', async () => {
    const c = await st.nodeStore.create({ mac: MAC, state: 'discovered', arch: 'x86_64-efi', labels: { rack: 'r1' }, attributes: { cpu: 8 }, now: 100, reason: 'first boot' });
    expect(c).to.deep.equal({
      ok: true,
      node: {
        mac: MAC,
        state: 'discovered',
        version: 1,
        arch: 'x86_64-efi',
        labels: { rack: 'r1' },
        attributes: { cpu: 8 },
        firstSeen: 100,
        lastSeen: 100,
        stateSince: 100,
        history: [{ from: null, to: 'discovered', at: 100, reason: 'first boot' }],
      },
    });
    const again = await st.nodeStore.create({ mac: MAC.toUpperCase(), state: 'pending', now: 200 });
    expect(again.ok).to.equal(false);
    expect(!again.ok && again.current.state).to.equal('discovered');
  });

  it('update is compare-and-set: a stale version gets version-conflict with the current record', async () => {
    await st.nodeStore.create({ mac: MAC, state: 'discovered', now: 100 });
    const u = await st.nodeStore.update(MAC, 1, { state: 'pending', transition: { reason: 'api', actor: 'admin', at: 150 }, profile: 'ubuntu', lastSeen: 150 });
    expect(u.ok && u.node).to.deep.include({ state: 'pending', version: 2, profile: 'ubuntu', stateSince: 150, lastSeen: 150 });
    expect(u.ok && u.node.history[1]).to.deep.equal({ from: 'discovered', to: 'pending', at: 150, reason: 'api', actor: 'admin' });
    const stale = await st.nodeStore.update(MAC, 1, { state: 'installing', transition: { reason: 'x', at: 160 } });
    expect(stale.ok === false && stale.reason).to.equal('version-conflict');
    expect(stale.ok === false && stale.reason === 'version-conflict' && stale.current.version).to.equal(2);
    expect(await st.nodeStore.update('00:00:00:00:00:99', 1, { lastSeen: 1 })).to.deep.equal({ ok: false, reason: 'not-found' });
  });

  it('two concurrent updates from the same version: exactly one wins', async () => {
    await st.nodeStore.create({ mac: MAC, state: 'discovered', now: 100 });
    const rs = await Promise.all(['pending', 'failed', 'active', 'retired'].map((s, i) => st.nodeStore.update(MAC, 1, { state: s as 'pending', transition: { reason: `r${i}`, at: 200 + i } })));
    expect(rs.filter((r) => r.ok)).to.have.length(1);
    expect((await st.nodeStore.get(MAC))?.version).to.equal(2);
  });

  it('patch semantics: labels replace, attributes merge with null removing, profile null clears, history bounded', async () => {
    await st.nodeStore.create({ mac: MAC, state: 'discovered', labels: { a: '1' }, attributes: { keep: 1, drop: 2 }, profile: 'p', now: 1 });
    let v = 1;
    const step = async (patch: Parameters<typeof st.nodeStore.update>[2]) => {
      const r = await st.nodeStore.update(MAC, v, patch);
      if (!r.ok) throw new Error(r.reason);
      v = r.node.version;
      return r.node;
    };
    const n1 = await step({ labels: { b: '2' }, attributes: { drop: null, add: { x: [1] } }, profile: null });
    expect(n1).to.deep.include({ labels: { b: '2' }, attributes: { keep: 1, add: { x: [1] } } });
    expect(n1).to.not.have.property('profile');
    const states = ['pending', 'installing', 'installed', 'active'] as const;
    for (const [i, s] of states.entries()) await step({ state: s, transition: { reason: s, at: 10 + i } });
    const n = await st.nodeStore.get(MAC);
    expect(n?.history.map((h) => h.to)).to.deep.equal(['installing', 'installed', 'active']);
    expect(n?.version).to.equal(6);
    // same state again: no transition recorded, version still moves
    const same = await step({ state: 'active', transition: { reason: 'noop', at: 99 } });
    expect(same.history).to.have.length(3);
    expect(same.stateSince).to.equal(13);
  });

  it('lists with filters (state, arch, labels, profile) and keyset paging by MAC; delete', async () => {
    for (let i = 0; i < 12; i++) {
      await st.nodeStore.create({ mac: `aa:bb:cc:00:00:${String(i).padStart(2, '0')}`, state: i % 3 === 0 ? 'active' : 'discovered', arch: i % 2 ? 'bios' : 'x86_64-efi', labels: { rack: `r${i % 4}`, zone: 'z' }, profile: i < 6 ? 'a' : 'b', now: i });
    }
    const macs: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await st.nodeStore.list({ limit: 5, cursor });
      macs.push(...p.items.map((n) => n.mac));
      cursor = p.nextCursor;
    } while (cursor);
    expect(macs).to.have.length(12);
    expect([...macs].sort()).to.deep.equal(macs);
    expect((await st.nodeStore.list({ state: 'active' })).items.map((n) => n.mac.slice(-2))).to.deep.equal(['00', '03', '06', '09']);
    expect((await st.nodeStore.list({ labels: { rack: 'r1', zone: 'z' }, arch: 'bios' })).items.map((n) => n.mac.slice(-2))).to.deep.equal(['01', '05', '09']);
    expect((await st.nodeStore.list({ profile: 'b', state: 'active' })).items.map((n) => n.mac.slice(-2))).to.deep.equal(['06', '09']);
    expect(await st.nodeStore.delete('AA:BB:CC:00:00:00')).to.equal(true);
    expect(await st.nodeStore.delete('aa:bb:cc:00:00:00')).to.equal(false);
    expect(await st.nodeStore.get('aa:bb:cc:00:00:00')).to.equal(undefined);
  });

  it('boot events: seq grows, list by MAC after a seq, per-machine cap and age prune', async () => {
    const other = 'aa:bb:cc:00:00:02';
    const seqs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const ev = await st.bootEvents.append({ mac: MAC, at: 1000 + i, source: 'dhcp', kind: 'dhcp.ack', detail: { i } });
      seqs.push(ev.seq);
      await st.bootEvents.append({ mac: other, at: 1000 + i, source: 'tftp', kind: 'tftp.done', detail: {} });
    }
    expect([...seqs].sort((a, b) => a - b)).to.deep.equal(seqs);
    const kept = await st.bootEvents.list(MAC);
    expect(kept.map((e) => e.detail.i)).to.deep.equal([3, 4, 5, 6, 7]);
    expect(kept[0]).to.deep.include({ mac: MAC, source: 'dhcp', kind: 'dhcp.ack', at: 1003 });
    expect((await st.bootEvents.list(MAC, { afterSeq: kept[2].seq, limit: 1 })).map((e) => e.detail.i)).to.deep.equal([6]);
    expect(await st.bootEvents.list(other)).to.have.length(5);
    expect(await st.bootEvents.prune(1006)).to.equal(6);
    expect((await st.bootEvents.list(MAC)).map((e) => e.detail.i)).to.deep.equal([6, 7]);
  });
});
