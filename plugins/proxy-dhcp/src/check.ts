/** Interface names the DHCP plugin's options mention (`listen[].interface`, `interface`, `interfaces`, `subnets[].interface`). */
export function dhcpInterfaces(dhcpOptions: unknown): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string') out.add(v);
    else if (v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') out.add((v as { name: string }).name);
  };
  if (!dhcpOptions || typeof dhcpOptions !== 'object') return [];
  const d = dhcpOptions as { interface?: unknown; interfaces?: unknown; subnets?: unknown; listen?: unknown };
  add(d.interface);
  if (Array.isArray(d.listen)) for (const l of d.listen) if (l && typeof l === 'object') add((l as { interface?: unknown }).interface);
  if (Array.isArray(d.interfaces)) d.interfaces.forEach(add);
  if (Array.isArray(d.subnets)) for (const s of d.subnets) if (s && typeof s === 'object') add((s as { interface?: unknown }).interface);
  return [...out];
}

/** Does the DHCP plugin answer PXE clients with boot information? (its `pxe.enabled`, on by default) */
export function dhcpServesPxe(dhcpOptions: unknown): boolean {
  const pxe = (dhcpOptions as { pxe?: { enabled?: unknown } } | undefined)?.pxe;
  return pxe?.enabled !== false;
}
