import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workerExecArgv } from '../../src/serving/worker-launch.js';

describe('worker node flags', () => {
  test('when the runtime is onnx then workers get 8 MB semi-spaces after the primary flags', () => {
    assert.deepEqual(workerExecArgv(['--import', 'tsx'], undefined, 'onnx'), [
      '--import',
      'tsx',
      '--max-semi-space-size=8',
    ]);
  });

  test('when the user sets a semi-space size in NODE_OPTIONS or on the command line then theirs wins', () => {
    assert.deepEqual(workerExecArgv([], '--max-semi-space-size=32', 'onnx'), []);
    assert.deepEqual(workerExecArgv(['--max_semi_space_size=4'], '', 'onnx'), ['--max_semi_space_size=4']);
  });

  test('when the runtime is node then V8 keeps its default young generation', () => {
    assert.deepEqual(workerExecArgv([], undefined, 'node'), []);
  });
});
