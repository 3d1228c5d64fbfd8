import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow, type HypergradError } from '../errors.js'
import { gdContraction } from '../problem/erm.js'
import {
  thm31C1,
  cor41Bound,
  mseFloor,
  remark42Sigma1p,
  thm31Bias,
  thm32,
  thm33,
  thm34MseBound,
  thm41MseBound,
  thm41Plateau,
  thm42MseBound,
  thm43Sigmas,
  thm51Rates,
} from './sid.js'
import { unit, unitFields } from './testing.test-util.js'

const leftOf = <A>(e: E.Either<HypergradError, A>): HypergradError => {
  if (E.isRight(e)) throw new Error(`expected a Left, got ${JSON.stringify(e.right)}`)
  return e.left
}


/** a ≈ b to a relative tolerance (with an absolute floor for values that underflow). */
const expectRelClose = (a: number, b: number, tol = 1e-9): void => {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(Math.abs(a), Math.abs(b)) + 1e-290)
}

/**
 * A scalar test bed where iteration (17) has a closed-form second moment: T(w) = w* + a(w − w*)
 * with |a| = q, and T̂(w, ζ) = T(w) + s·ζ with ζ = ±1 equally likely. Then V[T̂(w)] = s², so
 * Assumption D holds with σ₁ = s², σ₂ = 0, and with eₜ = wₜ − w*, rₜ = 1 − ηₜ(1 − a):
 *   E[eₜ₊₁²] = rₜ² E[eₜ²] + ηₜ² s²  (the noise is independent of eₜ and has mean zero).
 */
const scalarMse = (a: number, s2: number, e0sq: number, step: (t: number) => number, T: number): number[] => {
  const out = [e0sq]
  let m = e0sq
  for (let t = 0; t < T; t++) {
    const eta = step(t)
    const r = 1 - eta * (1 - a)
    m = r * r * m + eta * eta * s2
    out.push(m)
  }
  return out
}

describe('Thm 4.1 (constant step, eq. 18)', () => {
  it('bounds the exact second moment of a scalar affine iteration (17), for every t', () => {
    fc.assert(
      fc.property(unit(), fc.boolean(), unit(0.01, 1), unit(0, 4), unit(0, 9), fc.integer({ min: 0, max: 200 }), (q, neg, eta, s2, e0sq, T) => {
        const a = neg ? -q : q
        const exact = scalarMse(a, s2, e0sq, () => eta, T)
        for (let t = 0; t <= T; t++) {
          const bound = orThrow(thm41MseBound({ q, sigma1: s2, sigma2: 0, eta, mse0: e0sq, t }))
          expect(exact[t]!).toBeLessThanOrEqual(bound * (1 + 1e-12) + 1e-300)
        }
      }),
    )
  })
  it('equals MSE₀ at t = 0 and tends to the plateau ησ₁/(1−q²)', () => {
    const p = { q: 0.6, sigma1: 0.3, sigma2: 2, eta: 0.2, mse0: 5 }
    expect(orThrow(thm41MseBound({ ...p, t: 0 }))).toBeCloseTo(5, 12)
    const plateau = orThrow(thm41Plateau(p))
    expect(plateau).toBeCloseTo((0.2 * 0.3) / (1 - 0.36), 14)
    expect(orThrow(thm41MseBound({ ...p, t: 5000 }))).toBeCloseTo(plateau, 12)
    // Decreasing from above the plateau, increasing from below.
    const above = [0, 1, 10, 100].map((t) => orThrow(thm41MseBound({ ...p, t })))
    for (let i = 1; i < above.length; i++) expect(above[i]!).toBeLessThan(above[i - 1]!)
    const below = [0, 1, 10, 100].map((t) => orThrow(thm41MseBound({ ...p, mse0: 0, t })))
    for (let i = 1; i < below.length; i++) expect(below[i]!).toBeGreaterThan(below[i - 1]!)
  })
  it('rejects η > 1/(1+σ₂) as a schedule error naming the condition, and bad constants as domain errors', () => {
    const base = { q: 0.5, sigma1: 1, sigma2: 3, eta: 0.25, mse0: 1, t: 3 }
    expect(E.isRight(thm41MseBound(base))).toBe(true) // η = 1/(1+σ₂) exactly is allowed
    const e = leftOf(thm41MseBound({ ...base, eta: 0.2500001 }))
    expect(e.kind).toBe('schedule')
    expect(e.message).toMatch(/Thm 4\.1/)
    expect(e.message).toMatch(/1\/\(1\+σ₂\)/)
    expect(leftOf(thm41MseBound({ ...base, q: 1 })).kind).toBe('domain')
    expect(leftOf(thm41MseBound({ ...base, sigma1: -1 })).kind).toBe('domain')
    expect(leftOf(thm41MseBound({ ...base, t: 1.5 })).kind).toBe('domain')
    expect(leftOf(thm41MseBound({ ...base, mse0: NaN })).kind).toBe('domain')
  })
})

