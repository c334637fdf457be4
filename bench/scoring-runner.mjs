// One Berth replica in this process, for benchmarks: the scoring server of dist/ without the supervisor.
//   node bench/scoring-runner.mjs SPEC.json     (a ServeSpec; prints "Listening on http://HOST:PORT")
// Logs go where core's createLogger sends them (stdout, plus spec.logFile when set), as under `berth serve`.
import { readFileSync } from 'node:fs';
import { createLogger } from '../dist/core/logger.js';
import { createRuntime } from '../dist/serving/runtimes/create-runtime.js';
import { createScoringServer } from '../dist/serving/scoring-server.js';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const log = createLogger({ name: spec.name, file: spec.logFile });
const runtime = await createRuntime({
  config: spec.inferenceConfig,
  models: spec.models,
  log,
  limits: spec.limits,
  environmentDir: spec.environmentDir,
});
await runtime.load();
const scoring = createScoringServer({ spec, runtime, log });
scoring.server.listen(spec.port, spec.host, () => {
  scoring.setReady(true);
  const { port } = scoring.server.address();
  process.stdout.write(`Listening on http://${spec.host}:${port}\n`);
});
const stop = () => {
  scoring.drain(2_000).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
