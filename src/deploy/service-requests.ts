/** A file of an entry script's source folder, uploaded by a remote client. */
export interface SourceFile {
  /** Relative to `SourceBundle.root`, `/`-separated. */
  path: string;
  /** base64 */
  data: string;
}

/**
 * The entry script's code sent along by a remote client (its paths mean nothing on the server):
 * the server stores the files under `<workspace>/sources/<sha256>/` and rewrites the inference
 * config's paths from `root` to there.
 */
export interface SourceBundle {
  /** The absolute folder on the client the files were read from. */
  root: string;
  files: SourceFile[];
}

/** `POST /api/services`, `Model.deploy`, `berth model deploy`. */
export interface DeployServiceRequest {
  name: string;
  /** Model references: NAME, NAME:VERSION or NAME@ALIAS; resolved to NAME:VERSION when deploying. */
  models: string[];
  /** An inference config (absolute paths, or paths inside `source`); absent = ONNX runtime, no code. */
  inferenceConfig?: unknown;
  /** A deployment config with the seed system's keys; absent = local defaults. */
  deploymentConfig?: unknown;
  source?: SourceBundle;
  /** `"computeType": "kubernetes"`: the attached compute to run on (default: the only one attached). */
  compute?: string;
}

/** `POST /api/services/{name}/update`: each part given replaces the current one. */
export interface UpdateServiceRequest {
  models?: string[];
  inferenceConfig?: unknown;
  deploymentConfig?: unknown;
  source?: SourceBundle;
}

export type KeyName = 'primary' | 'secondary';
