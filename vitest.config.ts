import { defineConfig } from 'vitest/config';

// Unit tests are pure (no hosts); integration tests start real daemons and need root.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts', 'roles/**/*.test.ts'],
          // GitHub's workflow parser imports its JSON schema without an import attribute, which
          // Node refuses; bundled by vitest instead, it loads.
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/ci-leftover-lab.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
