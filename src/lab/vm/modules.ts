// Which kernel module files the initramfs must load, and in which order. The initramfs has no
// modprobe that reads depmod's output, so this resolves modules.dep here and /init runs insmod on
// each file in order.

/** The module name the kernel uses for a file or a name: basename without .ko*, '-' as '_'. */
export function moduleName(pathOrName: string): string {
  const base = pathOrName.slice(pathOrName.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** modules.dep ("path: dep dep ...") as a map from module name to its path and dependency paths. */
export function parseModulesDep(text: string): Map<string, { path: string; dependencies: string[] }> {
  const modules = new Map<string, { path: string; dependencies: string[] }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const dependencies = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((dependency) => dependency !== '');
    modules.set(moduleName(path), { path, dependencies });
  }
  return modules;
}

/**
 * The module files (paths relative to /lib/modules/VERSION) that load `wanted`, each after the
 * modules it needs and each once. Modules built into the kernel (named in modules.builtin) need
 * no file and are left out. A name that is neither is an error: the guest would not boot.
 */
export function moduleLoadOrder(wanted: readonly string[], modulesDep: string, modulesBuiltin: string): string[] {
  const modules = parseModulesDep(modulesDep);
  const builtin = new Set(
    modulesBuiltin
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(moduleName),
  );
  const byPath = new Map([...modules.values()].map((module) => [module.path, module]));
  const order: string[] = [];
  const placed = new Set<string>();
  // depmod lists a module's dependencies transitively, deepest last, so loading them in reverse
  // order before the module itself satisfies every symbol; the recursion also covers a modules.dep
  // that lists only direct dependencies.
  const place = (path: string, chain: readonly string[]): void => {
    if (placed.has(path)) return;
    if (chain.includes(path)) throw new Error(`kernel modules depend on each other in a cycle: ${[...chain, path].join(' -> ')}`);
    const module = byPath.get(path);
    if (module === undefined) throw new Error(`modules.dep names ${path} as a dependency but has no line for it`);
    for (const dependency of [...module.dependencies].reverse()) place(dependency, [...chain, path]);
    placed.add(path);
    order.push(path);
  };
  for (const name of wanted) {
    const module = modules.get(moduleName(name));
    if (module !== undefined) place(module.path, []);
    else if (!builtin.has(moduleName(name))) throw new Error(`the kernel has no module "${name}" (neither in modules.dep nor built in)`);
  }
  return order;
}
