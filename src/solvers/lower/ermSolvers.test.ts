// Newton-CG and L-BFGS on ℓ: they reach w(λ) of logistic regression (against the dense Newton
// solution of `exact`, an independent direct solve), report α‖∇ℓ‖ = ‖Φ(w) − w‖, converge
// quadratically (Newton-CG) from a warm start, plug into aid (against exact's hypergradient),
// and refuse non-ERM problems and bad options with a Left.
import { describe, expect, it } from 'vitest'
import { aid } from '../../hypergrad/aid.js'
import { exact } from '../../hypergrad/exact.js'
import { estimateOf, linearFP, logistic, norm, relErr, ridge } from '../../hypergrad/fixtures.test-util.js'
import { seed } from '../../random/rng.js'
import { toArray, take } from '../../stream/stream.js'
import { conjugateGradient } from '../linear/conjugateGradient.js'
import { iter, refusalMessage } from '../testing.test-util.js'
import { lbfgs } from './lbfgs.js'
import { newtonCg } from './newtonCg.js'

const rng = seed(0)

describe('newtonCg and lbfgs on ℓ', () => {
  const cases = [
    { name: 'logistic, per-feature λ = 0.1', ...logistic(3, 60, 8, 0.1) },
    { name: 'logistic, per-feature λ = 1e-3 (κ large)', ...logistic(4, 80, 10, 1e-3) },
    { name: 'ridge, per-feature λ', ...ridge(5, 30, 6) },
  ]
  for (const c of cases) {
    const truth = estimateOf(exact(c.problem, c.lambda)).w
    for (const [solver, steps] of [
      [newtonCg(), 30],
      [lbfgs(), 300],
    ] as const)
      it(`${solver.name} reaches the dense Newton solution on ${c.name}, reporting ‖Φ(w) − w‖`, () => {
        const states = toArray(take(steps + 1)(iter(solver as never, c.problem, c.lambda, new Float64Array(c.problem.dim), rng))) as Array<{ w: Float64Array; residual: number; stop?: string }>
        const last = states[states.length - 1]!
        expect(relErr(last.w, truth)).toBeLessThan(1e-8)
        for (const s of states) {
          const phi = c.problem.phi(s.w, c.lambda)
          const r = norm(phi.map((x, i) => x - s.w[i]!))
          expect(Math.abs(s.residual - r)).toBeLessThanOrEqual(1e-8 * r + 1e-12 * (1 + norm(s.w)))
        }
      })
  }

  it('newtonCg converges quadratically: each residual below 1e-3 is at most C·(previous)² ', () => {
    const { problem, lambda } = logistic(7, 100, 12, 0.05)
    const states = toArray(take(20)(iter(newtonCg({ etaMax: 0.5 }), problem, lambda, new Float64Array(problem.dim), rng)))
    const r = states.map((s) => s.residual)
    const r0 = r[0]!
    let checked = 0
    for (let t = 1; t < r.length; t++) {
      const prev = r[t - 1]! / r0
      const cur = r[t]! / r0
      if (prev < 1e-3 && cur > 1e-14) {
        expect(cur).toBeLessThanOrEqual(100 * prev * prev)
        checked++
      }
    }
    expect(r[r.length - 1]! / r0).toBeLessThan(1e-12)
    expect(checked).toBeGreaterThan(0)
  })

  it('from a warm start near w(λ) with a tight first forcing term, newtonCg needs at most three steps and stops on tol', () => {
    const { problem, lambda } = logistic(8, 60, 8, 0.2)
    const w = estimateOf(exact(problem, lambda)).w
    const near = w.map((x, i) => x * (1 + 1e-3 * Math.sin(i)))
    const tol = 1e-12 * norm(w)
    const states = toArray(iter(newtonCg({ tol, eta0: 1e-2 }), problem, lambda, near, rng))
    expect(states.length).toBeLessThanOrEqual(4)
    expect(states[states.length - 1]!.stop).toBe('converged')
    expect(states[states.length - 1]!.residual).toBeLessThanOrEqual(tol)
  })

  it('in aid with conjugate gradient, the hypergradient agrees with exact', () => {
    const { problem, lambda } = logistic(9, 70, 9, 0.1)
    const truth = estimateOf(exact(problem, lambda)).gradient
    for (const lower of [newtonCg(), lbfgs({ memory: 5 })]) {
      const r = estimateOf(aid(problem, lambda, { lower, linear: conjugateGradient({ tol: 1e-13 }), t: 500, k: 200, tolLower: 1e-13 }))
      expect(relErr(r.gradient, truth)).toBeLessThan(1e-8)
      expect(r.status).toBe('converged')
    }
  })

  it('refuses a problem that is not ERM, and bad options, with a Left naming them', () => {
    const fp = linearFP(1)
    expect(refusalMessage(newtonCg(), fp)).toMatch(/newtonCg: minimizes the lower objective ℓ and needs an ERM problem/)
    expect(refusalMessage(lbfgs(), fp)).toMatch(/lbfgs\(m=10\): minimizes the lower objective ℓ/)
    const { problem } = logistic(1)
    expect(refusalMessage(newtonCg({ tol: -1 }), problem)).toMatch(/tol must be finite and ≥ 0, got -1/)
    expect(refusalMessage(newtonCg({ maxCg: 0 }), problem)).toMatch(/maxCg must be an integer ≥ 1, got 0/)
    expect(refusalMessage(newtonCg({ etaMax: 1 }), problem)).toMatch(/etaMax must lie in \(0, 1\), got 1/)
    expect(refusalMessage(newtonCg({ eta0: 0.6 }), problem)).toMatch(/eta0 must lie in \(0, etaMax = 0.5\], got 0.6/)
    expect(refusalMessage(lbfgs({ memory: 0 }), problem)).toMatch(/memory must be an integer in \[1, 1000\], got 0/)
    expect(refusalMessage(lbfgs({ memory: 2.5 }), problem)).toMatch(/memory must be an integer in \[1, 1000\], got 2.5/)
    expect(refusalMessage(lbfgs({ tol: NaN }), problem)).toMatch(/tol must be finite and ≥ 0, got NaN/)
    expect(refusalMessage(newtonCg(), problem)).toBe('')
  })
})
