import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { denseSystem, gaussianVec, linearFP, norm, scaledIdentity } from '../hypergrad/fixtures.test-util.js'
import { matVec } from '../linalg/matrix.js'
import { matrix } from '../linalg/types.js'
import { seed } from '../random/rng.js'
import { fixedPointLinear } from './linear/fixedPoint.js'
import { trueResidual } from './linearSystem.js'
import { fixedPointIteration } from './lower/fixedPoint.js'
import { drive, runLinear, runLower, type RunOptions } from './run.js'
import type { LowerSolver, LowerState, Stop } from './types.js'

/** A scripted solver: state i has iterate [xs[i]], residual rs[i] and the flags given for it. */
const scripted = (xs: ReadonlyArray<number>, rs: ReadonlyArray<number | undefined>, flags: ReadonlyArray<{ stop?: Stop; reason?: string }> = []): LowerSolver => {
  const at = (i: number, rng: LowerState['rng']): LowerState => ({
    w: Float64Array.of(xs[i]!),
    iter: i,
    rng,
    counts: { phi: i + 1, jacW: 0, jacLambda: 0 },
    ...(rs[i] === undefined ? {} : { residual: rs[i] }),
    ...(flags[i] ?? {}),
  })
  return { kind: 'lower', name: 'scripted', stochastic: false, check: () => E.right(undefined), init: (_c, _w, rng) => at(0, rng), step: (_c, s) => at(s.iter + 1, s.rng) }
}
const p1 = linearFP(1)
const ctx = { problem: p1, lambda: new Float64Array(p1.hyperDim) }
const run = (m: LowerSolver, opts: RunOptions) => orThrow(drive(m, ctx, Float64Array.of(0), seed(0), opts, (s: LowerState) => s.w, 0))

