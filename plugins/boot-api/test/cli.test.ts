import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { purebootArgv } from '@pureboot/core/testing';
import { curl } from './support/curl';
import { startHarness, TOKEN, type Harness } from './support/harness';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real `pureboot` CLI (a child process) against the boot API listening on 127.0.0.1. */
describe('boot-api CLI: pureboot nodes list|show|transition|label, pureboot explain', function () {
  // each CLI run is a node + tsx start (~1–2 s, more on a loaded machine)
  this.timeout(60000);
  let h: Harness;
  let configFile: string;
  const MAC = '52:54:00:0c:00:01';

  function cli(args: string[]): Promise<CliResult> {
    const [node, ...rest] = purebootArgv([...args, '--config', configFile]);
    return new Promise((resolve) => {
      execFile(node, rest, { timeout: 30000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | undefined) ?? 1 : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  before(async () => {
    h = await startHarness({ bootApi: { publicUrl: undefined, profiles: { debian: { kernel: 'debian/{{buildarch}}/linux', cmdline: 'console=ttyS0' } }, groups: { web: { profile: 'debian', labels: { role: 'web' } } } } });
    // The CLI reads the same kind of config the server would: boot-api.address/port/token name the server.
    configFile = path.join(h.dataDir, 'pureboot.config.yaml');
    fs.writeFileSync(
      configFile,
      JSON.stringify({ plugins: ['storage-memory', 'boot-api'], server: { dataDir: path.join(h.dataDir, 'cli') }, 'boot-api': { address: '127.0.0.1', port: h.port, token: TOKEN } }),
    );
    const r = await curl([], `http://127.0.0.1:${h.port}/boot/${MAC}?buildarch=x86_64&platform=efi`);
    expect(r.status).to.equal(200);
  });
  after(async () => {
    if (h) await h.stop();
  });

  it('label, transition, list, show and explain change and show the server state', async () => {
    const label = await cli(['nodes', 'label', MAC, 'role=web', 'rack=r1']);
    expect(label.code, label.stderr).to.equal(0);
    expect(label.stdout.trim()).to.equal(`${MAC}: role=web,rack=r1`);

    const tr = await cli(['nodes', 'transition', MAC, 'pending', '--reason', 'reinstall from the CLI']);
    expect(tr.code, tr.stderr).to.equal(0);
    expect(tr.stdout.trim()).to.equal(`${MAC} is now pending`);

    const [list, listOther, show, explain] = await Promise.all([
      cli(['nodes', 'list', '--label', 'role=web', '--json']),
      cli(['nodes', 'list', '--state', 'active', '--json']),
      cli(['nodes', 'show', MAC.replace(/:/g, '-')]),
      cli(['explain', MAC, '--arch', 'x86_64-efi']),
    ]);
    expect(list.code, list.stderr).to.equal(0);
    expect((JSON.parse(list.stdout) as { items: Array<{ mac: string; state: string }> }).items.map((n) => `${n.mac} ${n.state}`)).to.deep.equal([`${MAC} pending`]);
    expect((JSON.parse(listOther.stdout) as { items: unknown[] }).items).to.deep.equal([]);
    expect(show.code, show.stderr).to.equal(0);
    expect(show.stdout).to.match(/^state: +pending since /m);
    expect(show.stdout).to.include('discovered → pending  (reinstall from the CLI');
    expect(show.stdout).to.include('http.script');
    expect(explain.code, explain.stderr).to.equal(0);
    expect(explain.stdout).to.include('profile:   debian (group web)');
    expect(explain.stdout).to.include('serving it moves pending → installing');
    expect(explain.stdout).to.match(/^kernel http:\/\/127\.0\.0\.1:\d+\/api\/v1\/assets\/debian\/x86_64\/linux console=ttyS0 /m);

    // explain is a dry run: the machine is still pending
    const after = await curl(['-H', `Authorization: Bearer ${TOKEN}`], `http://127.0.0.1:${h.port}/api/v1/nodes/${MAC.replace(/:/g, '-')}`);
    expect((JSON.parse(after.body.toString()) as { state: string }).state).to.equal('pending');
  });

  it('errors: a refused transition, a wrong token, a malformed MAC, an unreachable server (exit 1, code on stderr)', async () => {
    const [refused, wrongToken, badMac, unreachable] = await Promise.all([
      cli(['nodes', 'transition', MAC, 'active']),
      cli(['nodes', 'list', '--token', 'wrong-token-wrong-token']),
      cli(['nodes', 'show', 'not-a-mac']),
      cli(['nodes', 'list', '--url', 'http://127.0.0.1:9']),
    ]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('PB_ERR_BOOTAPI_CLI').and.include('HTTP 409');
    expect(wrongToken.code).to.equal(1);
    expect(wrongToken.stderr).to.include('HTTP 401');
    expect(badMac.code).to.equal(1);
    expect(badMac.stderr).to.include('PB_ERR_BOOTAPI_INVALID_MAC');
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr).to.include('PB_ERR_BOOTAPI_CLI').and.include('cannot reach');
  });
});
