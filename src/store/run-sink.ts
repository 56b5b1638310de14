// The store as a subscriber of the engine's events: passes every event through and, at run-finished, saves the run
// file the event carries, then hands on the event with the path it was saved to (or the reason it could not be)
// in its notes. The composition roots (the CLI commands, the interactive app) put it between the engine and the
// presenters, so a presenter printing "saved to ..." sees the real outcome.
import type { EngineEvent } from '../engine/events.js';
import { runsDir } from '../config/paths.js';
import { saveRun } from './run-store.js';

export async function* persistRuns(events: AsyncIterable<EngineEvent>, dir: string = runsDir()): AsyncGenerator<EngineEvent> {
  for await (const e of events) {
    if (e.type !== 'run-finished' || e.run === null) {
      yield e;
      continue;
    }
    const notes = [...e.notes];
    let file: string | null = null;
    try {
      const saved = await saveRun(e.run, dir);
      file = saved.file;
      for (const p of saved.problems) notes.push(`saved, but the run file does not validate: ${p}`);
    } catch (err) {
      const message = `the run could not be saved: ${(err as Error).message}`;
      notes.push(message);
      yield { type: 'log', at: e.at, level: 'error', message };
    }
    yield { ...e, file, notes, run: { ...e.run, notes } };
  }
}
