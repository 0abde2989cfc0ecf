// Plain words for a preset's choices whose values alone are jargon (a photo format's
// name), shown in the Advanced form's lists; the value sent to the engine is unchanged.

const WORDS: Record<string, Record<string, Record<string, string>>> = {
  'photo-web': {
    format: {
      webp: 'WebP — smallest, for sending by email or message',
      jpeg: 'JPEG — opens everywhere',
      avif: 'AVIF — as small as WebP, for newer phones and browsers',
    },
  },
};

/** How to show `value` of `preset`'s parameter `field`: its words, else the value itself. */
export function optionWords(preset: string, field: string, value: string): string {
  return WORDS[preset]?.[field]?.[value] ?? value;
}
