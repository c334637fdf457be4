import {
  type InferenceConfig as InferenceConfigData,
  loadInferenceConfig,
  parseInferenceConfig,
  type RuntimeName,
} from '../core/config/inference-config.js';

/**
 * An inference config (the seed's `InferenceConfig(source_directory=..., runtime=..., entry_script=...,
 * conda_file=...)`): validated, paths resolved against the current folder (or `baseDir`).
 *
 * @example
 * ```ts
 * const ic = new InferenceConfig({ runtime: 'node', sourceDirectory: './src', entryScript: 'score.js' });
 * const fromFile = InferenceConfig.load('inferenceconfig.json');
 * ```
 * @throws INVALID_CONFIG naming the bad key
 */
export class InferenceConfig implements InferenceConfigData {
  declare runtime: RuntimeName;
  declare entryScript?: string;
  declare sourceDirectory?: string;
  declare condaFile?: string;
  declare dependencies?: Record<string, string>;
  declare schema?: { input?: unknown; output?: unknown };
  declare pythonInterpreter?: string;
  declare workersPerReplica?: number;
  declare baseImage?: string;
  declare baseImageRegistry?: unknown;
  declare extraDockerfileSteps?: string;
  declare enableGpu?: boolean;
  declare description?: string;

  constructor(options: Partial<InferenceConfigData>, baseDir = process.cwd()) {
    Object.assign(this, parseInferenceConfig(options, baseDir, 'InferenceConfig'));
  }

  /** Reads `inferenceconfig.json` (paths relative to the file). @throws PATH_NOT_FOUND, INVALID_CONFIG */
  static load(path: string): InferenceConfigData {
    return loadInferenceConfig(path);
  }
}
