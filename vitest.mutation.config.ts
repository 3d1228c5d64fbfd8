// The test set of `npm run mutation` (stryker.config.json): the unit tests of src/bounds and the
// properties that check the bounds against true errors — fast enough to run once per mutant.
// The base config's aliases and setup are kept; its `include` is replaced, not merged.
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: { ...base.test, include: ['src/bounds/**/*.test.ts', 'properties/boundTightness.test.ts'] },
})
