import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { PYTHON_SUPPORT_DIR } from '../../src/serving/runtimes/python/python-support-dir.js';
import { FIXTURES, type JsonTree, SYSTEM_PYTHON } from './python-test-kit.js';

test('when the compatibility modules are used directly then joblib aliases, azureml exports and pandas/numpy types behave as documented', () => {
  const out = execFileSync(SYSTEM_PYTHON, [join(FIXTURES, 'compat_checks.py')], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: PYTHON_SUPPORT_DIR, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const r = JSON.parse(out) as JsonTree;
  assert.equal(r.joblib_alias, true);
  assert.equal(r.numpy_pickle_alias, true);
  assert.equal(r.sklearn_externals_intact, true);
  assert.equal(r.model_exports, true);
  assert.deepEqual(r.split, [
    { a: 1, b: 'p' },
    { a: 2, b: 'q' },
  ]);
  assert.deepEqual(r.split_schema, ['columns', 'data', 'index']);
  assert.deepEqual(r.values, [{ a: 3, b: 'r' }]);
  assert.deepEqual(r.columns, [
    { a: 4, b: 's' },
    { a: 5, b: 't' },
  ]);
  assert.match(String(r.missing_column), /missing column\(s\) b/);
  assert.match(String(r.bad_orient), /orient 'table' is not supported/);
  assert.deepEqual(r.structured, [
    [3, 4.5],
    [5, 6.5],
  ]);
  assert.deepEqual(r.structured_schema, {
    type: 'object',
    properties: { x: { type: 'number', format: 'int32' }, y: { type: 'number', format: 'double' } },
  });
  assert.deepEqual(r.json, { nan: null, s: [1, 2], set: [3] });
});
