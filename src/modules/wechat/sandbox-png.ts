import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A square greyscale PNG of `size` pixels showing `cells`×`cells` black and
 * white cells (`dark(x, y)`): the sandbox's stand-in for a mini-program code,
 * a real image any viewer opens, distinct per scene.
 */
export function checkerPng(size: number, cells: number, dark: (x: number, y: number) => boolean) {
  const row = size + 1;
  const raw = Buffer.alloc(row * size, 0xff);
  for (let y = 0; y < size; y++) {
    raw[y * row] = 0; // filter: none
    const cy = Math.floor((y * cells) / size);
    for (let x = 0; x < size; x++) {
      if (dark(Math.floor((x * cells) / size), cy)) raw[y * row + 1 + x] = 0;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const PNG_SIGNATURE = SIGNATURE;