describe('Thm 4.2 (decreasing steps, eq. 20)', () => {
  it('bounds the exact second moment of the scalar affine iteration with ηₜ = β/(γ+t)', () => {
    fc.assert(
      fc.property(
        unit(0, 0.95),
        fc.boolean(),
        unit(1.0001, 4),
        unit(1, 3),
        unit(0, 4),
        unit(0, 9),
        (q, neg, betaFactor, gammaFactor, s2, e0sq) => {
          const a = neg ? -q : q
          const beta = betaFactor / (1 - q * q)
          const gamma = beta * gammaFactor // σ₂ = 0: γ ≥ β
          const T = 300
          const exact = scalarMse(a, s2, e0sq, (t) => beta / (gamma + t), T)
          for (let t = 0; t <= T; t += 7) {
            const bound = orThrow(thm42MseBound({ q, sigma1: s2, sigma2: 0, beta, gamma, mse0: e0sq, t }))
            expect(exact[t]!).toBeLessThanOrEqual(bound * (1 + 1e-12) + 1e-300)
          }
        },
      ),
    )
  })
  it('is c/(γ+t) with c = max{γ MSE₀, β²σ₁/(β(1−q²)−1)}', () => {
    const p = { q: 0.5, sigma1: 0.4, sigma2: 1, beta: 4, gamma: 10, mse0: 0.01 }
    const c = Math.max(10 * 0.01, (16 * 0.4) / (4 * 0.75 - 1))
    for (const t of [0, 1, 50]) expect(orThrow(thm42MseBound({ ...p, t }))).toBeCloseTo(c / (10 + t), 14)
  })
  it('names the violated condition on β and on γ', () => {
    const base = { q: 0.5, sigma1: 1, sigma2: 1, beta: 2, gamma: 4, mse0: 1, t: 0 }
    expect(E.isRight(thm42MseBound(base))).toBe(true)
    const eb = leftOf(thm42MseBound({ ...base, beta: 1 / 0.75 }))
    expect(eb.kind).toBe('schedule')
    expect(eb.message).toMatch(/β.*1\/\(1−q²\)/)
    const eg = leftOf(thm42MseBound({ ...base, gamma: 3.99 }))
    expect(eg.kind).toBe('schedule')
    expect(eg.message).toMatch(/γ.*β\(1\+σ₂\)/)
  })
})

