import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import { run } from '../../../src/lab/command.ts';

describe("the lab's commands", () => {
  it('a tool that is not installed is a user error naming its Debian package, not an internal one', async () => {
    const error = await run('/nonexistent-dir/ip', ['link']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).format()).toBe('ip is not installed on this machine\n  install it: apt-get install iproute2 (provision lab up installs it)');
  });
});
