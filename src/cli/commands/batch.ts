import type { Command } from 'commander';
import type { BatchInputKind } from '../../batch/batch-options.js';
import type { BatchSummary } from '../../batch/batch-summary.js';
import { createProgressPrinter, grouped } from '../../batch/progress-printer.js';
import { BerthError } from '../../core/errors.js';
import { openWorkspace } from '../open-workspace.js';
import { exitWithError, formatFields, type GlobalOptions, printJson } from '../output.js';

interface RunOptions extends GlobalOptions {
  model: string[];
  modelDir: string[];
  ic?: string;
  input: string;
  output: string;
  inputFormat?: string;
  miniBatchSize?: string;
  workers?: string;
  errorThreshold?: string;
  resume?: boolean;
  progress: boolean;
}

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED_EXIT = 130;

/**
 * `berth batch run`: scores a JSON Lines file, a CSV file or a folder of files offline with the
 * same models and entry script a service uses, on all cores, with progress on stderr and the
 * summary on stdout (`--json`: as one JSON document).
 */
export function register(program: Command): void {
  const batch = program
    .command('batch')
    .description('Score large inputs offline with a model and its entry script.');

  batch
    .command('run')
    .description(
      'Score every item of --input (JSON Lines, CSV with a header row, or a folder of files) into --output (JSON Lines, input order).',
    )
    .option(
      '-m, --model <ref>',
      'registered model NAME, NAME:VERSION or NAME@ALIAS (repeatable)',
      collect,
      [],
    )
    .option(
      '--model-dir <path>',
      'unregistered model file or folder, named after it (repeatable)',
      collect,
      [],
    )
    .option('--ic <file>', 'inferenceconfig.json (default: {"runtime": "onnx"})')
    .requiredOption('--input <path>', 'a .jsonl or .csv file, or a folder (each file one item)')
    .requiredOption('--output <path>', 'JSON Lines output; its checkpoint is written next to it')
    .option('--input-format <format>', 'jsonl, csv or folder (default: from --input)')
    .option('--mini-batch-size <n>', 'items per tensor or runBatch() call (default 32)')
    .option('--workers <n>', 'worker processes (default: number of cores)')
    .option(
      '--error-threshold <n>',
      'failed items tolerated before the run stops; -1 = no limit (default -1)',
    )
    .option('--resume', 'continue an interrupted run from its checkpoint')
    .option('--no-progress', 'no progress bar or progress lines on stderr')
    .addHelpText(
      'after',
      `
Output lines:  {"row":1,"prediction":...}   {"row":2,"line":2,"error":{"code":"BAD_REQUEST","message":"..."}}
               {"file":"cat.png","prediction":...} for a folder input.
Examples:
  berth batch run -m linear:1 --input rows.jsonl --output predictions.jsonl
  berth batch run -m iris --ic inferenceconfig.json --input iris.csv --output out.jsonl --workers 4
  berth batch run --model-dir ./classifier --ic ic.json --input images/ --output labels.jsonl --resume`,
    )
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RunOptions>();
      await runCommand(opts);
    });
}

async function runCommand(opts: RunOptions): Promise<void> {
  const miniBatchSize = integer(opts.miniBatchSize, '--mini-batch-size');
  const workers = integer(opts.workers, '--workers');
  const errorThreshold = integer(opts.errorThreshold, '--error-threshold');
  const inputKind = inputFormat(opts.inputFormat);
  if (opts.model.length + opts.modelDir.length === 0) {
    throw new BerthError('INVALID_ARGUMENT', 'No model given.', {
      hint: 'Name a registered model with -m NAME:VERSION, or an unregistered one with --model-dir PATH.',
    });
  }
  const { BatchJob } = await import('../../batch/batch-job.js');

  const printer = opts.progress ? createProgressPrinter(process.stderr) : undefined;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(INTERRUPTED_EXIT);
    process.stderr.write(
      '\nInterrupted: committing finished mini-batches (Ctrl-C again to quit at once)...\n',
    );
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const ws = opts.model.length > 0 ? await openWorkspace(opts) : undefined;
  let summary: BatchSummary;
  try {
    summary = await BatchJob.run(ws, {
      models: opts.model,
      modelDirs: opts.modelDir,
      inferenceConfig: opts.ic,
      input: opts.input,
      output: opts.output,
      inputKind,
      miniBatchSize,
      workers,
      errorThreshold,
      resume: opts.resume,
      signal: controller.signal,
      onProgress: printer ? (p) => printer.update(p) : undefined,
      log: {
        warn: (_fields, message) =>
          process.stderr.write(`${printer && process.stderr.isTTY ? '\n' : ''}berth batch: ${message}\n`),
      },
    });
  } catch (err) {
    printer?.finish();
    const failed = err instanceof BerthError ? (err.details?.summary as BatchSummary | undefined) : undefined;
    if (failed && !opts.json) process.stdout.write(`${humanSummary(failed)}\n`);
    exitWithError(err, opts.json === true);
  } finally {
    await ws?.close();
  }
  printer?.finish();
  if (opts.json) printJson(summary);
  else process.stdout.write(`${humanSummary(summary)}\n`);
  if (summary.status === 'interrupted') {
    process.stderr.write(
      `Stopped after ${summary.items} items. Continue with the same command and --resume.\n`,
    );
    process.exit(INTERRUPTED_EXIT);
  }
}

function humanSummary(s: BatchSummary): string {
  const seconds = s.durationMs / 1000;
  const head =
    s.status === 'completed'
      ? `Scored ${grouped(s.items)} items in ${seconds.toFixed(1)} s (${grouped(s.itemsPerSecond)} items/s).`
      : `Batch run ${s.status} after ${grouped(s.items)} items.`;
  const fields: Record<string, unknown> = {
    status: s.status,
    items: s.items,
    succeeded: s.succeeded,
    failures: s.failures,
  };
  if (s.malformed > 0) {
    const more = s.malformed > s.malformedLines.length ? ', ...' : '';
    fields.malformed = `${s.malformed} (lines ${s.malformedLines.join(', ')}${more})`;
  }
  if (s.resumedFrom > 0) fields.resumedFrom = s.resumedFrom;
  fields.time = `${seconds.toFixed(2)} s`;
  fields['items/s'] = s.itemsPerSecond;
  fields.workers = s.workers;
  if (s.workerRestarts > 0) fields.workerRestarts = s.workerRestarts;
  fields.output = s.output;
  const failures =
    s.firstFailures.length > 0 ? `\nFirst failures:\n${s.firstFailures.map((m) => `  ${m}`).join('\n')}` : '';
  return `${head}\n${formatFields(fields)}${failures}`;
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) {
    throw new BerthError('INVALID_ARGUMENT', `${flag} must be an integer, got "${value}".`, {
      hint: 'See: berth batch run --help',
    });
  }
  return Number(value);
}

function inputFormat(value: string | undefined): BatchInputKind | undefined {
  if (value === undefined) return undefined;
  if (value === 'jsonl' || value === 'csv' || value === 'folder') return value;
  throw new BerthError('INVALID_ARGUMENT', `--input-format must be jsonl, csv or folder, got "${value}".`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
