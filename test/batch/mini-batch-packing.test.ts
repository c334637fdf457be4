import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCsvHeader } from '../../src/batch/csv-record.js';
import { FolderMiniBatchPlanner, listInputFiles } from '../../src/batch/folder-mini-batch-planner.js';
import { LineMiniBatchPlanner } from '../../src/batch/line-mini-batch-planner.js';
import type { InputPosition, MiniBatch } from '../../src/batch/mini-batch.js';
import { packMiniBatches, unpackMiniBatches } from '../../src/batch/packed-mini-batches.js';
import { tempDir } from '../helpers/temp-dir.js';

function planAll(planner: { next(): MiniBatch | undefined }): MiniBatch[] {
  const batches: MiniBatch[] = [];
  for (let b = planner.next(); b; b = planner.next()) batches.push(b);
  return batches;
}

/** What a worker gets: the packed form after a JSON round trip (the IPC channel's serialization). */
function overTheWire(batches: MiniBatch[]): MiniBatch[] {
  return unpackMiniBatches(JSON.parse(JSON.stringify(packMiniBatches(batches))));
}

test('when a chunk of a JSON Lines file is sent to a worker then it unpacks to exactly the planned mini-batches', (t) => {
  const path = join(tempDir(t), 'in.jsonl');
  // a BOM, CRLF, blank lines, a malformed line and no final newline: ranges, items and lines all vary
  writeFileSync(path, '\uFEFF[1,2]\r\n\n[3,4]\r\n{"a":5}\n   \n[6\n\n[7,8]\n\n\n[9]');
  const start: InputPosition = { offset: 0, item: 0, line: 1 };
  const batches = planAll(new LineMiniBatchPlanner(path, 'jsonl', 2, start));
  assert.equal(batches.length, 4);
  assert.deepEqual(overTheWire(batches), batches);
  // a chunk starting in the middle (a resumed run, or a chunk after the first) and a single mini-batch
  assert.deepEqual(overTheWire(batches.slice(1)), batches.slice(1));
  assert.deepEqual(overTheWire(batches.slice(3)), batches.slice(3));
});

test('when a chunk of a CSV file with records spanning lines is sent then it unpacks to the planned mini-batches', (t) => {
  const path = join(tempDir(t), 'in.csv');
  writeFileSync(path, 'id,text\r\n1,"one\r\ntwo"\r\n\r\n2,plain\r\n3,"x"\r\n4,"a\nb\nc"\r\n5,z');
  const batches = planAll(new LineMiniBatchPlanner(path, 'csv', 2, readCsvHeader(path).dataStart));
  assert.deepEqual(
    batches.map((b) => [b.count, b.firstLine, b.endLine]),
    [
      [2, 2, 6],
      [2, 6, 10],
      [1, 10, 11],
    ],
  );
  assert.deepEqual(overTheWire(batches), batches);
});

test('when a chunk of a folder is sent then each mini-batch keeps its file names', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'b'));
  for (const name of ['a.txt', 'b/c.txt', 'd.txt', 'e.txt', 'f.txt']) writeFileSync(join(dir, name), name);
  const start: InputPosition = { offset: 0, item: 0, line: 0 };
  const batches = planAll(new FolderMiniBatchPlanner(listInputFiles(dir), 2, start));
  assert.deepEqual(
    overTheWire(batches).map((b) => b.files),
    [['a.txt', 'b/c.txt'], ['d.txt', 'e.txt'], ['f.txt']],
  );
  assert.deepEqual(overTheWire(batches), batches);
});

test('when mini-batches do not follow each other then packing refuses them', (t) => {
  const path = join(tempDir(t), 'in.jsonl');
  writeFileSync(path, '[1]\n[2]\n[3]\n');
  const batches = planAll(new LineMiniBatchPlanner(path, 'jsonl', 1, { offset: 0, item: 0, line: 1 }));
  assert.throws(() => packMiniBatches([batches[0], batches[2]]), /does not follow/);
});
