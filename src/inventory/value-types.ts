// The types of the values that reach a target, each with the grammar of the place it lands in.
// Every string a user writes that ends up in a command, a file a program parses or a file a shell
// sources has one of these types, checked when the inventory loads (so `provision lint` and a run
// refuse the same values, at file:line, before any host is touched). The renderers then only meet
// values that their file's syntax can hold; their own refusals are a second line of defence.
//
// The common thread: no control characters anywhere (a newline would add a directive to a
// line-based file such as ha.cf, a NUL cannot pass through a shell), no blanks or quotes where a
// program splits words, and no comment characters where a program cuts lines.
import { Type, type TString } from '@sinclair/typebox';

/** One character that is not a control character (C0, DEL). */
const PRINTABLE = '[^\\x00-\\x1f\\x7f]';

const text = (pattern: string, expected: string, options: { maxLength?: number; minLength?: number } = {}): TString =>
  Type.String({ pattern, expected, ...options });

// --- names --------------------------------------------------------------------------------------

// RFC 1123: dot-separated labels of letters, digits and '-', each 1-63 characters, not starting or
// ending with '-'; at most 64 characters in all, the kernel's limit for `uname -n` (HOST_NAME_MAX).
// What `hostname` and heartbeat's `uname -n` matching accept, and nothing a shell, a host pattern
// or a config file reads as syntax.
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const HOST_NAME_PATTERN = `^${LABEL}(?:\\.${LABEL})*$`;

export const HOST_NAME_MAX = 64;

export const HostName = text(
  HOST_NAME_PATTERN,
  "a host name as `hostname` accepts it (RFC 1123): letters, digits and '-', in dot-separated labels that neither start nor end with '-', at most 64 characters, e.g. lvs-master",
  { maxLength: HOST_NAME_MAX },
);

/** A name made of letters, digits, _ . - (instances, ping groups, services' and servers' names). */
export const SimpleName = (expected: string): TString => text('^[A-Za-z0-9_][A-Za-z0-9_.-]*$', expected, { maxLength: 64 });

/** A login name: what useradd accepts (POSIX portable characters, optionally ending in $). */
export const UserName = text('^[A-Za-z_][A-Za-z0-9_.-]*\\$?$', 'a user name: letters, digits, _ . - (not starting with a digit, - or .)', { maxLength: 32 });

/**
 * Interface names as the kernel and the programs take them (at most 15 characters, no '/', blanks
 * or ':' in the name itself), optionally with an alias label (eth0:0). Starts with a letter or
 * digit, so it can never be read as an option.
 */
export const InterfaceName = text('^[A-Za-z0-9][A-Za-z0-9_.-]*(?::[0-9]{1,4})?$', 'a network interface name, e.g. eth0 (or an alias, eth0:0)', { maxLength: 15 });

// --- addresses ----------------------------------------------------------------------------------

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const IPV4_PATTERN = `^${OCTET}(?:\\.${OCTET}){3}$`;

export const Ipv4 = (expected = 'an IPv4 address, e.g. 192.168.2.254'): TString => text(IPV4_PATTERN, expected);

/**
 * Where the controller connects: an IPv4 or IPv6 address (with an optional %zone), a DNS name, or
 * a container's name or id (transport docker). Never starts with '-' (an option to ssh or docker).
 */
export const ConnectAddress = text('^[A-Za-z0-9_:\\[][A-Za-z0-9_.:%\\[\\]-]*$', 'an IP address, a DNS name or (transport docker) a container name', { maxLength: 253 });

/** A host name or an IPv4 address, as a program's setting (an SMTP server, a virtual host). */
export const HostOrAddress = (expected: string): TString => text(HOST_NAME_PATTERN, expected, { maxLength: 253 });

/** A Host: header: a host name with an optional :port. */
export const VirtualHost = text(`^${LABEL}(?:\\.${LABEL})*(?::[0-9]{1,5})?$`, 'the Host: header to send: a host name with an optional :port, e.g. www.example.com', { maxLength: 259 });

export const EmailAddress = text(`^[A-Za-z0-9._%+-]+@${LABEL}(?:\\.${LABEL})*$`, 'an e-mail address, e.g. root@localhost', { maxLength: 254 });

// --- paths and URLs -----------------------------------------------------------------------------

/**
 * An absolute path on a target, written into configuration files (ha.cf, ldirectord.cf, ...) and
 * commands: the portable file name characters and '/', no '..' component. No blanks (the programs
 * split their settings at blanks), no quotes or '#'.
 */
export const TargetPath = (expected: string): TString =>
  text('^(?!.*/\\.\\.(?:/|$))/[A-Za-z0-9._+,@%=:/-]*$', `${expected} (an absolute path of letters, digits and . _ + , @ % = : / -, without '..')`, { maxLength: 4096 });

/** A device file, e.g. /dev/ttyS0. */
export const DevicePath = text('^/dev/(?!.*(?:^|/)\\.\\.(?:/|$))[A-Za-z0-9._+@:/-]+$', 'a serial device, e.g. /dev/ttyS0', { maxLength: 4096 });

/** A path on the machine that runs provision (a key, a known_hosts file): any name, but one line. */
export const ControllerPath = (expected: string): TString => text(`^(?!\\s)${PRINTABLE}+$`, expected, { maxLength: 4096 });

