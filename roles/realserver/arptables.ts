// arptables rules of DR/TUN real servers (tutorial 003): drop ARP requests for the VIP and, in
// ARP requests this host sends, replace the VIP as sender address by the host's own address. The
// shell that adds the missing rules and saves them, and the read-only check of both; pure.
//
// Chain names: arptables_jf (EL5, EL6) calls the built-in chains IN and OUT, as the tutorial
// writes; arptables 0.0.4+ (legacy) and arptables-nft call them INPUT and OUTPUT and refuse IN/OUT
// (checked with Debian 12's arptables-legacy 0.0.5 and arptables-nft 1.8.9). Neither legacy tool
// has a rule check (-C), so presence is read from `arptables -L CHAIN -n` (rules listed as
// "-j DROP -d 172.25.33.100"), and from the saved file ("-A INPUT -j DROP -d 172.25.33.100").
import { quote } from '../../src/index.ts';
import type { ArpRule } from './view.ts';

/** The tool that lists and adds the rules, and its names of the two built-in chains. */
export interface ArpTool {
  command: string;
  input: string;
  output: string;
}

export const jfTool: ArpTool = { command: 'arptables', input: 'IN', output: 'OUT' };
export const standardTool: ArpTool = { command: 'arptables', input: 'INPUT', output: 'OUTPUT' };
/**
 * The arptables tool of the Debian family, named in full: `arptables` is an alternative that
 * installing a package can turn over. Debian's arptables package holds only the legacy tool
 * (priority 10); the iptables package brings arptables-nft (priority 20), and installing it later
 * (the firewall role does) points `arptables` at nft, which lists none of the rules that legacy
 * loaded, though both stay in force. Seen on the lab: every check then failed and each run added
 * the rules again. The nft tool (from iptables, on every Debian and Ubuntu release supported) is the
 * one the family chose as its default.
 */
export const nftTool: ArpTool = { ...standardTool, command: 'arptables-nft' };

interface ChainRule {
  chain: string;
  args: string[];
}

function chainRules(rules: ArpRule[], chains: ArpTool): ChainRule[] {
  return rules.flatMap(({ vip, realAddress }) => [
    { chain: chains.input, args: ['-d', vip, '-j', 'DROP'] },
    { chain: chains.output, args: ['-s', vip, '-j', 'mangle', '--mangle-ip-s', realAddress] },
  ]);
}

// An option's name stays bare (quote() would wrap "-d" in quotes); values go through quote().
const words = (args: string[]): string => args.map((arg) => (/^--?[a-z][a-z-]*$/.test(arg) ? arg : quote(arg))).join(' ');

// Reads rule lines on stdin; exits 0 when one of them has every "OPTION VALUE" pair of `want`
// (in any order, an address with or without /32).
const findRuleAwk = [
  'BEGIN { n = split(want, w, " ") }',
  '{',
  '  all = 1',
  '  for (i = 1; i < n; i += 2) {',
  '    found = 0',
  '    for (j = 1; j < NF; j++) { value = $(j + 1); sub(/\\/32$/, "", value); if ($j == w[i] && value == w[i + 1]) found = 1 }',
  '    if (!found) all = 0',
  '  }',
  '  if (all) { hit = 1; exit }',
  '}',
  'END { exit hit ? 0 : 1 }',
].join('\n');

/** Shell functions the scripts below call: arp_rule_live CHAIN ARGS..., arp_rule_saved FILE CHAIN ARGS... */
const functions = (tool: ArpTool): string =>
  [
    `arp_find_rule() { awk -v want="$*" ${quote(findRuleAwk)}; }`,
    `arp_rule_live() { arp_chain=$1; shift; ${tool.command} -L "$arp_chain" -n 2>/dev/null | arp_find_rule "$@"; }`,
    'arp_rule_saved() { arp_file=$1; arp_chain=$2; shift 2; [ -f "$arp_file" ] && grep "^-A $arp_chain " "$arp_file" | arp_find_rule "$@"; }',
  ].join('\n');

/**
 * How the family keeps the rules for boot. `command`: a save command writes the file (arptables_jf's
 * `service arptables_jf save`, as the tutorial does). `rendered`: the role writes the file itself
 * (renderSavedRules), because arptables-nft-save prints a mangle address as the host's name when
 * /etc/hosts has one (`--mangle-ip-s web1`, seen with 1.8.9), which a check cannot compare and a
 * restore resolves only if the name still resolves at boot.
 */
export type ArpSave = { kind: 'command'; command: string; file: string } | { kind: 'rendered'; file: string };

/** Adds the missing rules (before anything else, so a VIP is never announced), then saves them with a save command. */
export function applyRulesScript(rules: ArpRule[], tool: ArpTool, save: ArpSave): string {
  const lines = [functions(tool)];
  for (const rule of chainRules(rules, tool)) {
    lines.push(`arp_rule_live ${rule.chain} ${words(rule.args)} || ${tool.command} -A ${rule.chain} ${words(rule.args)}`);
  }
  if (save.kind === 'command') lines.push(save.command);
  return lines.join('\n');
}

/** Succeeds when every rule is in the running tables and, when a command saves them, in the saved file. */
export function rulesInPlaceCheck(rules: ArpRule[], tool: ArpTool, save: ArpSave): string {
  const checks = chainRules(rules, tool).flatMap((rule) => [
    `arp_rule_live ${rule.chain} ${words(rule.args)}`,
    ...(save.kind === 'command' ? [`arp_rule_saved ${quote(save.file)} ${rule.chain} ${words(rule.args)}`] : []),
  ]);
  return [functions(tool), checks.join(' &&\n')].join('\n');
}

/**
 * The saved rules, in the format arptables-restore reads (legacy and nft alike: '#' lines are
 * comments; the chains keep their ACCEPT policies). Restoring replaces every rule of the table.
 */
export function renderSavedRules(rules: ArpRule[], tool: ArpTool): string {
  return [
    '# The ARP rules of this LVS real server: written by provision from the cluster description,',
    '# loaded at boot before the VIPs come up. Changes here are overwritten.',
    '*filter',
    `:${tool.input} ACCEPT`,
    `:${tool.output} ACCEPT`,
    ...chainRules(rules, tool).map((rule) => `-A ${rule.chain} ${rule.args.join(' ')}`),
    '',
  ].join('\n');
}
