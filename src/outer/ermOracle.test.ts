// ermOracle: its hypergradients agree with exact's, it hands back αv (free of α), warm starts save
// lower-level work, the accuracy it asks of the linear solve follows ‖∇̂f‖ as documented, the
// timing record adds up, and bad options are a Left naming them.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { dataset, estimateOf, norm, relErr, right } from '../hypergrad/fixtures.test-util.js'
import { exact } from '../hypergrad/exact.js'
import type { RVec } from '../linalg/types.js'
import { logisticProblem } from '../problems/logistic.js'
import { ermOracle, type TimedResult } from './ermOracle.js'
import type { OracleRequest } from './tune.js'

const train = dataset(31, 80, 10, 'classification')
const validation = dataset(32, 60, 10, 'classification')
const problemAt = (lambda: RVec) => logisticProblem(train, validation, lambda, { regularization: 'scalar' })
const req = (lambda: number, evaluation: number, warm: OracleRequest['warm'] = {}): OracleRequest => ({ lambda: Float64Array.of(lambda), warm, step: evaluation, evaluation })
type Estimate = Extract<TimedResult, { readonly status: 'converged' | 'maxIter' }>
const call = (oracle: ReturnType<typeof ermOracle>, r: OracleRequest): Estimate => estimateOf(right(oracle)(r) as E.Either<{ message: string }, TimedResult>)

describe('ermOracle', () => {
  it('gives exact’s hypergradient and αv at every λ, for exact and for AID with Newton-CG or L-BFGS on ℓ', () => {
    for (const method of [{ name: 'exact' as const }, { name: 'aid' as const, lower: 'newtonCg' as const, t: 50, k: 500 }, { name: 'aid' as const, lower: 'lbfgs' as const, t: 500, k: 500 }]) {
      const oracle = ermOracle(problemAt, { method })
      for (const [k, lam] of [0.3, 3, 30].entries()) {
        const p = right(problemAt(Float64Array.of(lam)))
        const truth = estimateOf(exact(p, Float64Array.of(lam)))
        const r = call(oracle, req(lam, k))
        expect(relErr(r.gradient, truth.gradient), `${method.name} at λ = ${lam}`).toBeLessThan(1e-3)
        expect(relErr(r.v, truth.v.map((x) => x * p.alpha)), `${method.name} at λ = ${lam}`).toBeLessThan(1e-3)
        const t = r.timing
        expect(Math.min(t.lowerMs, t.linearMs, t.setupMs)).toBeGreaterThanOrEqual(0)
        expect(t.lowerMs + t.linearMs + t.setupMs).toBeCloseTo(t.totalMs, 6)
      }
    }
  })

  it('a warm start from a nearby λ takes fewer Newton steps than a cold start', () => {
    const oracle = ermOracle(problemAt, { method: { name: 'aid', lower: 'newtonCg', t: 50, k: 500 } })
    const first = call(oracle, req(2, 0))
    const cold = call(ermOracle(problemAt, { method: { name: 'aid', lower: 'newtonCg', t: 50, k: 500 } }), req(2.1, 0))
    const warm = call(oracle, req(2.1, 1, { w: first.w, v: first.v }))
    expect(warm.t).toBeLessThan(cold.t)
    expect(warm.k).toBeLessThan(cold.k)
    expect(relErr(warm.gradient, cold.gradient)).toBeLessThan(1e-3)
  })

  it('asks the linear solve for a relative residual ρ₀·‖∇̂f_prev‖/‖∇̂f₀‖ (clamped to [ρmin, ρ₀])', () => {
    const rho0 = 1e-3
    const oracle = ermOracle(problemAt, { method: { name: 'aid', lower: 'newtonCg', t: 50, k: 500 }, initialRelativeTolerance: rho0, minRelativeTolerance: 1e-11 })
    // λ = 1e-2 is far from the argmin (a large ‖∇f‖); the later points have smaller gradients.
    const lams = [1e-2, 0.5, 1, 2]
    const gs: number[] = []
    for (const [k, lam] of lams.entries()) {
      const p = right(problemAt(Float64Array.of(lam)))
      const r = call(oracle, req(lam, k))
      const b = norm(p.gradUpperW(r.w, Float64Array.of(lam)))
      const asked = k === 0 ? rho0 : Math.min(rho0, Math.max(1e-11, (rho0 * gs[k - 1]!) / gs[0]!))
      // CG stops on its recursive residual; the true one (recomputed) may differ by rounding.
      expect(r.linearResidual! / b, `evaluation ${k}`).toBeLessThanOrEqual(asked * 1.01 + 1e-14)
      gs.push(norm(r.gradient))
    }
    expect(gs[gs.length - 1]! / gs[0]!).toBeLessThan(0.1)
  })

  it('refuses options out of range with a Left naming them', () => {
    const m = { name: 'exact' as const }
    for (const [opts, re] of [
      [{ initialRelativeTolerance: 0 }, /initialRelativeTolerance must lie in \(0, 1\), got 0/],
      [{ initialRelativeTolerance: 1 }, /initialRelativeTolerance must lie in \(0, 1\), got 1/],
      [{ minRelativeTolerance: Number.NaN }, /minRelativeTolerance must lie in \(0, 1\), got NaN/],
    ] as const) {
      const r = ermOracle(problemAt, { method: m, ...opts })
      expect(E.isLeft(r) ? r.left.message : '').toMatch(re)
    }
    // A λ the problem refuses is the evaluation's Left, not a throw.
    const r = right(ermOracle(problemAt, { method: m }))(req(-1, 0))
    expect(E.isLeft(r) ? r.left.message : '').toMatch(/λ\[0\] = -1 must be finite and > 0/)
  })
})
