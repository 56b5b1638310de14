// The one id format: a UTC timestamp, `YYYYMMDD-HHMMSS`, so ids sort by time across time zones and DST changes,
// then what the id names and a few random hex digits. Run ids, sweep group ids and export file names use it.
import { randomBytes } from 'node:crypto';

const NAME_SLUG_MAX_CHARS = 40;
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `20261125-142233` for 2026-11-25 14:22:33 UTC. */
export function utcStamp(d: Date = new Date()): string {
  return `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}-${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;
}

export const randomHex = (bytes = 2): string => randomBytes(bytes).toString('hex');

/** A file-name-safe slug of a name: lower case, runs of other characters as one "-", at most 40 characters. */
export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, NAME_SLUG_MAX_CHARS)
    .replace(/[-._]+$/, '');
  return s || 'run';
}

/** A sortable, filesystem-safe run id, e.g. `20261125-142233-balanced-3fa2`. */
export function newRunId(name: string, date: Date = new Date(), hex: string = randomHex()): string {
  return `${utcStamp(date)}-${slug(name)}-${hex}`;
}

/** A group's id, e.g. `sweep-20261125-142233-3fa2` (a sweep) or `repeat-20261125-142233-3fa2` (`run --repeat`). */
export function newGroupId(date: Date = new Date(), hex: string = randomHex(), kind: 'sweep' | 'repeat' = 'sweep'): string {
  return `${kind}-${utcStamp(date)}-${hex}`;
}
