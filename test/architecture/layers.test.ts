import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Which layers each layer may import (besides itself); DESIGN.md's dependency direction. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  store: ['core'],
  serving: ['core'],
  registry: ['core', 'store'],
  deploy: ['core', 'store', 'registry', 'serving'],
  batch: ['core', 'store', 'registry', 'serving'],
  api: ['core', 'store', 'registry', 'serving', 'deploy', 'batch', 'ui'],
  sdk: ['core', 'store', 'registry', 'serving', 'deploy', 'batch', 'api'],
  ui: ['core'],
  cli: ['core', 'store', 'registry', 'serving', 'deploy', 'batch', 'api', 'sdk'],
};

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

test('when a source file imports another layer then the edge follows the dependency direction', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const layer = relative(SRC, file).split('/')[0];
    const allowed = ALLOWED[layer];
    assert.ok(allowed, `src/${layer} is not a known layer: add it to DESIGN.md's list and this test`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(SRC, resolve(dirname(file), m[1])).split('/')[0];
      if (target !== layer && !allowed.includes(target)) {
        violations.push(`${relative(SRC, file)} imports ${m[1]} (${layer} -> ${target})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
