// What must never be found in any output once a secret is masked: the secret and every text that
// gives it away, computed here independently of the redactor (src/core/secret.ts), so a form the
// redactor forgets fails a test.
import { quote } from '../../src/core/shell.ts';

/** The base64 characters that encode `bytes` alone when they follow `offset` other bytes in a longer text. */
export function base64Inside(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.from('xyz'.slice(0, offset)), bytes, Buffer.from('tail')]).toString('base64');
  return encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
}

/** The secret literally, shell-quoted, JSON-escaped (once and twice), backslash-escaped, percent-encoded, hex and base64 (3 alignments, both alphabets). */
export function giveaways(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const json = JSON.stringify(secret).slice(1, -1);
  return [
    ...new Set([
      secret,
      quote(secret).replace(/^'|'$/g, ''),
      json,
      JSON.stringify(json).slice(1, -1),
      secret.replace(/["\\]/g, '\\$&'),
      secret.replace(/["\\$`]/g, '\\$&'),
      secret.replace(/\r/g, '\\r').replace(/\n/g, '\\n'),
      encodeURIComponent(secret),
      bytes.toString('hex'),
      ...[0, 1, 2].flatMap((offset) => [base64Inside(bytes, offset), base64Inside(bytes, offset).replaceAll('+', '-').replaceAll('/', '_')]),
    ]),
  ];
}

/** The giveaways of `secrets` found in `text`, as "secret: form" lines (empty when none). */
export function leaks(text: string, secrets: readonly string[]): string[] {
  return secrets.flatMap((secret) => giveaways(secret).filter((form) => text.includes(form)).map((form) => `${JSON.stringify(secret)}: ${JSON.stringify(form)}`));
}
