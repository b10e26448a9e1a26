// Draws the app icons (public/icons/*.png): a flame on an orange rounded square, as PNGs written with
// zlib alone (no image library). Run once: node scripts/make-icons.mjs; the PNGs are committed.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** A teardrop with its point up: a circle plus the cone to its tip. Coordinates in 0..1. */
function inDrop(x, y, cx, cy, r, tipY) {
  if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) return true;
  if (y < tipY || y > cy) return false;
  const t = (y - tipY) / (cy - tipY);
  return Math.abs(x - cx) <= r * Math.sin((t * Math.PI) / 2);
}

function draw(size, { maskable }) {
  const out = Buffer.alloc(size * size * 4);
  const ss = 4; // supersampling per axis
  const pad = maskable ? 0 : 0.04;
  const radius = maskable ? 0 : 0.22;
  const scale = maskable ? 0.72 : 0.86; // maskable: the flame stays inside the 80% safe zone
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) / size;
          const y = (py + (sy + 0.5) / ss) / size;
          // Rounded square background.
          const qx = Math.max(Math.abs(x - 0.5) - (0.5 - pad - radius), 0);
          const qy = Math.max(Math.abs(y - 0.5) - (0.5 - pad - radius), 0);
          if (Math.hypot(qx, qy) > radius + 1e-9 && (qx > 0 || qy > 0) && !(radius === 0 && Math.abs(x - 0.5) <= 0.5 - pad && Math.abs(y - 0.5) <= 0.5 - pad)) continue;
          const fx = 0.5 + (x - 0.5) / scale;
          const fy = 0.5 + (y - 0.5) / scale;
          let c = [194 + 40 * y, 65 - 20 * y, 12]; // orange, darker to the bottom
          if (inDrop(fx, fy, 0.5, 0.62, 0.25, 0.12)) c = [255, 247, 237];
          if (inDrop(fx, fy, 0.5, 0.7, 0.13, 0.42)) c = [250, 204, 21];
          r += c[0]; g += c[1]; b += c[2]; a += 255;
        }
      }
      const n = ss * ss;
      const i = (py * size + px) * 4;
      const cover = a / n / 255;
      out[i] = cover ? r / (n * cover) : 0;
      out[i + 1] = cover ? g / (n * cover) : 0;
      out[i + 2] = cover ? b / (n * cover) : 0;
      out[i + 3] = a / n;
    }
  }
  return png(size, out);
}

const dir = new URL('../public/icons/', import.meta.url);
writeFileSync(new URL('icon-192.png', dir), draw(192, { maskable: false }));
writeFileSync(new URL('icon-512.png', dir), draw(512, { maskable: false }));
writeFileSync(new URL('icon-maskable-512.png', dir), draw(512, { maskable: true }));
