#!/usr/bin/env node
// Roles are TypeScript modules loaded at run time (users write their own), so the CLI runs its
// sources through tsx instead of shipping a compiled copy that could drift from them.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
