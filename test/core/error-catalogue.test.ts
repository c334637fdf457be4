import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/core/error-catalogue.js';
import { BerthError } from '../../src/core/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (\d+) \|/gm)].map((m) => [
    m[1],
    { status: Number(m[2]), exit: Number(m[3]) },
  ]),
);

test('when a code is in the catalogue then docs/errors.md has its row with the same status and exit code', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    assert.deepEqual(documented.get(code), { status: entry.status, exit: entry.exit }, `row for ${code}`);
  }
});

test('when a row is in docs/errors.md then the code exists in the catalogue', () => {
  for (const code of documented.keys())
    assert.ok(code in ERROR_CATALOGUE, `${code} documented but not in code`);
});

test('when an error body is rebuilt then code, message and hint survive', () => {
  const e = new BerthError('MODEL_NOT_FOUND', 'Model "x:1" not found.', { hint: 'berth model list' });
  const back = BerthError.fromBody(JSON.parse(JSON.stringify({ error: e.toJSON() })), 404);
  assert.equal(back.code, 'MODEL_NOT_FOUND');
  assert.equal(back.status, 404);
  assert.equal(back.exitCode, 3);
  assert.equal(back.hint, 'berth model list');
});
