// The drop-in the realserver role writes for nginx (listen.ts), read by the real nginx: Debian 12's
// package from the lab's mirror, unpacked into a temporary directory with its own nginx.conf (which
// includes conf.d/*.conf and the default site of port 80) pointed there, checked with `nginx -t`.
// Skipped, saying why, where the mirror has no nginx (the lab was never built on this machine).
// apache2 is not in the mirror: its file is checked by its plan only (realserver.test.ts).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/model.ts';
import { configString, nginxListenPath, renderNginxListen } from './listen.ts';
import { realServerView } from './view.ts';

const mirror = path.join(process.env.PROVISION_LAB_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'provision', 'lab'), 'mirror');
const debs = existsSync(mirror) ? readdirSync(mirror).filter((f) => /^nginx(-common)?_.*\.deb$/.test(f)) : [];
const dpkgDeb = spawnSync('dpkg-deb', ['--version']).status === 0;
const available = debs.some((f) => f.startsWith('nginx_')) && debs.some((f) => f.startsWith('nginx-common_')) && dpkgDeb;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Debian's nginx unpacked in a fresh directory, its nginx.conf pointed at it; returns the root and the configuration directory. */
function unpackNginx(): { dir: string; etc: string; nginx: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provision-nginx-'));
  dirs.push(dir);
  for (const deb of debs) {
    const unpacked = spawnSync('dpkg-deb', ['-x', path.join(mirror, deb), path.join(dir, 'root')], { encoding: 'utf8' });
    if (unpacked.status !== 0) throw new Error(`dpkg-deb -x ${deb}: ${unpacked.stderr}`);
  }
  const etc = path.join(dir, 'root', 'etc', 'nginx');
  const conf = readFileSync(path.join(etc, 'nginx.conf'), 'utf8')
    .replace(/^user .*;$/m, '')
    .replaceAll('/etc/nginx/', `${etc}/`)
    .replace('/run/nginx.pid', path.join(dir, 'nginx.pid'))
    .replaceAll('/var/log/nginx/', `${dir}/`)
    // The temporary directories compiled in (/var/lib/nginx/...), which nginx -t creates.
    .replace(/^http \{$/m, `http {\n${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `\t${kind}_temp_path ${dir}/${kind};`).join('\n')}`);
  writeFileSync(path.join(etc, 'nginx.conf'), conf);
  // The package's postinst links the default site (port 80); ours must sit beside it.
  copyFileSync(path.join(etc, 'sites-available', 'default'), path.join(etc, 'sites-enabled', 'default'));
  return { dir, etc, nginx: path.join(dir, 'root', 'usr', 'sbin', 'nginx') };
}

describe('the nginx drop-in read by the real nginx', () => {
  it.skipIf(!available)(`nginx -t accepts ${nginxListenPath} beside Debian's default site (the nginx .deb of the lab mirror)`, () => {
    const c = resolveCluster(
      {
        name: 'www',
        manager: 'none',
        directors: ['d1'],
        nat: { interface: 'eth1', gateway: '10.0.1.254' },
        virtual_services: [
          { vip: '10.0.0.100', port: 80, forwarding: 'nat', realservers: [{ host: 'web1', port: 8080 }] },
          { vip: '10.0.0.101', port: 80, forwarding: 'nat', realservers: [{ host: 'web1', port: 8081 }] },
        ],
        realserver: { services: ['nginx'] },
      },
      () => '10.0.1.11',
    );
    const { dir, etc, nginx } = unpackNginx();
    const view = realServerView(c, 'web1')!;
    expect(view.webPorts.map((p) => p.port)).toEqual([8080, 8081]);
    writeFileSync(path.join(etc, 'conf.d', path.basename(nginxListenPath)), renderNginxListen(view));
    const tested = spawnSync(nginx, ['-t', '-p', `${dir}/`, '-e', path.join(dir, 'error.log'), '-c', path.join(etc, 'nginx.conf')], { encoding: 'utf8' });
    expect(tested.stderr).toContain('test is successful');
    expect(tested.status, tested.stderr).toBe(0);
    // -T prints the configuration nginx read: our server block, inside http {} with the default site.
    const dumped = spawnSync(nginx, ['-T', '-p', `${dir}/`, '-e', path.join(dir, 'error.log'), '-c', path.join(etc, 'nginx.conf')], { encoding: 'utf8' });
    expect(dumped.stdout).toContain('\tlisten 8080;\n\tlisten 8081;\n\troot "/var/www/html";');
    expect(dumped.stdout).toContain('listen 80 default_server;');
  });

  it.skipIf(!available)('nginx -t refuses the file when a broken one is put in its place (the check reads conf.d)', () => {
    const { dir, etc, nginx } = unpackNginx();
    writeFileSync(path.join(etc, 'conf.d', path.basename(nginxListenPath)), 'server {\n\tlisten 8080\n}\n');
    const tested = spawnSync(nginx, ['-t', '-p', `${dir}/`, '-e', path.join(dir, 'error.log'), '-c', path.join(etc, 'nginx.conf')], { encoding: 'utf8' });
    expect(tested.status).not.toBe(0);
    expect(tested.stderr).toContain(`conf.d/${path.basename(nginxListenPath)}:3`);
  });

  it('quotes configuration strings and refuses control characters', () => {
    expect(configString('/var/www/html')).toBe('"/var/www/html"');
    expect(configString('/a"b\\c')).toBe('"/a\\"b\\\\c"');
    expect(() => configString('/a\nb')).toThrow(/control character/);
  });

  it.runIf(!available)('(the nginx checks were skipped: no nginx .deb in the lab mirror, or no dpkg-deb)', () => {
    expect(available).toBe(false);
  });
});
