import type { NodeRecord, NodeState } from '@pureboot/core';
import { platformOf } from './arch';
import type { CompiledProfile } from './catalog';
import { ipxeInert } from './ipxe-safe';
import { hyphenMac } from './mac';
import { renderTemplate, type TemplateValues } from './template';

/**
 * The built-in lifecycle scripts: what a machine gets for its state before any scriptRender tap runs.
 * Every machine value in them is either produced by the server in a known-safe form (canonical MAC,
 * normalised arch, state name) or passed through ipxeInert().
 */

export type BuiltinKind = 'install' | 'local' | 'discovery-menu' | 'no-profile';

export interface MachineInfo {
  ip?: string;
  uuid?: string;
  serial?: string;
  hostname?: string;
}

export interface ScriptInput {
  mac: string;
  /** Normalised (x86_64-efi …) or `unknown`. */
  arch: string;
  state: NodeState;
  /** Read-only: may be the store's own (frozen) record. */
  node: Readonly<NodeRecord>;
  baseUrl: string;
  /** The installer callback URL (with the machine's callback token); computed on demand. */
  callbackUrl: () => string;
  machine: MachineInfo;
  discovery: 'local' | 'menu';
  menuTimeoutMs: number;
  installRetries: number;
}

/** `sanboot` the first BIOS disk, `exit` to the UEFI boot manager, or decide at run time when unknown. */
const LOCAL_BOOT: Record<'efi' | 'pcbios' | 'unknown', readonly string[]> = {
  // UEFI: leave iPXE; the firmware boot manager goes on with the next boot entry (the local disk).
  efi: ['exit 0'],
  // BIOS: boot the first hard disk's MBR without describing it to the OS as a SAN disk.
  pcbios: ['sanboot --no-describe --drive 0x80 || exit 1'],
  unknown: ['iseq ${platform} efi && exit 0 ||', 'sanboot --no-describe --drive 0x80 || exit 1'],
};

/** The same lines as script text (with the final newline), built once. */
const LOCAL_BOOT_TEXT = { efi: lines(LOCAL_BOOT.efi), pcbios: lines(LOCAL_BOOT.pcbios), unknown: lines(LOCAL_BOOT.unknown) };

export function localBootLines(arch: string): readonly string[] {
  return LOCAL_BOOT[platformOf(arch) ?? 'unknown'];
}

export function templateValues(input: ScriptInput, profile?: CompiledProfile): TemplateValues {
  const [buildarch, platform] = input.arch === 'unknown' ? ['unknown', 'unknown'] : input.arch.split('-');
  return {
    server: { base_url: input.baseUrl, asset_url: `${input.baseUrl}/api/v1/assets`, callback_url: input.callbackUrl() },
    machine: {
      mac: input.mac,
      mac_hyphen: hyphenMac(input.mac),
      arch: input.arch,
      platform,
      buildarch,
      state: input.state,
      profile: profile?.name,
      ip: input.machine.ip,
      uuid: input.machine.uuid,
      serial: input.machine.serial,
      hostname: input.machine.hostname,
    },
    labels: input.node.labels,
  };
}

