// How wide the command line's tables may be: the terminal's width on a terminal, COLUMNS in a pipe (as shells
// export it), and no limit otherwise or with --wide (scripts get every column).

export function tableWidth(wide: boolean, stdout: { readonly isTTY?: boolean; readonly columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (wide) return Number.POSITIVE_INFINITY;
  if (stdout.isTTY && stdout.columns && stdout.columns > 0) return stdout.columns;
  const c = Number(env.COLUMNS);
  return Number.isInteger(c) && c > 0 ? c : Number.POSITIVE_INFINITY;
}

/** The --wide option of commands that print tables. */
export const WIDE_OPTION = { type: 'boolean', description: 'print every column, however wide (default: fit the terminal, or $COLUMNS in a pipe)' } as const;
