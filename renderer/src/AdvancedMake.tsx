// Make, "Advanced": pick a file, a preset and its settings (a form generated from the
// preset's parameter schema), where it runs (this computer or a paired server) and the
// mode. The Make screen (MakeScreen.tsx) opens with goals in plain words; this is the
// form it had before, unchanged in what it does, under its "Advanced" disclosure.
import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { getBridge } from './bridge';
import type { FileView, PresetInfo } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes } from './format';
import { optionWords } from './option-words';
import { outputName } from './output-names';
import { PresetForm } from './PresetForm';
import {
  useFolderFiles,
  useFolders,
  useJobActions,
  usePresets,
  useServers,
  useSettings,
  useSettingsActions,
} from './queries';
import { formFromSchema, initialValues, validateForm } from './schema-form';
import type { FormValues } from './schema-form';
import { useUiStore } from './ui-store';

/** Presets say what they accept in their own words; the library says what a file is. */
export function presetFits(preset: PresetInfo, file: FileView | undefined): boolean {
  if (!file) return true;
  const accepts = preset.accepts.toLowerCase();
  if (accepts === 'any' || accepts === '*') return true;
  if (file.kind === 'photo') return accepts === 'image' || accepts === 'photo';
  return accepts === file.kind;
}

/** The files a job would be started on: those the preset can take; none before a choice. */
export function jobTargets(files: readonly FileView[], preset: PresetInfo | undefined): FileView[] {
  return preset ? files.filter((f) => presetFits(preset, f)) : [];
}