describe('Cor 4.1 (eqs. 22–24)', () => {
  const curv = fc.tuple(unit(0.01, 5), unit(1, 20)).map(([tau, ratio]) => ({ tau, L: tau * ratio }))
  it("its closed forms r₁, r₂, r₃ agree with Thm 4.1/4.2 for Φ̂ = w − α∇ℓ̂ (q of α, σ₁ = α²σ₁', σ₂ = σ₂')", () => {
    fc.assert(
      fc.property(
        curv,
        fc.constantFrom<'1/L' | '2/(L+tau)'>('1/L', '2/(L+tau)'),
        unit(0, 3),
        unit(0, 3),
        // η < 0.99/(1+σ₂′) keeps r₁ ≥ 0.01: the closed form 1 − (…) cancels when r₁ → 0 (η → 1, τ → L),
        // an absolute error that is negligible in the bound but not to a relative comparison.
        unit(0.01, 0.99),
        unit(0, 4),
        fc.integer({ min: 0, max: 100 }),
        ({ tau, L }, alphaChoice, sigma1p, sigma2p, etaFrac, mse0, t) => {
          const eta = etaFrac / (1 + sigma2p)
          const c = orThrow(cor41Bound({ alphaChoice, tau, L, sigma1p, sigma2p, eta, mse0, t }))
          const alpha = alphaChoice === '1/L' ? 1 / L : 2 / (L + tau)
          // q from the core's gdContraction, independently of cor41Bound's closed form.
          const q = gdContraction(alpha, { tau, L })
          expect(Math.abs(c.q - q)).toBeLessThan(1e-12) // q ∈ [0, 1): absolute (gdContraction cancels when τ ≈ L)
          const viaThm41 = orThrow(thm41MseBound({ q, sigma1: alpha * alpha * sigma1p, sigma2: sigma2p, eta, mse0, t }))
          expectRelClose(c.bound, viaThm41, 1e-9)
          if (q < 0.999) {
            const beta = (1.5 + etaFrac) / (1 - q * q)
            const gamma = beta * (1 + sigma2p) * (1 + etaFrac)
            const d = orThrow(cor41Bound({ alphaChoice, tau, L, sigma1p, sigma2p, beta, gamma, mse0, t }))
            const viaThm42 = orThrow(thm42MseBound({ q, sigma1: alpha * alpha * sigma1p, sigma2: sigma2p, beta, gamma, mse0, t }))
            expectRelClose(d.bound, viaThm42, 1e-9)
          }
        },
      ),
    )
  })
  it('its β threshold (23) is 1/(1−q²) and violations are named', () => {
    for (const [alphaChoice, tau, L] of [['1/L', 1, 4], ['2/(L+tau)', 1, 4]] as const) {
      const alpha = alphaChoice === '1/L' ? 1 / L : 2 / (L + tau)
      const q = gdContraction(alpha, { tau, L })
      const thr = 1 / (1 - q * q)
      const ok = cor41Bound({ alphaChoice, tau, L, sigma1p: 1, sigma2p: 0, beta: thr * 1.0001, gamma: thr * 2, mse0: 1, t: 1 })
      expect(E.isRight(ok)).toBe(true)
      const e = leftOf(cor41Bound({ alphaChoice, tau, L, sigma1p: 1, sigma2p: 0, beta: thr * 0.9999, gamma: thr * 2, mse0: 1, t: 1 }))
      expect(e.kind).toBe('schedule')
      expect(e.message).toMatch(/\(23\)/)
    }
    expect(leftOf(cor41Bound({ alphaChoice: '1/L', tau: 2, L: 1, sigma1p: 1, sigma2p: 0, eta: 0.5, mse0: 1, t: 1 })).kind).toBe('domain')
    expect(leftOf(cor41Bound({ alphaChoice: '1/L', tau: 1, L: 2, sigma1p: 1, sigma2p: 1, eta: 0.6, mse0: 1, t: 1 })).kind).toBe('schedule')
  })
  it('Remark 4.1: its contraction rate r₁ is at least as good as 1 − ητ/L', () => {
    fc.assert(
      fc.property(curv, unit(0.01, 1), ({ tau, L }, eta) => {
        const c = orThrow(cor41Bound({ alphaChoice: '1/L', tau, L, sigma1p: 1, sigma2p: 0, eta, mse0: 1, t: 1 }))
        if (c.kind !== 'constant') throw new Error('expected a constant-step result')
        expect(c.r1).toBeLessThanOrEqual(1 - (eta * tau) / L + 1e-15)
      }),
    )
  })
})

