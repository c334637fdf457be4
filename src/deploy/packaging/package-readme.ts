import { PACKAGE_PORT } from './dockerfile.js';

export interface PackageReadmeOptions {
  title: string;
  runtime: string;
  baseImage: string;
  berthVersion: string;
  models: { name: string; version: number; files: number; size: number }[];
  authEnabled: boolean;
  pipPackages: string[];
}

/** The build context's README: what is inside and how to build and run it with or without a container. */
export function renderPackageReadme(o: PackageReadmeOptions): string {
  const image = o.title.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
  const models = o.models.map((m) => `| ${m.name} | ${m.version} | ${m.files} | ${m.size} |`).join('\n');
  return `# ${o.title} — Berth service package

A self-contained build context for a Berth scoring service (runtime \`${o.runtime}\`, Berth ${o.berthVersion}).
It holds everything the server needs; it does not talk to a Berth workspace.

| model | version | files | bytes |
| --- | --- | --- | --- |
${models}

## What is inside

| path | what |
| --- | --- |
| \`Dockerfile\` | base image \`${o.baseImage}\`; installs from the lockfile; \`CMD ["berth", "serve", "--spec", "serve.json"]\` |
| \`package.json\`, \`package-lock.json\`, \`.npmrc\` | the pinned Berth runtime and the entry script's dependencies |
| \`vendor/berth-${o.berthVersion}.tgz\` | the Berth serving runtime (no SQLite store, no Kubernetes client) |
| \`serve.json\` | the server's settings (models, inference config, limits, host, port ${PACKAGE_PORT}) |
| \`inferenceconfig.json\` | the inference config, paths relative to this folder |
| \`berth-package.json\` | models with the sha256 and size of every file |
| \`code/\` | the entry script's source directory |
| \`models/<name>/<version>/\` | the model files |

## Build and run with a container engine

\`\`\`sh
docker build -t ${image} .
docker run --rm -p ${PACKAGE_PORT}:${PACKAGE_PORT} ${image}

podman build -t ${image} .
podman run --rm -p ${PACKAGE_PORT}:${PACKAGE_PORT} ${image}

buildah bud -t ${image} .          # then: podman run --rm -p ${PACKAGE_PORT}:${PACKAGE_PORT} ${image}
\`\`\`

Then score it:

\`\`\`sh
curl -s http://127.0.0.1:${PACKAGE_PORT}/health/ready
curl -s -X POST http://127.0.0.1:${PACKAGE_PORT}/score -H 'Content-Type: application/json' -d @input.json
\`\`\`

## Run on a device without a container

Needs Node.js >= 20 (and python3${o.runtime === 'python' ? ' with the packages the Dockerfile installs' : ''} for the python runtime):

\`\`\`sh
npm ci --omit=dev
npx berth serve --spec serve.json          # or: npm start
\`\`\`

The server listens on \`0.0.0.0:${PACKAGE_PORT}\`; change \`host\` and \`port\` in \`serve.json\` to move it.
It stops cleanly (draining in-flight requests) on SIGTERM or Ctrl-C.

## Keys

${
  o.authEnabled
    ? 'The service this package was made from requires keys. Keys are not written into the package: add them to `serve.json` as `"keys": ["<primary>", "<secondary>"]` before building, or mount a `serve.json` that has them. Clients then send `Authorization: Bearer <key>`.'
    : 'Authentication is off. To require keys, add `"keys": ["<key>"]` to `serve.json`; clients then send `Authorization: Bearer <key>`.'
}
${
  o.pipPackages.length > 0
    ? `\n## Python packages from pip\n\nThese have no Debian package and are installed with pip at build time (needs a package index): ${o.pipPackages.map((p) => `\`${p}\``).join(', ')}.\n`
    : ''
}`;
}
