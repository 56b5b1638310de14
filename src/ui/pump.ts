// Feeds an engine event stream into a dashboard store: every event is dispatched as it arrives; a stream that
// throws becomes a `ui:stream-failed` input (shown, never rethrown, so a broken stream cannot crash the screen),
// and the end of the stream a `ui:stream-ended`. Owns nothing else; no I/O.
import type { EngineEvent } from '../engine/events.js';
import type { DashboardInput } from './state.js';

export interface Dispatcher {
  dispatch(input: DashboardInput): void;
}

/** Resolves when the stream has ended (normally or not); never rejects. */
export async function pumpEvents(events: AsyncIterable<EngineEvent>, store: Dispatcher): Promise<void> {
  try {
    for await (const e of events) store.dispatch(e);
  } catch (err) {
    store.dispatch({ type: 'ui:stream-failed', message: err instanceof Error ? err.message : String(err) });
  }
  store.dispatch({ type: 'ui:stream-ended' });
}
