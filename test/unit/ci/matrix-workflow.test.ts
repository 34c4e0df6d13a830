// The real-world matrix workflow cannot run here, so what can be checked here is: it is a valid
// workflow by GitHub's own schema and parser (@actions/workflow-parser, which GitHub's language
// services use), it calls only scripts of this repository that exist, exactly the commands that
// test/integration/matrix runs here, and those scripts are POSIX sh that dash, busybox and bash
// --posix accept; the CentOS vault step does what CentOS 7 needs, run on a copy of its files.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { busyboxAppletDir, shellPrograms } from '../../support/posix-shells.ts';
import { repoRoot } from '../../support/project.ts';

const WORKFLOW = path.join(repoRoot, '.github/workflows/matrix.yml');
const TARGET_SCRIPT = path.join(repoRoot, 'scripts/ci-matrix-target.sh');
const HOST_SCRIPT = path.join(repoRoot, 'scripts/ci-matrix.sh');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
}
interface Workflow {
  jobs: Record<string, { strategy: { matrix: { include: Array<Record<string, string | boolean>> } }; steps: Step[] }>;
}

const text = readFileSync(WORKFLOW, 'utf8');
const workflow = parse(text) as Workflow;
const job = workflow.jobs.target!;
const runSteps = job.steps.filter((step) => step.run !== undefined);

async function githubErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((error) => error.message);
  if (errors.length > 0 || parsed.value === undefined) return errors;
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((error) => error.Message);
}

