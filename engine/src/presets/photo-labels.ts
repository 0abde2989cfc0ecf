// An item's title and date as a photo carries them: EXIF (DateTimeOriginal and its
// offset, the title as ImageDescription) and XMP (dc:title, photoshop:DateCreated,
// exif:DateTimeOriginal), which photo viewers and libraries read. A bare year or month
// goes into XMP only: its dates may say just that, EXIF's need a whole day. FFmpeg writes neither
// into WebP (ffmpeg/webp-metadata.ts adds them).

import type { OutputLabels } from './output-labels';

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** A year (`1989`) or a month (`1989-12`): all the family knows of some tapes. */
const PART = /^\d{4}(?:-\d{2})?$/;

interface PhotoDate {
  /** EXIF's form: `1989:12:24 18:30:00`; absent for a year or a month (EXIF needs a day). */
  exif?: string;
  /** `+02:00`, when the date says. */
  offset?: string;
  /** ISO 8601 as written: `1989`, `1989-12`, `1989-12-24` or `1989-12-24T18:30:00+02:00`. */
  iso: string;
}

function photoDate(date: string): PhotoDate | undefined {
  if (PART.test(date)) return { iso: date };
  const m = DATE.exec(date);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone] = m;
  const offset =
    zone === undefined
      ? undefined
      : zone === 'Z'
        ? '+00:00'
        : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  return { exif: `${y}:${mo}:${d} ${h}:${mi}:${s}`, ...(offset ? { offset } : {}), iso: date };
}

// TIFF field types and the tags written.
const ASCII = 2;
const LONG = 4;
const IMAGE_DESCRIPTION = 0x010e;
const EXIF_IFD = 0x8769;
const DATE_TIME_ORIGINAL = 0x9003;
const OFFSET_TIME_ORIGINAL = 0x9011;

interface Field {
  tag: number;
  type: number;
  /** ASCII: the text's bytes (NUL added); LONG: filled in as the layout is known. */
  value: Buffer | number;
}

const ascii = (text: string): Buffer => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)]);

/** Writes one IFD at `at` (its large values after it); returns the bytes and where it ends. */
function ifd(fields: Field[], at: number): Buffer {
  const sorted = [...fields].sort((a, b) => a.tag - b.tag);
  const table = Buffer.alloc(2 + sorted.length * 12 + 4);
  table.writeUInt16LE(sorted.length, 0);
  const extra: Buffer[] = [];
  let next = at + table.length;
  sorted.forEach((field, i) => {
    const entry = 2 + i * 12;
    table.writeUInt16LE(field.tag, entry);
    table.writeUInt16LE(field.type, entry + 2);
    if (typeof field.value === 'number') {
      table.writeUInt32LE(1, entry + 4);
      table.writeUInt32LE(field.value, entry + 8);
      return;
    }
    const bytes = field.value;
    table.writeUInt32LE(bytes.length, entry + 4);
    if (bytes.length <= 4) {
      bytes.copy(table, entry + 8);
      return;
    }
    table.writeUInt32LE(next, entry + 8);
    const padded = bytes.length % 2 ? Buffer.concat([bytes, Buffer.alloc(1)]) : bytes;
    extra.push(padded);
    next += padded.length;
  });
  return Buffer.concat([table, ...extra]);
}

/** A little-endian TIFF-structured EXIF block, or undefined when there is nothing to say. */
export function exifFor(labels: OutputLabels): Buffer | undefined {
  const found = labels.date ? photoDate(labels.date) : undefined;
  const date = found?.exif ? { exif: found.exif, offset: found.offset } : undefined;
  if (!labels.title && !date) return undefined;
  const header = Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]);
  const exifFields: Field[] = [];
  if (date) {
    exifFields.push({ tag: DATE_TIME_ORIGINAL, type: ASCII, value: ascii(date.exif) });
    if (date.offset) {
      exifFields.push({ tag: OFFSET_TIME_ORIGINAL, type: ASCII, value: ascii(date.offset) });
    }
  }
  const ifd0Fields: Field[] = [];
  if (labels.title) {
    ifd0Fields.push({ tag: IMAGE_DESCRIPTION, type: ASCII, value: ascii(labels.title) });
  }
  if (exifFields.length === 0) return Buffer.concat([header, ifd(ifd0Fields, 8)]);
  // IFD0 is laid out once to learn where the Exif IFD can start after it.
  const pointer: Field = { tag: EXIF_IFD, type: LONG, value: 0 };
  const first = ifd([...ifd0Fields, pointer], 8);
  pointer.value = 8 + first.length;
  return Buffer.concat([header, ifd([...ifd0Fields, pointer], 8), ifd(exifFields, pointer.value)]);
}

const xmlText = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** An XMP packet with the title and date, or undefined when there is nothing to say. */
export function xmpFor(labels: OutputLabels): Buffer | undefined {
  const date = labels.date ? photoDate(labels.date) : undefined;
  if (!labels.title && !date) return undefined;
  const lines = [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '<rdf:Description rdf:about=""',
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"',
    ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"',
    ' xmlns:exif="http://ns.adobe.com/exif/1.0/">',
  ];
  if (labels.title) {
    lines.push(
      `<dc:title><rdf:Alt><rdf:li xml:lang="x-default">${xmlText(labels.title)}</rdf:li></rdf:Alt></dc:title>`,
    );
  }
  if (date) {
    lines.push(`<photoshop:DateCreated>${date.iso}</photoshop:DateCreated>`);
    if (date.exif) lines.push(`<exif:DateTimeOriginal>${date.iso}</exif:DateTimeOriginal>`);
  }
  lines.push('</rdf:Description>', '</rdf:RDF>', '</x:xmpmeta>', '<?xpacket end="w"?>');
  return Buffer.from(lines.join('\n'), 'utf8');
}
