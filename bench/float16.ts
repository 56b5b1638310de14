// `npm run bench:float16`: the cost fp16 ONNX exports add on the CPU side of each request: pixel values
// (3x896x896 per image entry) converted to float16 before the vision encoder. Prints JSON, ms per entry.
import { toFloat16, toFloat32 } from '../src/engine/backends/onnx/float16.js';
import { measure } from './timing.js';

const ENTRIES = 4;
const n = ENTRIES * 3 * 896 * 896;
// Pixel values as the resampler makes them: (v / 255 - 0.5) / 0.5 for 8-bit v, zeros included.
const pixels = Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 256) / 127.5 - 1);
const half = new Uint16Array(n);
const back = new Float32Array(n);

const to16 = await measure(11, 3, () => toFloat16(pixels, half));
const to32 = await measure(11, 3, () => toFloat32(half, back));
const perEntry = (ms: number) => Math.round((ms / ENTRIES) * 100) / 100;
process.stdout.write(
  `${JSON.stringify({ entries: ENTRIES, pixelsToFloat16MsPerEntry: perEntry(to16.medianMs), float16ToFloat32MsPerEntry: perEntry(to32.medianMs), raw: { to16, to32 } }, null, 2)}\n`,
);
