// How the home screen fits the terminal: how wide the preset rows and notes may be, and how many preset rows fit
// in its height (the list scrolls). At 100 columns and 50 rows (or with the size unknown) this is the fixed
// layout the screen always had; at 80x24 the rows are cut to the width and the list gives way to the form. Pure.

/** Columns the screen is laid out for when the terminal does not say. */
export const HOME_DEFAULT_WIDTH = 100;
/** Preset rows visible at once at most (the list scrolls). */
export const PRESET_ROWS_MAX = 8;
/** Columns of a preset row before its summary: marker (3), name (15 + 1), built-in/user (9). */
const PRESET_ROW_PREFIX = 28;
/** The summary's columns at most (a 100-column row). */
const PRESET_SUMMARY_MAX = 72;
/** The preset description's columns at most, after its 3-column indent. */
const DESCRIPTION_MAX = 96;
/** A message's characters at most. */
const MESSAGE_MAX = 200;
/** The Endpoints field's value and its note, at most. */
const ENDPOINTS_VALUE_MAX = 64;
const ENDPOINTS_NOTE_MAX = 80;
/** Label column of the form's fields ("▸ " + 12). */
export const FIELD_LABEL_COLUMNS = 14;
/**
 * Lines the home screen takes besides the preset rows, at most: title, blank, "Preset", the scroll line, the
 * description, blank, eight field lines (with the openai backend's Endpoints and its note), blank and a message
 * of two lines (or the save prompt), blank and the key hints (two lines at 80 columns).
 */
const OTHER_LINES = 1 + 1 + 1 + 1 + 1 + 1 + 8 + 3 + 1 + 2;

export interface HomeLayout {
  readonly summaryColumns: number;
  readonly descriptionColumns: number;
  readonly messageColumns: number;
  /** Columns of the Endpoints field's value (a longer one shows its end). */
  readonly endpointsValueColumns: number;
  readonly endpointsNoteColumns: number;
  /** Preset rows shown. */
  readonly presetRows: number;
  /** Whether the "(n presets; ↑/↓ scrolls)" line shows (the list is longer than its rows). */
  readonly scrolls: boolean;
}

/** The layout for a terminal of `width` x `height` (height unknown: as many rows as PRESET_ROWS_MAX). */
export function homeLayout(width: number, height: number | undefined, presets: number): HomeLayout {
  const w = width > 0 ? width : HOME_DEFAULT_WIDTH;
  // Ink redraws in place only while the frame is shorter than the terminal.
  const budget = height !== undefined && height > 0 ? Math.max(2, height - 1 - (OTHER_LINES - 1)) : Number.POSITIVE_INFINITY;
  const fits = presets <= Math.min(PRESET_ROWS_MAX, budget);
  const presetRows = fits ? presets : Math.max(1, Math.min(PRESET_ROWS_MAX, budget - 1));
  return {
    summaryColumns: Math.min(PRESET_SUMMARY_MAX, w - PRESET_ROW_PREFIX),
    descriptionColumns: Math.min(DESCRIPTION_MAX, w - 4),
    messageColumns: Math.min(MESSAGE_MAX, 2 * w),
    endpointsValueColumns: Math.min(ENDPOINTS_VALUE_MAX, w - FIELD_LABEL_COLUMNS - 4),
    endpointsNoteColumns: Math.min(ENDPOINTS_NOTE_MAX, w - FIELD_LABEL_COLUMNS - 1),
    presetRows,
    scrolls: !fits,
  };
}
