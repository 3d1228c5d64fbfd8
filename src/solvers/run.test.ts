import { describe, expect, it } from 'vitest'
import { denseSystem, gaussianVec, norm, scaledIdentity } from '../hypergrad/fixtures.test-util.js'
import { matVec } from '../linalg/matrix.js'
import { matrix } from '../linalg/types.js'
import { seed } from '../random/rng.js'
import { fromArray, type Stream } from '../stream/stream.js'
import { fixedPointLinear } from './linear/fixedPoint.js'
import { runLinear, runLower, trueResidual, type StopFlag } from './run.js'
import type { LinearState, LowerState } from './types.js'

const counts = (i: number) => ({ phi: i + 1, jacW: 0, jacLambda: 0 })
/** A scripted stream of lower states: iterate i is [xs[i]], residual rs[i]. */
const scripted = (xs: ReadonlyArray<number>, rs: ReadonlyArray<number | undefined>, flags: ReadonlyArray<StopFlag> = []): Stream<LowerState & StopFlag> =>
  fromArray(
    xs.map((x, i) => ({
      w: Float64Array.of(x),
      iter: i,
      counts: counts(i),
      ...(rs[i] === undefined ? {} : { residual: rs[i] }),
      ...(flags[i] ?? {}),
    })),
  )

describe('runLower / runLinear', () => {
  it('stops at the first state whose residual meets tol and returns that state', () => {
    const r = runLower(scripted([1, 2, 3, 4, 5, 6], [4, 3, 2, 1, 0.5, 0.25]), { maxIter: 10, tol: 1.5 })
    expect(r.status).toBe('converged')
    expect(r.iterations).toBe(3)
    expect(r.state.w[0]).toBe(4)
    expect(r.state.residual).toBeLessThanOrEqual(1.5)
    expect(Array.from(r.residuals)).toEqual([4, 3, 2, 1])
    expect(r.counts.phi).toBe(4)
  })
  it('stops at maxIter with status maxIter (and maxIter 0 returns the start)', () => {
    const r = runLower(scripted([1, 2, 3, 4, 5, 6], [4, 3, 2, 1, 0.5, 0.25]), { maxIter: 2, tol: 0.1 })
    expect([r.status, r.iterations, r.state.w[0], r.residuals.length]).toEqual(['maxIter', 2, 3, 3])
    const z = runLower(scripted([7, 8], [1, 1]), { maxIter: 0 })
    expect([z.status, z.iterations, z.state.w[0]]).toEqual(['maxIter', 0, 7])
  })
  it('a non-finite iterate or residual is divergence, reported at its iteration, returning the last good state', () => {
    const r = runLower(scripted([1, 2, 3, NaN, 5], [4, 3, 2, 1, 1]), { maxIter: 10 })
    expect([r.status, r.divergedAt, r.iterations, r.state.w[0]]).toEqual(['diverged', 3, 2, 3])
    expect(r.reason).toMatch(/non-finite iterate at iteration 3/)
    const s = runLower(scripted([1, 2, 3], [4, Infinity, 2]), { maxIter: 10 })
    expect([s.status, s.divergedAt, s.state.w[0]]).toEqual(['diverged', 1, 1])
  })
  it('a blow-up past 1e12·(1 + ‖x₀‖ + r₀ + ‖b‖) is divergence at the predicted iteration (fixed point on ∂₁Φᵀ = 1.1·I)', () => {
    const d = 4
    const b = gaussianVec(3, d)
    const system = denseSystem(scaledIdentity(d, 1.1), b, true, 1.1)
    const r = runLinear(fixedPointLinear().iterates(system, new Float64Array(d), seed(0)), { maxIter: 10_000, system })
    // vₖ = ((1.1ᵏ − 1)/0.1)·b; r₀ = ‖b‖ at v₀ = 0: the first k with ‖vₖ‖ > 1e12(1 + 2‖b‖).
    const nb = norm(b)
    const bound = 1e12 * (1 + nb + nb)
    let k = 0
    while (((1.1 ** k - 1) / 0.1) * nb <= bound) k++
    expect(r.status).toBe('diverged')
    expect(r.divergedAt).toBe(k)
    expect(r.iterations).toBe(k - 1)
    expect(Number.isFinite(norm(r.state.v))).toBe(true)
    expect(r.reason).toMatch(/blow-up bound/)
  })
  it('honours the solver flags: stop converged / diverged end the run at that state', () => {
    const c = runLower(scripted([1, 2, 3], [5, 5, 5], [{}, { stop: 'converged' }]), { maxIter: 10 })
    expect([c.status, c.iterations]).toEqual(['converged', 1])
    const d = runLower(scripted([1, 2, 3], [5, 5, 5], [{}, { stop: 'diverged', reason: 'breakdown' }]), { maxIter: 10 })
    expect([d.status, d.divergedAt, d.reason]).toEqual(['diverged', 1, 'breakdown'])
  })
  it('keeps the last `keep` good states, oldest first; residuals are empty when a state lacks one', () => {
    const r = runLower(scripted([1, 2, 3, 4, 5], [1, 1, 1, 1, 1]), { maxIter: 4, keep: 3 })
    expect(r.kept.map((s) => s.w[0])).toEqual([3, 4, 5])
    const u = runLower(scripted([1, 2, 3], [undefined, undefined, undefined]), { maxIter: 2 })
    expect(u.residuals.length).toBe(0)
    expect(u.status).toBe('maxIter')
  })
  it('recomputes the true residual of the returned linear iterate', () => {
    const d = 3
    const JT = matrix(d, d, Float64Array.of(0.1, 0.2, 0, -0.1, 0.3, 0.1, 0, 0.2, -0.2))
    const b = Float64Array.of(1, -2, 0.5)
    const system = denseSystem(JT, b, false, 0.5)
    const r = runLinear(fixedPointLinear().iterates(system, new Float64Array(d), seed(0)), { maxIter: 3, system })
    const v = r.state.v
    const jv = matVec(JT, v)
    const dense = norm(Float64Array.from(v, (x, i) => x - jv[i]! - b[i]!))
    expect(r.trueResidual).toBeCloseTo(dense, 14)
    expect(trueResidual(system, v)).toBeCloseTo(dense, 14)
  })
  it('rejects bad options and empty streams with a RangeError', () => {
    expect(() => runLower(scripted([1], [1]), { maxIter: -1 })).toThrow(RangeError)
    expect(() => runLower(scripted([1], [1]), { maxIter: 1.5 })).toThrow(RangeError)
    expect(() => runLower(scripted([1], [1]), { maxIter: 1, tol: -1 })).toThrow(RangeError)
    expect(() => runLinear(fromArray<LinearState>([]), { maxIter: 1 })).toThrow(RangeError)
  })
})
