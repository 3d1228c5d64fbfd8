import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { directional, fdMismatch } from '../laws/numeric.js'
import type { RVec } from '../linalg/types.js'
import { dot } from '../linalg/vector.js'
import { softmaxCleaningProblem } from '../problems/softmax.js'
import { normals, seed as rngSeed } from '../random/rng.js'
import { aidTruth } from './aidTruth.js'
import { erCleaningData, erCleaningDefaults, erCleaningTask, type CleaningPoint, type ErCleaningConfig, type ErCleaningTaskResult } from './erHypercleaning.js'
import { experiments, write } from './registry.js'

const tiny: ErCleaningConfig = { ...erCleaningDefaults, runs: 1, nTrain: 60, nVal: 40, rho: 2, budget: 150, lowerTols: [1e-1, 1e-4], linearTols: [1e-2, 1e-6], curvePoints: 5 }

const task = (config: ErCleaningConfig): ErCleaningTaskResult => {
  const out = erCleaningTask({ ...config, run: 0 })
  if (!out.ok) throw new Error(out.error.message)
  return out.value
}

describe('er-hypercleaning', () => {
  it('corrupts 10% of the training labels, each to another class, and no other', () => {
    const d = orThrow(erCleaningData({ nTrain: 250, nVal: 10, corruptFraction: 0.1, seed: 3 }, 2))
    const changed: number[] = []
    for (let i = 0; i < 250; i++) if (d.train.y[i] !== d.clean.y[i]) changed.push(i)
    expect(changed).toHaveLength(25)
    expect(changed).toEqual(Array.from(d.corrupted))
    expect(d.train.nClasses).toBe(10)
    expect(Array.from(d.train.y).every((y) => Number.isInteger(y) && y >= 0 && y < 10)).toBe(true)
  })
  it('the reference (Newton-CG + CG) agrees with central differences of f(λ) = E(w(λ)), w(λ) from the same tight solve', () => {
    const d = orThrow(erCleaningData({ nTrain: 20, nVal: 20, corruptFraction: 0.1, seed: 1 }, 0))
    const lambda = normals(rngSeed(2), 20)[0]
    const problem = orThrow(softmaxCleaningProblem(d.train, d.validation, lambda, { rho: 2 }))
    const truth = orThrow(aidTruth(problem, lambda))
    expect(truth.relGradLower).toBeLessThan(1e-8)
    expect(truth.relResidual).toBeLessThan(1e-9)
    const f = (l: RVec): Float64Array => Float64Array.of(problem.upper(orThrow(aidTruth(problem, l)).w, l))
    const mu = normals(rngSeed(3), 20)[0]
    expect(fdMismatch(Float64Array.of(dot(truth.gradient, mu)), directional(f, lambda, mu), { rtol: 1e-6, atol: 1e-9 })).toBeUndefined()
  })
  const r = task(tiny)
  const at = (lower: string, lowerTol: number, linear: string, linearTol: number): CleaningPoint =>
    r.points.find((p) => p.lower === lower && p.lowerTol === lowerTol && p.linear === linear && p.linearTol === linearTol)!
  it('36 settings within the budget; a setting that meets its tolerances uses no more than it', () => {
    expect(r.points).toHaveLength(36)
    for (const p of r.points) {
      expect(p.t + p.k).toBeLessThanOrEqual(tiny.budget)
      if (!p.lowerReached) expect(p.t + p.k).toBe(tiny.budget)
    }
    expect(r.corrupted).toBe(6)
  })
  it('heavy ball to 1e-4 then CG: CG meets 1e-6 in fewer steps than heavy ball and GD on the linear system, and its error is the least', () => {
    const cg = at('heavyBall', 1e-4, 'cg', 1e-6)
    expect(cg.lowerReached && cg.linearReached).toBe(true)
    for (const other of ['gd', 'heavyBall']) {
      const o = at('heavyBall', 1e-4, other, 1e-6)
      expect(cg.k).toBeLessThan(o.k)
      expect(cg.relError!).toBeLessThanOrEqual(o.relError!)
    }
    // With both solves tight the remaining error is the lower level's: small.
    expect(cg.relError!).toBeLessThan(1e-2)
  })
  it('runs through the registry and writes results.json, results.csv and the figure', async () => {
    const config = { ...tiny, nTrain: 20, nVal: 10, budget: 20, curvePoints: 2 }
    const out = orThrow(await experiments['er-hypercleaning'].run(config, { workers: 1 }))
    const dir = mkdtempSync(join(tmpdir(), 'hg-erc-'))
    orThrow(await write(out, dir))
    expect(readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 36)
    expect(readFileSync(join(dir, 'er-hypercleaning.svg'), 'utf8').startsWith('<svg')).toBe(true)
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { details: { tasks: ErCleaningTaskResult[] } }
    expect(json.details.tasks[0]!.points.map((p) => p.relError)).toEqual(task(config).points.map((p) => p.relError))
  })
  it('refuses more digits than the package has, and tolerances that are not below 1', () => {
    const a = experiments['er-hypercleaning'].configure({ nTrain: 9000, nVal: 2000 })
    expect(E.isLeft(a) && a.left.message).toMatch(/nTrain \+ nVal = 11000 exceeds the 10000 MNIST digits/)
    const b = experiments['er-hypercleaning'].configure({ lowerTols: '0.1,2' })
    expect(E.isLeft(b) && b.left.message).toMatch(/lowerTols: every tolerance must be below 1/)
  })
})
