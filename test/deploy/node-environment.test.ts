import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BerthError } from '../../src/core/errors.js';
import { buildNodeEnvironment, hashDependencies } from '../../src/registry/environments/node-environment.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeFixturePackage } from './deploy-fixtures.js';

test('when the same dependency set is built twice then npm runs once and the folder is reused', async (t) => {
  const dir = tempDir(t);
  const dependencies = { 'berth-env-fixture-pkg': `file:${writeFixturePackage(dir)}` };
  const first = await buildNodeEnvironment({ workspaceDir: join(dir, 'ws'), dependencies });
  assert.equal(first.reused, false);
  assert.equal(first.hash, hashDependencies(dependencies));
  assert.ok(existsSync(join(first.dir, 'node_modules', 'berth-env-fixture-pkg', 'index.js')));
  const second = await buildNodeEnvironment({
    workspaceDir: join(dir, 'ws'),
    dependencies: { ...dependencies },
  });
  assert.equal(second.reused, true);
  assert.equal(second.dir, first.dir);
});

test('when npm cannot install a dependency then ENVIRONMENT_BUILD_FAILED carries its output', async (t) => {
  const dir = tempDir(t);
  const dependencies = { 'berth-missing-pkg': `file:${join(dir, 'does-not-exist.tgz')}` };
  await assert.rejects(
    buildNodeEnvironment({ workspaceDir: join(dir, 'ws'), dependencies }),
    (err: BerthError) =>
      err.code === 'ENVIRONMENT_BUILD_FAILED' &&
      err.exitCode === 9 &&
      typeof err.details?.output === 'string' &&
      (err.details.output as string).length > 0,
  );
  assert.equal(existsSync(join(dir, 'ws', 'environments', hashDependencies(dependencies))), false);
});
