// "Does the host's sshd answer?": a TCP connection and the server's identification line
// ("SSH-2.0-OpenSSH_9.2p1 ..."), each bounded in time. No login: that is the connector's job.
import { connect } from 'node:net';

const MAX_BANNER_BYTES = 1024;

/** The server's SSH identification line, or undefined when it does not answer within timeoutMs. */
export function sshBanner(address: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let received = '';
    const socket = connect({ host: address, port });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    function finish(banner: string | undefined): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(banner);
    }
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      // Servers may send other lines before the identification line (RFC 4253, 4.2).
      const line = received.split(/\r?\n/).find((candidate, i, all) => i < all.length - 1 && candidate.startsWith('SSH-'));
      if (line !== undefined) finish(line);
      else if (received.length > MAX_BANNER_BYTES) finish(undefined);
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}
