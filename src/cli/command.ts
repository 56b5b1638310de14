// The shape every subcommand module exports, so the composition root can list, dispatch and document them.
import type { CommandDef } from './args.js';

export interface CommandModule {
  readonly command: CommandDef;
  /** Runs the command; resolves to the process exit code (0 ok, 1 run failed, 2 usage or configuration error). */
  run(argv: readonly string[]): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
