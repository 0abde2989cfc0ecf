// `upstreamProxy` in the server configuration: checked when the file is read, and a
// refusal names the setting without the password.

import { describe, expect, it } from 'vitest';
import { parseServeConfig } from './serve-config';

describe('serve config upstreamProxy', () => {
  it('accepts socks5 and http proxies', () => {
    for (const upstreamProxy of ['socks5://u:p@10.0.0.2:1080', 'http://10.0.0.2:3128']) {
      expect(parseServeConfig({ upstreamProxy }).upstreamProxy).toBe(upstreamProxy);
    }
  });

  it('refuses one the proxy would resolve names for, without printing the password', () => {
    const parse = () =>
      parseServeConfig({ upstreamProxy: 'socks5h://u:hunter2@proxy.example:1080' }, 'serve.json');
    expect(parse).toThrow(
      /^serve\.json: upstreamProxy: socks5h:\/\/proxy\.example:1080: use socks5/,
    );
    expect(parse).not.toThrow(/hunter2/);
  });
});
