// Whether a live Ink screen can be drawn here. Ink draws nothing until it unmounts when it believes it runs in CI
// (the `is-in-ci` package: CI or CONTINUOUS_INTEGRATION set and not "0"/"false"), so on a terminal with CI set a
// dashboard would sit blank for the whole run. Callers fall back to plain progress lines, or say why.
import isInCi from 'is-in-ci';

export type LiveScreen = { readonly ok: true } | { readonly ok: false; readonly why: string };

interface Tty {
  readonly isTTY?: boolean;
}

/** Pure: the decision from the streams' TTY flags and the CI variable Ink reacts to (null when none). */
export function liveScreen(stdin: Tty, stdout: Tty, ciVariable: string | null): LiveScreen {
  if (stdin.isTTY !== true) return { ok: false, why: 'stdin is not a terminal' };
  if (stdout.isTTY !== true) return { ok: false, why: 'stdout is not a terminal' };
  if (ciVariable !== null) {
    return { ok: false, why: `${ciVariable} is set in the environment, and Ink (the terminal UI) draws nothing live under CI; unset it (\`env -u ${ciVariable} ...\`) for the live screen` };
  }
  return { ok: true };
}

/** Which CI variable made Ink's verdict, for the message; null when Ink is not in CI mode. */
function ciVariable(env: NodeJS.ProcessEnv): string | null {
  if (!isInCi) return null;
  return ['CI', 'CONTINUOUS_INTEGRATION'].find((k) => env[k] !== undefined && env[k] !== '0' && env[k] !== 'false') ?? 'CI';
}

/** The decision for this process, with the same CI verdict Ink itself uses. */
export function processLiveScreen(): LiveScreen {
  return liveScreen(process.stdin, process.stdout, ciVariable(process.env));
}
