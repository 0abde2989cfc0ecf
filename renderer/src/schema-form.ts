// Turns a preset's parameter schema (JSON Schema, as GET /v1/presets lists it) into form
// fields, and checks what the user typed the way the engine will: string enums become a
// select, numbers and integers a number input with their bounds, booleans a checkbox,
// other strings a text input with their pattern and length limits. Values go back to the
// engine as `params` (string | number | boolean). The engine validates again; this is
// for inline feedback, not trust.

export type ParamValue = string | number | boolean;

interface FieldBase {
  name: string;
  /** What to show: the schema's description, else the name in words. */
  label: string;
  required: boolean;
}

export type FieldSpec =
  | (FieldBase & { kind: 'select'; options: string[]; numeric: boolean; default?: string })
  | (FieldBase & {
      kind: 'number';
      integer: boolean;
      minimum?: number;
      maximum?: number;
      exclusiveMinimum?: number;
      exclusiveMaximum?: number;
      multipleOf?: number;
      default?: number;
    })
  | (FieldBase & { kind: 'checkbox'; default: boolean })
  | (FieldBase & {
      kind: 'text';
      pattern?: string;
      minLength?: number;
      maxLength?: number;
      /** The schema allows null: an empty field means "none". */
      nullable: boolean;
      default?: string;
    });

/** What the inputs hold: text for text/number/select inputs, a flag for checkboxes. */
export type FormValues = Record<string, string | boolean>;

export interface FormSchema {
  fields: FieldSpec[];
  /** Properties this form cannot edit (their engine defaults apply), for an honest note. */
  unsupported: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

export function humanise(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function formFromSchema(schema: unknown): FormSchema {
  const fields: FieldSpec[] = [];
  const unsupported: string[] = [];
  if (!isObject(schema) || !isObject(schema.properties)) return { fields, unsupported };
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [],
  );
  for (const [name, prop] of Object.entries(schema.properties)) {
    const field = isObject(prop) ? fieldFrom(name, prop, required.has(name)) : undefined;
    if (field) fields.push(field);
    else unsupported.push(name);
  }
  return { fields, unsupported };
}

function fieldFrom(name: string, prop: Json, required: boolean): FieldSpec | undefined {
  const types = (Array.isArray(prop.type) ? prop.type : [prop.type]).filter(
    (t): t is string => typeof t === 'string',
  );
  const nullable = types.includes('null');
  const type = types.find((t) => t !== 'null');
  const base: FieldBase = {
    name,
    label: typeof prop.description === 'string' ? prop.description : humanise(name),
    required,
  };

  if (Array.isArray(prop.enum)) {
    const values = prop.enum.filter((v) => v !== null);
    if (values.every((v) => typeof v === 'string')) {
      const field: FieldSpec = { ...base, kind: 'select', options: values, numeric: false };
      if (typeof prop.default === 'string') field.default = prop.default;
      return field;
    }
    if (values.every((v) => typeof v === 'number')) {
      const field: FieldSpec = {
        ...base,
        kind: 'select',
        options: values.map(String),
        numeric: true,
      };
      if (typeof prop.default === 'number') field.default = String(prop.default);
      return field;
    }
    return undefined;
  }

  switch (type) {
    case 'boolean':
      return { ...base, kind: 'checkbox', default: prop.default === true };
    case 'integer':
    case 'number': {
      const field: FieldSpec = { ...base, kind: 'number', integer: type === 'integer' };
      const bounds = [
        'minimum',
        'maximum',
        'exclusiveMinimum',
        'exclusiveMaximum',
        'multipleOf',
        'default',
      ] as const;
      for (const key of bounds) {
        const value = num(prop[key]);
        if (value !== undefined) field[key] = value;
      }
      return field;
    }
    case 'string': {
      const field: FieldSpec = { ...base, kind: 'text', nullable };
      if (typeof prop.pattern === 'string') field.pattern = prop.pattern;
      const minLength = num(prop.minLength);
      const maxLength = num(prop.maxLength);
      if (minLength !== undefined) field.minLength = minLength;
      if (maxLength !== undefined) field.maxLength = maxLength;
      if (typeof prop.default === 'string') field.default = prop.default;
      return field;
    }
    default:
      return undefined;
  }
}

export function initialValues(fields: readonly FieldSpec[]): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    if (field.kind === 'checkbox') values[field.name] = field.default;
    else if (field.kind === 'number') values[field.name] = field.default?.toString() ?? '';
    else
      values[field.name] =
        field.default ??
        (field.kind === 'select' && field.required ? (field.options[0] ?? '') : '');
  }
  return values;
}

