// Stand-in for src/cli/main.ts while it does not register `compute` yet: the same root flags and
// error handling, with only the compute commands. compute-cli.test.ts uses bin/berth.js once it does.
import { Command, CommanderError } from 'commander';
import { register } from '../../src/cli/commands/compute.js';
import { exitWithError } from '../../src/cli/output.js';
import { BerthError } from '../../src/core/errors.js';

const program = new Command('berth')
  .option('--workspace <dir>')
  .option('--url <url>')
  .option('--token <token>')
  .option('--json')
  .exitOverride();
register(program);
const json = process.argv.includes('--json');
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0);
    exitWithError(new BerthError('INVALID_ARGUMENT', err.message), json);
  }
  exitWithError(err, json);
}
