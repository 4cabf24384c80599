/**
 * iPXE's script grammar, as src/image/script.c and src/core/exec.c implement it, for tests:
 * - the script is read line by line; a line ending in `\` continues on the next line;
 * - a line whose first character is `:` is a label;
 * - a line is split into tokens at whitespace (isspace: space \t \n \v \f \r);
 * - a token starting with `#` starts a comment (the rest of the line is ignored);
 * - a token that is exactly `||`, `&&` or `;` ends a command;
 * - `${…}` is expanded inside each token afterwards (it can never create tokens).
 */
export interface IpxeCommand {
  line: number;
  argv: string[];
}

export interface IpxeScript {
  signature: string;
  labels: string[];
  commands: IpxeCommand[];
  /** Every step in order: `:label` or the command's argv joined by a single space. */
  steps: string[];
}

const WS = /[ \t\n\v\f\r]+/;

export function tokenizeIpxe(script: string): IpxeScript {
  const raw = script.split('\n');
  const joined: Array<{ text: string; line: number }> = [];
  for (let i = 0; i < raw.length; i++) {
    let text = raw[i];
    const line = i + 1;
    while (text.endsWith('\\') && i + 1 < raw.length) {
      text = text.slice(0, -1) + raw[++i];
    }
    joined.push({ text, line });
  }
  const signature = joined.shift()?.text ?? '';
  const labels: string[] = [];
  const commands: IpxeCommand[] = [];
  const steps: string[] = [];
  for (const { text, line } of joined) {
    if (text.startsWith(':')) {
      labels.push(text.slice(1).trim());
      steps.push(text.trim());
      continue;
    }
    const tokens = text.split(WS).filter(Boolean);
    let argv: string[] = [];
    const flush = () => {
      if (argv.length) {
        commands.push({ line, argv });
        steps.push(argv.join(' '));
      }
      argv = [];
    };
    for (const t of tokens) {
      if (t.startsWith('#')) break;
      if (t === '||' || t === '&&' || t === ';') {
        flush();
        steps.push(t);
        continue;
      }
      argv.push(t);
    }
    flush();
  }
  return { signature, labels, commands, steps };
}

/** The shape of a script: what iPXE would execute, with each token reduced to whether it is a fixed word. */
export function scriptShape(script: string): string[] {
  const s = tokenizeIpxe(script);
  return s.steps.map((step) => (step.startsWith(':') || step === '||' || step === '&&' || step === ';' ? step : `${step.split(' ')[0]}/${step.split(' ').length}`));
}