function assetUrl(rendered: string, baseUrl: string): string {
  if (/^https?:\/\//i.test(rendered)) return rendered;
  return `${baseUrl}/api/v1/assets/${rendered.replace(/^\/+/, '')}`;
}

/** The first two lines of every built-in script, with the newline after them. */
function header(input: ScriptInput, what: string): string {
  return `#!ipxe\n# PureBoot ${what} for ${input.mac} (${input.arch}), state ${input.state}\n`;
}

/** The install script of a profile (pending machines get it once; serving it moves them to installing). */
export function installScript(input: ScriptInput, profile: CompiledProfile): string {
  const values = templateValues(input, profile);
  if (profile.kind === 'script') return ensureTrailingNewline(renderTemplate(profile.compiled.script!, values));
  const kernel = assetUrl(renderTemplate(profile.compiled.kernel!, values), input.baseUrl);
  const initrds = profile.compiled.initrds.map((t) => assetUrl(renderTemplate(t, values), input.baseUrl));
  const cmdline = profile.compiled.cmdline ? renderTemplate(profile.compiled.cmdline, values).trim() : '';
  // UEFI: iPXE hands named initrds to the kernel's EFI stub only when the command line names them.
  const initrdArgs = platformOf(input.arch) === 'efi' ? initrds.map((_, i) => `initrd=initrd${i}`) : [];
  const args = [...initrdArgs, cmdline, `pureboot.mac=${input.mac}`, `pureboot.callback=${input.callbackUrl()}`].filter(Boolean).join(' ');
  const name = ipxeInert(profile.name);
  const retries = input.installRetries;
  return `${header(input, `install script (profile ${name})`)}${lines([
    `echo PureBoot: installing profile ${name} on ${input.mac}`,
    'set pb-attempt:int32 0',
    ':pb_fetch',
    'imgfree',
    `kernel ${kernel} ${args} || goto pb_retry`,
    ...initrds.map((u, i) => `initrd --name initrd${i} ${u} || goto pb_retry`),
    'boot || goto pb_retry',
    ':pb_retry',
    `iseq \${pb-attempt} ${retries} && goto pb_failed ||`,
    'inc pb-attempt',
    `echo PureBoot: loading the installer failed, retry \${pb-attempt} of ${retries}`,
    'sleep 3',
    'goto pb_fetch',
    ':pb_failed',
    `echo PureBoot: could not load the installer of profile ${name}: booting from local disk`,
    ...localBootLines(input.arch),
  ])}`;
}

/**
 * The local script, which most boots get (every active machine): one template, no line arrays, and
 * kept per MAC (at most LOCAL_CACHE_SIZE, the oldest dropped). A machine's local script is the same
 * text at every boot, and built once it is also one flat string, where a freshly concatenated one
 * made Node flatten it twice per response (for Content-Length and for the write): 2.1k of a boot
 * request's ~100k instructions.
 */
const LOCAL_CACHE_SIZE = 16384;
const localCache = new Map<string, { arch: string; state: string; why: string; script: string }>();

export function localScript(input: ScriptInput, why: string): string {
  const { mac, arch, state } = input;
  const hit = localCache.get(mac);
  if (hit !== undefined && hit.arch === arch && hit.state === state && hit.why === why) return hit.script;
  const local = LOCAL_BOOT_TEXT[platformOf(arch) ?? 'unknown'];
  // JSON's round trip: the same characters as one sequential string.
  const script = JSON.parse(JSON.stringify(`${header(input, 'local boot script')}echo PureBoot: ${mac} is ${state}${why}: booting from local disk\n${local}`)) as string;
  if (hit !== undefined) localCache.delete(mac);
  else if (localCache.size >= LOCAL_CACHE_SIZE) localCache.delete(localCache.keys().next().value as string);
  // The key a copy too: the MAC may be a slice of the request's URL, which it would keep alive.
  localCache.set(JSON.parse(JSON.stringify(mac)) as string, { arch, state, why, script });
  return script;
}

export function discoveryMenuScript(input: ScriptInput): string {
  const hy = hyphenMac(input.mac);
  return `${header(input, 'discovery menu')}${lines([
    `echo PureBoot: ${input.mac} (${input.arch}) is registered as discovered`,
    ':pb_menu',
    `menu PureBoot: ${input.mac} is discovered`,
    'item --gap Give it a profile (pureboot nodes transition / the API), then choose Retry',
    'item pb_retry Retry: fetch this machine\'s script again',
    'item pb_local Boot from local disk',
    'item pb_shell iPXE shell',
    `choose --default pb_local --timeout ${input.menuTimeoutMs} pb-choice || goto pb_local`,
    'goto ${pb-choice}',
    ':pb_retry',
    `chain --replace --autofree ${input.baseUrl}/api/v1/boot?mac=${hy}&arch=${input.arch} || goto pb_menu`,
    ':pb_shell',
    'shell',
    'goto pb_menu',
    ':pb_local',
    ...localBootLines(input.arch),
  ])}`;
}

export function noProfileScript(input: ScriptInput): string {
  return localScript(input, ' but no profile matches it');
}

function lines(l: readonly string[]): string {
  return `${l.join('\n')}\n`;
}

function ensureTrailingNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}
