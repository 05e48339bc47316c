export * from './errors.js';
export * from './ids.js';
export * from './job.js';
export * from './parameters.js';
export * from './phases.js';
export * from './policy.js';
export * from './time.js';
export * from './transitions.js';
