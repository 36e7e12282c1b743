import { describe, expect, it } from 'vitest';
import { useColor } from '../../../src/shell/cli/context.js';

describe('useColor', () => {
  const tty = { isTTY: true } as NodeJS.WritableStream & { isTTY: boolean };
  const pipe = { isTTY: false } as NodeJS.WritableStream & { isTTY: boolean };

  it('colours only a terminal, and only when neither NO_COLOR nor --no-color says otherwise', () => {
    expect(useColor({ stdout: tty, env: {} }, true)).toBe(true);
    expect(useColor({ stdout: pipe, env: {} }, true)).toBe(false);
    expect(useColor({ stdout: tty, env: { NO_COLOR: '1' } }, true)).toBe(false);
    expect(useColor({ stdout: tty, env: {} }, false)).toBe(false);
  });

  it('treats an empty NO_COLOR as unset (no-color.org)', () => {
    expect(useColor({ stdout: tty, env: { NO_COLOR: '' } }, true)).toBe(true);
  });
});
