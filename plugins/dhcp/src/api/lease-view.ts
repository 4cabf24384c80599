import { intToIp, type Lease } from '@pureboot/core';

/** A lease as the HTTP API and the CLI show it (dotted address, ISO times). */
export interface LeaseView {
  address: string;
  subnetId: string;
  clientId: string;
  mac: string;
  hostname?: string;
  state: Lease['state'];
  expiresAt: string;
  updatedAt: string;
}

export function leaseView(l: Lease): LeaseView {
  const v: LeaseView = {
    address: intToIp(l.address),
    subnetId: l.subnetId,
    clientId: l.clientId,
    mac: l.mac,
    state: l.state,
    expiresAt: new Date(l.expiresAt).toISOString(),
    updatedAt: new Date(l.updatedAt).toISOString(),
  };
  if (l.hostname) v.hostname = l.hostname;
  return v;
}
