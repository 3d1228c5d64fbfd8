import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { mnistOddEven } from '../data/mnist.js'
import { mnistPooled } from '../data/mnistPooled.js'
import { orThrow } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import { exact } from '../hypergrad/exact.js'
import { directional, fdMismatch } from '../laws/numeric.js'
import type { RVec } from '../linalg/types.js'
import { dot } from '../linalg/vector.js'
import { biasedRegularizationProblem } from '../problems/biasedRegularization.js'
import { equilibriumProblem } from '../problems/equilibrium.js'
import { normals, seed as rngSeed } from '../random/rng.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'
import { heavyBallParamsFor } from '../solvers/params.js'
import { runLower } from '../solvers/run.js'
import {
  grazziTask,
  gzBiasedRegDefaults,
  gzEquilibriumDefaults,
  gzHyperRepDefaults,
  gzKrrDefaults,
  type GzProblem,
  type GzTaskResult,
} from './grazziProblems.js'
import type { SweepMethod } from './errorSweep.js'
import { experiments, write } from './registry.js'

const task = (problem: GzProblem, config: object): GzTaskResult => {
  const out = grazziTask({ problem, config: config as never, run: 0 })
  if (!out.ok) throw new Error(out.error.message)
  return out.value
}
const err = (r: GzTaskResult, m: SweepMethod, t: number): number => r.points.find((p) => p.method === m && p.t === t)!.relError!

/** Every method's error is finite and decreases from t = 0 to each later t of the grid. */
const decreasing = (r: GzTaskResult, grid: ReadonlyArray<number>): void => {
  const methods = [...new Set(r.points.map((p) => p.method))]
  for (const m of methods)
    for (let i = 1; i < grid.length; i++) {
      expect(r.points.find((p) => p.method === m && p.t === grid[i])!.status).not.toBe('diverged')
      expect(err(r, m, grid[i]!)).toBeLessThan(err(r, m, grid[0]!))
    }
  for (const m of methods) expect(err(r, m, grid[grid.length - 1]!)).toBeLessThan(err(r, m, grid[grid.length - 2]!))
}

describe('grazzi-krr', () => {
  const grid = [0, 30, 150]
  const r = task('krr', { ...gzKrrDefaults, runs: 1, nTrain: 100, nVal: 60, iterations: grid })
  it('every error decreases with t; at the largest t AID-CG < AID-FP < ITD (Grazzi et al. 2020)', () => {
    decreasing(r, grid)
    expect(err(r, 'aidCg', 150)).toBeLessThan(err(r, 'aidFp', 150))
    expect(err(r, 'aidFp', 150)).toBeLessThan(err(r, 'itd', 150))
    expect(r.dim).toBe(100)
    expect(r.q).toBeLessThan(1)
  })
  it('runs through the registry and writes results.json, results.csv and the figure', async () => {
    const config = { ...gzKrrDefaults, runs: 1, nTrain: 40, nVal: 30, iterations: [0, 20] }
    const out = orThrow(await experiments['grazzi-krr'].run(config, { workers: 1 }))
    const dir = mkdtempSync(join(tmpdir(), 'hg-gz-'))
    orThrow(await write(out, dir))
    expect(readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 3 * 2)
    expect(readFileSync(join(dir, 'grazzi-krr.svg'), 'utf8').startsWith('<svg')).toBe(true)
    const again = task('krr', config)
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { details: { tasks: GzTaskResult[] } }
    expect(json.details.tasks[0]!.points.map((p) => p.error)).toEqual(again.points.map((p) => p.error))
  })
  it('refuses more cars than the table has', () => {
    const c = experiments['grazzi-krr'].configure({ nTrain: 300, nVal: 100 })
    expect(E.isLeft(c) && c.left.message).toMatch(/nTrain \+ nVal ≤ 392/)
  })
})

