/**
 * The chain script (GET /api/v1/ipxe/boot.ipxe): what a DHCP server hands iPXE as its boot file. It
 * shows the logo, offers a menu with a timeout (boot / local disk / shell), and chains the machine's
 * own script from /api/v1/boot with every variable iPXE knows, retrying with a growing pause.
 */

export const DEFAULT_ASCII_LOGO = [
  ' ____                  ____              _   ',
  '|  _ \\ _   _ _ __ ___ | __ )  ___   ___ | |_ ',
  "| |_) | | | | '__/ _ \\|  _ \\ / _ \\ / _ \\| __|",
  '|  __/| |_| | | |  __/| |_) | (_) | (_) | |_ ',
  '|_|    \\__,_|_|  \\___||____/ \\___/ \\___/ \\__|',
];

export interface ChainOptions {
  baseUrl: string;
  menuTimeoutMs: number;
  retries: number;
  asciiLogo: string[];
  pngLogo: boolean;
}

/**
 * iPXE collapses runs of spaces between words, and a logo may hold `#`, `\` or `||`; so each logo line
 * is stored as a hex setting and printed with `${name:string}`: its bytes never meet the parser.
 */
function logoLines(logo: string[]): string[] {
  const out: string[] = [];
  logo.forEach((line, i) => {
    const bytes = Buffer.from(line, 'utf8');
    if (bytes.length === 0) {
      out.push('echo');
      return;
    }
    out.push(`set pb-logo${i}:hex ${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':')}`);
    out.push(`echo \${pb-logo${i}:string}`);
  });
  return out;
}

export function chainScript(o: ChainOptions): string {
  const boot = '${pb-base}/api/v1/boot?mac=${mac:hexhyp}&buildarch=${buildarch}&platform=${platform}&uuid=${uuid}&serial=${serial:uristring}&hostname=${hostname:uristring}&ip=${ip}';
  const l = [
    '#!ipxe',
    '# PureBoot chain script: asks the boot API what this machine should do',
    `set pb-base ${o.baseUrl}`,
    'set pb-tries:int32 0',
    ...(o.pngLogo ? ['console --picture ${pb-base}/api/v1/ipxe/logo.png --keep ||'] : []),
    ...logoLines(o.asciiLogo),
    'echo PureBoot boot API: ${pb-base}',
  ];
  if (o.menuTimeoutMs > 0) {
    l.push(
      ':pb_menu',
      'menu PureBoot',
      'item pb_boot Boot (ask PureBoot)',
      'item pb_local Boot from local disk',
      'item pb_shell iPXE shell',
      `choose --default pb_boot --timeout ${o.menuTimeoutMs} pb-target || goto pb_boot`,
      'goto ${pb-target}',
    );
  } else {
    l.push(':pb_menu');
  }
  l.push(
    ':pb_boot',
    `chain --replace --autofree ${boot} || goto pb_retry`,
    ':pb_retry',
    `iseq \${pb-tries} ${o.retries} && goto pb_giveup ||`,
    'inc pb-tries',
    `echo PureBoot: could not fetch this machine's script, retry \${pb-tries} of ${o.retries}`,
    'sleep ${pb-tries}',
    'goto pb_boot',
    ':pb_giveup',
    'echo PureBoot: the boot API does not answer: booting from local disk',
    'goto pb_local',
    ':pb_shell',
    'echo Type exit to return to the menu',
    'shell',
    'goto pb_menu',
    ':pb_local',
    'iseq ${platform} efi && exit 0 ||',
    'sanboot --no-describe --drive 0x80 || exit 1',
  );
  return `${l.join('\n')}\n`;
}
