import { describe, expect, it } from 'vitest';
import { detectOs, majorOf, parseOsRelease, parseRedhatRelease, type OsSources } from '../../../src/facts/os.ts';

const none: OsSources = { osRelease: '', redhatRelease: '', debianVersion: '' };

describe('parseOsRelease', () => {
  it('unquotes double- and single-quoted values and their escapes, and skips comments and blank lines', () => {
    const fields = parseOsRelease(
      [
        '# written by hand',
        'NAME="Test \\"Linux\\""',
        "ID='test'",
        'VERSION_ID=1.2',
        '',
        'PRETTY_NAME="costs \\$5 \\\\ \\`x\\`"',
        'EMPTY=',
        '  ID_LIKE="rhel fedora"  ',
      ].join('\n'),
    );
    expect(fields).toEqual({
      NAME: 'Test "Linux"',
      ID: 'test',
      VERSION_ID: '1.2',
      PRETTY_NAME: 'costs $5 \\ `x`',
      EMPTY: '',
      ID_LIKE: 'rhel fedora',
    });
  });
});

describe('parseRedhatRelease', () => {
  it.each([
    ['CentOS release 5.6 (Final)', 'centos', '5.6'],
    ['Red Hat Enterprise Linux Server release 5.11 (Tikanga)', 'rhel', '5.11'],
    ['Red Hat Enterprise Linux ES release 4 (Nahant Update 9)', 'rhel', '4'],
    ['Red Hat Enterprise Linux Workstation release 6.10 (Santiago)', 'rhel', '6.10'],
    ['CentOS release 6.10 (Final)', 'centos', '6.10'],
    ['CentOS Linux release 7.9.2009 (Core)', 'centos', '7.9.2009'],
    ['CentOS Stream release 9', 'centos', '9'],
    ['Rocky Linux release 8.10 (Green Obsidian)', 'rocky', '8.10'],
    ['AlmaLinux release 9.4 (Seafoam Ocelot)', 'almalinux', '9.4'],
    ['Scientific Linux release 6.10 (Carbon)', 'scientific', '6.10'],
    ['Enterprise Linux Enterprise Linux Server release 5.11 (Carthage)', 'ol', '5.11'],
    ['Oracle Linux Server release 6.10', 'ol', '6.10'],
    ['CloudLinux release 6.10 (Final)', 'cloudlinux', '6.10'],
    ['Fedora release 20 (Heisenbug)', 'fedora', '20'],
    ['PUIAS Linux release 6.10 (Final)', 'puias-linux', '6.10'],
  ])('%s -> %s %s', (line, distro, version) => {
    expect(parseRedhatRelease(`${line}\n`)).toMatchObject({ distro, version, line });
  });

  it('is undefined for a file that is not a release line', () => {
    expect(parseRedhatRelease('')).toBeUndefined();
    expect(parseRedhatRelease('hello world\n')).toBeUndefined();
  });
});

describe('detectOs', () => {
  it('reads EL5/6 from redhat-release alone, keeping the line as the pretty name', () => {
    expect(detectOs({ ...none, redhatRelease: 'Red Hat Enterprise Linux Server release 5.11 (Tikanga)\n' })).toEqual({
      family: 'el',
      distro: 'rhel',
      version: '5.11',
      major: 5,
      pretty: 'Red Hat Enterprise Linux Server release 5.11 (Tikanga)',
    });
  });

  it('treats an unknown product in redhat-release as an EL rebuild, but not Fedora', () => {
    expect(detectOs({ ...none, redhatRelease: 'PUIAS Linux release 6.10 (Final)' }).family).toBe('el');
    expect(detectOs({ ...none, redhatRelease: 'Fedora release 20 (Heisenbug)' })).toMatchObject({ family: 'unknown', distro: 'fedora', major: 20 });
  });

  it("takes EL7's full version from redhat-release, because os-release says only 7", () => {
    const os = detectOs({
      ...none,
      osRelease: 'ID="centos"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n',
      redhatRelease: 'CentOS Linux release 7.9.2009 (Core)\n',
    });
    expect(os).toEqual({ family: 'el', distro: 'centos', version: '7.9.2009', major: 7, pretty: 'CentOS Linux 7 (Core)' });
  });

  it('ignores a redhat-release whose major disagrees with os-release', () => {
    const os = detectOs({ ...none, osRelease: 'ID=rocky\nVERSION_ID="9.4"\n', redhatRelease: 'Rocky Linux release 8.10 (Green Obsidian)' });
    expect(os.version).toBe('9.4');
  });

  it.each([
    ['ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"', 'debian', 'ubuntu', 24],
    ['ID=raspbian\nID_LIKE=debian\nVERSION_ID="11"', 'debian', 'raspbian', 11],
    ['ID="ol"\nID_LIKE="fedora"\nVERSION_ID="8.9"', 'el', 'ol', 8],
    ['ID="virtuozzo"\nID_LIKE="rhel fedora"\nVERSION_ID="7"', 'el', 'virtuozzo', 7],
    ['ID=fedora\nVERSION_ID=40', 'unknown', 'fedora', 40],
    ['ID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"', 'unknown', 'amzn', 2],
    ['ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="21.3"', 'unknown', 'linuxmint', 21],
    ['ID=alpine\nVERSION_ID=3.19.1', 'unknown', 'alpine', 3],
  ])('os-release %j is family %s, distro %s, major %d', (osRelease, family, distro, major) => {
    expect(detectOs({ ...none, osRelease })).toMatchObject({ family, distro, major });
  });

  it('falls back to debian_version on Debian testing, which has no VERSION_ID', () => {
    const os = detectOs({ ...none, osRelease: 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nID=debian\n', debianVersion: 'trixie/sid\n' });
    expect(os).toEqual({ family: 'debian', distro: 'debian', version: 'trixie/sid', major: 0, pretty: 'Debian GNU/Linux trixie/sid' });
  });

  it('builds a pretty name when os-release has none', () => {
    expect(detectOs({ ...none, osRelease: 'NAME="Tiny"\nID=tiny\nVERSION_ID=2\n' }).pretty).toBe('Tiny 2');
    expect(detectOs({ ...none, osRelease: 'ID=tiny\n' }).pretty).toBe('tiny');
  });

  it('reads Debian before os-release from debian_version', () => {
    expect(detectOs({ ...none, debianVersion: '6.0.10\n' })).toEqual({ family: 'debian', distro: 'debian', version: '6.0.10', major: 6, pretty: 'Debian 6.0.10' });
  });

  it('says unknown when there is nothing to go by', () => {
    expect(detectOs(none)).toEqual({ family: 'unknown', distro: 'unknown', version: '', major: 0, pretty: '' });
  });
});

describe('majorOf', () => {
  it.each([
    ['5.11', 5],
    ['24.04', 24],
    ['7.9.2009', 7],
    ['12', 12],
    ['trixie/sid', 0],
    ['', 0],
  ])('%j -> %d', (version, major) => expect(majorOf(version)).toBe(major));
});
