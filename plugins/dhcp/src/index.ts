export * as codec from './codec';
export { parseDhcpPacket, serializeDhcpPacket, getOption, setOption, pxeClientInfo, DhcpCodecError, type DhcpPacket } from './codec';
