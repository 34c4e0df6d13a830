// -K / --ask-become-pass: the sudo password typed once at the terminal, never echoed, for the
// hosts whose inventory names no password variable (Ansible's behaviour).
import { UserError } from '../core/errors.ts';
import { noteSecret, secretLengthProblem } from '../core/secret.ts';

interface Terminal {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Reads one line from the terminal without echo. Ctrl-C or Ctrl-D gives up. */
export function askSecret(prompt: string, input: Terminal, output: { write(text: string): unknown }): Promise<string> {
  if (!input.isTTY || !input.setRawMode) {
    return Promise.reject(new UserError('--ask-become-pass needs a terminal to ask on', {}, 'run it from a terminal, or give the hosts become: { password_env: NAME } and export NAME'));
  }
  output.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error?: UserError) => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      noteSecret(typed);
      const tooShort = error ? undefined : secretLengthProblem(typed);
      if (error) reject(error);
      else if (tooShort !== undefined) reject(new UserError(`the password typed for --ask-become-pass ${tooShort}`, {}, 'use a longer sudo password, or give the hosts become: { password_env: NAME }'));
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003' || char === '\u0004') return finish(new UserError('no password given', {}, 'run again and type the sudo password'));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += char;
      }
    };
    input.on('data', onData);
  });
}

/** The environment variable through which the typed password reaches the connectors. */
export const ASKED_BECOME_PASSWORD_ENV = 'PROVISION_ASKED_BECOME_PASSWORD';
