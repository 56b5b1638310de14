// How the home screen fits the terminal: how wide the preset rows and notes may be (the terminal's width), and
// how many preset rows fit in its height (the list scrolls); at 80x24 the rows are cut to the width and the list
// gives way to the form. Pure.

/** Columns the screen is laid out for when the terminal does not say. */
export const HOME_DEFAULT_WIDTH = 100;
/** Preset rows visible at once at most (the list scrolls). */
export const PRESET_ROWS_MAX = 8;
/** Columns of a preset row before its summary: marker (3), name (15 + 1), built-in/user (9). */
const PRESET_ROW_PREFIX = 28;
/** The Endpoints field's value at most (a longer list shows its end). */
const ENDPOINTS_VALUE_MAX = 120;
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
    // Every line uses the terminal's width (one column spare: a full line would wrap on some terminals).
    summaryColumns: w - PRESET_ROW_PREFIX - 1,
    descriptionColumns: w - 4,
    messageColumns: 2 * w - 2,
    endpointsValueColumns: Math.min(ENDPOINTS_VALUE_MAX, w - FIELD_LABEL_COLUMNS - 4),
    endpointsNoteColumns: w - FIELD_LABEL_COLUMNS - 1,
    presetRows,
    scrolls: !fits,
  };
}
