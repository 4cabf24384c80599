/** Pure BOOTP/DHCPv4 codec (RFC 2131/2132/3396/3046/4578, PXE and iPXE options). No I/O. */
export * from './constants';
export * from './errors';
export * from './packet';
export { parseDhcpPacket, formatHardwareAddress } from './parse';
export { serializeDhcpPacket, MIN_BOOTP_SIZE, type SerializeOptions } from './serialize';
export { T as OptionTypes, ipFromBuffer, ipToBuffer, toBytes, type OptionType } from './option-types';
export * from './option-structured';
export * from './option-registry';
export * from './options-access';
export * from './relay-agent';
export * from './pxe';
