/**
 * Escaping and checking of values placed into iPXE scripts.
 *
 * iPXE reads a script line by line (a line ending in `\` continues on the next; a line starting with
 * `:` is a label), splits each line on whitespace into tokens, ends a command at a token that is
 * `||`, `&&` or `;`, treats a token starting with `#` as the start of a comment, and only then
 * expands `${setting}` inside each token (src/core/exec.c, src/image/script.c). So a value can add a
 * command only through whitespace (new tokens), a line break (new line) or a trailing `\`; and it can
 * leak or mangle settings through `${`. The helpers below make a value unable to do any of that.
 */

/** Characters a machine value may keep as they are: none has a meaning to iPXE's parser. */
const INERT_CHAR = /[A-Za-z0-9._~:/@+=,-]/;

function percentEncode(value: string, keep: RegExp): string {
  let out = '';
  for (const ch of value) {
    if (keep.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Make any value inert inside an iPXE command: every character outside `A-Z a-z 0-9 . _ ~ : / @ + = , -`
 * is percent-encoded (`%20` for a space, `%0A` for a newline, `%24%7B` for `${`), and a leading `:` too.
 * The result is always exactly one token with no separator, comment, continuation or expansion.
 */
export function ipxeInert(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  const out = percentEncode(s, INERT_CHAR);
  return out.startsWith(':') ? `%3A${out.slice(1)}` : out;
}

/** Percent-encode for a URL query or path segment (RFC 3986 unreserved characters kept). */
export function ipxeUriComponent(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  return percentEncode(s, /[A-Za-z0-9._~-]/);
}

/** True when `value` can be placed in a script as one token unchanged. */
export function isIpxeWord(value: string): boolean {
  return value.length > 0 && [...value].every((c) => INERT_CHAR.test(c)) && !value.startsWith(':');
}

/**
 * Problems of a line fragment written by an operator (a kernel command line, a URL of a profile):
 * fine for iPXE when it has no line break or control character, no token `||`, `&&` or `;`, no
 * token starting with `#`, and no trailing `\`. `${setting}` references are allowed on purpose (iPXE
 * expands them inside one token; they cannot add a command).
 */
export function lineFragmentProblems(fragment: string): string[] {
  const problems: string[] = [];
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(fragment)) problems.push('contains a line break or control character');
  const tokens = fragment.split(/[ \t\r\n\v\f]+/).filter(Boolean);
  for (const t of tokens) {
    if (t === '||' || t === '&&' || t === ';') problems.push(`contains the command separator "${t}"`);
    if (t.startsWith('#')) problems.push(`a word starts with "#" (iPXE reads the rest of the line as a comment)`);
  }
  if (fragment.endsWith('\\')) problems.push('ends with "\\" (iPXE would join the next line)');
  return problems;
}

/** A URL an operator wrote (profile kernel/initrd, publicUrl): one token, http(s), nothing iPXE would parse. */
export function urlProblems(url: string): string[] {
  const problems = lineFragmentProblems(url);
  if (/\s/.test(url)) problems.push('contains whitespace');
  if (!/^https?:\/\/[^/\s]+/i.test(url)) problems.push('is not an http:// or https:// URL');
  return problems;
}
