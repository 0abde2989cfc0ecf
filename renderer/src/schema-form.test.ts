import { describe, expect, it } from 'vitest';
import {
  formFromSchema,
  humanise,
  initialValues,
  validateField,
  validateForm,
} from './schema-form';
import type { FieldSpec } from './schema-form';

// Shapes as `keepsake presets --json` prints them (web-h264 and vhs-restore, abridged).
const webH264 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    crf: {
      description: 'Quality (lower is better and larger)',
      default: 23,
      type: 'integer',
      minimum: 16,
      maximum: 32,
    },
    maxHeight: {
      description: 'Largest picture height (never upscales)',
      default: '1080',
      type: 'string',
      enum: ['360', '480', '720', '1080', '2160', 'original'],
    },
    keepMetadata: { description: 'Keep metadata', default: true, type: 'boolean' },
  },
};
const vhs = {
  type: 'object',
  required: ['aspect'],
  properties: {
    crop: {
      description: 'Overscan crop box W:H:X:Y, or none',
      default: null,
      type: ['string', 'null'],
      pattern: '^(\\d{1,5}):(\\d{1,5}):(\\d{1,5}):(\\d{1,5})$',
    },
    aspect: { type: 'string', enum: ['keep', '4:3', '16:9'] },
    gain: { type: 'number', exclusiveMinimum: 0, maximum: 4, multipleOf: 0.5 },
    layers: { type: 'array', items: { type: 'string' } },
    rate: { enum: [25, 30, 50] },
  },
};

const field = (schema: unknown, name: string): FieldSpec => {
  const f = formFromSchema(schema).fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
};

describe('formFromSchema', () => {
  it('maps enums to selects, integers to bounded numbers, booleans to checkboxes', () => {
    const { fields, unsupported } = formFromSchema(webH264);
    expect(unsupported).toEqual([]);
    expect(fields).toEqual([
      {
        name: 'crf',
        label: 'Quality (lower is better and larger)',
        required: false,
        kind: 'number',
        integer: true,
        minimum: 16,
        maximum: 32,
        default: 23,
      },
      {
        name: 'maxHeight',
        label: 'Largest picture height (never upscales)',
        required: false,
        kind: 'select',
        options: ['360', '480', '720', '1080', '2160', 'original'],
        numeric: false,
        default: '1080',
      },
      {
        name: 'keepMetadata',
        label: 'Keep metadata',
        required: false,
        kind: 'checkbox',
        default: true,
      },
    ]);
    expect(initialValues(fields)).toEqual({ crf: '23', maxHeight: '1080', keepMetadata: true });
  });

  it('keeps patterns, nullability and required; names what it cannot edit', () => {
    const { unsupported } = formFromSchema(vhs);
    expect(unsupported).toEqual(['layers']);
    expect(field(vhs, 'crop')).toMatchObject({
      kind: 'text',
      nullable: true,
      pattern: expect.any(String),
    });
    expect(field(vhs, 'aspect')).toMatchObject({ kind: 'select', required: true, label: 'Aspect' });
    expect(field(vhs, 'rate')).toMatchObject({
      kind: 'select',
      numeric: true,
      options: ['25', '30', '50'],
    });
    // A required select starts on its first option; an optional text with a null default empty.
    expect(initialValues(formFromSchema(vhs).fields)).toMatchObject({ aspect: 'keep', crop: '' });
  });

  it('returns nothing for a schema without properties', () => {
    expect(formFromSchema(undefined)).toEqual({ fields: [], unsupported: [] });
    expect(formFromSchema({ type: 'object' })).toEqual({ fields: [], unsupported: [] });
  });

  it('humanises names', () => {
    expect(humanise('maxHeight')).toBe('Max height');
    expect(humanise('segment_seconds')).toBe('Segment seconds');
  });
});

describe('validateField', () => {
  const crf = field(webH264, 'crf');
  it.each([
    ['23', undefined],
    ['16', undefined],
    ['32', undefined],
    ['', undefined],
    ['15', 'Enter a whole number from 16 to 32.'],
    ['33', 'Enter a whole number from 16 to 32.'],
    ['20.5', 'Enter a whole number.'],
    ['abc', 'Enter a number.'],
    ['1e1x', 'Enter a number.'],
  ])('crf %j → %s', (raw, error) => {
    expect(validateField(crf, raw)).toBe(error);
  });

  it('checks exclusive bounds and steps', () => {
    const gain = field(vhs, 'gain');
    expect(validateField(gain, '0')).toMatch(/from 0 to 4/);
    expect(validateField(gain, '1.5')).toBeUndefined();
    expect(validateField(gain, '1.2')).toBe('Must be a multiple of 0.5.');
  });

  it('checks string patterns and enum membership', () => {
    const crop = field(vhs, 'crop');
    expect(validateField(crop, '704:576:8:0')).toBeUndefined();
    expect(validateField(crop, '704x576')).toMatch(/expected format/);
    expect(validateField(field(webH264, 'maxHeight'), '999')).toMatch(/Choose/);
    expect(validateField(field(vhs, 'aspect'), '')).toBe('Required.');
  });
});

describe('validateForm', () => {
  it('builds typed params and leaves empty optional fields to the engine', () => {
    const { fields } = formFromSchema(webH264);
    expect(validateForm(fields, { crf: ' 20 ', maxHeight: '720', keepMetadata: false })).toEqual({
      errors: {},
      params: { crf: 20, maxHeight: '720', keepMetadata: false },
    });
    expect(validateForm(fields, { crf: '', maxHeight: '720', keepMetadata: true }).params).toEqual({
      maxHeight: '720',
      keepMetadata: true,
    });
  });

  it('reports every bad field and sends none of them', () => {
    const { fields } = formFromSchema(vhs);
    const result = validateForm(fields, { crop: 'bad', aspect: '', gain: '9', rate: '30' });
    expect(Object.keys(result.errors).sort()).toEqual(['aspect', 'crop', 'gain']);
    expect(result.params).toEqual({ rate: 30 });
  });
});
