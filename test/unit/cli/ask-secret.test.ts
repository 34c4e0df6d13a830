import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { askSecret } from '../../../src/cli/ask-secret.ts';
import { MIN_SECRET_LENGTH } from '../../../src/core/secret.ts';

class FakeTerminal extends EventEmitter {
  isTTY = true;
  raw: boolean[] = [];
  setRawMode(raw: boolean) {
    this.raw.push(raw);
  }
  resume() {}
  pause() {}
}

describe('askSecret', () => {
  it('reads a line in raw mode without echoing it, honouring backspace', async () => {
    const tty = new FakeTerminal();
    let shown = '';
    const answer = askSecret('sudo password: ', tty, { write: (t: string) => (shown += t) });
    tty.emit('data', Buffer.from('s3cx\u007fr'));
    tty.emit('data', Buffer.from('et\r'));
    expect(await answer).toBe('s3cret');
    expect(shown).toBe('sudo password: \n');
    expect(tty.raw).toEqual([true, false]);
  });

  it('gives up on Ctrl-C', async () => {
    const tty = new FakeTerminal();
    const answer = askSecret('p: ', tty, { write: () => undefined });
    tty.emit('data', Buffer.from('ab\u0003'));
    await expect(answer).rejects.toThrow('no password given');
    expect(tty.raw).toEqual([true, false]);
  });

  it('refuses a password shorter than the secret minimum, saying why (problem 7)', async () => {
    const tty = new FakeTerminal();
    const answer = askSecret('p: ', tty, { write: () => undefined });
    tty.emit('data', Buffer.from('e\r'));
    await expect(answer).rejects.toThrow(`has 1 character; a secret needs at least ${MIN_SECRET_LENGTH}, because every output is masked by searching for it`);
    await expect(answer).rejects.not.toThrow(/\be\b/);
  });

  it('refuses without a terminal, saying what to do instead', async () => {
    const pipe = Object.assign(new FakeTerminal(), { isTTY: false });
    await expect(askSecret('p: ', pipe, { write: () => undefined })).rejects.toThrow('--ask-become-pass needs a terminal');
  });
});