describe('grazzi-biased-reg', () => {
  const grid = [0, 20, 100]
  const small = { ...gzBiasedRegDefaults, runs: 1, nTrain: 200, nVal: 200, rho: 30, iterations: grid }
  it('logistic loss: every error decreases with t; at the largest t AID-CG is below AID-FP and ITD', () => {
    const r = task('biasedReg', small)
    decreasing(r, grid)
    expect(err(r, 'aidCg', 100)).toBeLessThan(0.5 * err(r, 'aidFp', 100))
    expect(err(r, 'aidCg', 100)).toBeLessThan(0.5 * err(r, 'itd', 100))
  })
  it('squared loss: Φ is affine and ∂₂Φ constant, so ITD equals AID-FP at every t', () => {
    const r = task('biasedReg', { ...small, loss: 'squared' })
    for (const t of grid) expect(Math.abs(err(r, 'itd', t) - err(r, 'aidFp', t))).toBeLessThan(1e-9 * err(r, 'aidFp', t))
  })
  it('the ground truth (exact) agrees with central differences of f(λ), w(λ) by heavy ball to rounding', () => {
    const { train, validation } = orThrow(mnistOddEven({ nTrain: 100, nVal: 100, seed: 3 }))
    const lambda = normals(rngSeed(4), 784)[0].map((x) => 0.1 * x)
    const problem = orThrow(biasedRegularizationProblem(train, validation, 30, lambda, { loss: 'logistic' }))
    const g = orThrow(exact(problem, lambda))
    if (g.status === 'diverged') throw new Error(g.reason)
    const f = (l: RVec): Float64Array => {
      const hb = orThrow(heavyBallParamsFor(problem, l))
      const run = orThrow(runLower(heavyBall({ beta: hb.beta, eta: hb.eta }), problem, l, new Float64Array(784), rngSeed(0), { maxIter: 3000, tol: 1e-14 }))
      return Float64Array.of(problem.upper(run.state.w, l))
    }
    const mu = normals(rngSeed(5), 784)[0]
    expect(fdMismatch(Float64Array.of(dot(g.gradient, mu)), directional(f, lambda, mu), { rtol: 1e-6, atol: 1e-10 })).toBeUndefined()
  })
})

describe('grazzi-hyper-rep', () => {
  const grid = [0, 20, 100]
  it('every error decreases with t; at t = 20 both AIDs are below ITD; CG solves the k-dimensional system in at most k + 1 steps', () => {
    const r = task('hyperRep', { ...gzHyperRepDefaults, runs: 1, nTrain: 100, nVal: 100, features: 4, iterations: grid })
    decreasing(r, grid)
    expect(err(r, 'aidFp', 20)).toBeLessThan(0.1 * err(r, 'itd', 20))
    expect(err(r, 'aidCg', 20)).toBeLessThan(0.1 * err(r, 'itd', 20))
    expect(r.points.find((p) => p.method === 'aidCg' && p.t === 100)!.k).toBeLessThanOrEqual(5)
  })
})

describe('grazzi-equilibrium', () => {
  const grid = [0, 10, 40]
  const config = { ...gzEquilibriumDefaults, runs: 1, digits: 20, hidden: 4, iterations: grid }
  it('every error decreases with t; AID-GMRES is below AID-FP and ITD at t > 0; ‖A‖₂ is the normA asked for', () => {
    const r = task('equilibrium', config)
    decreasing(r, grid)
    for (const t of [10, 40]) {
      expect(err(r, 'aidGmres', t)).toBeLessThan(err(r, 'aidFp', t))
      expect(err(r, 'aidGmres', t)).toBeLessThan(err(r, 'itd', t))
    }
    expect(r.q).toBeCloseTo(0.8, 10)
    expect(r.points.some((p) => p.method === 'aidCg')).toBe(false)
  })
  it('conjugate gradient is refused on it (∂₁Φ is not symmetric)', () => {
    const digits = orThrow(mnistPooled(5))
    const lambda = normals(rngSeed(1), 3 * 3 + 3 * 49 + 3 + 30 + 10)[0].map((x) => 0.1 * x)
    const problem = orThrow(equilibriumProblem(digits, 3, lambda))
    expect(problem.symmetric).toBe(false)
    const r = aid(problem, lambda, { lower: fixedPointIteration(), linear: conjugateGradient(), t: 5, k: 5 })
    expect(E.isLeft(r) && r.left.kind).toBe('domain')
  })
  it('a normA out of reach is a config error naming it', () => {
    const out = grazziTask({ problem: 'equilibrium', config: { ...config, normA: 0.89 }, run: 0 })
    expect(!out.ok && out.error.message).toMatch(/‖A‖₂ = 0.89 is out of reach/)
    const c = experiments['grazzi-equilibrium'].configure({ normA: 0.95 })
    expect(E.isLeft(c) && c.left.message).toMatch(/normA 0.95 must be below 0.9/)
  })
})
