// @ts-check
// `npm run build` (and npm's prepare step, so `npm ci` runs it): the compiled CLI in dist/. tsc
// (tsconfig.build.json) turns src/ and roles/ into JavaScript, other files there (the lab's
// mirror-server.mjs) are copied, and dist/build-manifest.json records what each was made from.
// bin/provision.js runs dist/ only while it matches the sources (bin/compiled.js); otherwise it runs
// the sources through tsx, as it does when there is no dist/ at all.
//
// The build is made in a directory of its own and swapped in whole, so a CLI starting meanwhile sees
// the old build or the new one, never half of one. The stamps are taken before tsc reads the files:
// a file edited during the build no longer matches its stamp, and the build counts as stale.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildInputs, DIST_DIR, MANIFEST_FILE, stampFiles } from '../bin/compiled.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, DIST_DIR);
const building = path.join(root, `${DIST_DIR}.building-${process.pid}`);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // TypeScript is a devDependency: an install without them (--omit=dev) runs the sources.
  process.stderr.write('build: TypeScript is not installed; provision will run its sources through tsx\n');
  process.exit(0);
}

const started = Date.now();
const inputs = buildInputs(root);
const manifest = stampFiles(root, inputs);
rmSync(building, { recursive: true, force: true });
let validators = 0;
try {
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', building], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc exited with ${result.status ?? result.signal}`);
  for (const file of inputs) {
    if (file.endsWith('.ts') || !/^(src|roles)\//.test(file)) continue;
    mkdirSync(path.dirname(path.join(building, file)), { recursive: true });
    copyFileSync(path.join(root, file), path.join(building, file));
  }
  for (const file of inputs.filter((f) => /^(src|roles)\/.*\.m?ts$/.test(f))) {
    const output = path.join(building, file.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs'));
    if (!existsSync(output)) throw new Error(`tsc made no ${path.relative(building, output)}`);
  }
  bundleTypebox(building);
  validators = await precompileValidators(building);
  writeFileSync(path.join(building, MANIFEST_FILE), `${JSON.stringify(manifest)}\n`);
  rmSync(dist, { recursive: true, force: true });
  renameSync(building, dist);
} catch (error) {
  rmSync(building, { recursive: true, force: true });
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
process.stderr.write(`build: ${inputs.length} files and ${validators} schema validators into ${DIST_DIR}/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

/**
 * TypeBox is some 200 ES modules, and loading them was a third of `provision lint`'s start: the
 * compiled code imports one bundle of it instead (dist/vendor/typebox.js, made by esbuild, which
 * tsx depends on). The manifest stamps TypeBox's package.json (bin/compiled.js), so another TypeBox
 * makes the build stale. Without esbuild the compiled code imports TypeBox as it is.
 * @param {string} dir the compiled tree
 */
function bundleTypebox(dir) {
  let esbuild;
  try {
    esbuild = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))('esbuild');
  } catch {
    return;
  }
  const bundle = path.join(dir, 'vendor', 'typebox.js');
  esbuild.buildSync({ entryPoints: [fileURLToPath(import.meta.resolve('@sinclair/typebox'))], bundle: true, format: 'esm', platform: 'node', outfile: bundle, logLevel: 'error' });
  const compiled = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => /^(src|roles)\/.*\.js$/.test(file.split(path.sep).join('/')));
  for (const file of compiled) {
    const absolute = path.join(dir, file);
    const text = readFileSync(absolute, 'utf8');
    const relative = path.relative(path.dirname(absolute), bundle).split(path.sep).join('/');
    const rewritten = text.replace(/(\bfrom\s*)(['"])@sinclair\/typebox\2/g, (_, from, quote) => `${from}${quote}${relative.startsWith('.') ? relative : `./${relative}`}${quote}`);
    if (rewritten !== text) writeFileSync(absolute, rewritten);
  }
}

/**
 * ajv standalone code for every schema the compiled code knows: those of the checkers its modules
 * make (the inventory, cluster, playbook, variables files) and the types of the built-in roles'
 * variables, in one module beside validate.js (src/inventory/validate.ts finds each by its key).
 * @param {string} dir the compiled tree
 * @returns {Promise<number>} how many validators
 */
async function precompileValidators(dir) {
  const load = (/** @type {string} */ file) => import(pathToFileURL(path.join(dir, file)).href);
  const validate = await load('src/inventory/validate.js');
  await load('src/cli/run.js'); // every module a command makes checkers in
  /** @type {unknown[]} */
  const schemas = [...validate.declaredSchemas()];
  for (const role of readdirSync(path.join(dir, 'roles'))) {
    if (!existsSync(path.join(dir, 'roles', role, 'index.js'))) continue;
    const { default: definition } = await load(`roles/${role}/index.js`);
    schemas.push(...Object.values(definition?.types ?? {}));
  }
  const ajv = validate.createAjv({ code: { source: true } });
  /** @type {Record<string, string>} */
  const exported = {};
  for (const schema of schemas) {
    const key = validate.schemaKey(schema);
    if (Object.hasOwn(exported, key)) continue;
    ajv.addSchema(schema, key);
    exported[key] = key;
  }
  /** @type {typeof import('ajv/dist/standalone/index.js').default} */
  const standaloneCode = createRequire(import.meta.url)('ajv/dist/standalone').default;
  writeFileSync(path.join(dir, 'src/inventory', validate.PRECOMPILED_VALIDATORS), standaloneCode(ajv, exported));
  return Object.keys(exported).length;
}
