// Every registered problem through every problem law (checkProblem: finite differences,
// adjointness, symmetry, contraction, purity, replay; for finite sums the SID Assumption B laws).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkProblem, formatFailures } from '../src/laws/index.js'
import { isStochastic } from '../src/problem/bilevel.js'
import { registry } from './registry.js'

describe('problem laws on every registered problem', () => {
  for (const entry of registry)
    it(entry.name, () => {
      const problem = entry.build()
      expect(isStochastic(problem)).toBe(entry.stochastic)
      const r = checkProblem(problem, {
        seed: fc.readConfigureGlobal().seed ?? 20210413,
        numRuns: 12,
        lambda0: entry.lambda0,
        ...(entry.batchSize !== undefined ? { batchSize: entry.batchSize } : {}),
        ...(entry.data !== undefined ? { data: entry.data } : {}),
      })
      expect(formatFailures(r, entry.name)).toBe('')
      // nothing silently skipped but what does not apply
      for (const x of r.results.filter((x) => x.skipped))
        expect(['symmetry', 'stochastic.separable']).toContain(x.law)
    })
})
