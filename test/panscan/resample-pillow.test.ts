// Ground truth: Pillow 9.4 `Image.resize((size, size), BILINEAR)` outputs committed under
// test/fixtures/resample (made by make.py; no Python at test time). Both the reference transcription and
// the fast path must match them with 0 differing bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resizeNormalizeInto, resizeToRgb, NORMALIZE_LUT } from '../../src/panscan/resample.js';
import { referenceResizeToRgb } from '../../src/panscan/resample-reference.js';
import { compareBytes, loadPillowManifest, pillowInput, pillowOutput, sha256 } from '../helpers/panscan-fixtures.js';

const manifest = loadPillowManifest();

test('the Pillow fixture set is present', () => {
  assert.ok(manifest.cases.length >= 20);
});

for (const c of manifest.cases) {
  test(`Pillow ${manifest.pillow} BILINEAR: ${c.name} (${c.box.width}x${c.box.height} -> ${c.size})`, async (t) => {
    const img = pillowInput(c);
    const want = await pillowOutput(c);
    const paths: Array<[string, Uint8Array]> = [
      ['reference', referenceResizeToRgb(img, c.box, c.size)],
      ['fast', resizeToRgb(img, c.box, c.size)],
    ];
    for (const [label, got] of paths) {
      if (want) {
        const { differing, maxDiff } = compareBytes(got, want);
        assert.equal(differing, 0, `${label}: ${differing} bytes differ from Pillow (max diff ${maxDiff})`);
      }
      assert.equal(sha256(got), c.outputSha256, `${label}: output hash differs from Pillow's`);
    }
    // The float path normalizes exactly the bytes Pillow produced.
    const plane = c.size * c.size;
    const f = new Float32Array(3 * plane);
    resizeNormalizeInto(img, c.box, f, 0, c.size);
    const bytes = paths[1][1];
    for (let i = 0; i < plane; i++) {
      for (let ch = 0; ch < 3; ch++) {
        if (!Object.is(f[ch * plane + i], NORMALIZE_LUT[bytes[i * 3 + ch]])) assert.fail(`float output differs at pixel ${i} channel ${ch}`);
      }
    }
    t.diagnostic(`${c.name}: 0 differing bytes vs Pillow (${want ? 'full bytes' : 'sha256'})`);
  });
}
