import { BerthError } from '../../core/errors.js';
import type { Runtime, RuntimeFactoryOptions } from '../runtime.js';

/**
 * Creates the runtime the inference config names (`onnx`, `node` or `python`); each is imported
 * only when used, so a node replica never loads onnxruntime. Call `load()` on the result.
 */
export async function createRuntime(options: RuntimeFactoryOptions): Promise<Runtime> {
  switch (options.config.runtime) {
    case 'onnx': {
      const { createOnnxRuntime } = await import('./onnx/onnx-runtime.js');
      return createOnnxRuntime(options);
    }
    case 'node': {
      const { createNodeRuntime } = await import('./node/node-runtime.js');
      return createNodeRuntime(options);
    }
    case 'python': {
      const { createPythonRuntime } = await import('./python/python-runtime.js');
      return createPythonRuntime(options);
    }
    default:
      throw new BerthError('INVALID_CONFIG', `Unknown runtime "${String(options.config.runtime)}".`, {
        hint: 'Use "runtime": "onnx", "node" or "python" in inferenceconfig.json.',
      });
  }
}
