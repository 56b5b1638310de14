// The image of a chat request: owns turning an `image_url` value into image bytes. Only base64 data URLs of PNG,
// JPEG or WebP are taken: this server never reaches the network, so http(s) URLs (which vLLM would fetch) and
// file URLs are refused with a 400 that says what to send instead. Pure.
import { badRequest, type ApiError } from './errors.js';

/** The MIME types a data URL may carry (image/jpg is a common misspelling of image/jpeg and is taken too). */
export const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg', 'image/jpg', 'image/webp'] as const;

export interface ImageData {
  readonly mime: string;
  readonly bytes: Buffer;
}

const PARAM = 'messages.content.image_url';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const refuse = (message: string): ApiError => badRequest(message, PARAM);

/** Decodes `data:image/png;base64,...`; anything else is a 400 naming the problem. */
export function parseImageDataUrl(url: string): ImageData {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https' || scheme === 'file') {
    throw refuse(
      `image_url ${scheme} URLs are not fetched: this test server has no network access. Send the image inline as a data URL, e.g. "data:image/png;base64,iVBORw0..." (PNG, JPEG or WebP).`,
    );
  }
  if (scheme !== 'data') throw refuse(`image_url must be a data URL such as "data:image/png;base64,..." (got ${describe(url)})`);
  const comma = url.indexOf(',');
  if (comma < 0) throw refuse('image_url is a data URL without a comma before its data');
  const header = url.slice(5, comma).toLowerCase();
  const parts = header.split(';').map((p) => p.trim());
  const mime = parts[0];
  if (!(IMAGE_MIME_TYPES as readonly string[]).includes(mime)) {
    throw refuse(`image_url data URL has type "${mime || '(none)'}"; this server takes ${IMAGE_MIME_TYPES.filter((m) => m !== 'image/jpg').join(', ')}`);
  }
  if (!parts.includes('base64')) throw refuse('image_url data URL must be base64-encoded (";base64," before the data)');
  const data = url.slice(comma + 1);
  if (data.length === 0) throw refuse('image_url data URL holds no data (the image is empty)');
  if (!BASE64.test(data) || data.length % 4 === 1 || (data.includes('=') && data.length % 4 !== 0)) {
    throw refuse('image_url data URL is not valid base64 (only A-Z, a-z, 0-9, +, / and = padding are allowed, in groups of 4)');
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) throw refuse('image_url data URL holds no data (the image is empty)');
  return { mime: mime === 'image/jpg' ? 'image/jpeg' : mime, bytes };
}

function describe(url: string): string {
  return url.length > 40 ? `"${url.slice(0, 37)}..."` : `"${url}"`;
}
