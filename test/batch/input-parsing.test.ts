import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCsvRow, readCsvHeader, splitCsvRecord } from '../../src/batch/csv-record.js';
import { decodeFileMiniBatch } from '../../src/batch/item-decoder.js';
import { LineMiniBatchPlanner } from '../../src/batch/line-mini-batch-planner.js';
import type { MiniBatch } from '../../src/batch/mini-batch.js';
import { parseNumberRow } from '../../src/batch/number-row-parser.js';
import { tempDir } from '../helpers/temp-dir.js';

test('when a line is a JSON array of numbers then the fast parser returns exactly what JSON.parse returns', () => {
  const lines = [
    '[0.5,-1,2e-3,1E+5,-0,0,123456789012345,0.1,0.2,0.3]',
    '[ 1.25 , -7.5e-10 , 3 ]',
    '[]',
    '[-0.000001,9.999999,1e22,1e-22]\r',
  ];
  for (const line of lines) {
    const bytes = Buffer.from(line);
    assert.deepEqual(parseNumberRow(bytes, 0, bytes.length), JSON.parse(line), line);
  }
  let seed = 7;
  let fast = 0;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const v = Math.round((seed / 4294967296 - 0.5) * 10 ** (1 + (i % 9))) / 10 ** (i % 7);
    const line = `[${v},${-v / 4},${v}e-3]`;
    const bytes = Buffer.from(line);
    const parsed = parseNumberRow(bytes, 0, bytes.length);
    if (parsed === undefined) continue; // more than 15 significant digits: JSON.parse's job
    fast++;
    assert.deepEqual(parsed, JSON.parse(line), line);
  }
  assert.ok(fast > 1000, `only ${fast} of 5000 lines took the fast path`);
});

test('when a line is not a plain array of numbers then the fast parser declines and JSON.parse decides', () => {
  for (const line of [
    '{"a":1}',
    '[1,"2"]',
    '[[1,2]]',
    '[1,]',
    '[01]',
    '[1 2]',
    '[1e400]',
    '[1234567890123456789]',
    '[0.30000000000000004]',
    'nope',
    '[1,2] x',
  ]) {
    const bytes = Buffer.from(line);
    assert.equal(parseNumberRow(bytes, 0, bytes.length), undefined, line);
  }
});

test('when a CSV record has quoted fields then commas, quotes and line breaks inside them are kept', () => {
  assert.deepEqual(splitCsvRecord('a,"b,c","say ""hi""","two\nlines",').fields, [
    'a',
    'b,c',
    'say "hi"',
    'two\nlines',
    '',
  ]);
  assert.throws(() => splitCsvRecord('a,"b'), /unterminated/);
  assert.throws(() => splitCsvRecord('a,b"c'), /stray quote/);
});

test('when a CSV row is parsed then unquoted numbers become numbers, empty fields null and quoted text stays text', () => {
  const row = parseCsvRow('5.1,-2,1e3,,"7",setosa', ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(row, { a: 5.1, b: -2, c: 1000, d: null, e: '7', f: 'setosa' });
  assert.throws(() => parseCsvRow('1,2', ['a', 'b', 'c']), /2 fields, but the header names 3 columns/);
});

test('when a CSV header has a byte order mark or a duplicate column then it is read or refused with INVALID_ARGUMENT', (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.csv');
  writeFileSync(good, '\uFEFFx,"y, the second"\r\n1,2\n');
  const header = readCsvHeader(good);
  assert.deepEqual(header.columns, ['x', 'y, the second']);
  assert.equal(header.dataStart.line, 2);
  assert.equal(header.dataStart.offset, Buffer.byteLength('\uFEFFx,"y, the second"\r\n'));
  const dup = join(dir, 'dup.csv');
  writeFileSync(dup, 'a,b,a\n1,2,3\n');
  assert.throws(
    () => readCsvHeader(dup),
    (err: { code?: string }) => err.code === 'INVALID_ARGUMENT',
  );
});

/** Plans a whole file and decodes every mini-batch: what the coordinator and the workers do together. */
function planAndDecode(path: string, kind: 'jsonl' | 'csv', size: number, columns?: string[]) {
  const start = kind === 'csv' ? readCsvHeader(path).dataStart : { offset: 0, item: 0, line: 1 };
  const planner = new LineMiniBatchPlanner(path, kind, size, start);
  const batches: MiniBatch[] = [];
  for (let b = planner.next(); b; b = planner.next()) batches.push(b);
  const buf = readFileSync(path);
  const items = batches.flatMap(
    (b) => decodeFileMiniBatch(buf, 0, b, { kind, path, columns }, { flatRows: false }).items,
  );
  return { batches, items };
}

test('when a JSON Lines file has blank lines, CRLF, a BOM and no final newline then items keep their row and line numbers', (t) => {
  const path = join(tempDir(t), 'in.jsonl');
  writeFileSync(path, '\uFEFF[1,2]\r\n\n[3,4]\r\n{"a":5}\n   \n[6\n\n[7,8]');
  const { batches, items } = planAndDecode(path, 'jsonl', 2);
  assert.deepEqual(
    items.map((i) => [i.row, i.line, i.malformed ? 'bad' : JSON.stringify(i.value)]),
    [
      [1, 1, '[1,2]'],
      [2, 3, '[3,4]'],
      [3, 4, '{"a":5}'],
      [4, 5, 'bad'],
      [5, 6, 'bad'],
      [6, 8, '[7,8]'],
    ],
  );
  assert.match(items[4].malformed?.message ?? '', /^line 6: malformed JSON/);
  assert.deepEqual(
    batches.map((b) => b.count),
    [2, 2, 2],
  );
  for (let i = 1; i < batches.length; i++)
    assert.equal(batches[i].start, batches[i - 1].end, 'mini-batches tile the file');
  assert.equal(batches.at(-1)?.end, Buffer.byteLength('\uFEFF[1,2]\r\n\n[3,4]\r\n{"a":5}\n   \n[6\n\n[7,8]'));
});

test('when a CSV record spans lines inside quotes then it is one item and the next rows keep their line numbers', (t) => {
  const path = join(tempDir(t), 'in.csv');
  writeFileSync(path, 'id,text\n1,"one\ntwo"\n\n2,plain\n3,"x"y\n4,"unterminated\n');
  const columns = readCsvHeader(path).columns;
  const { items } = planAndDecode(path, 'csv', 2, columns);
  assert.deepEqual(
    items.map((i) => [i.row, i.line, i.malformed ? 'bad' : JSON.stringify(i.value)]),
    [
      [1, 2, '{"id":1,"text":"one\\ntwo"}'],
      [2, 5, '{"id":2,"text":"plain"}'],
      [3, 6, 'bad'],
      [4, 7, 'bad'],
    ],
  );
  assert.match(items[2].malformed?.message ?? '', /^line 6: malformed CSV record/);
});
