import type { Readable } from 'node:stream';
import type { Lease } from '../contracts/lease-store';
import type { NodeRecord, NodeState } from '../contracts/node-store';

/** Where a packet came from or goes to. */
export interface Endpoint {
  address: string;
  port: number;
}

// ---------------------------------------------------------------- packetReceive

export interface PacketReceiveContext {
  protocol: 'dhcp' | 'proxy-dhcp' | 'tftp';
  /** Short message name: DISCOVER, REQUEST, RRQ, WRQ … */
  messageType: string;
  remote: Endpoint;
  /** Interface the datagram arrived on, when the transport knows it. */
  interface?: string;
  /** Lower-case colon MAC when the protocol carries one (DHCP chaddr). */
  mac?: string;
  /** The decoded packet (protocol specific). Read it; do not change it. */
  packet: unknown;
}

/** A tap returns this to drop the packet; `undefined` means "no opinion" (continue). */
export interface PacketDropVerdict {
  drop: true;
  reason: string;
}

// ---------------------------------------------------------------- leaseDecision

export type PxeArchName =
  | 'bios'
  | 'uefi-ia32'
  | 'uefi-x86_64'
  | 'uefi-arm32'
  | 'uefi-arm64'
  | 'uefi-x86_64-http'
  | 'uefi-arm64-http'
  | 'unknown';

/** What the DHCP codec's PXE intelligence learned about a client. */
export interface PxeClientInfo {
  /** Option 93 (first value), or the digits of `PXEClient:Arch:ddddd` when 93 is missing. */
  arch?: number;
  archName: PxeArchName;
  /** Option 60, raw. */
  vendorClass?: string;
  isPxe: boolean;
  isHttpBoot: boolean;
  /** User class `iPXE` or option 175 present. */
  isIpxe: boolean;
  userClass?: string[];
  /** Option 97, hex. */
  uuid?: string;
}

export interface LeaseDecisionContext {
  protocol: 'dhcp' | 'proxy-dhcp';
  messageType: 'DISCOVER' | 'REQUEST' | 'INFORM';
  mac: string;
  /** Client identity (hex of option 61, else `01` + MAC hex). */
  clientId: string;
  hostname?: string;
  /** Option 50 or ciaddr. */
  requestedAddress?: string;
  relay?: { giaddr: string; circuitId?: string; remoteId?: string };
  interface?: string;
  /** The subnet chosen for the client (full DHCP only). */
  subnet?: { id: string; cidr: string };
  pxe: PxeClientInfo;
  /** The decoded request (codec type of the DHCP plugin). */
  packet: unknown;
}

/** DHCP option values by option name or code; the DHCP codec's option table encodes them. */
export type DhcpOptionValues = Record<string, unknown>;

export type LeaseDecision =
  /**
   * Answer the client. Without `address` (full DHCP) the built-in allocator still picks the address
   * and the rest of this answer (boot file, options) overrides its defaults. Proxy DHCP ignores
   * `address`.
   */
  | {
      action: 'answer';
      address?: string;
      bootFile?: string;
      nextServer?: string;
      hostname?: string;
      leaseTimeSec?: number;
      options?: DhcpOptionValues;
      /** Who decided (shown by explain/timeline); defaults to the tap name. */
      decidedBy?: string;
    }
  /** Send nothing to this client. */
  | { action: 'ignore'; reason: string; decidedBy?: string }
  /** REQUEST only: answer DHCPNAK. */
  | { action: 'nak'; reason: string; decidedBy?: string };

// ---------------------------------------------------------------- fileResolve

export interface FileRequest {
  protocol: 'tftp' | 'http';
  /** The path exactly as the client asked for it. */
  path: string;
  client: { address: string; port?: number; mac?: string; arch?: PxeArchName };
}

/** Random and sequential access to one resolved file. Close it when done. */
export interface FileReader {
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Optional: read up to `target.length` bytes at `offset` into `target` and resolve how many were
   * read (fewer only at the end of the file). Lets a streaming consumer reuse its buffers.
   */
  readInto?(target: Buffer, offset: number): Promise<number>;
  /** A stream of the bytes in [start, end] (inclusive), the whole file by default. */
  stream(range?: { start: number; end: number }): Readable;
  close(): Promise<void>;
}

export interface FileFound {
  status: 'found';
  size: number;
  mtimeMs?: number;
  etag?: string;
  contentType?: string;
  /** Which tap answered (for logs and explain). */
  source?: string;
  open(): Promise<FileReader>;
}

export type FileResolution = FileFound | { status: 'not-found'; reason?: string } | { status: 'denied'; reason: string };

// ---------------------------------------------------------------- scriptRender

export interface ScriptRenderContext {
  mac: string;
  node?: NodeRecord;
  state?: NodeState;
  /** iPXE's `${buildarch}` / `${platform}` normalised (x86_64-efi, i386-pcbios, arm64-efi, …). */
  arch?: string;
  /** Query parameters the client sent. */
  query: Record<string, string>;
  /** Base URL of the boot API as the client reached it. */
  baseUrl: string;
  client: { address: string };
}

// ---------------------------------------------------------------- notifications

export interface StartedInfo {
  plugins: string[];
}

export interface StoppingInfo {
  reason: string;
}

export interface PacketSentEvent {
  protocol: 'dhcp' | 'proxy-dhcp' | 'tftp';
  messageType: string;
  to: Endpoint;
  mac?: string;
  size: number;
}

export interface PacketDroppedEvent {
  protocol: 'dhcp' | 'proxy-dhcp' | 'tftp';
  /** malformed | policy | rate-limit | not-for-us | overload | … */
  category: string;
  reason: string;
  from?: Endpoint;
  mac?: string;
}

export interface LeaseEvent {
  kind: 'offered' | 'bound' | 'renewed' | 'released' | 'declined' | 'expired';
  lease: Lease;
}

export interface NodeStateChangedEvent {
  mac: string;
  from: NodeState | null;
  to: NodeState;
  reason: string;
  at: number;
  node: NodeRecord;
}

/** One entry of a machine's cross-protocol boot timeline. */
export interface BootEvent {
  mac?: string;
  /** Client IP when the MAC is not known (TFTP); the boot-api correlates it to a MAC. */
  address?: string;
  at: number;
  source: 'dhcp' | 'proxy-dhcp' | 'tftp' | 'http' | 'api' | 'lifecycle' | string;
  /** e.g. dhcp.offer, dhcp.ack, tftp.start, tftp.done, tftp.failed, http.script, http.asset, callback.installed */
  kind: string;
  detail: Record<string, unknown>;
}