describe('the run driver', () => {
  it('stops at the first state whose residual meets tol and returns that state', () => {
    const r = run(scripted([1, 2, 3, 4, 5, 6], [4, 3, 2, 1, 0.5, 0.25]), { maxIter: 10, tol: 1.5 })
    expect(r.status).toBe('converged')
    expect(r.iterations).toBe(3)
    expect(r.state.w[0]).toBe(4)
    expect(r.state.residual).toBeLessThanOrEqual(1.5)
    expect(Array.from(r.residuals)).toEqual([4, 3, 2, 1])
    expect(r.counts.phi).toBe(4)
  })
  it('stops at maxIter with status maxIter (and maxIter 0 returns the start)', () => {
    const r = run(scripted([1, 2, 3, 4, 5, 6], [4, 3, 2, 1, 0.5, 0.25]), { maxIter: 2, tol: 0.1 })
    expect([r.status, r.iterations, r.state.w[0], r.residuals.length]).toEqual(['maxIter', 2, 3, 3])
    const z = run(scripted([7, 8], [1, 1]), { maxIter: 0 })
    expect([z.status, z.iterations, z.state.w[0]]).toEqual(['maxIter', 0, 7])
  })
  it('a non-finite iterate or residual is divergence, reported at its iteration, returning the last good state', () => {
    const r = run(scripted([1, 2, 3, NaN, 5], [4, 3, 2, 1, 1]), { maxIter: 10 })
    expect([r.status, r.divergedAt, r.iterations, r.state.w[0]]).toEqual(['diverged', 3, 2, 3])
    expect(r.reason).toMatch(/non-finite iterate at iteration 3/)
    const s = run(scripted([1, 2, 3], [4, Infinity, 2]), { maxIter: 10 })
    expect([s.status, s.divergedAt, s.state.w[0]]).toEqual(['diverged', 1, 1])
  })
  it('a blow-up past 1e12·(1 + ‖x₀‖ + r₀ + ‖b‖) is divergence at the predicted iteration (fixed point on ∂₁Φᵀ = 1.1·I)', () => {
    const d = 4
    const b = gaussianVec(3, d)
    const system = denseSystem(scaledIdentity(d, 1.1), b, true, 1.1)
    const r = orThrow(runLinear(fixedPointLinear(), system, new Float64Array(d), seed(0), { maxIter: 10_000 }))
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
  it('honours the solver flags: converged, diverged and stalled end the run at that state', () => {
    const c = run(scripted([1, 2, 3], [5, 5, 5], [{}, { stop: 'converged' }]), { maxIter: 10 })
    expect([c.status, c.iterations]).toEqual(['converged', 1])
    const d = run(scripted([1, 2, 3], [5, 5, 5], [{}, { stop: 'diverged', reason: 'breakdown' }]), { maxIter: 10 })
    expect([d.status, d.divergedAt, d.reason]).toEqual(['diverged', 1, 'breakdown'])
    const s = run(scripted([1, 2, 3], [5, 5, 5], [{}, { stop: 'stalled', reason: 'rounding floor' }]), { maxIter: 10 })
    expect([s.status, s.iterations, s.reason]).toEqual(['maxIter', 1, 'rounding floor'])
  })
  it('keeps the last `keep` good states, oldest first; residuals are empty when a state lacks one', () => {
    const r = run(scripted([1, 2, 3, 4, 5], [1, 1, 1, 1, 1]), { maxIter: 4, keep: 3 })
    expect(r.kept.map((s) => s.w[0])).toEqual([3, 4, 5])
    const u = run(scripted([1, 2, 3], [undefined, undefined, undefined]), { maxIter: 2 })
    expect(u.residuals.length).toBe(0)
    expect(u.status).toBe('maxIter')
  })
  it('recomputes the true residual of the returned linear iterate', () => {
    const d = 3
    const JT = matrix(d, d, Float64Array.of(0.1, 0.2, 0, -0.1, 0.3, 0.1, 0, 0.2, -0.2))
    const b = Float64Array.of(1, -2, 0.5)
    const system = denseSystem(JT, b, false, 0.5)
    const r = orThrow(runLinear(fixedPointLinear(), system, new Float64Array(d), seed(0), { maxIter: 3 }))
    const v = r.state.v
    const jv = matVec(JT, v)
    const dense = norm(Float64Array.from(v, (x, i) => x - jv[i]! - b[i]!))
    expect(r.trueResidual).toBeCloseTo(dense, 14)
    expect(trueResidual(system, v)).toBeCloseTo(dense, 14)
  })
  it('refuses bad options, a bad start and a refused solver with a Left, never a throw', () => {
    const lam = new Float64Array(p1.hyperDim)
    const w0 = new Float64Array(p1.dim)
    const fp = fixedPointIteration()
    for (const o of [{ maxIter: -1 }, { maxIter: 1.5 }, { maxIter: 1, tol: -1 }, { maxIter: 1, blowUp: 0 }, { maxIter: 1, keep: -2 }]) {
      const r = runLower(fp, p1, lam, w0, seed(0), o)
      expect(E.isLeft(r) && r.left.kind).toBe('domain')
    }
    expect(E.isLeft(runLower(fp, p1, lam, new Float64Array(p1.dim + 1), seed(0), { maxIter: 1 }))).toBe(true)
    expect(E.isLeft(runLower(fp, p1, Float64Array.of(NaN, 0, 0), w0, seed(0), { maxIter: 1 }))).toBe(true)
    expect(E.isLeft(runLower(fixedPointIteration({ eta: -1 }), p1, lam, w0, seed(0), { maxIter: 1 }))).toBe(true)
  })
  it('an exception thrown by a solver or a problem is a Left naming it, not an escape', () => {
    const boom: LowerSolver = { ...fixedPointIteration(), name: 'boom', step: () => { throw new RangeError('step exploded') } }
    const r = runLower(boom, p1, new Float64Array(p1.hyperDim), new Float64Array(p1.dim), seed(0), { maxIter: 3 })
    expect(E.isLeft(r) && r.left.message).toBe('boom: step exploded')
    const bad = Object.assign(Object.create(p1) as typeof p1, { phi: () => { throw new Error('phi failed') } })
    const s = runLower(fixedPointIteration(), bad, new Float64Array(p1.hyperDim), new Float64Array(p1.dim), seed(0), { maxIter: 3 })
    expect(E.isLeft(s) && s.left.kind).toBe('fault')
  })
})
