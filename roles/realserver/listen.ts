// The drop-in files that make a real server's web server listen on the ports other than 80 the
// directors send it web requests to (view.webPorts: a NAT port mapping, an HTTP check's own port),
// serving the document root the role writes its pages to; pure. Each in the place its package reads
// such files from, owned by the role (the package's own files are left alone):
//
//   nginx    /etc/nginx/conf.d/lvs-realserver.conf: a server block. Debian's and Ubuntu's nginx.conf
//            include conf.d/*.conf (and sites-enabled/*), EL's (EPEL on EL5-7, AppStream on EL8/9)
//            conf.d/*.conf, both inside http {}.
//   httpd    /etc/httpd/conf.d/lvs-realserver.conf (EL: httpd.conf includes conf.d/*.conf): Listen
//            and a virtual host on the ports.
//   apache2  /etc/apache2/conf-available/lvs-realserver.conf, enabled with a2enconf (Debian,
//            Ubuntu): the same. ports.conf is the package's.
import { OperationError, type Facts } from '../../src/index.ts';
import type { RealServerView } from './view.ts';

export const nginxListenPath = '/etc/nginx/conf.d/lvs-realserver.conf';
export const httpdListenPath = '/etc/httpd/conf.d/lvs-realserver.conf';
/** the name a2enconf and a2disconf take */
export const apache2ConfName = 'lvs-realserver';
export const apache2ListenPath = `/etc/apache2/conf-available/${apache2ConfName}.conf`;
/** the link a2enconf makes */
export const apache2EnabledPath = `/etc/apache2/conf-enabled/${apache2ConfName}.conf`;

/**
 * A string in nginx's or Apache's configuration syntax: in double quotes, with \ and " escaped
 * (both read them so). The values are schema-checked paths; a control character is refused rather
 * than written into a file the web server would then misread.
 */
export function configString(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new OperationError(`realserver: ${JSON.stringify(value)} holds a control character and cannot be written into a web server's configuration`);
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function header(view: RealServerView): string[] {
  const width = Math.max(...view.webPorts.map((p) => String(p.port).length));
  return [
    `# The ports other than 80 on which the LVS directors of cluster ${view.cluster} send ${view.host} web requests:`,
    ...view.webPorts.map((p) => `#   ${String(p.port).padEnd(width)}  ${p.services.join(', ')}`),
    `# served from ${view.documentRoot}, where provision writes the health-check and index pages.`,
    '# Written by provision from the cluster description; changes here are overwritten.',
  ];
}

/** nginx: one server block listening on every web port, with the role's document root. */
export function renderNginxListen(view: RealServerView): string {
  return [
    ...header(view),
    'server {',
    ...view.webPorts.map((p) => `\tlisten ${p.port};`),
    `\troot ${configString(view.documentRoot)};`,
    '\tindex index.html;',
    '}',
    '',
  ].join('\n');
}

/** Apache before 2.4 (EL5's and EL6's httpd 2.2) grants access with Order/Allow, 2.4 with Require. */
const apache22 = (facts: Facts): boolean => facts.os.family === 'el' && facts.os.major <= 6;

/**
 * httpd (EL) and apache2 (Debian, Ubuntu): Listen on every web port and a virtual host on them
 * with the role's document root (Debian's default site is a virtual host of port 80 only), which
 * may be read there.
 */
export function renderApacheListen(view: RealServerView, facts: Facts): string {
  const root = configString(view.documentRoot);
  return [
    ...header(view),
    ...view.webPorts.map((p) => `Listen ${p.port}`),
    '',
    `<VirtualHost ${view.webPorts.map((p) => `*:${p.port}`).join(' ')}>`,
    `\tDocumentRoot ${root}`,
    '</VirtualHost>',
    '',
    `<Directory ${root}>`,
    ...(apache22(facts) ? ['\tOrder allow,deny', '\tAllow from all'] : ['\tRequire all granted']),
    '</Directory>',
    '',
  ].join('\n');
}
