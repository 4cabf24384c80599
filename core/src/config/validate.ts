import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { closest, distance } from 'fastest-levenshtein';
import { ConfigError, CoreErrorCodes } from '../errors';
import type { JsonSchema } from '../plugin/definition';
import { coreSchemaProperties } from './core-schema';

export interface PluginSchemaPart {
  key: string;
  schema: JsonSchema;
}

/** The combined JSON schema: core keys plus each plugin's options under its short name. */
export function buildConfigSchema(plugins: PluginSchemaPart[]): JsonSchema {
  const properties: Record<string, JsonSchema> = { ...coreSchemaProperties };
  for (const p of plugins) properties[p.key] = { default: {}, ...p.schema };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'PureBoot configuration',
    type: 'object',
    additionalProperties: false,
    properties,
  };
}

export interface ValidationSource {
  file?: string;
  /** key path (dotted) → environment variable that set it */
  fromEnv: Record<string, string>;
  /** Short names of plugins that exist but are not loaded, for "did you forget to load" hints. */
  knownPluginKeys?: string[];
}

/**
 * Validate `data` in place (defaults applied). Throws one ConfigError whose problems are one line each:
 * `<file>: <key.path>: <what was expected>`.
 */
export function validateConfig(data: Record<string, unknown>, schema: JsonSchema, source: ValidationSource): void {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  if (validate(data)) return;
  const problems = formatErrors(validate.errors ?? [], source);
  throw new ConfigError(CoreErrorCodes.CONFIG_INVALID, `invalid configuration${source.file ? ` in ${source.file}` : ''}`, problems, {
    file: source.file,
    problems,
  });
}

export function formatErrors(errors: ErrorObject[], source: ValidationSource): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  // anyOf/oneOf produce one error per branch plus a summary; keep the summary only.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && [...anyOfPaths].some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`))) continue;
    const line = formatOne(e, source);
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines;
}

function keyPath(instancePath: string): string {
  if (!instancePath) return '';
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function where(path: string, source: ValidationSource): string {
  for (const [envPath, variable] of Object.entries(source.fromEnv)) {
    if (path === envPath || path.startsWith(`${envPath}.`) || path.startsWith(`${envPath}[`)) return `environment ${variable}`;
  }
  return source.file ?? 'inline config';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function suggest(word: string, candidates: string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, candidates);
  const d = distance(word.toLowerCase(), best.toLowerCase());
  return d <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function formatOne(e: ErrorObject, source: ValidationSource): string {
  const path = keyPath(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = (e.params as { additionalProperty: string }).additionalProperty;
      const full = path ? `${path}.${prop}` : prop;
      const props = Object.keys(((e.parentSchema as JsonSchema | undefined)?.properties as JsonSchema | undefined) ?? {});
      const hint = suggest(prop, props);
      let tail = hint ? ` — did you mean "${path ? `${path}.${hint}` : hint}"?` : '';
      if (!path && !hint && source.knownPluginKeys?.includes(prop)) tail = ` — options for plugin "${prop}", which is not in plugins`;
      if (!path && !hint && !tail) tail = ` — not a core key and no loaded plugin is called "${prop}"`;
      return `${where(full, source)}: ${full}: unknown key${tail}`;
    }
    case 'type': {
      const expected = (e.params as { type: string | string[] }).type;
      return `${where(path, source)}: ${path || '(root)'}: expected ${Array.isArray(expected) ? expected.join(' or ') : expected}, got ${describe(e.data)}`;
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
      const hint = typeof e.data === 'string' ? suggest(e.data, (e.params as { allowedValues: unknown[] }).allowedValues.filter((v): v is string => typeof v === 'string')) : undefined;
      return `${where(path, source)}: ${path}: expected one of ${allowed}, got ${describe(e.data)}${hint ? ` — did you mean "${hint}"?` : ''}`;
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const full = path ? `${path}.${missing}` : missing;
      return `${where(full, source)}: ${full}: required key is missing`;
    }
    case 'anyOf':
    case 'oneOf':
      return `${where(path, source)}: ${path}: ${describe(e.data)} does not match any allowed form${e.parentSchema && (e.parentSchema as JsonSchema).description ? ` (${String((e.parentSchema as JsonSchema).description)})` : ''}`;
    default:
      return `${where(path, source)}: ${path || '(root)'}: ${e.message ?? 'is invalid'}${e.data !== undefined && typeof e.data !== 'object' ? `, got ${describe(e.data)}` : ''}`;
  }
}
