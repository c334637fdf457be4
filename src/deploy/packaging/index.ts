export * from './berth-runtime-tarball.js';
export * from './build-service-package.js';
export * from './dockerfile.js';
export * from './portable-inference-config.js';
export * from './python-packages.js';