describe('Thm 4.3 (σ₁, σ₂ from a Lipschitz T̂)', () => {
  it('V[T̂(w)] ≤ σ₁ + σ₂‖T(w) − w‖² for a two-point affine T̂, at every w', () => {
    // T̂(w, z) = a_z w + c_z, z ∈ {0, 1} equally likely: V[T̂(w)] = ((a₀−a₁)w + c₀−c₁)²/4.
    fc.assert(
      fc.property(unit(-0.95, 0.95), unit(-2, 2), unit(-2, 2), unit(-2, 2), fc.double({ min: -50, max: 50, noNaN: true }), (abar, da, c0, c1v, w) => {
        const a0 = abar + da
        const a1 = abar - da
        const q = Math.abs(abar)
        const cbar = (c0 + c1v) / 2
        const wStar = cbar / (1 - abar)
        const V = (x: number) => (((a0 - a1) * x + c0 - c1v) ** 2) / 4
        const { sigma1, sigma2 } = orThrow(thm43Sigmas({ varianceAtFixedPoint: V(wStar), LThat: Math.max(Math.abs(a0), Math.abs(a1)), q }))
        expectRelClose(sigma1, 2 * V(wStar), 1e-14)
        const residual = abar * w + cbar - w
        expect(V(w)).toBeLessThanOrEqual((sigma1 + sigma2 * residual * residual) * (1 + 1e-12) + 1e-12)
      }),
    )
  })
  it('σ₂ = 2(L² + q²)/(1−q)²', () => {
    expect(orThrow(thm43Sigmas({ varianceAtFixedPoint: 0, LThat: 1, q: 0.5 })).sigma2).toBeCloseTo((2 * 1.25) / 0.25, 14)
    expect(leftOf(thm43Sigmas({ varianceAtFixedPoint: -1, LThat: 1, q: 0.5 })).kind).toBe('domain')
  })
})

describe('Remark 4.2', () => {
  it('σ₁′ = Lip(ψ)² E[y²‖x‖²] times the minibatch factor for a mean loss, n² times that for a sum loss; σ₂′ = 0', () => {
    expect(orThrow(remark42Sigma1p({ lipPsi: 2, meanSquaredNorm: 3, loss: 'mean', n: 10 }))).toEqual({ sigma1p: 12, sigma2p: 0 })
    expect(orThrow(remark42Sigma1p({ lipPsi: 2, meanSquaredNorm: 3, loss: 'sum', n: 10 }))).toEqual({ sigma1p: 1200, sigma2p: 0 })
    expect(orThrow(remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: 3, loss: 'mean', n: 10, batch: { b: 2, replace: true } })).sigma1p).toBeCloseTo(1.5, 14)
    expect(orThrow(remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: 3, loss: 'sum', n: 10, batch: { b: 2, replace: false } })).sigma1p).toBeCloseTo((300 * 8) / 18, 11)
    expect(orThrow(remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: 3, loss: 'sum', n: 10, batch: { b: 10, replace: false } })).sigma1p).toBe(0)
  })
  it('names what is invalid', () => {
    const ok = { lipPsi: 1, meanSquaredNorm: 3, loss: 'sum', n: 4 } as const
    expect(leftOf(remark42Sigma1p({ ...ok, batch: { b: 5, replace: false } })).message).toMatch(/SID Remark 4\.2: invalid minibatch: b = 5 from n = 4/)
    expect(leftOf(remark42Sigma1p({ ...ok, batch: { b: 0, replace: true } })).message).toMatch(/minibatch: b = 0/)
    expect(leftOf(remark42Sigma1p({ ...ok, n: 2.5 })).message).toMatch(/number of samples n must be an integer ≥ 1, got 2\.5/)
    expect(leftOf(remark42Sigma1p({ ...ok, n: 0 })).kind).toBe('domain')
    expect(leftOf(remark42Sigma1p({ ...ok, loss: 'median' as 'sum' })).message).toMatch(/loss must be 'mean' or 'sum', got median/)
    expect(leftOf(remark42Sigma1p({ ...ok, lipPsi: -1 })).message).toMatch(/Lip\(ψ\) must be/)
    expect(leftOf(remark42Sigma1p({ ...ok, meanSquaredNorm: Number.NaN })).message).toMatch(/E\[y²‖x‖²\] must be/)
  })
})

