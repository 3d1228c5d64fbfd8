import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { mnistOddEven } from '../data/mnist.js'
import { logisticProblem } from '../problems/logistic.js'
import { configure, experimentNames, getExperiment } from './registry.js'
import {
  checkTuneMnist,
  decodeTuneMnist,
  gridOrder,
  runTuneMnist,
  tuneMnistDefaults,
  type TuneMnistConfig,
  type TuneMnistTaskResult,
} from './tuneMnist.js'
import { right } from './testing.test-util.js'

describe('gridOrder', () => {
  it('is a permutation of 0…n−1 that starts with both ends', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), (n) => {
        const o = gridOrder(n)
        expect([...o].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
        if (n >= 2) expect(o.slice(0, 2)).toEqual([0, n - 1])
      }),
    )
  })
  it('for n = 2^K + 1, every prefix of length 2^j + 1 is the uniform sub-grid of step 2^(K−j)', () => {
    for (let K = 0; K <= 8; K++) {
      const n = 2 ** K + 1
      const o = gridOrder(n)
      for (let j = 0; j <= K; j++) {
        const step = 2 ** (K - j)
        const prefix = o.slice(0, 2 ** j + 1).sort((a, b) => a - b)
        expect(prefix).toEqual(Array.from({ length: 2 ** j + 1 }, (_, i) => i * step))
      }
    }
  })
})

