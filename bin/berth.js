#!/usr/bin/env node
// Compiled CLI entry: `npm install` runs `prepare`, which builds dist/.
import('../dist/cli/main.js').then((m) => m.main(process.argv));
