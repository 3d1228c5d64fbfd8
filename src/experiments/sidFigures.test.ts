import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { estimateOf } from '../hypergrad/fixtures.test-util.js'
import type { Dataset } from '../data/dataset.js'
import { PRESET_NAMES, sidWithPreset } from '../hypergrad/presets.js'
import { matrix } from '../linalg/types.js'
import { logisticProblem } from '../problems/logistic.js'
import { normals, seed, split } from '../random/rng.js'
import { experiments, write, type ExperimentOutput } from './registry.js'
import { sidAtBudgets, sidTask, type SidFig1Config, type SidTaskResult } from './sidFigures.js'
import { right } from './testing.test-util.js'

const synthetic = (n: number, p: number, s: number): { readonly train: Dataset; readonly validation: Dataset } => {
  const [rX, rW] = split(seed(s), 2) as [ReturnType<typeof seed>, ReturnType<typeof seed>]
  const [x] = normals(rX, 2 * n * p)
  const [w] = normals(rW, p)
  const y = Float64Array.from({ length: 2 * n }, (_, i) => {
    let z = 0
    for (let j = 0; j < p; j++) z += x[i * p + j]! * w[j]!
    return z >= 0.3 ? 1 : -1
  })
  const part = (lo: number): Dataset => ({ X: matrix(n, p, x.slice(lo * p, (lo + n) * p)), y: y.slice(lo, lo + n) })
  return { train: part(0), validation: part(n) }
}

/** results.json as written, without the timing (which differs from run to run). */
const writtenJson = async (out: ExperimentOutput<unknown>): Promise<{ readonly json: Record<string, unknown>; readonly dir: string }> => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-exp-'))
  right(await write(out, dir))
  const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Record<string, unknown>
  delete json['timing']
  return { json, dir }
}

describe('sidAtBudgets', () => {
  it('gives exactly the numbers of independent SID runs (shared lower prefix), for every preset and sampling', () => {
    const { train, validation } = synthetic(120, 6, 4)
    const lambda = Float64Array.of(3)
    const problem = right(logisticProblem(train, validation, lambda, { regularization: 'scalar' }))
    const truth = new Float64Array(1)
    for (const variant of PRESET_NAMES)
      for (const sampling of ['independent', 'reshuffle'] as const) {
        const opts = { batchSize: 10, seed: 17, sampling, sigma2Linear: 3 }
        const cells = right(sidAtBudgets(problem, lambda, variant, [3, 1, 4], opts, truth))
        expect(cells.map((c) => c.epochs)).toEqual([1, 3, 4])
        expect(cells.every((c) => c.sampling === (variant === 'batch' ? null : sampling))).toBe(true)
        for (const c of cells) {
          const g = estimateOf(sidWithPreset(variant, problem, lambda, { ...opts, epochs: c.epochs })).gradient[0]!
          // truth = 0, so the squared error is the squared estimate: bit for bit.
          expect(c.sqErr).toBe(g * g)
        }
      }
  })

  it('draws reshuffled epochs differently from independent minibatches, from the same seed', () => {
    const { train, validation } = synthetic(120, 6, 4)
    const lambda = Float64Array.of(3)
    const problem = right(logisticProblem(train, validation, lambda, { regularization: 'scalar' }))
    const at = (sampling: 'independent' | 'reshuffle') => right(sidAtBudgets(problem, lambda, 'stochConst', [4], { batchSize: 10, seed: 17, sampling }, new Float64Array(1)))[0]!.sqErr
    expect(at('reshuffle')).not.toBe(at('independent'))
  })
})

describe('sid-fig1 on MNIST 5000/5000', () => {
  it("reproduces the peers' Batch errors on the reference split at λ = 1000 (RESULTS.md, PyTorch)", () => {
    const out = sidTask({
      regularization: 'scalar',
      run: 0,
      lambda: 1000,
      epochs: [2, 10, 20, 40, 60],
      variants: ['batch'],
      sampling: ['independent'],
      nTrain: 5000,
      nVal: 5000,
      batchSize: 50,
      split: 'reference',
      seed: 0,
    })
    if (!out.ok) throw new Error(out.error.message)
    // Relative squared errors after 2 / 10 / 20 / 40 / 60 epochs, as printed in RESULTS.md.
    const printed: ReadonlyArray<readonly [number, number, number]> = [
      [2, 0.929, 0.001],
      [10, 0.469, 0.001],
      [20, 0.217, 0.001],
      [40, 5.4e-2, 1e-3],
      [60, 1.5e-2, 1e-3],
    ]
    for (const [e, value, unit] of printed) {
      const c = out.value.cells.find((x) => x.epochs === e)!
      expect(Math.abs(c.relSqErr! - value)).toBeLessThanOrEqual(0.5 * unit * (1 + 1e-9))
    }
    expect(out.value.truth.converged).toBe(true)
  })

  it('shows the paper’s ordering at the largest λ: Stoch dec ends below Batch (2 runs, 2 workers)', async () => {
    const config: SidFig1Config = { ...experiments['sid-fig1'].defaults, runs: 2, lambdas: [1000], epochs: [2, 10], sampling: ['independent'] }
    const out = right(await experiments['sid-fig1'].run(config, { workers: 2 }))
    const tasks = (out.details as { tasks: SidTaskResult[] }).tasks
    expect(tasks).toHaveLength(2)
    for (const t of tasks) {
      const at = (v: string) => t.cells.find((c) => c.variant === v && c.epochs === 10)!.sqErr!
      expect(at('stochDec')).toBeLessThan(at('batch'))
    }
  })
})

