// The dashboard's store: the pure reducer of state.ts behind the batching store of store.ts, with run-finished,
// stop requests and the end of the stream published at once.
import { initialDashboardState, isUrgent, reduce, type DashboardInput, type DashboardState } from './state.js';
import { createStore, type Store, type StoreOptions } from './batching-store.js';

export type DashboardStore = Store<DashboardState, DashboardInput>;

export function createDashboardStore(o: Omit<StoreOptions<DashboardInput>, 'isUrgent'> = {}): DashboardStore {
  return createStore(reduce, initialDashboardState, { ...o, isUrgent });
}
