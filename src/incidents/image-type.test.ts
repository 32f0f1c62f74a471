import { describe, expect, it } from 'vitest';

import { decodeBase64Strict, detectImageType } from './image-type.ts';

describe('detectImageType', () => {
  it.each([
    ['a PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0], 'image/png'],
    ['a JPEG', [0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'image/jpeg'],
    ['an SVG', [...Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">')], undefined],
    ['HTML', [...Buffer.from('<!doctype html><script>')], undefined],
    ['a GIF', [...Buffer.from('GIF89a')], undefined],
    ['a truncated PNG signature', [0x89, 0x50, 0x4e, 0x47], undefined],
    ['nothing', [], undefined],
  ])('%s', (_name, bytes, expected) => {
    expect(detectImageType(Uint8Array.from(bytes))).toBe(expected);
  });
});

describe('decodeBase64Strict', () => {
  it('decodes standard base64, with or without padding and line breaks', () => {
    expect(decodeBase64Strict('aGVsbG8=')?.toString()).toBe('hello');
    expect(decodeBase64Strict('aGVs\nbG8')?.toString()).toBe('hello');
  });
  it.each(['', 'not base64!', 'aGVsbG8===', 'a', 'aGVs-G8_'])('refuses %j', (text) => {
    expect(decodeBase64Strict(text)).toBeUndefined();
  });
});
