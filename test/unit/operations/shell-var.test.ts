// shellAssignment writes every NAME=value line of the files a shell sources as root. Sourced by
// real dash and busybox sh, each hostile value must come back byte for byte and run nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shellAssignment } from '../../../src/operations/shell-var.ts';
import { posixShells } from '../../support/posix-shells.ts';

const dir = mkdtempSync(join(tmpdir(), 'provision-shell-var-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const canary = join(dir, 'canary');

const hostile = [
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `; touch ${canary} ;`,
  `x; touch ${canary}`,
  `'; touch ${canary}; '`,
  `"; touch ${canary}; "`,
  `\${x:=$(touch ${canary})}`,
  `a b c`,
  `| touch ${canary}`,
  `&& touch ${canary}`,
  `-n`,
  `if`,
  `A=B`,
  `~root`,
  `*`,
  `#comment`,
  `\\`,
  `é😀`,
  '',
];

describe('shellAssignment', () => {
  for (const shell of posixShells()) {
    it(`keeps every value data when ${shell.name} sources the file`, () => {
      for (const value of hostile) {
        const file = join(dir, 'network');
        writeFileSync(file, `${shellAssignment('GATEWAY', value)}\n`);
        const [program, ...args] = shell.command;
        const result = spawnSync(program, args, { input: `. ${file}\nprintf '%s' "$GATEWAY"\n`, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
        expect(result.status, `${JSON.stringify(value)}: ${result.stderr}`).toBe(0);
        expect(result.stdout).toBe(value);
        expect(existsSync(canary), `sourcing GATEWAY=${JSON.stringify(value)} ran a command`).toBe(false);
      }
    });
  }

  it('leaves a plain word bare, as the tutorials write it', () => {
    expect(shellAssignment('HOSTNAME', 'lvs1')).toBe('HOSTNAME=lvs1');
    expect(shellAssignment('GATEWAY', '192.168.2.1')).toBe('GATEWAY=192.168.2.1');
  });

  it('refuses a line break and a name that is no variable', () => {
    expect(() => shellAssignment('GATEWAY', 'a\nb')).toThrow(/line break/);
    expect(() => shellAssignment('A B', 'x')).toThrow(/not a shell variable name/);
  });
});
