import { type Command, Option } from 'commander';
import { type DeepPartial, loadConfig } from '../config/load.js';
import type { UwsConfig } from '../config/schema.js';

/** Options that override single settings; each maps to one key of the configuration. */
const SETTING_OPTIONS = {
  host: { flags: '--host <host>', path: ['server', 'host'], help: 'address to listen on', numeric: false },
  port: {
    flags: '--port <port>',
    path: ['server', 'port'],
    help: 'port to listen on (0: any free port)',
    numeric: true,
  },
  store: {
    flags: '--store <url>',
    path: ['store', 'url'],
    help: 'job store: sqlite:<path> or postgres://...',
    numeric: false,
  },
  workDir: {
    flags: '--work-dir <dir>',
    path: ['workDir'],
    help: 'root of the per-job working directories',
    numeric: false,
  },
  baseUrl: {
    flags: '--base-url <url>',
    path: ['server', 'baseUrl'],
    help: 'public URL of the service, for links (behind a proxy)',
    numeric: false,
  },
} as const;

export type SettingOption = keyof typeof SETTING_OPTIONS;

/** Option values as commander hands them over. */
export type ConfigOptionValues = { config?: string } & Partial<Record<SettingOption, string>>;

/** Adds `--config` (default: $IVOA_UWS_CONFIG) and the given setting overrides to a command. */
export function withConfigOptions(command: Command, settings: readonly SettingOption[] = []): Command {
  command.addOption(
    new Option('-c, --config <file>', 'JSON config file (default: built-in defaults)').env('IVOA_UWS_CONFIG'),
  );
  for (const name of settings) {
    const { flags, help } = SETTING_OPTIONS[name];
    command.option(flags, help);
  }
  return command;
}

/**
 * The effective configuration for a command: defaults < config file < IVOA_UWS_*
 * variables < command-line options. Bad values are reported by the validator,
 * which names the option they came from.
 */
export function configFromOptions(
  options: ConfigOptionValues,
  env: NodeJS.ProcessEnv = process.env,
): UwsConfig {
  let overrides: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [name, spec] of Object.entries(SETTING_OPTIONS)) {
    const text = options[name as SettingOption];
    if (text === undefined) continue;
    const value = spec.numeric && /^\s*\d+\s*$/.test(text) ? Number(text) : text;
    overrides = setPath(overrides, spec.path, value);
    sources[spec.path.join('.')] = spec.flags.split(' ')[0]!;
  }
  return loadConfig({
    ...(options.config !== undefined ? { file: options.config } : {}),
    env,
    overrides: overrides as DeepPartial<UwsConfig>,
    overrideSources: sources,
  });
}

function setPath(
  target: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return target;
  const current = target[head];
  return {
    ...target,
    [head]:
      rest.length === 0
        ? value
        : setPath(
            typeof current === 'object' && current !== null ? (current as Record<string, unknown>) : {},
            rest,
            value,
          ),
  };
}
