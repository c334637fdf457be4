/**
 * The only place where an error code is paired with its HTTP status and CLI exit code.
 * Codes are API: never rename or reuse one. docs/errors.md has one row per code (a test keeps both in step).
 *
 * Exit codes by class: 1 internal, 2 bad input or config, 3 not found, 4 conflict, 5 auth,
 * 6 integrity/storage, 7 not supported, 8 unavailable/timeout, 9 deployment or run failed.
 */
export const ERROR_CATALOGUE = {
  INTERNAL: { status: 500, exit: 1, summary: 'An unexpected failure inside Berth.' },
  INVALID_ARGUMENT: { status: 400, exit: 2, summary: 'A command-line flag or API argument is malformed.' },
  INVALID_CONFIG: {
    status: 400,
    exit: 2,
    summary: 'An inference or deployment config does not match its schema.',
  },
  INVALID_NAME: {
    status: 400,
    exit: 2,
    summary: 'A model or service name has characters Berth does not allow.',
  },
  INVALID_MODEL_REF: {
    status: 400,
    exit: 2,
    summary: 'A model reference is not NAME, NAME:VERSION or NAME@ALIAS.',
  },
  INVALID_TAG: { status: 400, exit: 2, summary: 'A tag or property is not key=value.' },
  PATH_NOT_FOUND: {
    status: 400,
    exit: 2,
    summary: 'A file or folder given to Berth does not exist or cannot be read.',
  },
  EMPTY_MODEL: { status: 400, exit: 2, summary: 'A model folder holds no files.' },
  UNSAFE_SYMLINK: {
    status: 400,
    exit: 2,
    summary: 'A model folder has a symbolic link pointing outside it.',
  },
  MODEL_NOT_FOUND: {
    status: 404,
    exit: 3,
    summary: 'No model (or version, or alias) matches the reference.',
  },
  SERVICE_NOT_FOUND: { status: 404, exit: 3, summary: 'No service has that name in this workspace.' },
  ROUTE_NOT_FOUND: { status: 404, exit: 3, summary: 'The HTTP route does not exist.' },
  MODEL_IN_USE: { status: 409, exit: 4, summary: 'A model version is used by a deployed service.' },
  SERVICE_ALREADY_EXISTS: {
    status: 409,
    exit: 4,
    summary: 'A service with that name exists; update it instead.',
  },
  PORT_IN_USE: { status: 409, exit: 4, summary: 'The port asked for is taken by another process.' },
  UNAUTHORIZED: { status: 401, exit: 5, summary: 'A key or token is missing or wrong.' },
  ARTIFACT_CORRUPTED: { status: 500, exit: 6, summary: 'Stored model bytes no longer match their sha256.' },
  STORE_ERROR: { status: 500, exit: 6, summary: 'The workspace store could not be read or written.' },
  NOT_SUPPORTED: { status: 501, exit: 7, summary: 'The feature or target is not supported (yet).' },
  CONTROL_PLANE_UNAVAILABLE: {
    status: 503,
    exit: 8,
    summary: 'The control plane could not be reached or started.',
  },
  OVERLOADED: {
    status: 503,
    exit: 8,
    summary: 'The service queue is full; retry after the Retry-After delay.',
  },
  SCORING_TIMEOUT: { status: 504, exit: 8, summary: 'Scoring took longer than scoringTimeoutMs.' },
  TIMEOUT: { status: 504, exit: 8, summary: 'Waiting for an operation took longer than allowed.' },
  BAD_REQUEST: {
    status: 400,
    exit: 2,
    summary: 'A scoring request body is malformed or does not match the input schema.',
  },
  BODY_TOO_LARGE: { status: 413, exit: 2, summary: 'A request body is larger than the configured limit.' },
  ENTRY_SCRIPT_NOT_FOUND: {
    status: 400,
    exit: 2,
    summary: 'The entry script named by the inference config is missing.',
  },
  ENTRY_SCRIPT_INVALID: {
    status: 400,
    exit: 2,
    summary: 'The entry script cannot be loaded or lacks init/run.',
  },
  INIT_FAILED: { status: 500, exit: 9, summary: "The entry script's init() or the model load failed." },
  SCORING_FAILED: { status: 500, exit: 9, summary: "The entry script's run() threw." },
  NOT_READY: { status: 503, exit: 8, summary: 'The service has not finished loading its model.' },
  DEPLOYMENT_FAILED: { status: 500, exit: 9, summary: 'A deployment or update did not become Healthy.' },
  ENVIRONMENT_BUILD_FAILED: {
    status: 500,
    exit: 9,
    summary: 'Installing the dependencies of an entry script failed.',
  },
  PYTHON_PACKAGES_MISSING: {
    status: 500,
    exit: 9,
    summary: 'Packages listed in the conda file are not importable and cannot be installed.',
  },
  BATCH_FAILED: {
    status: 500,
    exit: 9,
    summary: 'A batch run stopped: too many items failed or workers kept crashing.',
  },
  COMPUTE_NOT_FOUND: {
    status: 404,
    exit: 3,
    summary: 'No attached compute (Kubernetes cluster) has that name.',
  },
  COMPUTE_ALREADY_EXISTS: {
    status: 409,
    exit: 4,
    summary: 'A compute with that name is attached already; detach it first.',
  },
  KUBECONFIG_INVALID: {
    status: 400,
    exit: 2,
    summary: 'A kubeconfig cannot be read or lacks the context asked for.',
  },
  NAMESPACE_NOT_FOUND: {
    status: 404,
    exit: 3,
    summary: 'The Kubernetes namespace does not exist in the cluster.',
  },
  CLUSTER_UNREACHABLE: { status: 503, exit: 8, summary: 'The Kubernetes API server could not be reached.' },
  CLUSTER_FORBIDDEN: {
    status: 403,
    exit: 5,
    summary: 'The Kubernetes API server refused the request (credentials or RBAC).',
  },
  CLUSTER_REQUEST_FAILED: {
    status: 502,
    exit: 9,
    summary: 'The Kubernetes API server rejected or failed a request.',
  },
} as const satisfies Record<string, { status: number; exit: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}
