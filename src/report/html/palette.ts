// The Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008): eight colours told apart by readers with
// any common colour-vision deficiency. Ordered for series on white: the strongest first, yellow last (it is faint
// on white). Past eight series the colours repeat with a dash pattern, so no two series look the same. Pure.

export const OKABE_ITO = {
  blue: '#0072B2',
  vermillion: '#D55E00',
  bluishGreen: '#009E73',
  orange: '#E69F00',
  reddishPurple: '#CC79A7',
  skyBlue: '#56B4E9',
  yellow: '#F0E442',
  black: '#000000',
} as const;

/** Series colours in order (black is kept for text and axes). */
export const SERIES_COLORS: readonly string[] = [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.bluishGreen, OKABE_ITO.orange, OKABE_ITO.reddishPurple, OKABE_ITO.skyBlue, OKABE_ITO.yellow];

const DASHES: readonly (readonly number[] | undefined)[] = [undefined, [6, 3], [2, 3], [8, 3, 2, 3]];

/** The colour and dash of the i-th series: colours first, then the same colours dashed. */
export function seriesStyle(i: number): { readonly color: string; readonly dash?: readonly number[] } {
  const color = SERIES_COLORS[i % SERIES_COLORS.length];
  const dash = DASHES[Math.floor(i / SERIES_COLORS.length) % DASHES.length];
  return dash ? { color, dash } : { color };
}
