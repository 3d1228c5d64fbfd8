import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  // Tests and examples import the package by name, as users do; it resolves to the sources.
  resolve: {
    alias: [
      { find: /^hypergrad\/laws$/, replacement: src('./src/laws/index.ts') },
      { find: /^hypergrad$/, replacement: src('./src/index.ts') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'laws/**/*.test.ts', 'properties/**/*.test.ts', 'examples/**/*.test.ts'],
    // Mutation testing's sandbox and reports are never test sources.
    exclude: ['**/node_modules/**', '.stryker-tmp/**', 'reports/**'],
    setupFiles: ['./vitest.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
