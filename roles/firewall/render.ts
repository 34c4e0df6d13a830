// The firewall rules (rules.ts) in each tool's words; pure.
//   iptables: the rule arguments in the form iptables-save prints them, the marked block of the
//     saved rules file, the shell that inserts missing rules now and its read-only check;
//   firewalld: the permanent rules (ports, rich rules, direct rules for FORWARD), applied with a reload.
import { quote } from '../../src/index.ts';
import { CONNTRACK_STATES, type FirewallRule } from './rules.ts';

/**
 * The rule's arguments after the chain, in iptables-save's order and spelling ("-s 10.0.0.2/32 -i
 * eth1 -p udp -m udp --dport 694 -j ACCEPT", "-d 192.168.10.0/24 -o eth1 -m state --state
 * RELATED,ESTABLISHED -j ACCEPT"), so the saved file reads like one iptables-save wrote. A rule for
 * every protocol has no -p, as iptables-save prints it. Protocols other than tcp and udp are
 * numbers: names depend on /etc/protocols (and "ipip" there is 94, not IP-in-IP's 4).
 */
export function iptablesArgs(rule: FirewallRule): string[] {
  const args: string[] = [];
  const address = (value: string) => (value.includes('/') ? value : `${value}/32`);
  if (rule.source !== undefined) args.push('-s', address(rule.source));
  if (rule.destination !== undefined) args.push('-d', address(rule.destination));
  if (rule.inInterface !== undefined) args.push('-i', rule.inInterface);
  if (rule.outInterface !== undefined) args.push('-o', rule.outInterface);
  if (rule.protocol !== undefined) args.push('-p', String(rule.protocol));
  if (typeof rule.protocol === 'string' && (rule.dport !== undefined || rule.sport !== undefined)) args.push('-m', rule.protocol);
  if (rule.sport !== undefined) args.push('--sport', String(rule.sport));
  if (rule.dport !== undefined) args.push('--dport', String(rule.dport));
  if (rule.state !== undefined) args.push('-m', 'state', '--state', CONNTRACK_STATES.filter((state) => rule.state?.includes(state)).join(','));
  args.push('-j', rule.target ?? 'ACCEPT');
  return args;
}

const tableOf = (rule: FirewallRule): 'filter' | 'nat' => rule.table ?? 'filter';

// Options stay bare (quote() would wrap "-s" in quotes); values go through quote().
const words = (args: string[]): string => args.map((arg) => (/^--?[a-z][a-z-]*$/.test(arg) ? arg : quote(arg))).join(' ');

/** The lines of the marked block in the saved rules file: each rule after a comment saying why. */
export function savedBlock(rules: FirewallRule[]): string {
  return rules.map((rule) => `# ${rule.purpose}\n-A ${rule.chain} ${iptablesArgs(rule).join(' ')}\n`).join('');
}

/** A filter table with nothing in it, for a saved file that has none yet (the block goes inside). */
export const emptyFilterTable = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';

/**
 * The nat table a saved file without one gets around the NAT block, as iptables-save writes a
 * table: its header and built-in chains before the block, COMMIT after it. It declares no INPUT
 * chain: EL5's kernel has none in the nat table (iptables-restore there fails on one), and later
 * ones restore the table without it.
 */
export const natTableSection = { open: '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]', close: 'COMMIT' };

/** The rules of `table`: each table has its own block in the saved file. */
export const rulesOfTable = (rules: FirewallRule[], table: 'filter' | 'nat'): FirewallRule[] => rules.filter((rule) => tableOf(rule) === table);

// Reads iptables-save lines on stdin; exits 0 when one of them is the rule `want` up to
// iptables-save's spelling: options in any order, "-m tcp"/"-m udp" implied, an address with or
// without /32, vrrp and ipencap for protocols 112 and 4 (names from /etc/protocols), the states of
// --state in any order (EL5 prints ESTABLISHED,RELATED, later versions RELATED,ESTABLISHED).
const findRuleAwk = [
  'function sorted(list,   s, n, i, j, x, out) {',
  '  n = split(list, s, ",")',
  '  for (i = 2; i <= n; i++) { x = s[i]; for (j = i - 1; j >= 1 && s[j] > x; j--) s[j + 1] = s[j]; s[j + 1] = x }',
  '  out = s[1]',
  '  for (i = 2; i <= n; i++) out = out "," s[i]',
  '  return out',
  '}',
  'function norm(text,   t, n, i, j, k, v, x, p, out) {',
  '  n = split(text, t, " ")',
  '  k = 0',
  '  for (i = 1; i < n; i += 2) {',
  '    if (t[i] == "-m" && (t[i + 1] == "tcp" || t[i + 1] == "udp")) continue',
  '    v = t[i + 1]',
  '    sub(/\\/32$/, "", v)',
  '    if (t[i] == "-p" && v == "vrrp") v = "112"',
  '    if (t[i] == "-p" && v == "ipencap") v = "4"',
  '    if (t[i] == "--state") v = sorted(v)',
  '    p[++k] = t[i] " " v',
  '  }',
  '  for (i = 2; i <= k; i++) { x = p[i]; for (j = i - 1; j >= 1 && p[j] > x; j--) p[j + 1] = p[j]; p[j + 1] = x }',
  '  out = ""',
  '  for (i = 1; i <= k; i++) out = out "|" p[i]',
  '  return out',
  '}',
  'BEGIN { target = norm(want) }',
  '{ line = $0; sub(/^-A [^ ]+ /, "", line); if (norm(line) == target) { hit = 1; exit } }',
  'END { exit hit ? 0 : 1 }',
].join('\n');