describe('sid-fig1 and sid-fig2 outputs (small data)', () => {
  const small: SidFig1Config = {
    ...experiments['sid-fig1'].defaults,
    runs: 2,
    lambdas: [10, 100],
    epochs: [2, 4],
    nTrain: 300,
    nVal: 300,
  }

  it('writes results.json, results.csv and fig1.svg, identical with one worker and with two', async () => {
    const seen: Array<readonly [number, number]> = []
    const one = right(await experiments['sid-fig1'].run(small, { workers: 1, onProgress: (d, n) => seen.push([d, n]) }))
    const two = right(await experiments['sid-fig1'].run(small, { workers: 2 }))
    // Progress counts pool tasks: per (run, λ) its ground truth and one piece per arm (Batch,
    // and each stochastic variant with each sampling).
    const arms = 1 + 2 * small.sampling.length
    const pieces = small.runs * small.lambdas.length * (1 + arms)
    expect(seen[0]).toEqual([0, pieces])
    expect(seen[seen.length - 1]).toEqual([pieces, pieces])
    expect(seen.map(([d]) => d)).toEqual(Array.from({ length: pieces + 1 }, (_, i) => i))
    const a = await writtenJson(one)
    const b = await writtenJson(two)
    expect(a.json).toEqual(b.json)
    expect(a.json['experiment']).toBe('sid-fig1')
    const csv = readFileSync(join(a.dir, 'results.csv'), 'utf8').trim().split('\n')
    expect(csv).toHaveLength(1 + 2 * 2 * arms * 2) // header + runs × λ × arms × budgets
    expect(csv[0]).toContain('rel_sq_error')
    expect(readFileSync(join(a.dir, 'fig1.svg'), 'utf8').startsWith('<svg')).toBe(true)
    // One panel per λ and sampling (Batch in both), and the tables give medians, quantiles and means.
    expect(one.figures[0]!.panels.map((p) => p.title)).toEqual([
      expect.stringMatching(/^λ = 10 \(κ ≈ .*\), independent minibatches$/),
      expect.stringMatching(/^λ = 100 \(κ ≈ .*\), independent minibatches$/),
      expect.stringMatching(/^λ = 10 \(κ ≈ .*\), one reshuffle per epoch$/),
      expect.stringMatching(/^λ = 100 \(κ ≈ .*\), one reshuffle per epoch$/),
    ])
    expect(one.figures[0]!.panels[2]!.series.map((x) => x.name)).toEqual(['Batch', 'Stoch const', 'Stoch dec'])
    expect(one.figures[0]!.panels[0]!.series[0]).toEqual(one.figures[0]!.panels[2]!.series[0])
    expect(one.summary).toMatch(/^λ = 100, reshuffle +\S+ \[\S+, \S+\]/m)
    expect(one.summary).toMatch(/means over the runs/)
  })

  it('sid-fig2 draws λᵢ = e^εᵢ in [e^εlow, e^εhigh] per run and writes fig2.svg', async () => {
    const config = { ...experiments['sid-fig2'].defaults, runs: 2, epochs: [2], nTrain: 300, nVal: 300 }
    const out = right(await experiments['sid-fig2'].run(config, { workers: 2 }))
    const tasks = (out.details as { tasks: SidTaskResult[] }).tasks
    for (const t of tasks) {
      expect(t.lambdaRange.min).toBeGreaterThanOrEqual(Math.exp(-2))
      expect(t.lambdaRange.max).toBeLessThanOrEqual(Math.exp(2))
      expect(t.lambda).toBeNull()
    }
    expect(tasks[0]!.lambdaRange.min).not.toBe(tasks[1]!.lambdaRange.min) // each run its own draw
    const { dir } = await writtenJson(out)
    expect(readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 5) // runs × arms
    expect(readFileSync(join(dir, 'fig2.svg'), 'utf8').startsWith('<svg')).toBe(true)
  })
})
