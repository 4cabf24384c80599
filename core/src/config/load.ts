import path from 'node:path';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import YAML, { YAMLParseError } from 'yaml';
import { ConfigError, CoreErrorCodes, PurebootError } from '../errors';

export const CONFIG_SEARCH_PLACES = [
  'package.json',
  '.purebootrc',
  '.purebootrc.json',
  '.purebootrc.yaml',
  '.purebootrc.yml',
  '.purebootrc.js',
  '.purebootrc.cjs',
  '.purebootrc.mjs',
  '.purebootrc.ts',
  'pureboot.config.yaml',
  'pureboot.config.yml',
  'pureboot.config.json',
  'pureboot.config.js',
  'pureboot.config.cjs',
  'pureboot.config.mjs',
  'pureboot.config.ts',
];

export interface RawConfig {
  data: Record<string, unknown>;
  file?: string;
  dir: string;
}

/** YAML with the line and column of a syntax error in the message. */
const loadYaml: Loader = (filepath, content) => {
  try {
    return YAML.parse(content, { prettyErrors: true }) ?? {};
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      const where = pos ? `${filepath}:${pos.line}:${pos.col}` : filepath;
      throw new ConfigError(CoreErrorCodes.CONFIG_PARSE, `${where}: YAML syntax error (line ${pos?.line ?? '?'}): ${err.message.split('\n')[0]}`, [], {
        file: filepath,
        line: pos?.line,
        column: pos?.col,
      });
    }
    throw err;
  }
};

function explorer() {
  return cosmiconfig('pureboot', {
    searchPlaces: CONFIG_SEARCH_PLACES,
    searchStrategy: 'none',
    loaders: { ...defaultLoaders, '.yaml': loadYaml, '.yml': loadYaml, noExt: loadYaml },
    cache: false,
  });
}

/**
 * Find and parse the config: `--config FILE` when given (no search), else cosmiconfig's search in `cwd`.
 * Throws ConfigError (PB_ERR_CONFIG_NOT_FOUND / PB_ERR_CONFIG_PARSE) naming the file.
 */
export async function loadRawConfig(opts: { configFile?: string; cwd: string }): Promise<RawConfig> {
  const ex = explorer();
  let result;
  try {
    if (opts.configFile) {
      const file = path.resolve(opts.cwd, opts.configFile);
      result = await ex.load(file);
    } else {
      result = await ex.search(opts.cwd);
    }
  } catch (err) {
    if (err instanceof PurebootError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && opts.configFile) {
      throw new ConfigError(CoreErrorCodes.CONFIG_NOT_FOUND, `config file not found: ${path.resolve(opts.cwd, opts.configFile)}`, [], { file: opts.configFile });
    }
    const file = opts.configFile ? path.resolve(opts.cwd, opts.configFile) : (e as { filepath?: string }).filepath ?? opts.cwd;
    throw new ConfigError(CoreErrorCodes.CONFIG_PARSE, `${file}: cannot parse config: ${e.message}`, [], { file });
  }
  if (!result) {
    throw new ConfigError(
      CoreErrorCodes.CONFIG_NOT_FOUND,
      `no PureBoot config found in ${opts.cwd} (looked for ${CONFIG_SEARCH_PLACES.join(', ')}); pass --config FILE, or start from config/pureboot.config.yaml`,
    );
  }
  const data = result.isEmpty ? {} : result.config;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(CoreErrorCodes.CONFIG_INVALID, `${result.filepath}: the config must be a mapping of keys (got ${Array.isArray(data) ? 'a list' : typeof data})`, [], {
      file: result.filepath,
    });
  }
  return { data: data as Record<string, unknown>, file: result.filepath, dir: path.dirname(result.filepath) };
}