// The characters of a URL path that no program here reads as syntax: RFC 3986's unreserved ones,
// '%' escapes, and the sub-delimiters that neither keepalived ('!'), a shell word in quotes, nor
// ldirectord ('#', '"') treat specially; a query may add '&'. No '.' or '..' component: the check
// page is written under the document root.
const URL_PATH_CHARS = 'letters, digits and . _ ~ % / + , = @ : -';
const checkedUrlPath = (start: '' | '/', expected: string): TString =>
  // After a leading '/', the path itself may be empty ('/'); without one it may not.
  text(`^${start}(?!(?:.*/)?\\.\\.?(?:/|$))[A-Za-z0-9._~%/+,=@:-]${start === '' ? '+' : '*'}(?:\\?[A-Za-z0-9._~%/+,=@:&-]*)?$`, expected, { maxLength: 1024 });

/** The page a health check requests, relative to the site (ldirectord's request, e.g. .testpage or /check.html). */
export const CheckRequest = checkedUrlPath('', `the page to request, e.g. lvs_testpage.html: URL path characters (${URL_PATH_CHARS}), an optional ?query, no '..'`);

/** A URL path that starts with / (keepalived's url path). */
export const UrlPath = checkedUrlPath('/', `the URL path to fetch, starting with /, e.g. /lvs_testpage.html: URL path characters (${URL_PATH_CHARS}), an optional ?query`);

/**
 * A source archive's URL (fetched by the target, always quoted there): URL characters only, and a
 * path ending in an archive suffix the source build can unpack (src/operations/source-build.ts).
 */
export const ArchiveUrl = text(
  "^(?:https?|ftp)://[A-Za-z0-9._~:@!$&'()*+,;=%\\[\\]-]+(?:/[A-Za-z0-9._~:@!$&'()*+,;=%-]*)*\\.(?:tar\\.gz|tgz|tar\\.bz2|tbz2|tar\\.xz|txz|tar)(?:\\?[A-Za-z0-9._~:/?@!$&'()*+,;=%-]*)?$",
  'an http, https or ftp URL of a .tar.gz, .tgz, .tar.bz2, .tbz2, .tar.xz, .txz or .tar archive (URL characters only, no blanks or #)',
  { maxLength: 2048 },
);

// --- free text in programs' settings ------------------------------------------------------------

/**
 * Text a health check looks for in the reply (ldirectord's receive), also written into the check
 * page: one line, no '"' (ldirectord.cf has no escapes) and no '#' (ldirectord cuts a line there,
 * even inside quotes), no blanks at either end (the parser trims them).
 */
export const CheckText = text(
  '^[^\\x00-\\x20\\x7f"#](?:[^\\x00-\\x1f\\x7f"#]*[^\\x00-\\x20\\x7f"#])?$',
  "one line of text without '\"' or '#', not starting or ending with a blank, e.g. Test Page",
  { maxLength: 1024 },
);

/**
 * What piranha's nanny sends or expects: line breaks are allowed (written as \r and \n, which nanny
 * turns back into the characters), but no other control character, no quote (lvs.cf quotes the
 * value in "...") and no '#'.
 */
export const NannyText = text(
  '^[^\\x00-\\x09\\x0b\\x0c\\x0e-\\x1f\\x7f"\'#]+$',
  'text without quotes, \'#\' or control characters other than \\r and \\n, e.g. "GET / HTTP/1.0\\r\\n\\r\\n"',
  { maxLength: 1024 },
);

/**
 * One haresources resource: an init script or a resource agent with its ::-separated arguments
 * (httpd, IPaddr2::192.168.2.254/24/eth0, Filesystem::/dev/sda1::/data::ext3). heartbeat's
 * ResourceManager is a shell script that splits the line at blanks and runs each resource, so
 * nothing here may be shell syntax.
 */
export const HaResource = text(
  '^(?!.*(?:^|/)\\.\\.(?:/|:|$))[A-Za-z0-9_/][A-Za-z0-9_./:@=,+-]*$',
  'a haresources resource: letters, digits and _ . / : @ = , + -, e.g. httpd, /etc/init.d/httpd or Filesystem::/dev/sda1::/data::ext3',
  { maxLength: 1024 },
);

/** A line of a web page a role writes (the real server's index page): any printable text, one line. */
export const PageLine = text(`^${PRINTABLE}*$`, 'one line of text, e.g. web1', { maxLength: 1024 });

/**
 * A package name as rpm and dpkg write them (gtk+, libstdc++6, arptables_jf), optionally with an
 * architecture (glibc.i686, libc6:i386): no shell or glob characters.
 */
export const PACKAGE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+:~-]*$';
export const PackageName = text(PACKAGE_NAME_PATTERN, 'a package name: letters, digits and . _ + : ~ -, e.g. curl', { maxLength: 256 });

/** An argument given to ./configure: any one-line text (it is passed as one quoted word). */
export const ConfigureArgument = text(`^${PRINTABLE}+$`, 'one ./configure argument on one line, e.g. --prefix=/usr', { maxLength: 4096 });

// --- secrets ------------------------------------------------------------------------------------

/**
 * A shared key (heartbeat authkeys): one word of printable ASCII; heartbeat reads the key up to the
 * first blank, so a blank would silently shorten it.
 */
export const SharedKey = (expected: string): TString =>
  Type.String({ pattern: '^[\\x21-\\x7e]+$', maxLength: 1024, secret: true, expected: `${expected}: at most 1024 characters of printable ASCII without blanks` });

/**
 * A VRRP password as keepalived reads it: one word of printable ASCII without the characters its
 * tokenizer treats as syntax ('!' and '#' start comments, braces open blocks, quotes quote) or a
 * backslash (keepalived 1.x has no escapes).
 */
export const VrrpPassword = (expected: string): TString =>
  Type.String({ pattern: '^[A-Za-z0-9$%&()*+,./:;<=>?@\\[\\]^_`|~-]+$', secret: true, expected: `${expected}: printable ASCII without blanks, quotes, braces, backslash, '!' or '#'` });
