import type { Command } from 'commander';

/**
 * Registers `berth model deploy` under the `model` command (filled in by the deploy issue).
 * Keep imports of heavy modules inside the action: this file loads on every `berth` call.
 */
export function register(_modelCommand: Command): void {}
