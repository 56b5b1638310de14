// The error every start-up or configuration problem of the transformers backend is reported with: its message is
// complete and meant for the user as is (what is wrong, the numbers, what to do). `stage` tells the caller which
// exit code fits (DESIGN.md §9): "configuration" problems (flags, interpreter, packages, too few GPUs) are found
// before anything loads (exit 2); "loading" problems come from a replica that failed to load its model (exit 1).
export class TransformersBackendError extends Error {
  override name = 'TransformersBackendError';
  constructor(
    message: string,
    readonly stage: 'configuration' | 'loading' = 'configuration',
  ) {
    super(message);
  }
}
