export * from './build-manifests.js';
export * from './compute-store.js';
export * from './fetch-models-script.js';
export * from './kubernetes-cluster.js';
export * from './kubernetes-names.js';
export * from './kubernetes-target.js';
export * from './observe-kubernetes-state.js';
export * from './render-manifest-yaml.js';