export function AdvancedMake() {
  const target = useUiStore((s) => s.makeTarget);
  const folders = useFolders();
  const presets = usePresets();
  const servers = useServers(false);
  const { create } = useJobActions();
  const go = useUiStore((s) => s.go);

  const [folderId, setFolderId] = useState<string | undefined>(target?.folderId);
  const [fileId, setFileId] = useState<string | undefined>(target?.fileId);
  const [presetName, setPresetName] = useState<string>();
  const [values, setValues] = useState<FormValues>({});
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [where, setWhere] = useState<string>(''); // '' = this computer
  const [mode, setMode] = useState<'manual' | 'automated'>('manual');
  // The folder chosen last time, kept by the engine (a setting), until one is typed here.
  const settings = useSettings();
  const saveSettings = useSettingsActions();
  const [typedOutDir, setOutDir] = useState<string>();
  const outDir = typedOutDir ?? settings.data?.deliveryFolder ?? '';
  const [allInFolder, setAllInFolder] = useState(false);
  const [failures, setFailures] = useState<string[]>([]);

  const activeFolder = folderId ?? folders.data?.[0]?.id;
  const files = useFolderFiles(activeFolder);
  const file = files.data?.find((f) => f.id === fileId);
  const preset = presets.data?.find((p) => p.name === presetName);
  const form = useMemo(() => formFromSchema(preset?.parameters), [preset]);
  const bridge = getBridge();

  const choosePreset = (name: string) => {
    setPresetName(name);
    const next = presets.data?.find((p) => p.name === name);
    setValues(initialValues(formFromSchema(next?.parameters).fields));
    setTouched(new Set());
    setSubmitted(false);
  };

  const result = validateForm(form.fields, values);
  const targets = jobTargets(allInFolder ? (files.data ?? []) : file ? [file] : [], preset);
  // A preset chosen for another file may not fit the one picked since: never start it.
  const unfit = !allInFolder && file && preset && !presetFits(preset, file);
  const outDirMissing = mode === 'automated' && !outDir.trim();
  const canSubmit =
    preset !== undefined &&
    targets.length > 0 &&
    Object.keys(result.errors).length === 0 &&
    !outDirMissing;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (!canSubmit || !preset) return;
    const errors: string[] = [];
    let made = 0;
    for (const f of targets) {
      try {
        await create.mutateAsync({
          fileId: f.id,
          preset: preset.name,
          params: result.params,
          mode,
          ...(where ? { remote: where } : {}),
          ...(mode === 'automated' ? { outDir: outDir.trim() } : {}),
        });
        made++;
      } catch (err) {
        errors.push(`${f.rel}: ${errorText(err)}`);
      }
    }
    setFailures(errors);
    if (made > 0 && mode === 'automated' && outDir.trim() !== settings.data?.deliveryFolder) {
      saveSettings.mutate({ deliveryFolder: outDir.trim() });
    }
    if (made > 0 && errors.length === 0) {
      go('jobs', `${made === 1 ? 'Job' : `${made} jobs`} added: ${outputName(preset.name)}.`);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="form" noValidate aria-label="New job">
      <fieldset>
        <legend>1. The file</legend>
        <div className="field">
          <label htmlFor="make-folder">Folder</label>
          <select
            id="make-folder"
            value={activeFolder ?? ''}
            onChange={(e) => {
              setFolderId(e.target.value);
              setFileId(undefined);
            }}
          >
            {folders.data?.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="make-file">File</label>
          <select
            id="make-file"
            value={fileId ?? ''}
            disabled={allInFolder}
            onChange={(e) => setFileId(e.target.value || undefined)}
          >
            <option value="">Choose a file…</option>
            {files.data?.map((f) => (
              <option key={f.id} value={f.id}>
                {f.rel} ({f.kind}, {formatBytes(f.size)}){f.encrypted ? '' : ' · not encrypted'}
              </option>
            ))}
          </select>
          {files.isError && <p className="field-error">{errorText(files.error)}</p>}
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={allInFolder}
            onChange={(e) => setAllInFolder(e.target.checked)}
          />
          Every matching file in this folder
          {allInFolder && preset ? ` (${targets.length})` : ''}
        </label>
        {file && !file.encrypted && !allInFolder && (
          <p className="warning">This file is not encrypted yet: encrypt its folder first.</p>
        )}
      </fieldset>

      <fieldset>
        <legend>2. What to make</legend>
        {presets.isError && (
          <p role="alert" className="error">
            {errorText(presets.error)}
          </p>
        )}
        <div className="presets" role="radiogroup" aria-label="Preset">
          {presets.data?.map((p) => {
            const fits = presetFits(p, allInFolder ? undefined : file);
            return (
              <label key={p.name} className={fits ? 'preset' : 'preset unfit'}>
                <input
                  type="radio"
                  name="preset"
                  value={p.name}
                  checked={presetName === p.name}
                  disabled={!fits}
                  onChange={() => choosePreset(p.name)}
                />
                <span>
                  <strong>{p.name}</strong>
                  <span className="muted"> — {p.description}</span>
                  {!fits && <span className="muted"> (for {p.accepts} files)</span>}
                </span>
              </label>
            );
          })}
        </div>
        {preset && (
          <>
            <h3 className="sub">Settings</h3>
            <PresetForm
              fields={form.fields}
              values={values}
              onChange={setValues}
              showAll={submitted}
              touched={touched}
              onTouch={(name) => setTouched(new Set(touched).add(name))}
              optionWords={(field, value) => optionWords(preset.name, field, value)}
            />
            {form.unsupported.length > 0 && (
              <p className="muted small">
                Left at the engine’s defaults: {form.unsupported.join(', ')}.
              </p>
            )}
          </>
        )}
      </fieldset>

      <fieldset>
        <legend>3. Where and how</legend>
        <p className="group-label" id="make-where">
          Runs on
        </p>
        <div className="radios" role="radiogroup" aria-labelledby="make-where">
          <label>
            <input type="radio" name="where" checked={where === ''} onChange={() => setWhere('')} />
            This computer
          </label>
          {servers.data?.map((s) => (
            <label key={s.name}>
              <input
                type="radio"
                name="where"
                checked={where === s.name}
                onChange={() => setWhere(s.name)}
              />
              {s.name} <span className="muted">({s.health.status})</span>
            </label>
          ))}
        </div>
        <p className="group-label" id="make-mode">
          Mode
        </p>
        <div className="radios" role="radiogroup" aria-labelledby="make-mode">
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === 'manual'}
              onChange={() => setMode('manual')}
            />
            Manual: keep the result encrypted in the vault
          </label>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === 'automated'}
              onChange={() => setMode('automated')}
            />
            Automated: also save the decrypted result to a folder
          </label>
        </div>
        {mode === 'automated' && (
          <div className="field">
            <label htmlFor="make-outdir">Output folder</label>
            <div className="row">
              <input
                id="make-outdir"
                type="text"
                spellCheck={false}
                autoComplete="off"
                value={outDir}
                onChange={(e) => setOutDir(e.target.value)}
                aria-invalid={submitted && outDirMissing}
              />
              {bridge?.pickFolder && (
                <button
                  type="button"
                  onClick={() => void bridge.pickFolder?.().then((p) => p && setOutDir(p))}
                >
                  Choose…
                </button>
              )}
            </div>
            {submitted && outDirMissing && (
              <p className="field-error" role="alert">
                Choose where the results go.
              </p>
            )}
          </div>
        )}
      </fieldset>

      {submitted && !preset && (
        <p className="field-error" role="alert">
          Choose a preset.
        </p>
      )}
      {unfit && (
        <p className="field-error" role="alert">
          {preset.name} is for {preset.accepts === 'image' ? 'photos' : `${preset.accepts} files`},
          and {file.rel} is {file.kind === 'photo' ? 'a photo' : `a ${file.kind} file`}: choose
          another preset.
        </p>
      )}
      {submitted && preset && !unfit && targets.length === 0 && (
        <p className="field-error" role="alert">
          Choose a file.
        </p>
      )}
      {failures.length > 0 && (
        <div role="alert" className="error">
          <p>Some jobs could not be added:</p>
          <ul>
            {failures.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending
            ? 'Adding…'
            : targets.length > 1
              ? `Start ${targets.length} jobs`
              : 'Start job'}
        </button>
      </div>
    </form>
  );
}
