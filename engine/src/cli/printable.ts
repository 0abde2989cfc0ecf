// What the CLI prints of names it did not choose (library files, folders, error messages
// naming them): control characters, line breaks and bidi overrides are shown escaped,
// so a crafted name cannot move the cursor, recolour the terminal or forge extra lines.
// Names added from now on are refused such characters; older ones may still hold them.

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return (
      NAMED[c] ??
      (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`)
    );
  });
}
