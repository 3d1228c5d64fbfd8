// SID Assumption A(i) on every registered problem: q = contraction(λ) < 1, and Φ(·, λ) is a
// q-contraction — checked on random pairs of points and, more sharply, against the spectral norm
// of the dense Jacobian ∂₁Φ(w, λ) (built column by column from jvpW, norm from eig(JᵀJ)).
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { perturbation, vecArb } from '../src/laws/numeric.js'
import { denseOf, spectralNorm } from '../src/linalg/matrix.js'
import { distance, norm } from '../src/linalg/vector.js'
import { registry } from '../laws/registry.js'

describe('Φ(·, λ) is a contraction with the q the problem computes', () => {
  for (const entry of registry)
    describe(entry.name, () => {
      const p = entry.build()
      const lambda = perturbation(entry.lambda0).filter((l) => E.isRight(p.checkLambda(l)))

      it('q ∈ [0, 1) on the domain around λ₀', () => {
        fc.assert(
          fc.property(lambda, (l) => {
            const q = p.contraction(l)
            expect(q).toBeGreaterThanOrEqual(0)
            expect(q).toBeLessThan(1)
          }),
        )
      })

      it('‖Φ(w₁, λ) − Φ(w₂, λ)‖ ≤ q‖w₁ − w₂‖ on random pairs (|wᵢ| ≤ 5)', () => {
        fc.assert(
          fc.property(lambda, vecArb(p.dim, 5), vecArb(p.dim, 5), (l, w1, w2) => {
            const q = p.contraction(l)
            const lhs = distance(p.phi(w1, l), p.phi(w2, l))
            expect(lhs).toBeLessThanOrEqual(q * distance(w1, w2) * (1 + 1e-12) + 1e-12 * (1 + norm(w1) + norm(w2)))
          }),
        )
      })

      it('‖∂₁Φ(w, λ)‖₂ ≤ q (dense Jacobian, spectral norm)', () => {
        fc.assert(
          fc.property(lambda, vecArb(p.dim, 5), (l, w) => {
            const q = p.contraction(l)
            const J = denseOf(p.dim, (u) => p.jvpW(w, l, u))
            expect(spectralNorm(J)).toBeLessThanOrEqual(q * (1 + 1e-10) + 1e-12)
          }),
          { numRuns: 10 },
        )
      })
    })
})
