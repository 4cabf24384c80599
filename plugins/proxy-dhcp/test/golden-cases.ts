import { captured, rig } from './helpers';

/** The documented proxy answers (README "Packets"), as golden cases. */
export interface GoldenCase {
  name: string;
  options: Record<string, unknown>;
  request: string;
  port: 'dhcp' | 'boot-server';
}

export const GOLDEN_CASES: GoldenCase[] = [
  { name: 'uefi-discovery-control-offer', options: { uefiStrategy: 'discovery-control' }, request: 'edk2-discover', port: 'dhcp' },
  { name: 'uefi-boot-server-offer', options: { uefiStrategy: 'boot-server' }, request: 'edk2-discover', port: 'dhcp' },
  { name: 'uefi-boot-server-ack', options: { uefiStrategy: 'boot-server' }, request: 'edk2-request', port: 'boot-server' },
  { name: 'ipxe-bios-offer', options: {}, request: 'ipxe-bios-discover', port: 'dhcp' },
];

export async function answerFor(c: GoldenCase): Promise<Buffer> {
  const r = rig(c.options);
  const a = await r.handler.handle(captured(c.request), { address: c.port === 'dhcp' ? '0.0.0.0' : '198.18.3.120', port: 68 }, c.port);
  if (!a) throw new Error(`no answer for ${c.name}`);
  return a.data;
}