describe('tune-mnist configuration', () => {
  it('is registered with data-cleaning: defaults decode to themselves, the fields cover the config, overrides parse', () => {
    for (const name of ['tune-mnist', 'data-cleaning']) {
      expect(experimentNames).toContain(name)
      const x = right(getExperiment(name))
      expect(right(x.configure())).toEqual(x.defaults)
      expect(x.fields.map((f) => f.name).sort()).toEqual(Object.keys(x.defaults as object).sort())
    }
    expect(right(configure('tune-mnist', { methods: 'aid,grid', budgetSeconds: '10' }))).toMatchObject({ methods: ['aid', 'grid'], budgetSeconds: 10 })
    const bad = configure('tune-mnist', { methods: 'aid,lbfgs' })
    expect(E.isLeft(bad) && bad.left.message).toMatch(/^reproduce tune-mnist: methods\.1: expected a method \(one of "aid", /)
  })

  it('decodes the defaults and rejects bad fields and inconsistent boxes', () => {
    expect(E.isRight(decodeTuneMnist(tuneMnistDefaults))).toBe(true)
    expect(E.isRight(checkTuneMnist(tuneMnistDefaults))).toBe(true)
    expect(E.isLeft(decodeTuneMnist({ ...tuneMnistDefaults, methods: ['aid', 'lbfgs'] }))).toBe(true)
    expect(E.isLeft(decodeTuneMnist({ ...tuneMnistDefaults, budgetSeconds: 0 }))).toBe(true)
    const bad: Array<[Partial<TuneMnistConfig>, RegExp]> = [
      [{ lambda0: 0.5 }, /lambda0 0\.5 is outside/],
      [{ lambdaLow: 10, lambdaHigh: 10 }, /lambdaLow 10 must be below lambdaHigh 10/],
      [{ methods: ['aid', 'aid'] }, /twice/],
      [{ nTrain: 5000, nVal: 3000, nTest: 3000 }, /exceeds the 10000/],
    ]
    for (const [o, re] of bad) {
      const r = checkTuneMnist({ ...tuneMnistDefaults, ...o })
      expect(E.isLeft(r) && r.left.message).toMatch(re)
    }
  })
})

describe('tune-mnist, reduced run', () => {
  const config: TuneMnistConfig = {
    ...tuneMnistDefaults,
    runs: 1,
    nTrain: 300,
    nVal: 200,
    nTest: 200,
    budgetSeconds: 600,
    aidSteps: 6,
    sidSteps: 6,
    sidEpochs: 2,
    gridPoints: 5,
    randomPoints: 4,
    initialTolerance: 1e-3,
  }
  const split = right(mnistOddEven({ nTrain: config.nTrain, nVal: config.nVal, nTest: config.nTest, seed: config.seed }))
  const outP = runTuneMnist(config, { workers: 1 })
  const byMethod = async (): Promise<Record<string, TuneMnistTaskResult>> => {
    const out = right(await outP)
    const results = (out.details as { results: TuneMnistTaskResult[] }).results
    return Object.fromEntries(results.map((r) => [r.method, r]))
  }

  it('the per-pixel λ of every all-zero training column keeps its start exactly (zero hypergradient)', async () => {
    const r = await byMethod()
    const { rows, cols, data } = split.train.X
    const zeros: number[] = []
    for (let j = 0; j < cols; j++) {
      let any = false
      for (let i = 0; i < rows && !any; i++) any = data[i * cols + j] !== 0
      if (!any) zeros.push(j)
    }
    expect(zeros.length).toBeGreaterThan(100)
    for (const m of ['aid', 'aidAdaptive', 'sid'] as const) {
      expect(r[m]!.zeroColumns).toBe(zeros.length)
      expect(r[m]!.zeroColumnsUnchanged).toBe(zeros.length)
      for (const j of zeros) expect(r[m]!.lambda[j]! / config.lambda0).toBeCloseTo(1, 14)
      // …while the other pixels moved.
      const moved = r[m]!.lambda.filter((l, j) => !zeros.includes(j) && Math.abs(l / config.lambda0 - 1) > 1e-3).length
      expect(moved).toBeGreaterThan(cols - zeros.length - 10)
    }
  })

  it('refit models are stationary, and their reported validation loss and test accuracy recompute from w', async () => {
    const r = await byMethod()
    for (const res of Object.values(r)) {
      const perPixel = res.lambda.length > 1
      const lambda = Float64Array.from(res.lambda)
      const w = Float64Array.from(res.refit.w)
      const p = split.train.X.cols
      // ∇ℓ(w) = Σ −yᵢxᵢ/(1 + e^{yᵢxᵢᵀw}) + λ ⊙ w, written out here.
      const g = new Float64Array(p)
      for (let i = 0; i < split.train.X.rows; i++) {
        let z = 0
        for (let j = 0; j < p; j++) z += split.train.X.data[i * p + j]! * w[j]!
        const y = split.train.y[i]!
        const c = -y / (1 + Math.exp(y * z))
        for (let j = 0; j < p; j++) g[j] = g[j]! + c * split.train.X.data[i * p + j]!
      }
      for (let j = 0; j < p; j++) g[j] = g[j]! + (perPixel ? lambda[j]! : lambda[0]!) * w[j]!
      const alpha = right(logisticProblem(split.train, split.validation, lambda, { regularization: perPixel ? 'perFeature' : 'scalar' })).alpha
      expect(res.refit.status).toBe('converged')
      expect(alpha * Math.hypot(...g)).toBeLessThanOrEqual((config.tolLower / 100) * (1 + 1e-6))
      const score = (ds: typeof split.validation) => {
        let loss = 0
        let ok = 0
        for (let i = 0; i < ds.X.rows; i++) {
          let z = 0
          for (let j = 0; j < p; j++) z += ds.X.data[i * p + j]! * w[j]!
          const u = ds.y[i]! * z
          loss += Math.log(1 + Math.exp(-u))
          if (u > 0) ok++
        }
        return { loss, accuracy: ok / ds.X.rows }
      }
      expect(res.refit.value / score(split.validation).loss).toBeCloseTo(1, 10)
      expect(res.refit.testAccuracy).toBe(score(split.test!).accuracy)
      expect(res.refit.testLoss * split.test!.X.rows / score(split.test!).loss).toBeCloseTo(1, 10)
    }
  })

  it('the deterministic hypergradient methods lower the validation loss of their start', async () => {
    const r = await byMethod()
    for (const m of ['aid', 'aidAdaptive', 'aidScalar'] as const) {
      expect(r[m]!.points).toHaveLength(6)
      expect(r[m]!.refit.value).toBeLessThan(r[m]!.points[0]!.value)
      // Their curves are the outer steps, in time order.
      for (let i = 1; i < r[m]!.points.length; i++) expect(r[m]!.points[i]!.seconds).toBeGreaterThanOrEqual(r[m]!.points[i - 1]!.seconds)
    }
    expect(r['sid']!.points).toHaveLength(6)
    // The certified variant met its tolerance at every step: min(initial, factor·‖∇̂f‖ of the step before).
    const pts = r['aidAdaptive']!.points
    pts.forEach((pt, i) => {
      const expected = Math.min(config.initialTolerance, config.adaptiveFactor * (i === 0 ? Infinity : pts[i - 1]!.gradNorm!))
      expect(pt.tolerance).toBe(expected)
      expect(pt.bound!).toBeLessThanOrEqual(pt.tolerance!)
    })
  })

  it('grid search visits the log grid coarse to fine and keeps its best λ; random search stays in the box', async () => {
    const r = await byMethod()
    const grid = r['grid']!
    const visited = grid.points.map((p) => p.evaluated!.lambda)
    const expected = [1, 1e4, 100, 10, 1000]
    visited.forEach((l, i) => expect(l / expected[i]!).toBeCloseTo(1, 12))
    const values = grid.points.map((p) => p.evaluated!.value)
    const bestIndex = values.indexOf(Math.min(...values))
    expect(grid.lambda[0]).toBe(visited[bestIndex])
    grid.points.forEach((p, i) => expect(p.value).toBe(Math.min(...values.slice(0, i + 1))))
    const random = r['random']!
    expect(random.points).toHaveLength(4)
    for (const p of random.points) {
      expect(p.evaluated!.lambda).toBeGreaterThanOrEqual(config.lambdaLow)
      expect(p.evaluated!.lambda).toBeLessThanOrEqual(config.lambdaHigh)
    }
    expect(new Set(random.points.map((p) => p.evaluated!.lambda)).size).toBe(4)
  })

  it('a spent budget stops every method after its first step', async () => {
    const out = right(await runTuneMnist({ ...config, methods: ['aid', 'grid'], budgetSeconds: 1e-3 }, { workers: 1 }))
    for (const res of (out.details as { results: TuneMnistTaskResult[] }).results) {
      expect(res.stopped).toBe('budget')
      expect(res.points).toHaveLength(1)
    }
  })
})
