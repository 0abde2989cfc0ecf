// Plain words for a preset's choices whose values alone are jargon (a photo format's
// name), shown in the Advanced form's lists; the value sent to the engine is unchanged.
// A choice the engine refuses everywhere (AVIF: FFmpeg cannot stream it into the vault,
// presets/photo-web.ts) is shown but cannot be picked, so nobody starts a job that fails.

export interface OptionWords {
  label: string;
  /** Shown, but it cannot be chosen. */
  disabled: boolean;
}

const WORDS: Record<string, Record<string, Record<string, string | OptionWords>>> = {
  'photo-web': {
    format: {
      webp: 'WebP — smallest, for sending by email or message',
      jpeg: 'JPEG — opens everywhere',
      avif: { label: 'AVIF — cannot be made yet', disabled: true },
    },
  },
};

/** How to show `value` of `preset`'s parameter `field`: its words, else the value itself. */
export function optionWords(preset: string, field: string, value: string): OptionWords {
  const words = WORDS[preset]?.[field]?.[value];
  if (words === undefined) return { label: value, disabled: false };
  return typeof words === 'string' ? { label: words, disabled: false } : words;
}
