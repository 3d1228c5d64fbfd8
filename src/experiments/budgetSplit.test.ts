import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { budgetSplitDefaults, budgetSplitTask, splitsOf, type BudgetSplitConfig, type SplitChoice, type SplitTaskResult } from './budgetSplit.js'
import { experiments, write } from './registry.js'

const small: BudgetSplitConfig = { ...budgetSplitDefaults, runs: 1, rows: 200, cols: 6, budget: 60, step: 10 }

const task = (): SplitTaskResult => {
  const out = budgetSplitTask({ ...small, run: 0 })
  if (!out.ok) throw new Error(out.error.message)
  return out.value
}

describe('er-budget-split', () => {
  const r = task()
  const pair = (lower: string, linear: string) => r.points.filter((p) => p.lower === lower && p.linear === linear)
  it('has every pair at every split t with k = B − t (CG stops early only at rounding level), and both bounds hold everywhere', () => {
    expect(r.points).toHaveLength(9 * splitsOf(small).length)
    for (const p of r.points) {
      expect(p.error).not.toBeNull()
      if (!(p.linear === 'cg')) expect(p.k).toBe(small.budget - p.t)
      else expect(p.k).toBeLessThanOrEqual(small.budget - p.t)
      for (const b of [p.aPriori, p.aPosteriori]) {
        expect(b).not.toBeNull()
        expect(p.error!).toBeLessThanOrEqual(b! * (1 + 1e-9) + 1e-9 * r.gradNorm)
      }
    }
  })
  it('neither extreme is the best split, and heavy ball + CG beats GD + GD at their best splits by orders of magnitude', () => {
    const best = (lower: string, linear: string) => Math.min(...pair(lower, linear).map((p) => p.error!))
    for (const lower of ['gd', 'heavyBall', 'fista'])
      for (const linear of ['gd', 'heavyBall', 'cg']) {
        const ps = pair(lower, linear)
        const b = best(lower, linear)
        expect(ps[0]!.error!).toBeGreaterThan(b)
        expect(ps[ps.length - 1]!.error!).toBeGreaterThan(b)
      }
    expect(best('heavyBall', 'cg')).toBeLessThan(1e-3 * best('gd', 'gd'))
  })
  it('runs through the registry: the summary names the splits, results.csv and the 9-panel figure are written', async () => {
    const out = orThrow(await experiments['er-budget-split'].run(small, { workers: 1 }))
    const choices = (out.details as { choices: SplitChoice[] }).choices
    expect(choices).toHaveLength(9)
    for (const c of choices) expect(c.violations).toBe(0)
    const dir = mkdtempSync(join(tmpdir(), 'hg-split-'))
    orThrow(await write(out, dir))
    expect(readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 9 * splitsOf(small).length)
    expect(readFileSync(join(dir, 'er-budget-split.svg'), 'utf8').startsWith('<svg')).toBe(true)
    const bad = experiments['er-budget-split'].configure({ rows: 3, cols: 5 })
    expect(E.isLeft(bad) && bad.left.message).toMatch(/rows 3 must be ≥ cols 5/)
  })
})
