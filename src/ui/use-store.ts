// Reads a store's published state in a component (useSyncExternalStore), so a render never sees half an update.
import { useSyncExternalStore } from 'react';
import type { Store } from './batching-store.js';

export function useStoreState<S>(store: Pick<Store<S, unknown>, 'subscribe' | 'getSnapshot'>): S {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
