// The error for a configuration the user must fix (a bad value, a combination that cannot run, a backend option
// that does not fit): its message is complete, names the flag or preset field, and says what to do. The composition
// root turns it into exit code 2 (DESIGN.md §9), as it does for usage errors of the command line.
export class ConfigError extends Error {
  override name = 'ConfigError';
}
