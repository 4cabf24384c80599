import { expect } from 'chai';
import fc from 'fast-check';
import { configHeaders, embeddedScript, FEATURE_NAMES, parseBuildRequest, parseEmbed, serverUrl } from '../src';

describe('ipxe-builder: inputs and the embedded script', () => {
  describe('embedded script', () => {
    it('loops dhcp until an address arrives, then chains the server, with retries and a fallback', () => {
      const s = embeddedScript(parseEmbed({ server: '198.18.0.1', port: 8080, dhcpRetries: 7, chainRetries: 3 }));
      const lines = s.split('\n');
      expect(lines[0]).to.equal('#!ipxe');
      expect(lines).to.include('set pb-server http://198.18.0.1:8080');
      expect(lines).to.include('dhcp || goto pb_dhcp_retry');
      expect(lines).to.include('isset ${ip} || goto pb_dhcp_retry');
      expect(lines).to.include('iseq ${pb-dhcp-tries} 7 && goto pb_fallback ||');
      expect(lines).to.include('chain --replace --autofree ${pb-server}/api/v1/ipxe/boot.ipxe || goto pb_chain_retry');
      expect(lines).to.include('iseq ${pb-chain-tries} 3 && goto pb_fallback ||');
      expect(lines.slice(lines.indexOf(':pb_fallback'))).to.include('shell');
      // Every goto has its label.
      const labels = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1)));
      for (const m of s.matchAll(/goto (\S+)/g)) expect(labels.has(m[1]), `label ${m[1]}`).to.equal(true);
      expect(s).to.not.include('next-server');
    });

    it('waits for boot information too with requireBootInfo (proxy DHCP answers late)', () => {
      const s = embeddedScript(parseEmbed({ server: 'pxe.example.org', requireBootInfo: true, fallback: 'retry' }));
      expect(s).to.include('isset ${next-server} || isset ${filename} || goto pb_dhcp_retry');
      expect(s).to.include('set pb-server http://pxe.example.org:8080');
      expect(s.slice(s.indexOf(':pb_fallback'))).to.include('goto pb_start');
    });

    it('writes IPv6 servers in brackets and leaves out default ports', () => {
      expect(serverUrl(parseEmbed({ server: '2001:db8::1', port: 80 }))).to.equal('http://[2001:db8::1]');
      expect(serverUrl(parseEmbed({ server: '[2001:DB8::2]', port: 8443, scheme: 'https' }))).to.equal('https://[2001:db8::2]:8443');
    });
  });

  describe('validation', () => {
    it('accepts IPs, host names, ports and the allow-listed features and targets', () => {
      const r = parseBuildRequest({ target: 'bin-x86_64-efi/snponly.efi', name: 'snponly.efi', features: ['menu', 'https', 'menu'], embed: { server: 'boot-1.lab.example', port: '8080' } });
      expect(r).to.deep.include({ target: 'bin-x86_64-efi/snponly.efi', name: 'snponly.efi', features: ['https', 'menu'] });
      expect(r.embed?.server).to.equal('boot-1.lab.example');
      expect(r.embed?.port).to.equal(8080);
      expect(parseBuildRequest({ target: 'bin/undionly.kpxe' }).embed).to.equal(undefined);
      expect(parseBuildRequest({ target: 'bin/undionly.kpxe' }, { server: '198.18.0.9' }).embed?.server).to.equal('198.18.0.9');
      expect(parseBuildRequest({ target: 'bin/undionly.kpxe', embed: false }, { server: '198.18.0.9' }).embed).to.equal(undefined);
    });

    const hostile: Array<[string, unknown]> = [
      ['make variable in the target', { target: 'bin/undionly.kpxe EMBED=/etc/passwd' }],
      ['path in the target', { target: '../../../etc/shadow' }],
      ['make variable in the server', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1 EMBED=/etc/passwd' } }],
      ['command substitution in the server', { target: 'bin/undionly.kpxe', embed: { server: '$(reboot)' } }],
      ['backticks in the server', { target: 'bin/undionly.kpxe', embed: { server: '`id`' } }],
      ['shell separator in the server', { target: 'bin/undionly.kpxe', embed: { server: 'a.example;rm -rf /' } }],
      ['iPXE expansion in the server', { target: 'bin/undionly.kpxe', embed: { server: '${next-server}' } }],
      ['new line (script injection) in the server', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1\nshell' } }],
      ['iPXE || in the chain path', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', chainPath: '/boot.ipxe || shell' } }],
      ['dot-dot in the chain path', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', chainPath: '/a/../b' } }],
      ['port with a command', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', port: '8080; reboot' } }],
      ['port out of range', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', port: 70000 } }],
      ['numeric top-level label', { target: 'bin/undionly.kpxe', embed: { server: '1.2.3.999' } }],
      ['IPv6 zone id', { target: 'bin/undionly.kpxe', embed: { server: 'fe80::1%eth0' } }],
      ['feature outside the allow-list', { target: 'bin/undionly.kpxe', features: ['https EMBED=x'] }],
      ['config header as a feature', { target: 'bin/undionly.kpxe', features: ['../../Makefile'] }],
      ['path in the name', { target: 'bin/undionly.kpxe', name: '../../etc/passwd' }],
      ['shell in the name', { target: 'bin/undionly.kpxe', name: 'x$(id)' }],
      ['unknown property (extra make variable)', { target: 'bin/undionly.kpxe', make: 'DEBUG=all' }],
      ['unknown embed property', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', script: 'shell' } }],
      ['fallback outside the list', { target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', fallback: 'sanboot' } }],
    ];
    for (const [what, body] of hostile) {
      it(`rejects ${what} with PB_ERR_IPXE_INVALID_INPUT`, () => {
        expect(() => parseBuildRequest(body)).to.throw().with.property('code', 'PB_ERR_IPXE_INVALID_INPUT');
      });
    }
  });

  describe('features', () => {
    it('map to fixed config/local headers', () => {
      const h = configHeaders(['serial', 'https', 'png']);
      expect(Object.keys(h).sort()).to.deep.equal(['console.h', 'general.h']);
      expect(h['general.h']).to.include('#define DOWNLOAD_PROTO_HTTPS\n').and.include('#define IMAGE_PNG\n');
      expect(h['console.h']).to.include('#define CONSOLE_SERIAL\n');
      expect(configHeaders([])).to.deep.equal({});
      expect(FEATURE_NAMES).to.include.members(['https', 'png', 'menu']);
    });
  });

  describe('property: whatever a request sends, the script and the headers hold nothing it chose freely', () => {
    const reference = embeddedScript(parseEmbed({ server: '198.18.0.1' }));
    it('random servers, ports, chain paths and names are refused or give a script of the same shape', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.domain(), fc.constantFrom('$(id)', 'a b', 'x\ny', '${ip}', '`id`', 'a;b', 'a||b')),
          fc.oneof(fc.integer(), fc.string()),
          fc.oneof(fc.constant(undefined), fc.string(), fc.webPath()),
          fc.oneof(fc.constant(undefined), fc.string()),
          (server, port, chainPath, name) => {
            let req;
            try {
              req = parseBuildRequest({ target: 'bin/undionly.kpxe', name, embed: { server, port, ...(chainPath !== undefined ? { chainPath } : {}) } });
            } catch (err) {
              expect((err as { code?: string }).code).to.equal('PB_ERR_IPXE_INVALID_INPUT');
              return;
            }
            const script = embeddedScript(req.embed!);
            expect(script.split('\n').length).to.equal(reference.split('\n').length);
            const base = /^set pb-server (\S+)$/m.exec(script)?.[1] ?? '';
            expect(base).to.match(/^http:\/\/(?:[A-Za-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/);
            expect(script, 'command substitution or backticks in the script').to.not.match(/\$\(|`/);
            if (req.name) expect(req.name).to.match(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/).and.not.include('..');
          },
        ),
        { numRuns: 3000 },
      );
    });
  });
});
