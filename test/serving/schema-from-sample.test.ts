import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJsonSchema, schemaFromSample, toJsonSchema } from '../../src/serving/schema-from-sample.js';

test('when a sample has numbers, integers, strings, booleans, nested arrays and objects then each gets its JSON Schema type', () => {
  const schema = schemaFromSample({
    data: [
      [1, 2.5],
      [3, 4],
    ],
    ids: [1, 2, 3],
    name: 'x',
    flag: true,
    meta: { threshold: 0.5, labels: ['a', 'b'] },
  });
  assert.deepEqual(schema, {
    type: 'object',
    properties: {
      data: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
      ids: { type: 'array', items: { type: 'integer' } },
      name: { type: 'string' },
      flag: { type: 'boolean' },
      meta: {
        type: 'object',
        properties: { threshold: { type: 'number' }, labels: { type: 'array', items: { type: 'string' } } },
        required: ['threshold', 'labels'],
      },
    },
    required: ['data', 'ids', 'name', 'flag', 'meta'],
  });
});

test('when array items differ then their schemas are merged (objects keep common required keys, mixed types become anyOf)', () => {
  assert.deepEqual(schemaFromSample([{ a: 1, b: 'x' }, { a: 2 }]), {
    type: 'array',
    items: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string' } }, required: ['a'] },
  });
  assert.deepEqual(schemaFromSample([1, 'x']), {
    type: 'array',
    items: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
  });
  assert.deepEqual(schemaFromSample([]), { type: 'array', items: {} });
});

test('when numbers are lenient then whole numbers validate as any number', () => {
  assert.deepEqual(schemaFromSample([1, 2], { lenientNumbers: true }), {
    type: 'array',
    items: { type: 'number' },
  });
});

test('when a value is a JSON Schema then it is kept (without $schema), a sample is converted', () => {
  assert.equal(isJsonSchema({ type: 'object', properties: {} }), true);
  assert.equal(isJsonSchema({ $schema: 'x', anything: 1 }), true);
  assert.equal(isJsonSchema({ type: 'cat', name: 'Tom' }), false);
  assert.equal(isJsonSchema({ data: [[1]] }), false);
  assert.deepEqual(toJsonSchema({ $schema: 'x', type: 'array', items: { type: 'number' } }), {
    type: 'array',
    items: { type: 'number' },
  });
  assert.deepEqual(toJsonSchema({ type: 'cat' }), {
    type: 'object',
    properties: { type: { type: 'string' } },
    required: ['type'],
  });
});
