import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OpenAIBackend } from '../../../../src/engine/backends/openai/backend.js';
import { ImageStore, variantByteIndex } from '../../../../src/engine/backends/openai/unique-images.js';
import { SseReplayer } from '../../../helpers/sse-replayer.js';
import { bitDiff, collectLog, makeImage, options, rawPixels, request, tempDir } from './helpers.js';

describe('unique images', () => {
  it('gives every request a PNG that differs from the source in exactly one low bit, at a different pixel each', async () => {
    const dir = tempDir('uniq');
    const rgb = await makeImage(dir, 'rgb.png', 40, 30, 3);
    const rgba = await makeImage(dir, 'rgba.png', 17, 9, 4);
    const store = await ImageStore.prepare({ sources: [rgb, rgba], unique: true, variantsPerImage: 5, concurrency: 2 });
    try {
      for (const path of [rgb, rgba]) {
        const src = await rawPixels(path);
        const variants: Buffer[] = [];
        for (let k = 1; k <= 5; k++) {
          const img = await store.take(path);
          assert.equal(img.mime, 'image/png');
          assert.equal(img.variant, k);
          assert.equal(img.repeated, false);
          const v = await rawPixels(Buffer.from(img.base64.toString('ascii'), 'base64'));
          assert.deepEqual([v.width, v.height, v.channels], [src.width, src.height, src.channels]);
          const d = bitDiff(src.data, v.data);
          assert.equal(d.bits, 1, `${path} variant ${k} differs in ${d.bits} bits`);
          assert.deepEqual(d.bytes, [variantByteIndex(k, src.channels)]);
          assert.equal((src.data[d.bytes[0]] ^ v.data[d.bytes[0]]) & 0xfe, 0, 'only the low bit');
          variants.push(v.data);
        }
        for (let a = 0; a < variants.length; a++) {
          for (let b = a + 1; b < variants.length; b++) assert.equal(bitDiff(variants[a], variants[b]).bits, 2, `variants ${a + 1} and ${b + 1}`);
        }
      }
      const log = collectLog();
      const again = await ImageStore.prepare({ sources: [rgb], unique: true, variantsPerImage: 1, log: log.log });
      await again.take(rgb);
      const rep = await again.take(rgb);
      assert.equal(rep.repeated, true);
      assert.match(log.lines[0].message, /variant\(s\) of .* are used/);
      await again.close();
    } finally {
      await store.close();
    }
  });

  it('sends the original file bytes when unique images are off', async () => {
    const dir = tempDir('orig');
    const p = await makeImage(dir, 'a.png');
    const store = await ImageStore.prepare({ sources: [p], unique: false, variantsPerImage: 3 });
    const a = await store.take(p);
    const { readFileSync } = await import('node:fs');
    assert.equal(a.base64.toString('ascii'), readFileSync(p).toString('base64'));
    assert.equal(a.variant, null);
    await store.close();
  });

  it('names an undecodable image', async () => {
    const dir = tempDir('bad');
    const { writeFileSync } = await import('node:fs');
    const bad = `${dir}/bad.png`;
    writeFileSync(bad, 'not an image');
    const own = tempDir('own');
    await assert.rejects(ImageStore.prepare({ sources: [bad], unique: true, variantsPerImage: 2, dir: own }), /cannot decode image .*bad\.png/);
    assert.equal(existsSync(own), true, 'a directory the caller gave is left to the caller');
  });

  it('the backend sends each request its own variant (decoded on the server side)', async () => {
    const dir = tempDir('wire');
    const page = await makeImage(dir, 'page.png', 24, 16);
    const rep = await SseReplayer.start({ keepImages: true, plan: () => ({ kind: 'schedule', firstMs: 1, everyMs: 1, tokens: 2 }) });
    const b = await OpenAIBackend.create(options([rep.url], collectLog().log));
    try {
      await b.prepareImages([{ path: page, requests: 3 }]);
      const [replica] = await b.start({ replicas: 1, gpusPerReplica: 0, log: () => {} });
      const res = await replica.infer([request(1, page), request(2, page), request(3, page)]);
      assert.deepEqual(res.map((r) => r.ok), [true, true, true]);
      const src = await rawPixels(page);
      const seen = new Set<number>();
      for (const q of rep.requests.filter((x) => x.method === 'POST')) {
        assert.match(JSON.stringify(q.body), /<data:image\/png;base64 \d+ chars>/);
        const v = await rawPixels(Buffer.from(q.image!, 'base64'));
        const d = bitDiff(src.data, v.data);
        assert.equal(d.bits, 1);
        seen.add(d.bytes[0]);
      }
      assert.equal(seen.size, 3, 'three requests, three different pixels');
    } finally {
      await b.close();
      await rep.close();
    }
  });
});
