export * from './config/deployment-config.js';
export * from './config/inference-config.js';
export * from './config/validate-config.js';
export * from './error-catalogue.js';
export * from './errors.js';
export * from './model-ref.js';