function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    try {
      return new RegExp(pattern);
    } catch {
      return undefined;
    }
  }
}

/** The error to show under a field, or undefined when the value is acceptable. */
export function validateField(
  field: FieldSpec,
  raw: string | boolean | undefined,
): string | undefined {
  if (field.kind === 'checkbox') return undefined;
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return field.required ? 'Required.' : undefined;

  switch (field.kind) {
    case 'select':
      return field.options.includes(text) ? undefined : 'Choose one of the listed values.';
    case 'number': {
      const value = Number(text);
      if (!Number.isFinite(value) || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
        return 'Enter a number.';
      }
      if (field.integer && !Number.isInteger(value)) return 'Enter a whole number.';
      const range = describeRange(field);
      if (field.minimum !== undefined && value < field.minimum) return range;
      if (field.maximum !== undefined && value > field.maximum) return range;
      if (field.exclusiveMinimum !== undefined && value <= field.exclusiveMinimum) return range;
      if (field.exclusiveMaximum !== undefined && value >= field.exclusiveMaximum) return range;
      if (field.multipleOf !== undefined && !isMultiple(value, field.multipleOf)) {
        return `Must be a multiple of ${field.multipleOf}.`;
      }
      return undefined;
    }
    case 'text': {
      const length = [...text].length;
      if (field.minLength !== undefined && length < field.minLength) {
        return `At least ${field.minLength} characters.`;
      }
      if (field.maxLength !== undefined && length > field.maxLength) {
        return `At most ${field.maxLength} characters.`;
      }
      if (field.pattern !== undefined) {
        const re = compilePattern(field.pattern);
        if (re && !re.test(text)) return `Does not match the expected format (${field.pattern}).`;
      }
      return undefined;
    }
  }
}

function isMultiple(value: number, step: number): boolean {
  const q = value / step;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

export function describeRange(field: Extract<FieldSpec, { kind: 'number' }>): string {
  const lo = field.minimum ?? field.exclusiveMinimum;
  const hi = field.maximum ?? field.exclusiveMaximum;
  const what = field.integer ? 'a whole number' : 'a number';
  if (lo !== undefined && hi !== undefined) return `Enter ${what} from ${lo} to ${hi}.`;
  if (lo !== undefined) return `Enter ${what} of at least ${lo}.`;
  if (hi !== undefined) return `Enter ${what} of at most ${hi}.`;
  return `Enter ${what}.`;
}

export interface FormResult {
  /** Field name → message; empty when the form can be sent. */
  errors: Record<string, string>;
  /** What to send as `params`: empty optional fields are left out (engine defaults apply). */
  params: Record<string, ParamValue>;
}

export function validateForm(fields: readonly FieldSpec[], values: FormValues): FormResult {
  const errors: Record<string, string> = {};
  const params: Record<string, ParamValue> = {};
  for (const field of fields) {
    const raw = values[field.name];
    const error = validateField(field, raw);
    if (error) {
      errors[field.name] = error;
      continue;
    }
    if (field.kind === 'checkbox') {
      params[field.name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') continue;
    if (field.kind === 'number' || (field.kind === 'select' && field.numeric)) {
      params[field.name] = Number(text);
    } else {
      params[field.name] = text;
    }
  }
  return { errors, params };
}
