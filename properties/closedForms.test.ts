// The closed forms of the test-bed problems against independent truths, at random λ near λ₀:
//   solution(λ) is a fixed point of Φ(·, λ);
//   hypergradient(λ) agrees with central differences of f(λ) = E(solution(λ), λ);
//   hypergradient(λ) agrees with SID eq. (4)–(5) assembled from the problem's own products and a
//   dense LU solve of (I − ∂₁Φᵀ)v = ∇₁E.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { directional, fdMismatch, perturbation } from '../src/laws/numeric.js'
import { hasClosedForm } from '../src/laws/solver.js'
import { denseOf, luSolve } from '../src/linalg/matrix.js'
import { matrix } from '../src/linalg/types.js'
import { distance, norm } from '../src/linalg/vector.js'
import type { BilevelProblem, ClosedForm } from '../src/problem/bilevel.js'
import { registry } from '../laws/registry.js'

const withClosedForm = registry
  .map((e) => ({ e, p: e.build() }))
  .filter((x): x is { e: (typeof registry)[number]; p: BilevelProblem & ClosedForm } => hasClosedForm(x.p))

describe('closed forms', () => {
  it('the registry has problems with closed forms', () => {
    expect(withClosedForm.map((x) => x.e.name)).toEqual(expect.arrayContaining(['quadratic', 'linearFixedPoint', 'ridge (scalar)', 'ridge (perFeature)', 'erQuadratic']))
  })

  for (const { e, p } of withClosedForm)
    describe(e.name, () => {
      const inDomain = (l: Readonly<Float64Array>) => E.isRight(p.checkLambda(l))
      const lambda = perturbation(e.lambda0, 0.3).filter(inDomain)

      it('solution(λ) is a fixed point: Φ(w(λ), λ) = w(λ)', () => {
        fc.assert(
          fc.property(lambda, (l) => {
            const w = p.solution(l)
            expect(distance(p.phi(w, l), w)).toBeLessThanOrEqual(1e-11 * (1 + norm(w)))
          }),
        )
      })

      it('hypergradient(λ) = central differences of λ ↦ E(w(λ), λ), coordinate by coordinate', () => {
        const f = (l: Readonly<Float64Array>) => Float64Array.of(p.upper(p.solution(l), l))
        fc.assert(
          fc.property(lambda, (l) => {
            const g = p.hypergradient(l)
            expect(g).toHaveLength(p.hyperDim)
            for (let j = 0; j < p.hyperDim; j++) {
              const ej = new Float64Array(p.hyperDim)
              ej[j] = 1
              const m = fdMismatch(Float64Array.of(g[j]!), directional(f, l, ej, inDomain), { rtol: 1e-6, atol: 1e-10 }, norm(g))
              expect(m, `∂f/∂λ${j} at λ = [${Array.from(l).join(', ')}]`).toBeUndefined()
            }
          }),
          { numRuns: 10 },
        )
      })

      it('hypergradient(λ) = ∇₂E + ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E at w(λ) (SID eq. 4–5, dense solve)', () => {
        fc.assert(
          fc.property(lambda, (l) => {
            const w = p.solution(l)
            const d = p.dim
            const jt = denseOf(d, (v) => p.vjpW(w, l, v))
            const a = new Float64Array(d * d)
            for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) a[i * d + k] = (i === k ? 1 : 0) - jt.data[i * d + k]!
            const v = luSolve(matrix(d, d, a), p.gradUpperW(w, l))!
            const g2 = p.gradUpperLambda(w, l)
            const cross = p.vjpLambda(w, l, v)
            const assembled = g2.map((x, j) => x + cross[j]!)
            const g = p.hypergradient(l)
            expect(distance(g, assembled)).toBeLessThanOrEqual(1e-9 * (1 + norm(g)))
          }),
          { numRuns: 10 },
        )
      })
    })
})