describe('Thm 5.1 (eqs. 30–31)', () => {
  it('ρ is Thm 4.2 with MSE₀ = ‖w(λ)‖², σ is Thm 4.2 on (29) with σ₁ = 2L_Φ̂²‖v‖², MSE₀ = ‖v‖², ‖v‖ = ‖∇₁E‖/(1−q)', () => {
    fc.assert(
      fc.property(unit(0, 0.9), unit(0, 2), unit(1.01, 3), unit(1, 2), unit(0, 3), unit(0, 2), unit(0, 2), (q, LPhiHat, bf, gf, wNorm, sigma1, gNorm) => {
        const sigma2 = (2 * (LPhiHat ** 2 + q ** 2)) / (1 - q) ** 2
        const beta = bf / (1 - q * q)
        const gamma = beta * (1 + sigma2) * gf
        const r = orThrow(thm51Rates({ q, LPhiHat, beta, gamma, wNorm, sigma1, gradUpperNorm: gNorm }))
        expectRelClose(r.sigma2, sigma2, 1e-12)
        const vNorm = gNorm / (1 - q)
        for (const t of [0, 3, 100]) {
          const viaW = orThrow(thm42MseBound({ q, sigma1, sigma2, beta, gamma, mse0: wNorm ** 2, t }))
          expectRelClose(r.rho(t), viaW)
          const viaV = orThrow(thm42MseBound({ q, sigma1: 2 * LPhiHat ** 2 * vNorm ** 2, sigma2, beta, gamma, mse0: vNorm ** 2, t }))
          expectRelClose(r.sigma(t), viaV)
        }
      }),
    )
  })
  it('rejects γ below β(1+σ_{λ,2})', () => {
    const e = leftOf(thm51Rates({ q: 0.5, LPhiHat: 1, beta: 3, gamma: 3, wNorm: 1, sigma1: 1, gradUpperNorm: 1 }))
    expect(e.kind).toBe('schedule')
    expect(e.message).toMatch(/Thm 5\.1.*γ/)
  })
})

describe('Thm 3.1–3.4 (eqs. 12–14)', () => {
  const consts = fc.record({
    ...unitFields(0, 3, ['mu1', 'mu2', 'nu1', 'nu2', 'LPhi', 'LE']),
    q: unit(0, 0.95),
    m2: unit(0, 3),
    ...unitFields(0, 2, ['rho', 'sigma']),
  })
  it('c₁ = μ₂ + (μ₁L_Φ + ν₂L_E)/(1−q) + ν₁L_E L_Φ/(1−q)²', () => {
    expect(orThrow(thm31C1({ mu1: 1, mu2: 2, nu1: 3, nu2: 4, LPhi: 5, LE: 6, q: 0.5 }))).toBeCloseTo(2 + (5 + 24) / 0.5 + 90 / 0.25, 12)
    expect(leftOf(thm31C1({ mu1: 1, mu2: 2, nu1: 3, nu2: 4, LPhi: 5, LE: 6, q: 1 })).kind).toBe('domain')
  })
  it('Thm 3.4 = Thm 3.2 + 2·Thm 3.3 ≥ (Thm 3.1(ii))² + Thm 3.2 + Thm 3.3, the decomposition (11)', () => {
    fc.assert(
      fc.property(consts, (k) => {
        const b = orThrow(thm31Bias(k))
        const v1 = orThrow(thm32(k))
        const v2 = orThrow(thm33(k))
        const mse = orThrow(thm34MseBound(k))
        expectRelClose(mse, v1 + 2 * v2, 1e-12)
        expect(b.bias ** 2 + v1 + v2).toBeLessThanOrEqual(mse * (1 + 1e-12) + 1e-12)
        // c₁ given directly or through its ingredients gives the same bounds.
        const cOne = orThrow(thm31C1(k))
        expectRelClose(orThrow(thm34MseBound({ ...k, c1: cOne })), mse, 1e-12)
        expectRelClose(orThrow(thm31Bias({ c1: cOne, LPhi: k.LPhi, nu2: k.nu2, rho: k.rho, sigma: k.sigma })).bias, b.bias, 1e-12)
      }),
    )
  })
  it('Thm 3.1: (i) at Δ̂ = √ρ is (ii), and (i) averaged over any Δ̂ with E[Δ̂²] ≤ ρ stays below (ii) (Jensen)', () => {
    fc.assert(
      fc.property(consts, fc.array(unit(0, 3), { minLength: 1, maxLength: 20 }), (k, deltas) => {
        const rho = deltas.reduce((s, x) => s + x * x, 0) / deltas.length
        const b = orThrow(thm31Bias({ ...k, rho }))
        expectRelClose(b.conditional(Math.sqrt(rho)), b.bias, 1e-12)
        const avg = deltas.reduce((s, x) => s + b.conditional(x), 0) / deltas.length
        expect(avg).toBeLessThanOrEqual(b.bias * (1 + 1e-12) + 1e-12)
      }),
    )
  })
  it('eq. (14): with ρ = σ = 0 the MSE bound is the floor 2m₂L_E²/(1−q)², zero when m₂ = 0 (eq. 15)', () => {
    fc.assert(
      fc.property(consts, (k) => {
        const floor = orThrow(mseFloor(k))
        expectRelClose(floor, (2 * k.m2 * k.LE ** 2) / (1 - k.q) ** 2, 1e-12)
        expectRelClose(orThrow(thm34MseBound({ ...k, rho: 0, sigma: 0 })), floor, 1e-12)
        expect(orThrow(mseFloor({ ...k, m2: 0 }))).toBe(0)
      }),
    )
  })
  it('validates its constants', () => {
    const k = { mu1: 1, mu2: 1, nu1: 1, nu2: 1, LPhi: 1, LE: 1, q: 0.5, m2: 1, rho: 1, sigma: 1 }
    expect(leftOf(thm34MseBound({ ...k, rho: -1 })).message).toMatch(/Thm 3\.4.*ρ/)
    expect(leftOf(thm32({ ...k, m2: NaN })).kind).toBe('domain')
    expect(leftOf(thm31Bias({ ...k, q: 1.2 })).message).toMatch(/Thm 3\.1/)
    expect(leftOf(thm33({ c1: -1, LPhi: 1, nu2: 1, rho: 1, sigma: 1 })).kind).toBe('domain')
  })
})

