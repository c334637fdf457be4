import type { Command } from 'commander';

/** Registers the `serve` commands (filled in by its issue). */
export function register(_program: Command): void {}
