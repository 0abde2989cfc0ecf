import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PHOTO_PIXEL_LIMIT, readPhotoInfo } from './photo-info';

const picture = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } });

describe('readPhotoInfo', () => {
  it('reads the EXIF date, its offset and the camera, without turning the date into local time', async () => {
    const jpeg = await picture(64, 48)
      .withExif({
        IFD0: { Make: 'Kodak', Model: 'EasyShare C310' },
        IFD2: { DateTimeOriginal: '1999:12:31 23:30:00', OffsetTimeOriginal: '-05:00' },
      })
      .jpeg()
      .toBuffer();
    expect(await readPhotoInfo(jpeg)).toEqual({
      rotation: 0,
      format: 'jpeg',
      width: 64,
      height: 48,
      make: 'Kodak',
      model: 'EasyShare C310',
      exifDateTime: '1999:12:31 23:30:00',
      exifOffset: '-05:00',
    });
  });

  it('gives the size as shown when the camera was held on its side', async () => {
    const jpeg = await picture(64, 48).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(await readPhotoInfo(jpeg)).toMatchObject({ rotation: 90, width: 48, height: 64 });
  });

  it('reads a photo with no EXIF at all (a PNG, a WebP)', async () => {
    expect(await readPhotoInfo(await picture(30, 20).png().toBuffer())).toEqual({
      rotation: 0,
      format: 'png',
      width: 30,
      height: 20,
    });
    expect(await readPhotoInfo(await picture(30, 20).webp().toBuffer())).toMatchObject({
      format: 'webp',
      width: 30,
    });
  });

  it('refuses a decompression bomb before decoding it', async () => {
    // 10,000 × 10,001 grey pixels compress to a few hundred KB of PNG.
    const bomb = await sharp({
      create: { width: 10_000, height: 10_001, channels: 3, background: '#808080' },
    })
      .greyscale()
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(2_000_000);
    expect(10_000 * 10_001).toBeGreaterThan(PHOTO_PIXEL_LIMIT);
    const info = await readPhotoInfo(bomb);
    expect(info).toMatchObject({ attention: 'too-large', width: 10_000, height: 10_001 });
    expect(info.attentionDetail).toMatch(/100 megapixels, more than the 80/);
  }, 30_000);

  it('marks bytes that are not a picture, and a picture cut short, as damaged', async () => {
    const noise = Buffer.alloc(4096, 7);
    expect(await readPhotoInfo(noise)).toMatchObject({
      attention: 'damaged',
      attentionDetail:
        "This photo is damaged or incomplete: Keepsake can't open it. The original is kept as it is.",
      attentionTechnical: expect.stringMatching(/unsupported image format/),
    });
    expect(await readPhotoInfo(Buffer.alloc(0))).toMatchObject({
      attention: 'damaged',
      attentionDetail:
        'This file is empty: nothing was copied into it. The original is kept as it is.',
    });
    const png = await picture(200, 200).png({ compressionLevel: 0 }).toBuffer();
    const cut = await readPhotoInfo(png.subarray(0, png.length / 2));
    expect(cut).toMatchObject({ attention: 'damaged', width: 200 });
    expect(cut.attentionDetail).not.toMatch(/[()]/);
    expect(cut.attentionTechnical).toBeTruthy();
  });

  it('says plainly that HEIC cannot be shown yet', async () => {
    // No HEIC encoder is at hand here (FFmpeg 5.1 and the prebuilt libvips have none), so
    // this is the start of a HEIF file (its ftyp box) with nothing decodable after it.
    // exifr, given these bytes whole, loops forever (a box of length 0): the test's
    // timeout guards that it only ever sees the EXIF block libvips hands over.
    const ftyp = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'),
      Buffer.alloc(1024),
    ]);
    const info = await readPhotoInfo(ftyp);
    expect(info.attention).toBe('unsupported');
    expect(info.attentionDetail).toMatch(/HEIC photo .* cannot show yet/);
  });
});
