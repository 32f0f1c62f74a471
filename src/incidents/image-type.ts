// Which image an upload really is, from its first bytes: PNG and JPEG are
// accepted, anything else (an SVG with script, an HTML page named .png, a
// PDF) is not, whatever name or type the sender gave it.

export type ImageType = 'image/png' | 'image/jpeg';

const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The image type the magic bytes say, or undefined when they say neither PNG nor JPEG. */
export function detectImageType(data: Uint8Array): ImageType | undefined {
  if (data.length >= png.length && png.every((b, i) => data[i] === b)) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff)
    return 'image/jpeg';
  return undefined;
}

/** Strict base64 (standard alphabet, padding optional): anything else is refused rather than half-decoded. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const s = text.replace(/\s+/g, '');
  if (s === '' || s.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}
