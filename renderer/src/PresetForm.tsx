// A preset's parameters as a form, generated from its JSON Schema (schema-form.ts), with
// inline validation once a field has been touched or the form submitted.
import { useId } from 'react';
import type { FieldSpec, FormValues } from './schema-form';
import { validateField } from './schema-form';

export function PresetForm(props: {
  fields: readonly FieldSpec[];
  values: FormValues;
  onChange: (values: FormValues) => void;
  /** Show every error, not just touched ones (after a submit). */
  showAll: boolean;
  touched: ReadonlySet<string>;
  onTouch: (name: string) => void;
  /** How to show a list's choice (option-words.ts); the value itself when absent. */
  optionWords?: (field: string, value: string) => string;
}) {
  const { fields, values } = props;
  if (fields.length === 0) return <p className="muted">This preset has no settings.</p>;
  return (
    <div className="preset-form">
      {fields.map((field) => (
        <Field
          key={field.name}
          field={field}
          value={values[field.name]}
          showError={props.showAll || props.touched.has(field.name)}
          onBlur={() => props.onTouch(field.name)}
          onChange={(v) => props.onChange({ ...values, [field.name]: v })}
          optionWords={props.optionWords}
        />
      ))}
    </div>
  );
}

function Field(props: {
  field: FieldSpec;
  value: string | boolean | undefined;
  showError: boolean;
  onBlur: () => void;
  onChange: (value: string | boolean) => void;
  optionWords?: (field: string, value: string) => string;
}) {
  const { field, value } = props;
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const error = props.showError ? validateField(field, value) : undefined;
  const text = typeof value === 'string' ? value : '';
  const describedBy = [error ? errorId : '', hintFor(field) ? hintId : '']
    .filter(Boolean)
    .join(' ');
  const common = {
    id,
    name: field.name,
    onBlur: props.onBlur,
    'aria-invalid': error !== undefined,
    'aria-describedby': describedBy || undefined,
    'data-testid': `param-${field.name}`,
  };

  if (field.kind === 'checkbox') {
    return (
      <div className="field check">
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(e) => props.onChange(e.target.checked)}
        />
        <label htmlFor={id}>{field.label}</label>
      </div>
    );
  }

  return (
    <div className="field">
      <label htmlFor={id}>
        {field.label}
        {field.required && <span aria-hidden="true"> *</span>}
      </label>
      {field.kind === 'select' ? (
        <select
          {...common}
          value={text}
          required={field.required}
          onChange={(e) => props.onChange(e.target.value)}
        >
          {!field.required && <option value="">Default</option>}
          {field.options.map((o) => (
            <option key={o} value={o}>
              {props.optionWords?.(field.name, o) ?? o}
            </option>
          ))}
        </select>
      ) : field.kind === 'number' ? (
        <input
          {...common}
          type="number"
          inputMode={field.integer ? 'numeric' : 'decimal'}
          min={field.minimum ?? field.exclusiveMinimum}
          max={field.maximum ?? field.exclusiveMaximum}
          step={field.multipleOf ?? (field.integer ? 1 : 'any')}
          value={text}
          required={field.required}
          onChange={(e) => props.onChange(e.target.value)}
        />
      ) : (
        <input
          {...common}
          type="text"
          spellCheck={false}
          value={text}
          required={field.required}
          placeholder={field.nullable ? 'none' : undefined}
          maxLength={field.maxLength}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {hintFor(field) && (
        <p id={hintId} className="hint">
          {hintFor(field)}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function hintFor(field: FieldSpec): string | undefined {
  if (field.kind === 'number') {
    const lo = field.minimum ?? field.exclusiveMinimum;
    const hi = field.maximum ?? field.exclusiveMaximum;
    const range = lo !== undefined && hi !== undefined ? `${lo}–${hi}` : undefined;
    const def = field.default !== undefined ? `default ${field.default}` : undefined;
    return [range, def].filter(Boolean).join(', ') || undefined;
  }
  if (field.kind === 'text' && field.nullable) return 'Leave empty for none.';
  return undefined;
}
