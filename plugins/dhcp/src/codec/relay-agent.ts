import { Opt } from './constants';
import { relayAgentInfo, type SubOption } from './option-structured';
import { ipFromBuffer } from './option-types';
import type { DhcpPacket } from './packet';

/** Sub-option codes of option 82 (RFC 3046, RFC 3527, RFC 5107, RFC 3993). */
export const RelaySub = Object.freeze({
  CIRCUIT_ID: 1,
  REMOTE_ID: 2,
  LINK_SELECTION: 5,
  SUBSCRIBER_ID: 6,
  SERVER_ID_OVERRIDE: 11,
} as const);

export interface RelayAgentInfo {
  /** Circuit id, hex. */
  circuitId?: string;
  /** Remote id, hex. */
  remoteId?: string;
  /** RFC 3527 link selection: the subnet to allocate from. */
  linkSelection?: string;
  subscriberId?: string;
  serverIdOverride?: string;
  /** All sub-options in wire order (what a server echoes back). */
  subOptions: SubOption[];
}

/** Decode option 82 of a packet, or undefined when absent. Raises PB_ERR_DHCP_BAD_OPTION when malformed. */
export function relayAgentInfoOf(p: DhcpPacket): RelayAgentInfo | undefined {
  const raw = p.options.get(Opt.RELAY_AGENT);
  if (!raw) return undefined;
  const subs = relayAgentInfo.decode(raw, Opt.RELAY_AGENT);
  const info: RelayAgentInfo = { subOptions: subs };
  for (const s of subs) {
    const data = Buffer.from(s.data, 'hex');
    if (s.code === RelaySub.CIRCUIT_ID) info.circuitId = s.data;
    else if (s.code === RelaySub.REMOTE_ID) info.remoteId = s.data;
    else if (s.code === RelaySub.LINK_SELECTION && data.length === 4) info.linkSelection = ipFromBuffer(data, 0);
    else if (s.code === RelaySub.SUBSCRIBER_ID) info.subscriberId = data.toString('latin1');
    else if (s.code === RelaySub.SERVER_ID_OVERRIDE && data.length === 4) info.serverIdOverride = ipFromBuffer(data, 0);
  }
  return info;
}