describe('the matrix workflow', () => {
  it("is valid by GitHub's workflow schema", async () => {
    expect(await githubErrors('matrix.yml', text)).toEqual([]);
  });

  it('fails that check when it has mistakes (the check is real)', async () => {
    const broken = text.replace('runs-on:', 'runs_on:').replace('if: matrix.vault', 'iff: matrix.vault').replace('fail-fast: false', 'fail-fast: sometimes');
    const errors = (await githubErrors('broken.yml', broken)).map((error) => error.replace(/^broken\.yml \(Line: \d+, Col: \d+\): /, ''));
    expect(errors).toEqual(["Unexpected value 'runs_on'", "Unexpected value 'sometimes'", "Unexpected value 'iff'", 'Required property is missing: runs-on']);
  });

  it('covers the distributions provision supports, CentOS 7 through its vault, systemd where the image has it', () => {
    const include = job.strategy.matrix.include;
    expect(include.map((entry) => entry.image)).toEqual(['centos:7', 'rockylinux:8', 'rockylinux:9', 'almalinux:9', 'debian:12', 'ubuntu:24.04']);
    expect(include.filter((entry) => entry.vault === true).map((entry) => entry.image)).toEqual(['centos:7']);
    expect(include.filter((entry) => entry.init === 'systemd').map((entry) => entry.image)).toEqual(['rockylinux:8', 'rockylinux:9', 'almalinux:9']);
    // What the facts must say on each: os-release ID, major release, package manager.
    expect(include.map((entry) => entry.expect)).toEqual(['centos 7 yum', 'rocky 8 dnf', 'rocky 9 dnf', 'almalinux 9 dnf', 'debian 12 apt', 'ubuntu 24 apt']);
    const vaultStep = job.steps.find((step) => step.run?.includes('vault-repos'));
    expect(vaultStep?.if).toBe('matrix.vault');
  });

  it('runs only scripts of this repository that exist, and the provisioning tests that run here too', () => {
    const paths = runSteps.flatMap((step) => [...(step.run ?? '').matchAll(/(?:^|\s)((?:scripts|test)\/[\w./-]+)/g)].map((match) => match[1]!));
    expect(paths.length).toBeGreaterThan(0);
    for (const file of paths) expect(existsSync(path.join(repoRoot, file)), file).toBe(true);
    // Every step is one of: installing provision, the matrix script, the matrix tests.
    for (const step of runSteps) expect(step.run!.trim()).toMatch(/^(npm ci( --no-audit --no-fund)?|sh scripts\/ci-matrix\.sh \w+ .*|npx vitest run --project integration test\/integration\/matrix)$/);
  });

  it('calls exactly the matrix commands that test/integration/matrix runs here, in the same order', () => {
    const inWorkflow = runSteps.flatMap((step) => [...(step.run ?? '').matchAll(/sh scripts\/ci-matrix\.sh (\w+)(?: "\$TARGET" (vault-repos))?/g)].map((m) => [m[1], m[2]].filter(Boolean).join(' ')));
    expect(inWorkflow).toEqual(['create', 'target vault-repos', 'sshd', 'remove']);
    const localTest = readFileSync(path.join(repoRoot, 'test/integration/matrix/target.test.ts'), 'utf8');
    const inTest = [...localTest.matchAll(/matrix\(\['(\w+)'(?:, CONTAINER, '(vault-repos)')?/g)].map((m) => [m[1], m[2]].filter(Boolean).join(' '));
    expect(inTest).toEqual(['create', 'target vault-repos', 'sshd', 'remove']);
  });
});

describe('the matrix scripts', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'provision-ci-scripts-'));
  const shells = shellPrograms(path.join(work, 'shells'));
  const applets = busyboxAppletDir();
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(applets, { recursive: true, force: true });
  });
  /** busybox sh runs with busybox's applets only (sed, grep, mv): a host with busybox and nothing else */
  const pathFor = (shell: string) => (shell === 'busybox sh' ? applets : (process.env.PATH ?? ''));

  it.each([HOST_SCRIPT, TARGET_SCRIPT])('%s is POSIX sh that dash, busybox sh and bash --posix accept', (script) => {
    for (const shell of shells) {
      const checked = spawnSync(shell.path, ['-n', script], { encoding: 'utf8' });
      expect(checked.stderr, `${shell.name} -n ${script}`).toBe('');
      expect(checked.status, shell.name).toBe(0);
    }
  });

  it('refuses unknown commands with its usage', () => {
    for (const [script, usage] of [
      [HOST_SCRIPT, 'usage: ci-matrix.sh create|target|sshd|remove'],
      [TARGET_SCRIPT, 'usage: ci-matrix-target.sh vault-repos [ROOT] | sshd PORT'],
    ] as const) {
      const result = spawnSync('sh', [script, 'bogus'], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(usage);
    }
  });

  describe.each(shellPrograms(path.join(work, 'vault-shells')).map((shell) => [shell.name, shell] as const))('vault-repos under %s', (name, shell) => {
    const centos7 = path.join(repoRoot, 'test/fixtures/ci/centos7');
    const vault = (root: string) => execFileSync(shell.path, [TARGET_SCRIPT, 'vault-repos', root], { encoding: 'utf8', env: { PATH: pathFor(name) } });
    const repos = (root: string) => Object.fromEntries(readdirSync(path.join(root, 'etc/yum.repos.d')).map((file) => [file, readFileSync(path.join(root, 'etc/yum.repos.d', file), 'utf8')]));

    it('points every CentOS 7 repository at vault.centos.org, leaves the others, and changes nothing the second time', () => {
      const root = mkdtempSync(path.join(work, 'root-'));
      cpSync(centos7, root, { recursive: true });
      const before = repos(root);
      expect(vault(root)).toBe(
        ['/etc/yum.repos.d/CentOS-Base.repo', '/etc/yum.repos.d/CentOS-CR.repo'].map((repo) => `ci-matrix-target: ${repo}: mirrorlist off, baseurl on vault.centos.org\n`).join(''),
      );
      const after = repos(root);
      const base = after['CentOS-Base.repo']!;
      expect(base.split('\n').filter((line) => line.startsWith('baseurl='))).toEqual(
        ['os', 'updates', 'extras', 'centosplus'].map((repo) => `baseurl=http://vault.centos.org/centos/$releasever/${repo}/$basearch/`),
      );
      expect(base).not.toMatch(/^mirrorlist=/m);
      // Nothing else in the file changed: comments, gpg keys, enabled=0.
      expect(base.replace(/^#mirrorlist=/gm, 'mirrorlist=').replace(/^baseurl=http:\/\/vault\.centos\.org\//gm, '#baseurl=http://mirror.centos.org/')).toBe(before['CentOS-Base.repo']);
      expect(after['CentOS-CR.repo']).toContain('baseurl=http://vault.centos.org/centos/$releasever/cr/$basearch/');
      expect(after['CentOS-Vault.repo']).toBe(before['CentOS-Vault.repo']);
      expect(after['epel.repo']).toBe(before['epel.repo']); // not CentOS's mirrors
      expect(readdirSync(path.join(root, 'etc/yum.repos.d')).sort()).toEqual(Object.keys(before).sort()); // no temp file left

      expect(vault(root)).toBe('ci-matrix-target: every repository uses vault.centos.org already\n');
      expect(repos(root)).toEqual(after);
    });

    it('leaves every other system alone', () => {
      const root = mkdtempSync(path.join(work, 'root-'));
      cpSync(centos7, root, { recursive: true });
      writeFileSync(path.join(root, 'etc/os-release'), 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="8.10"\n');
      const before = repos(root);
      expect(vault(root)).toBe('ci-matrix-target: not CentOS 7 (rocky 8.10): its repositories stay as they are\n');
      expect(repos(root)).toEqual(before);
    });
  });
});
