import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { iterationComplexityTask, type IcTaskResult, type IterationComplexityConfig } from './iterationComplexity.js'
import { experiments, write } from './registry.js'
import { right } from './testing.test-util.js'

const small: IterationComplexityConfig = {
  ...experiments['iteration-complexity'].defaults,
  runs: 1,
  iterations: [0, 20, 80],
  nTrain: 300,
  nVal: 300,
  lambdaScale: 20,
  quadDim: 8,
  quadHyperDim: 3,
  quadL: 20,
}

const task = (problem: 'logistic' | 'quadratic'): IcTaskResult => {
  const out = iterationComplexityTask({ ...small, problem, run: 0 })
  if (!out.ok) throw new Error(out.error.message)
  return out.value
}

describe('iteration-complexity', () => {
  const quad = task('quadratic')
  const logi = task('logistic')

  it('on the quadratic, ITD equals AID-FP with k = t (Φ affine: the unrolled adjoint is the fixed-point iterate)', () => {
    for (const t of small.iterations) {
      const itd = quad.points.find((p) => p.method === 'itd' && p.t === t)!.error!
      const fp = quad.points.find((p) => p.method === 'aidFp' && p.t === t)!.error!
      expect(Math.abs(itd - fp)).toBeLessThanOrEqual(1e-9 * (quad.gradNorm + itd))
    }
  })

  it('every method approaches ∇f as t = k grows, and never exceeds its a priori bound (Grazzi et al. 2020)', () => {
    for (const r of [quad, logi]) {
      for (const m of ['itd', 'aidFp', 'aidCg'] as const) {
        const first = r.points.find((p) => p.method === m && p.t === 0)!
        const last = r.points.find((p) => p.method === m && p.t === 80)!
        expect(last.relError!).toBeLessThan(first.relError!)
        for (const p of r.points.filter((q) => q.method === m)) {
          expect(p.status).not.toBe('diverged')
          expect(p.bound).not.toBeNull()
          expect(p.error!).toBeLessThanOrEqual(p.bound! * (1 + 1e-9))
        }
      }
    }
  })

  it('runs through the registry and writes results.json, results.csv and the figure', async () => {
    const out = right(await experiments['iteration-complexity'].run(small, { workers: 2 }))
    const dir = mkdtempSync(join(tmpdir(), 'hg-ic-'))
    right(await write(out, dir))
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { experiment: string; details: { tasks: IcTaskResult[] } }
    expect(json.experiment).toBe('iteration-complexity')
    // The pool's results equal the in-thread task's, number for number.
    const again = json.details.tasks.find((t) => t.problem === 'quadratic')!
    expect(again.points.map((p) => p.error)).toEqual(quad.points.map((p) => p.error))
    expect(readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 3 * 3)
    expect(readFileSync(join(dir, 'iteration-complexity.svg'), 'utf8').startsWith('<svg')).toBe(true)
  })
})
