// ldirectord's packages, and the Perl modules a source-built ldirectord needs at run time.
//
// Packaged ldirectord brings its Perl modules as dependencies (Debian's ldirectord depends on every
// one it can use; CentOS 5's heartbeat-ldirectord and the ldirectord RPMs require theirs), so only
// an ldirectord built from the resource-agents sources needs them installed separately.
import { ldirectordCheck, type Cluster, type LdirectordService } from '../../src/cluster/model.ts';
import type { PerPlatform } from '../../src/operations/per-platform.ts';

/** CentOS 5 (extras) ships ldirectord with heartbeat 2.1 as heartbeat-ldirectord; later EL releases (from the ClusterLabs builds) and Debian as ldirectord. */
export const LDIRECTORD_PACKAGES = {
  el5: ['heartbeat-ldirectord'],
  el: ['ldirectord'],
  debian: ['ldirectord'],
} satisfies PerPlatform<string[]>;

interface PerlPackages {
  el: string[];
  debian: string[];
}

// The modules ldirectord loads when it starts (its `use` lines: Socket6, LWP::UserAgent, URI,
// IO::Socket::INET6, Mail::Send; Net::SMTP, Net::Ping and Digest::MD5 come with perl), and
// HTML::Parser, which LWP needs. Without one of them ldirectord does not start at all.
const BASE: PerlPackages = {
  el: ['perl', 'perl-Socket6', 'perl-libwww-perl', 'perl-URI', 'perl-HTML-Parser', 'perl-IO-Socket-INET6', 'perl-MailTools'],
  debian: ['perl', 'libsocket6-perl', 'libwww-perl', 'liburi-perl', 'libhtml-parser-perl', 'libio-socket-inet6-perl', 'libmailtools-perl'],
};

// Modules ldirectord loads only when a virtual service checks that protocol.
const SSL: PerlPackages = { el: ['perl-IO-Socket-SSL'], debian: ['libio-socket-ssl-perl'] };
const BY_SERVICE: Partial<Record<LdirectordService, PerlPackages>> = {
  https: { el: [...SSL.el, 'perl-LWP-Protocol-https'], debian: [...SSL.debian, 'liblwp-protocol-https-perl'] },
  dns: { el: ['perl-Net-DNS'], debian: ['libnet-dns-perl'] },
  ldap: { el: ['perl-LDAP'], debian: ['libnet-ldap-perl'] },
  imap: { el: ['perl-Net-IMAP-Simple'], debian: ['libnet-imap-simple-perl'] },
  imaps: { el: ['perl-Net-IMAP-Simple-SSL', ...SSL.el], debian: ['libnet-imap-simple-ssl-perl', ...SSL.debian] },
  pop: { el: ['perl-Mail-POP3Client'], debian: ['libmail-pop3client-perl'] },
  pops: { el: ['perl-Mail-POP3Client', ...SSL.el], debian: ['libmail-pop3client-perl', ...SSL.debian] },
  mysql: { el: ['perl-DBI', 'perl-DBD-MySQL'], debian: ['libdbi-perl', 'libdbd-mysql-perl'] },
  pgsql: { el: ['perl-DBI', 'perl-DBD-Pg'], debian: ['libdbi-perl', 'libdbd-pg-perl'] },
  radius: { el: ['perl-Authen-Radius'], debian: ['libauthen-radius-perl'] },
};

/** The Perl module packages a source-built ldirectord needs for this cluster's checks. */
export function perlModulePackages(cluster: Cluster): PerPlatform<string[]> {
  const services = new Set(cluster.virtual_services.map((service) => ldirectordCheck(cluster, service).service));
  const wanted = [BASE, ...[...services].flatMap((service) => BY_SERVICE[service] ?? [])];
  const unique = (names: string[]) => [...new Set(names)];
  return { el: unique(wanted.flatMap((p) => p.el)), debian: unique(wanted.flatMap((p) => p.debian)) };
}
