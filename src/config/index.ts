export { hostWarnings } from './host-checks.js';
export {
  ConfigError,
  configProblems,
  type DeepPartial,
  deepMerge,
  ENV_OVERRIDES,
  type LoadConfigOptions,
  loadConfig,
  readConfigFile,
  validateConfig,
} from './load.js';
export type { ConfigProblem } from './problems.js';
export {
  type JobTypeConfig,
  LOG_LEVELS,
  type ParameterDeclarationConfig,
  PLACEHOLDER,
  PLACEHOLDER_BUILTINS,
  type UwsConfig,
  type UwsConfigInput,
  uwsConfigSchema,
} from './schema.js';