/**
 * ipt_rule_present [-t TABLE] CHAIN ARGS... (the table as iptables takes it; default filter):
 * iptables 1.4.11 and later check a rule with -C (exit 1: absent); the iptables of EL5 and EL6 has
 * no -C (exit 2), so there the rule is looked for in iptables-save.
 */
const presentFunction = [
  'ipt_rule_present() {',
  '\tipt_table=filter',
  '\tif [ "$1" = -t ]; then',
  '\t\tipt_table=$2',
  '\t\tshift 2',
  '\tfi',
  '\tiptables -t "$ipt_table" -C "$@" >/dev/null 2>&1',
  '\tipt_status=$?',
  '\t[ "$ipt_status" -eq 2 ] || return "$ipt_status"',
  '\tipt_chain=$1',
  '\tshift',
  `\tiptables-save -t "$ipt_table" | grep "^-A $ipt_chain " | awk -v want="$*" ${quote(findRuleAwk)}`,
  '}',
].join('\n');

/** The table option of an iptables command for the rule: none for filter, as iptables defaults to it. */
const tableOption = (rule: FirewallRule): string => (tableOf(rule) === 'filter' ? '' : `-t ${tableOf(rule)} `);

const firewalldRunning = 'command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1';

/** Inserts the missing rules at the top of their chains (before any REJECT), now. */
export function iptablesApplyScript(rules: FirewallRule[]): string {
  return [
    // firewalld rewrites the tables on every reload: rules added beside it would vanish.
    `if ${firewalldRunning}; then`,
    `\techo 'firewalld is running, and cluster.firewall.kind is iptables: stop and disable firewalld (systemctl disable --now firewalld) or set kind to firewalld' >&2`,
    '\texit 1',
    'fi',
    presentFunction,
    ...rules.map((rule) => `ipt_rule_present ${tableOption(rule)}${rule.chain} ${words(iptablesArgs(rule))} || iptables ${tableOption(rule)}-I ${rule.chain} ${words(iptablesArgs(rule))}`),
  ].join('\n');
}

export function iptablesCheck(rules: FirewallRule[]): string {
  return [presentFunction, rules.map((rule) => `ipt_rule_present ${tableOption(rule)}${rule.chain} ${words(iptablesArgs(rule))}`).join(' &&\n')].join('\n');
}

/**
 * How firewalld says a rule: the argument of --add-X / --query-X; a direct rule (--direct) for
 * anything but filter INPUT, which the zones do not cover.
 */
export function firewalldArgs(rule: FirewallRule): { kind: 'port' | 'rich-rule' | 'direct'; value: string[] } {
  if (tableOf(rule) !== 'filter' || rule.chain !== 'INPUT') return { kind: 'direct', value: ['ipv4', tableOf(rule), rule.chain, '0', ...iptablesArgs(rule)] };
  const plainPort = typeof rule.protocol === 'string' && rule.dport !== undefined && rule.source === undefined && rule.destination === undefined;
  // A zone holds interfaces, so an interface restriction (heartbeat on eth1) is the zone's business.
  if (plainPort) return { kind: 'port', value: [`${rule.dport}/${rule.protocol}`] };
  const parts = ['rule family="ipv4"'];
  if (rule.source !== undefined) parts.push(`source address="${rule.source}"`);
  if (rule.destination !== undefined) parts.push(`destination address="${rule.destination}"`);
  if (typeof rule.protocol === 'string' && rule.dport !== undefined) parts.push(`port port="${rule.dport}" protocol="${rule.protocol}"`);
  else if (rule.protocol !== undefined) parts.push(`protocol value="${rule.protocol}"`);
  parts.push('accept');
  return { kind: 'rich-rule', value: [parts.join(' ')] };
}

function firewallCmd(rule: FirewallRule, action: 'add' | 'query', permanent: boolean): string {
  const { kind, value } = firewalldArgs(rule);
  const scope = permanent ? '--permanent ' : '';
  if (kind === 'direct') return `firewall-cmd ${scope}--direct --${action}-rule ${words(value)}`;
  return `firewall-cmd ${scope}--${action}-${kind}=${quote(value[0] ?? '')}`;
}

/** Adds the missing permanent rules, then reloads, which makes the permanent rules the running ones. */
export function firewalldApplyScript(rules: FirewallRule[]): string {
  return [
    `if ! { ${firewalldRunning}; }; then`,
    `\techo 'firewalld is not running: start it (systemctl enable --now firewalld), or set cluster.firewall.kind to iptables' >&2`,
    '\texit 1',
    'fi',
    ...rules.map((rule) => `${firewallCmd(rule, 'query', true)} >/dev/null 2>&1 || ${firewallCmd(rule, 'add', true)}`),
    'firewall-cmd --reload',
  ].join('\n');
}

export function firewalldCheck(rules: FirewallRule[]): string {
  return rules.flatMap((rule) => [firewallCmd(rule, 'query', true), firewallCmd(rule, 'query', false)]).join(' &&\n');
}
