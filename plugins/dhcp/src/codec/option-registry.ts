import * as S from './option-structured';
import { T, type OptionType } from './option-types';

/** One entry of the option table: code, camelCase name, value type. */
export interface OptionDef {
  code: number;
  name: string;
  type: OptionType;
}

/**
 * The typed option registry (RFC 2132 and the PXE/iPXE/relay extensions this project needs).
 * Options not listed are still carried (as raw bytes); `getOption` returns them as hex.
 */
const TABLE: Array<[number, string, OptionType]> = [
  [1, 'subnetMask', T.ip],
  [2, 'timeOffset', T.i32],
  [3, 'router', T.ips],
  [4, 'timeServer', T.ips],
  [5, 'nameServer', T.ips],
  [6, 'dns', T.ips],
  [7, 'logServer', T.ips],
  [9, 'lprServer', T.ips],
  [12, 'hostname', T.string],
  [13, 'bootFileSize', T.u16],
  [15, 'domainName', T.string],
  [16, 'swapServer', T.ip],
  [17, 'rootPath', T.string],
  [19, 'ipForwarding', T.bool],
  [21, 'policyFilter', T.ipPairs],
  [22, 'maxDatagramReassembly', T.u16],
  [23, 'defaultIpTtl', T.u8],
  [26, 'interfaceMtu', T.u16],
  [28, 'broadcastAddress', T.ip],
  [33, 'staticRoutes', T.ipPairs],
  [35, 'arpCacheTimeout', T.u32],
  [40, 'nisDomain', T.string],
  [41, 'nisServers', T.ips],
  [42, 'ntpServers', T.ips],
  [43, 'vendorSpecific', S.subOptions],
  [44, 'netbiosNameServers', T.ips],
  [46, 'netbiosNodeType', T.u8],
  [50, 'requestedIp', T.ip],
  [51, 'leaseTime', T.u32],
  [53, 'messageType', T.u8],
  [54, 'serverId', T.ip],
  [55, 'parameterRequestList', T.u8s],
  [56, 'message', T.string],
  [57, 'maxMessageSize', T.u16],
  [58, 'renewalTime', T.u32],
  [59, 'rebindingTime', T.u32],
  [60, 'vendorClass', T.string],
  [61, 'clientId', S.clientId],
  [64, 'nisPlusDomain', T.string],
  [65, 'nisPlusServers', T.ips],
  [66, 'tftpServer', T.string],
  [67, 'bootFile', T.string],
  [69, 'smtpServers', T.ips],
  [77, 'userClass', S.userClass],
  [80, 'rapidCommit', T.bytes],
  [81, 'clientFqdn', S.clientFqdn],
  [82, 'relayAgentInfo', S.relayAgentInfo],
  [93, 'clientArch', T.u16s],
  [94, 'clientNdi', S.clientNdi],
  [97, 'clientUuid', S.clientUuid],
  [116, 'autoConfigure', T.u8],
  [118, 'subnetSelection', T.ip],
  [119, 'domainSearch', T.bytes],
  [121, 'classlessRoutes', S.classlessRoutes],
  [150, 'tftpServerAddresses', T.ips],
  [175, 'ipxeEncap', S.subOptions],
  [209, 'pxelinuxConfigFile', T.string],
  [210, 'pxelinuxPathPrefix', T.string],
  [211, 'pxelinuxRebootTime', T.u32],
  [252, 'wpadUrl', T.string],
];

export const OPTIONS_BY_CODE: ReadonlyMap<number, OptionDef> = new Map(TABLE.map(([code, name, type]) => [code, { code, name, type }]));
export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionDef> = new Map(TABLE.map(([code, name, type]) => [name, { code, name, type }]));

/** Raw bytes (hex) for options the table does not know. */
const RAW: OptionType<string> = T.bytes;

/** The definition for a code or name; numeric strings ("66") count as codes. Unknown codes get a raw-bytes definition. */
export function optionDef(key: number | string): OptionDef | undefined {
  if (typeof key === 'number' || /^\d+$/.test(key)) {
    const code = Number(key);
    if (!Number.isInteger(code) || code < 1 || code > 254) return undefined;
    return OPTIONS_BY_CODE.get(code) ?? { code, name: `option${code}`, type: RAW };
  }
  const byName = OPTIONS_BY_NAME.get(key);
  if (byName) return byName;
  const m = /^option(\d{1,3})$/.exec(key);
  return m ? optionDef(Number(m[1])) : undefined;
}
