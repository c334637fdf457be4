import { fileURLToPath } from 'node:url';

/**
 * The `python/` folder shipped with Berth: the worker loop (berth_worker.py), the environment
 * check, and the compatibility modules (azureml, inference_schema) put on the worker's PYTHONPATH.
 * Same depth from src/ and dist/: <root>/{src,dist}/serving/runtimes/python/ → <root>/python/.
 */
export const PYTHON_SUPPORT_DIR = fileURLToPath(new URL('../../../../python/', import.meta.url));
