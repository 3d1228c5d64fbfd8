import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { subsetRows } from '../data/split.js'
import { textLikeClasses } from '../data/textLike.js'
import { orThrow } from '../errors.js'
import { exact } from '../hypergrad/exact.js'
import { distance, norm } from '../linalg/vector.js'
import { softmaxProblem } from '../problems/softmax.js'
import { aidTruth } from './aidTruth.js'
import { gzNewsgroupsDefaults, gzNewsgroupsTask, type GzNewsgroupsConfig, type GzNewsgroupsTaskResult } from './grazziNewsgroups.js'
import type { SweepMethod } from './errorSweep.js'
import { experiments, write } from './registry.js'

const tiny: GzNewsgroupsConfig = { ...gzNewsgroupsDefaults, runs: 1, nTrain: 80, nVal: 40, features: 50, nnzPerRow: 8, classes: 3, lambdaScale: 0.5, iterations: [0, 20, 80] }

const task = (config: GzNewsgroupsConfig): GzNewsgroupsTaskResult => {
  const out = gzNewsgroupsTask({ ...config, run: 0 })
  if (!out.ok) throw new Error(out.error.message)
  return out.value
}
const err = (r: GzNewsgroupsTaskResult, m: SweepMethod, t: number): number => r.points.find((p) => p.method === m && p.t === t)!.relError!

describe('grazzi-newsgroups', () => {
  it('the reference (Newton-CG + CG) agrees with the exact hypergradient (dense solve) where d·C is small enough for it', () => {
    const ds = orThrow(textLikeClasses({ rows: 120, cols: 50, nnzPerRow: 8, classes: 3, seed: 2 }))
    const idx = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i)
    const lambda = Float64Array.from({ length: 50 }, (_, j) => 0.3 + 0.05 * j)
    const problem = orThrow(softmaxProblem(subsetRows(ds, idx(0, 80)), subsetRows(ds, idx(80, 40)), lambda, { regularization: 'perFeature' }))
    const truth = orThrow(aidTruth(problem, lambda))
    const dense = orThrow(exact(problem, lambda))
    if (dense.status === 'diverged') throw new Error(dense.reason)
    expect(distance(truth.gradient, dense.gradient)).toBeLessThan(1e-9 * norm(dense.gradient))
    expect(truth.relGradLower).toBeLessThan(1e-8)
    expect(truth.relResidual).toBeLessThan(1e-9)
  })
  it('every error falls with t; at the largest t AID-CG is below AID-FP and ITD (Grazzi et al. 2020)', () => {
    const r = task(tiny)
    for (const m of ['itd', 'aidFp', 'aidCg'] as const) {
      expect(err(r, m, 20)).toBeLessThan(err(r, m, 0))
      expect(err(r, m, 80)).toBeLessThan(err(r, m, 20))
    }
    expect(err(r, 'aidCg', 80)).toBeLessThan(err(r, 'aidFp', 80))
    expect(err(r, 'aidCg', 80)).toBeLessThan(err(r, 'itd', 80))
    expect(r.dim).toBe(150)
    expect(r.hyperDim).toBe(50)
    expect(r.truth.relGradLower).toBeLessThan(1e-8)
  })
  it('runs through the registry and writes results.json, results.csv and the figure', async () => {
    const out = orThrow(await experiments['grazzi-newsgroups'].run({ ...tiny, iterations: [0, 10] }, { workers: 1 }))
    const dir = mkdtempSync(join(tmpdir(), 'hg-gzn-'))
    orThrow(await write(out, dir))
    expect(readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 3 * 2)
    expect(readFileSync(join(dir, 'grazzi-newsgroups.svg'), 'utf8').startsWith('<svg')).toBe(true)
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { details: { tasks: GzNewsgroupsTaskResult[] } }
    expect(json.details.tasks[0]!.points.map((p) => p.error)).toEqual(task({ ...tiny, iterations: [0, 10] }).points.map((p) => p.error))
  })
  it('refuses a run too large for the machine, naming the field (ITD keeps t iterates of d·C numbers)', () => {
    const c = orThrow(experiments['grazzi-newsgroups'].configure({ features: 1355191, nTrain: 19996, nnzPerRow: 455 }))
    const p = experiments['grazzi-newsgroups'].plan(c, {}, { cores: 2, memoryBytes: 16e9, heapBytes: 4e9 })
    expect(E.isLeft(p) && p.left.message).toMatch(/features = 1.355191e6: the run needs about \d+ GB of memory/)
  })
})
