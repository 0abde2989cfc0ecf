// Typed preset parameters. Clients never pass FFmpeg arguments: they pass values for
// these parameters, and every value is checked against a strict pattern before anything
// runs, so that nothing shaped like an option, a protocol, a path or filtergraph text can
// reach FFmpeg. Each parameter also yields its JSON Schema for forms and the API.

import { KeepsakeError } from '../core/errors';

interface Base {
  description: string;
}

export type ParamSpec =
  | (Base & { type: 'enum'; values: readonly string[]; default: string })
  | (Base & { type: 'integer'; min: number; max: number; default: number })
  | (Base & { type: 'number'; min: number; max: number; default: number })
  | (Base & { type: 'boolean'; default: boolean })
  /** A crop box `W:H:X:Y` in whole pixels; null means no crop. */
  | (Base & { type: 'crop'; default: null });

export interface CropBox {
  width: number;
  height: number;
  x: number;
  y: number;
}

/** The TypeScript value type of a parameter spec. */
export type ParamValue<S extends ParamSpec> = S extends { type: 'enum' }
  ? string
  : S extends { type: 'integer' | 'number' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : CropBox | null;

export type ParamSpecs = Record<string, ParamSpec>;
export type ParamValues<P extends ParamSpecs> = { [K in keyof P]: ParamValue<P[K]> };

const INTEGER = /^-?\d{1,9}$/;
const NUMBER = /^-?\d{1,9}(\.\d{1,6})?$/;
const CROP = /^(\d{1,5}):(\d{1,5}):(\d{1,5}):(\d{1,5})$/;

function isCropBox(raw: unknown): raw is CropBox {
  if (typeof raw !== 'object' || raw === null) return false;
  const box = raw as Record<string, unknown>;
  return ['width', 'height', 'x', 'y'].every((k) => Number.isSafeInteger(box[k]));
}

export function invalid(name: string, why: string): KeepsakeError {
  return new KeepsakeError('INVALID_PARAMETER', `parameter "${name}": ${why}`);
}

/** Parses one value, from JSON (typed) or from the command line (a string). */
function parseValue(name: string, spec: ParamSpec, raw: unknown): ParamValue<ParamSpec> {
  switch (spec.type) {
    case 'enum': {
      if (typeof raw !== 'string' || !spec.values.includes(raw)) {
        throw invalid(name, `must be one of ${spec.values.join(', ')}`);
      }
      return raw;
    }
    case 'integer':
    case 'number': {
      const pattern = spec.type === 'integer' ? INTEGER : NUMBER;
      const value =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && pattern.test(raw)
            ? Number(raw)
            : NaN;
      if (!Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
        throw invalid(name, `must be ${spec.type === 'integer' ? 'a whole number' : 'a number'}`);
      }
      if (value < spec.min || value > spec.max)
        throw invalid(name, `must be from ${spec.min} to ${spec.max}`);
      return value;
    }
    case 'boolean': {
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      throw invalid(name, 'must be true or false');
    }
    case 'crop': {
      if (raw === null || raw === 'none') return null;
      // A queued job stores the parsed box; it is checked again when the job runs or is
      // retried, so that form is read back through the same checks.
      const text = isCropBox(raw) ? `${raw.width}:${raw.height}:${raw.x}:${raw.y}` : raw;
      const match = typeof text === 'string' ? CROP.exec(text) : null;
      if (!match) throw invalid(name, 'must be a crop box W:H:X:Y in whole pixels, or none');
      const [width, height, x, y] = match.slice(1).map(Number) as [number, number, number, number];
      if (width < 16 || height < 16)
        throw invalid(name, 'the crop box must be at least 16×16 pixels');
      return { width, height, x, y };
    }
  }
}

/** Checks `raw` against `specs`: unknown names and bad values are errors naming the parameter. */
export function validateParams<P extends ParamSpecs>(
  specs: P,
  raw: Record<string, unknown>,
): ParamValues<P> {
  for (const name of Object.keys(raw)) {
    if (!Object.hasOwn(specs, name)) {
      throw invalid(name, `unknown parameter (known: ${Object.keys(specs).join(', ')})`);
    }
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = Object.hasOwn(raw, name) ? parseValue(name, spec, raw[name]) : spec.default;
  }
  return values as ParamValues<P>;
}

/** The JSON Schema (draft 2020-12) of a preset's parameters. */
export function toJsonSchema(specs: ParamSpecs): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const common = { description: spec.description, default: spec.default };
    switch (spec.type) {
      case 'enum':
        properties[name] = { ...common, type: 'string', enum: [...spec.values] };
        break;
      case 'integer':
      case 'number':
        properties[name] = { ...common, type: spec.type, minimum: spec.min, maximum: spec.max };
        break;
      case 'boolean':
        properties[name] = { ...common, type: 'boolean' };
        break;
      case 'crop':
        properties[name] = { ...common, type: ['string', 'null'], pattern: CROP.source };
        break;
    }
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    additionalProperties: false,
    properties,
  };
}
