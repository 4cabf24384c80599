import { BootApiError, BootApiErrorCodes } from './errors';
import { ipxeInert, ipxeUriComponent } from './ipxe-safe';

/**
 * Profile templates: literal text written by an operator with `{{ name }}` placeholders.
 *
 * - server values (`base_url`, `asset_url`, `callback_url`) are URLs the server built and checked, and
 *   go in as they are;
 * - machine values (`mac`, `arch`, `state`, `ip`, `uuid`, `serial`, `hostname`, `labels.<key>` …) go
 *   through {@link ipxeInert} (default) or `| uri` ({@link ipxeUriComponent}): they can never add a
 *   token, a command, a comment or a `${}` expansion to the script.
 */
export const SERVER_VARIABLES = ['base_url', 'asset_url', 'callback_url'] as const;
export const MACHINE_VARIABLES = ['mac', 'mac_hyphen', 'arch', 'platform', 'buildarch', 'state', 'profile', 'ip', 'uuid', 'serial', 'hostname'] as const;

type Part = { text: string } | { variable: string; label?: string; filter: 'inert' | 'uri' };

export interface CompiledTemplate {
  source: string;
  parts: Part[];
}

export interface TemplateValues {
  server: Partial<Record<(typeof SERVER_VARIABLES)[number], string>>;
  machine: Partial<Record<(typeof MACHINE_VARIABLES)[number], string | undefined>>;
  labels: Record<string, string>;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.\/-]+)\s*(?:\|\s*([a-z]+)\s*)?\}\}/g;

/** Parse a template; throws PB_ERR_BOOTAPI_TEMPLATE naming the problem. */
export function compileTemplate(source: string, where: string): CompiledTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const idx = m.index ?? 0;
    if (idx > last) parts.push({ text: source.slice(last, idx) });
    const name = m[1];
    const filter = m[2] ?? 'inert';
    if (filter !== 'inert' && filter !== 'uri') throw templateError(where, `unknown filter "${filter}" in "${m[0]}" (filters: uri)`);
    if (name.startsWith('labels.')) {
      const label = name.slice('labels.'.length);
      if (!label) throw templateError(where, `"${m[0]}" names no label`);
      parts.push({ variable: 'labels', label, filter });
    } else if ((SERVER_VARIABLES as readonly string[]).includes(name) || (MACHINE_VARIABLES as readonly string[]).includes(name)) {
      parts.push({ variable: name, filter });
    } else {
      throw templateError(where, `unknown variable "${name}" (variables: ${[...SERVER_VARIABLES, ...MACHINE_VARIABLES, 'labels.<key>'].join(', ')})`);
    }
    last = idx + m[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  const stray = parts.find((p) => 'text' in p && (p.text.includes('{{') || p.text.includes('}}')));
  if (stray) throw templateError(where, 'unbalanced "{{" or "}}"');
  return { source, parts };
}

export function renderTemplate(t: CompiledTemplate, values: TemplateValues): string {
  let out = '';
  for (const p of t.parts) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    if ((SERVER_VARIABLES as readonly string[]).includes(p.variable)) {
      const v = values.server[p.variable as (typeof SERVER_VARIABLES)[number]] ?? '';
      out += p.filter === 'uri' ? ipxeUriComponent(v) : v;
      continue;
    }
    const raw = p.variable === 'labels' ? values.labels[p.label as string] : values.machine[p.variable as (typeof MACHINE_VARIABLES)[number]];
    out += p.filter === 'uri' ? ipxeUriComponent(raw) : ipxeInert(raw);
  }
  return out;
}

function templateError(where: string, what: string): BootApiError {
  return new BootApiError(BootApiErrorCodes.TEMPLATE, 400, `${where}: ${what}`, { where });
}
