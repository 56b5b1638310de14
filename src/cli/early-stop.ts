// Imported first by the composition root (main.tsx), before anything else loads: for the commands that run
// benchmarks (`run`, `sweep`), SIGINT and SIGTERM stop the run from this moment on (it is saved as interrupted)
// rather than end the process. Their modules take over a second to load, so waiting for them would leave a window.
import { processStopper } from './run-stopper.js';

/** Commands whose signals the RunStopper handles. */
export const RUN_COMMANDS: ReadonlySet<string> = new Set(['run', 'sweep']);

const [command, ...rest] = process.argv.slice(2);
if (command !== undefined && RUN_COMMANDS.has(command) && !rest.some((a) => a === '--help' || a === '-h')) processStopper.listen();
