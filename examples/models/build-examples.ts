/**
 * Builds the example models shipped in examples/models (run from the repository root):
 *   node --import tsx examples/models/build-examples.ts
 * iris/model.onnx: a 4 → 3 linear + softmax "iris" classifier with fixed weights
 * (input "X" float [N, 4]: sepal length, sepal width, petal length, petal width in cm;
 * output "probabilities" float [N, 3]: setosa, versicolor, virginica).
 */
import { fileURLToPath } from 'node:url';
import { buildIrisModel, writeModel } from '../../test/fixtures/models/onnx-model-builder.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const file = writeModel(`${here}iris`, 'model.onnx', buildIrisModel());
process.stdout.write(`wrote ${file}\n`);
