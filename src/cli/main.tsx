#!/usr/bin/env node
// Composition root: picks the subcommand, maps errors to exit codes (0 ok, 1 failed, 2 usage/configuration) and
// prints them as one clear message. Subcommands load lazily so `gemma-bench --help` stays instant.
// Its static imports are kept light, and early-stop goes first: `run` and `sweep` take over SIGINT/SIGTERM before
// anything else loads.
import './early-stop.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './args.js';
import { EXIT_FAILED, EXIT_USAGE, type CommandModule } from './command.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { processLiveScreen } from './live-screen.js';

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  panscan: () => import('./commands/panscan.js'),
  'make-model': () => import('./commands/make-model.js'),
  infer: () => import('./commands/infer.js'),
  run: () => import('./commands/run.js'),
  sweep: () => import('./commands/sweep.js'),
  runs: () => import('./commands/runs.js'),
  compare: () => import('./commands/compare.js'),
  serve: () => import('./commands/serve.js'),
  doctor: () => import('./commands/doctor.js'),
};

/** Errors that mean "fix your command or configuration" (exit 2) rather than "the run failed" (exit 1). */
const CONFIG_ERRORS = new Set(['ConfigError', 'PresetError', 'WorkloadError', 'ModelDirError', 'PanScanOptionsError', 'PromptError', 'GoodputSpecError', 'DataDirError', 'ModelOutDirError']);

function version(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

async function globalHelp(): Promise<string> {
  const mods = await Promise.all(Object.entries(COMMANDS).map(async ([name, load]) => [name, (await load()).command.summary] as const));
  const width = Math.max(...mods.map(([n]) => n.length)) + 2;
  return [
    `gemma-bench ${version()}: benchmark Gemma 3 vision-language inference with pan-and-scan`,
    '',
    'Usage: gemma-bench <command> [options]',
    '',
    'Commands:',
    ...mods.map(([n, s]) => `  ${n.padEnd(width)}${s}`),
    '',
    'Without a command, on a terminal, gemma-bench opens the interactive app.',
    'Run `gemma-bench <command> --help` for a command\'s options.',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined && process.stdin.isTTY && process.stdout.isTTY) {
    const screen = processLiveScreen();
    if (!screen.ok) {
      process.stderr.write(`gemma-bench: the interactive app cannot draw here: ${screen.why}. Or use a command such as \`gemma-bench run\`, which prints plain progress lines (see \`gemma-bench --help\`).\n`);
      return EXIT_USAGE;
    }
    const { runInteractive } = await import('../app/interactive.js');
    return runInteractive();
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await globalHelp());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`gemma-bench: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}. Run \`gemma-bench --help\`.\n`);
    return EXIT_USAGE;
  }
  const mod = await load();
  try {
    return await mod.run(rest);
  } catch (err) {
    const configuration = err instanceof Error && (CONFIG_ERRORS.has(err.name) || (err as { stage?: string }).stage === 'configuration');
    if (err instanceof UsageError || configuration) {
      process.stderr.write(`gemma-bench ${name}: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`gemma-bench ${name}: ${(err as Error).message ?? String(err)}\n`);
    if (process.env.GEMMA_BENCH_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return EXIT_FAILED;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gemma-bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
