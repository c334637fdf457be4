import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { BerthError } from '../core/errors.js';
import { exitWithError } from './output.js';

const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

/**
 * The `berth` CLI. Each command file registers its verbs and loads its heavy modules (SDK, stores,
 * onnxruntime) only inside its action, so `berth --version` stays as fast as a bare node start.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('berth')
    .description('Register machine-learning models and deploy them as web services.')
    .version(VERSION, '-V, --version')
    .option('--workspace <dir>', 'workspace folder (default: $BERTH_WORKSPACE or ./.berth)')
    .option('--url <url>', 'management API of a remote workspace (default: $BERTH_URL)')
    .option('--token <token>', 'token for --url (default: $BERTH_TOKEN)')
    .option('--json', 'print one JSON document instead of text')
    .showHelpAfterError()
    .exitOverride();

  const commands = await Promise.all([
    import('./commands/model.js'),
    import('./commands/service.js'),
    import('./commands/compute.js'),
    import('./commands/package.js'),
    import('./commands/serve.js'),
    import('./commands/server.js'),
    import('./commands/batch.js'),
  ]);
  for (const c of commands) c.register(program);

  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return;
      // commander already printed its message; map it onto our error classes.
      exitWithError(new BerthError('INVALID_ARGUMENT', err.message.replace(/^error: /, '')), json);
    }
    exitWithError(err, json);
  }
}