describe('edge cases', () => {
  it('Thm 4.1 with η(1−q²) = 1 reaches the plateau in one step, and never returns NaN', () => {
    const p = { q: 0, sigma1: 0.5, sigma2: 0, eta: 1, mse0: 3 }
    expect(orThrow(thm41MseBound({ ...p, t: 0 }))).toBe(3)
    expect(orThrow(thm41MseBound({ ...p, t: 1 }))).toBeCloseTo(0.5, 15)
    expect(orThrow(thm41MseBound({ ...p, t: 7 }))).toBeCloseTo(0.5, 15)
  })
})

/**
 * Tightness: on the scalar affine iteration (17) (a = q, additive noise of variance s², so σ₁ = s²
 * and σ₂ = 0), the exact second moment against each bound.
 */
describe('tightness of the SID bounds on the scalar affine iteration', () => {
  it('Thm 4.1 with η = 1: the exact second moment equals the bound at every t, and the plateau ησ₁/(1−q²)', () => {
    fc.assert(
      fc.property(unit(0, 0.95), unit(0.01, 4), unit(0, 9), fc.integer({ min: 0, max: 120 }), (q, s2, e0sq, T) => {
        const exact = scalarMse(q, s2, e0sq, () => 1, T)
        for (let t = 0; t <= T; t++) expectRelClose(exact[t]!, orThrow(thm41MseBound({ q, sigma1: s2, sigma2: 0, eta: 1, mse0: e0sq, t })), 1e-10)
        expectRelClose(scalarMse(q, s2, e0sq, () => 1, 4000)[4000]!, orThrow(thm41Plateau({ q, sigma1: s2, sigma2: 0, eta: 1 })), 1e-10)
      }),
    )
  })
  it('Thm 4.2: at t = 4000 the exact second moment reaches ≥ 0.8 of the bound, near (β(1−q²) − 1)/(2β(1−q) − 1)', () => {
    fc.assert(
      fc.property(unit(0.85, 0.95), unit(2, 4), unit(0.1, 4), (q, c, s2) => {
        const beta = c / (1 - q * q)
        const T = 4000
        const exact = scalarMse(q, s2, 0, (t) => beta / (beta + t), T)[T]!
        const bound = orThrow(thm42MseBound({ q, sigma1: s2, sigma2: 0, beta, gamma: beta, mse0: 0, t: T }))
        expect(exact).toBeLessThanOrEqual(bound)
        expect(exact / bound).toBeGreaterThan(0.8)
        expect(exact / bound).toBeCloseTo((c - 1) / (2 * beta * (1 - q) - 1), 1)
      }),
    )
  })
  it("Cor 4.1, constant step (22): attained at η = 1 for τ = L; at η < 1 its plateau r₂ is (2 − η) × the exact one", () => {
    fc.assert(
      fc.property(unit(0.1, 5), unit(0.01, 3), unit(0, 4), unit(0.3, 1), (L, sigma1p, e0sq, eta) => {
        // SGD on ℓ = (L/2)w² with gradient noise of variance σ₁′ and α = 1/L: wₜ₊₁ = (1 − η)wₜ − (η/L)ξₜ.
        for (const alphaChoice of ['1/L', '2/(L+tau)'] as const) {
          const at = (t: number, step: number) => orThrow(cor41Bound({ alphaChoice, tau: L, L, sigma1p, sigma2p: 0, eta: step, mse0: e0sq, t })).bound
          const one = scalarMse(0, sigma1p / (L * L), e0sq, () => 1, 5)
          for (let t = 0; t <= 5; t++) expectRelClose(one[t]!, at(t, 1), 1e-10)
          const plateau = scalarMse(0, sigma1p / (L * L), e0sq, () => eta, 3000)[3000]!
          expectRelClose(at(3000, eta) / plateau, 2 - eta, 1e-6)
        }
      }),
    )
  })
  it('Cor 4.1, decreasing steps (24): asymptotically (β − 1)/(2β − 1) ≥ 0.4 of the bound (τ = L, β ∈ [3, 6])', () => {
    fc.assert(
      fc.property(unit(0.1, 5), unit(0.01, 3), unit(3, 6), (L, sigma1p, beta) => {
        const T = 20_000
        const exact = scalarMse(0, sigma1p / (L * L), 0, (t) => beta / (beta + t), T)[T]!
        const bound = orThrow(cor41Bound({ alphaChoice: '1/L', tau: L, L, sigma1p, sigma2p: 0, beta, gamma: beta, mse0: 0, t: T })).bound
        expect(exact).toBeLessThanOrEqual(bound)
        expect(exact / bound).toBeGreaterThan(0.4 * 0.99)
        expect(exact / bound).toBeCloseTo((beta - 1) / (2 * beta - 1), 2)
      }),
    )
  })
  it('Thm 5.1: σ(0) is attained (‖v₀ − v*‖² = ‖∇₁E‖²/(1−q)²); ρ(t) reaches ≥ 0.3 of the bound as t grows (σ_{λ,1} = 2V is doubled)', () => {
    fc.assert(
      fc.property(unit(0.5, 0.6), unit(3, 4), unit(0.1, 2), unit(0.1, 2), (q, c, s2, g) => {
        // ∂₁Φ̂ = q on every sample: L_Φ̂ = q, σ_{λ,2} = 4q²/(1−q)², γ = β(1 + σ_{λ,2}).
        const beta = c / (1 - q * q)
        const gamma = beta * (1 + (4 * q * q) / ((1 - q) * (1 - q)))
        const r = orThrow(thm51Rates({ q, LPhiHat: q, beta, gamma, wNorm: 0, sigma1: 2 * s2, gradUpperNorm: g }))
        if (gamma >= (2 * beta * beta * q * q) / (c - 1)) expectRelClose(r.sigma(0), (g / (1 - q)) ** 2, 1e-12)
        const T = 40_000
        const exact = scalarMse(q, s2, 0, (t) => beta / (gamma + t), T)[T]!
        expect(exact).toBeLessThanOrEqual(r.rho(T))
        expect(exact / r.rho(T)).toBeGreaterThan(0.3)
      }),
    )
  })
  it('eq. (14): with exact solutions the MSE is m₂‖v*‖², half of the floor 2m₂L_E²/(1−q)² when ∇₁E is constant', () => {
    // Two equally likely samples with ∂₂Φ̂ = b ± δ (m₂ = δ²), ∇₁E ≡ g, ∂₁Φ = q: v* = g/(1 − q).
    fc.assert(
      fc.property(unit(0, 0.95), unit(-2, 2), unit(0.01, 2), unit(-3, 3), (q, b, delta, g) => {
        const v = g / (1 - q)
        const estimates = [(b + delta) * v, (b - delta) * v]
        const mse = estimates.reduce((s, e) => s + (e - b * v) ** 2, 0) / 2
        expectRelClose(mse / orThrow(mseFloor({ m2: delta * delta, LE: Math.abs(g), q })), 0.5, 1e-12)
        expectRelClose(mse / orThrow(thm34MseBound({ m2: delta * delta, LE: Math.abs(g), q, LPhi: Math.abs(b), nu2: 1, rho: 0, sigma: 0, c1: 1 })), 0.5, 1e-12)
      }),
    )
  })
})
