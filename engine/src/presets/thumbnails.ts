import { definePreset, inputArgs, outPath } from './preset';

/**
 * Square pixels first: a tape or DVD frame is stored narrower or wider than it is shown
 * (720×576 shown at 4:3), and a picture made from the stored pixels comes out squeezed.
 */
const SQUARE_PIXELS = "scale=w='trunc(iw*sar/2)*2':h=ih,setsar=1";

export const thumbnails = definePreset({
  name: 'thumbnails',
  description: 'A poster frame and a contact sheet of frames sampled across the whole video.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    posterAt: {
      type: 'integer',
      min: 0,
      max: 99,
      default: 10,
      description: 'Poster frame position, percent of the duration',
    },
    columns: { type: 'integer', min: 2, max: 8, default: 4, description: 'Contact sheet columns' },
    rows: { type: 'integer', min: 2, max: 8, default: 4, description: 'Contact sheet rows' },
  },
  build(ctx, p) {
    const duration = Math.max(ctx.media.durationSeconds, 0.001);
    const tiles = p.columns * p.rows;
    // One frame every duration/tiles seconds fills the sheet from start to end.
    const rate = (tiles / duration).toFixed(6);
    return {
      notes: [],
      steps: [
        {
          outputs: ['poster.jpg'],
          args: [
            ...inputArgs(ctx, (duration * p.posterAt) / 100),
            '-map',
            '0:v:0',
            '-frames:v',
            '1',
            '-vf',
            `${SQUARE_PIXELS},scale=-2:'min(ih,720)'`,
            '-q:v',
            '3',
            '-f',
            'image2',
            outPath(ctx, 'poster.jpg'),
          ],
        },
        {
          outputs: ['contact-sheet.jpg'],
          args: [
            ...inputArgs(ctx),
            '-map',
            '0:v:0',
            '-vf',
            `fps=${rate},${SQUARE_PIXELS},scale=320:-2,tile=${p.columns}x${p.rows}`,
            '-frames:v',
            '1',
            '-q:v',
            '4',
            '-f',
            'image2',
            outPath(ctx, 'contact-sheet.jpg'),
          ],
        },
      ],
    };
  },
});
