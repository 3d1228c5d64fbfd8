import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BOUNDS_SOLVERS, boundsTask, compareBounds, type BoundsConfig, type BoundsTaskResult } from './boundsExperiment.js'
import { experiments, write } from './registry.js'
import { right } from './testing.test-util.js'

const small: BoundsConfig = { runs: 2, rows: 80, cols: 4, lowerIterations: 15, linearIterations: 25, seed: 3 }

describe('bounds (Ehrhardt & Roberts §4.1)', () => {
  const results: BoundsTaskResult[] = [0, 1].map((run) => {
    const out = boundsTask({ ...small, run })
    if (!out.ok) throw new Error(out.error.message)
    return out.value
  })

  it('both bounds hold at every iterate of every solver (the theorems’ inequalities)', () => {
    for (const r of results) {
      for (const p of r.points) {
        expect(p.error).not.toBeNull()
        for (const b of [p.aPriori, p.aPrioriComputable, p.aPosteriori]) if (b !== null) expect(p.error!).toBeLessThanOrEqual(b + 1e-9 * r.gradNorm)
        expect(p.aPriori).not.toBeNull()
        expect(p.aPosteriori).not.toBeNull()
      }
    }
    for (const s of BOUNDS_SOLVERS) expect(compareBounds(results, s).violations).toBe(0)
  })

  it('conjugate gradient reaches the exact hypergradient in at most d steps (finite termination), and its a posteriori bound follows', () => {
    for (const r of results) {
      const at = r.points.find((p) => p.solver === 'linearCg' && p.iter === small.cols)!
      expect(at.error!).toBeLessThan(1e-8 * r.gradNorm)
      expect(at.aPosteriori!).toBeLessThan(1e-6 * r.gradNorm)
    }
  })

  it('the computable a priori bound (‖w₀ − w*‖ ≤ ‖∇ℓ(w₀)‖/τ) is never tighter than the one with the exact distance', () => {
    for (const r of results)
      for (const p of r.points.filter((q) => q.solver.startsWith('lower'))) expect(p.aPrioriComputable!).toBeGreaterThanOrEqual(p.aPriori! * (1 - 1e-12))
  })

  it('runs through the registry and writes results.json, results.csv and the two figures', async () => {
    const out = right(await experiments.bounds.run(small, { workers: 2 }))
    const dir = mkdtempSync(join(tmpdir(), 'hg-bounds-'))
    right(await write(out, dir))
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { details: { tasks: Array<Omit<BoundsTaskResult, 'seconds'>> } }
    expect(json.details.tasks.map((t) => t.points)).toEqual(results.map((r) => r.points))
    const rows = readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n')
    expect(rows).toHaveLength(1 + small.runs * (2 * (small.lowerIterations + 1) + 3 * (small.linearIterations + 1)))
    for (const f of ['bounds-lower.svg', 'bounds-linear.svg']) expect(readFileSync(join(dir, f), 'utf8').startsWith('<svg')).toBe(true)
    expect(out.summary).toMatch(/a posteriori/)
  })
})
