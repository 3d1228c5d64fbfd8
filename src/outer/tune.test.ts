import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { RVec } from '../linalg/types.js'
import { tune, type HyperOracle } from './tune.js'

// f(λ) = Σ cᵢ (log λᵢ − log aᵢ)² has its minimum at λ = a and gradient 2cᵢ(log λᵢ − log aᵢ)/λᵢ.
const target = Float64Array.of(0.5, 3, 20)
const c = Float64Array.of(1, 2, 0.5)
const f = (l: RVec) => l.reduce((s, li, i) => s + c[i]! * (Math.log(li) - Math.log(target[i]!)) ** 2, 0)
const oracle: HyperOracle = ({ lambda, warm }) =>
  E.right({
    method: 'closed-form',
    gradient: lambda.map((li, i) => (2 * c[i]! * (Math.log(li) - Math.log(target[i]!))) / li),
    value: f(lambda),
    w: Float64Array.of(warm.w === undefined ? 0 : warm.w[0]! + 1),
    v: new Float64Array(1),
    t: warm.w === undefined ? 10 : 1,
    k: 0,
    lowerResiduals: new Float64Array(0),
    linearResiduals: new Float64Array(0),
    counts: { phi: 0, jacW: 0, jacLambda: 0 },
    stages: { lower: 'converged', linear: 'converged' },
    status: 'converged',
  })

describe('tune', () => {
  it('Adam on log λ converges to the minimizer and keeps λ > 0', () => {
    const r = tune(Float64Array.of(1, 1, 1), oracle, { optimizer: 'adam', steps: 400, stepSize: 0.05, logScale: true })
    if (E.isLeft(r)) throw new Error(r.left.message)
    r.right.lambda.forEach((l, i) => expect(Math.abs(l / target[i]! - 1)).toBeLessThan(1e-3))
    for (const s of r.right.trajectory) for (const l of s.lambda) expect(l).toBeGreaterThan(0)
    expect(r.right.value).toBeCloseTo(f(r.right.lambda), 12)
  })
  it('gradient descent on log λ converges; the trajectory is monotone for a small step', () => {
    const r = tune(Float64Array.of(1, 1, 1), oracle, { optimizer: 'gd', steps: 300, stepSize: 0.1, logScale: true })
    if (E.isLeft(r)) throw new Error(r.left.message)
    const vals = r.right.trajectory.map((s) => s.value)
    for (let i = 1; i < vals.length; i++) expect(vals[i]!).toBeLessThanOrEqual(vals[i - 1]! + 1e-15)
    r.right.lambda.forEach((l, i) => expect(Math.abs(l / target[i]! - 1)).toBeLessThan(1e-4))
  })
  it('projects onto the box and reports the final λ with its value', () => {
    const r = tune(Float64Array.of(1, 1, 1), oracle, { optimizer: 'adam', steps: 300, stepSize: 0.05, logScale: true, bounds: [1, 10] })
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(Array.from(r.right.lambda).map((x) => Math.round(x * 1e3) / 1e3)).toEqual([1, 3, 10])
    const last = r.right.trajectory[r.right.trajectory.length - 1]!
    expect(last.lambda).toEqual(Array.from(r.right.lambda))
  })
  it('warm starts pass the previous iterates to the next step, and can be switched off', () => {
    const warm = tune(Float64Array.of(1, 1, 1), oracle, { optimizer: 'gd', steps: 5, stepSize: 0.1, logScale: true })
    const cold = tune(Float64Array.of(1, 1, 1), oracle, { optimizer: 'gd', steps: 5, stepSize: 0.1, logScale: true, warmStart: false })
    if (E.isLeft(warm) || E.isLeft(cold)) throw new Error('unexpected')
    expect(warm.right.trajectory.map((s) => s.t)).toEqual([10, 1, 1, 1, 1])
    expect(cold.right.trajectory.map((s) => s.t)).toEqual([10, 10, 10, 10, 10])
  })
  it('maxSeconds: no evaluation starts after the budget; the first point is always evaluated', () => {
    let calls = 0
    const slow: HyperOracle = (req) => {
      calls++
      const t0 = performance.now()
      while (performance.now() - t0 < 20);
      return oracle(req)
    }
    const r = tune(Float64Array.of(1, 1, 1), slow, { optimizer: 'gd', steps: 100, stepSize: 0.1, logScale: true, maxSeconds: 0.05 })
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.status).toBe('maxIter')
    expect(r.right.reason).toMatch(/maxSeconds = 0\.05 spent/)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(calls).toBeLessThan(100)
    // every evaluation but the last started within the budget
    const starts = r.right.trajectory.map((s, i) => (i === 0 ? 0 : r.right.trajectory[i - 1]!.seconds))
    for (const t of starts) expect(t).toBeLessThan(0.05)
    const tiny = tune(Float64Array.of(1, 1, 1), slow, { optimizer: 'gd', steps: 100, stepSize: 0.1, maxSeconds: 1e-9 })
    if (E.isLeft(tiny)) throw new Error(tiny.left.message)
    expect(tiny.right.trajectory).toHaveLength(1)
  })
  it('rejects bad options with one-line errors', () => {
    const bad = [
      [{ optimizer: 'newton' as 'gd', steps: 3, stepSize: 0.1 }, /optimizer/],
      [{ optimizer: 'gd' as const, steps: 3, stepSize: -1 }, /stepSize/],
      [{ optimizer: 'gd' as const, steps: 0, stepSize: 1 }, /steps/],
      [{ optimizer: 'gd' as const, steps: 3, stepSize: 1, bounds: [5, 5] as const }, /empty box/],
      [{ optimizer: 'gd' as const, steps: 3, stepSize: 1, maxSeconds: 0 }, /outer\.maxSeconds must be a number > 0, got 0/],
      [{ optimizer: 'lbfgs' as const, steps: 3, maxSeconds: Number.NaN }, /outer\.maxSeconds/],
    ] as const
    for (const [o, re] of bad) {
      const r = tune(Float64Array.of(1), oracle, o)
      expect(E.isLeft(r) && r.left.message).toMatch(re)
    }
    const neg = tune(Float64Array.of(-1), oracle, { optimizer: 'gd', steps: 2, stepSize: 1, logScale: true })
    expect(E.isLeft(neg) && neg.left.message).toMatch(/lambda\[0\]/)
  })
})
