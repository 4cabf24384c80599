/** DHCP message types (option 53), RFC 2132 §9.6. */
export const DhcpMessageType = Object.freeze({
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const);

export type DhcpMessageTypeName = keyof typeof DhcpMessageType;

export const MESSAGE_TYPE_NAMES: Record<number, DhcpMessageTypeName> = Object.fromEntries(
  Object.entries(DhcpMessageType).map(([k, v]) => [v, k as DhcpMessageTypeName]),
);

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** 99.130.83.99 */
export const MAGIC_COOKIE = 0x63825363;
/** op … file, before the cookie. */
export const BOOTP_HEADER_SIZE = 236;
export const BROADCAST_FLAG = 0x8000;
/** RFC 2131 §2: a client must accept 576-byte messages; the IP+UDP headers take 28. */
export const MIN_MAX_MESSAGE_SIZE = 576;
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/** Option codes used by name in the code base. */
export const Opt = Object.freeze({
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST: 28,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER: 66,
  BOOTFILE: 67,
  USER_CLASS: 77,
  CLIENT_FQDN: 81,
  RELAY_AGENT: 82,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_UUID: 97,
  SUBNET_SELECTION: 118,
  CLASSLESS_ROUTES: 121,
  IPXE_ENCAP: 175,
  END: 255,
} as const);
