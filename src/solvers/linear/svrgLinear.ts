/**
 * SVRG on the linear system of AID/SID, (I − ∂₁Φᵀ)v = ∇₁E, over a finite sum
 * ∂₁Φ = (1/n) Σᵢ ∂₁Φ̂ᵢ. With a snapshot ṽ (renewed every `epochLength` steps, at the cost of one
 * full product ∂₁Φᵀṽ) each step moves along
 *
 *   vₖ₊₁ = vₖ + η (∂₁Φ̂_Bᵀ(vₖ − ṽ) + ∂₁Φᵀṽ + ∇₁E − vₖ).
 *
 * The map is linear in v, so the two minibatch products of SVRG, ∂₁Φ̂_Bᵀvₖ − ∂₁Φ̂_Bᵀṽ, are one
 * product with vₖ − ṽ: a step costs b/n full-product units, as a plain stochastic step does.
 * When ∂₁Φ is symmetric (Φ = w − α∇ℓ) this is SVRG, step η, on the quadratic
 * g(v) = ½vᵀ(I − ∂₁Φᵀ)v − vᵀ∇₁E of SID §5, and it converges linearly on a finite sum; for a
 * non-symmetric ∂₁Φ it is the variance-reduced form of SID eq. 29 (no quadratic behind it).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { sampleWithoutReplacement, type Rng } from '../../random/rng.js'
import { fromIterator, type Stream } from '../../stream/stream.js'
import { checkStep, throwLeft } from '../lower/sgd.js'
import type { LinearState, LinearSystem } from '../types.js'
import { checkStochasticShape, shapeOfSystem, stochasticParts, type CheckedLinearMethod, type SystemShape } from './stochasticFixedPoint.js'

/** Options of `svrgLinear`. */
export interface SvrgLinearOptions {
  /**
   * The step η (default 0.5). With Φ = w − α∇ℓ, α = 2/(L+τ), the per-minibatch operator
   * I − ∂₁Φ̂_B = α∇²ℓ̂_B has norm ≈ 2L_B/L; the usual SVRG step 1/max L_B of the quadratic is
   * η ≈ L/(2 max L_B), which the default meets when minibatch curvature is close to the full one.
   */
  readonly eta?: number
  /** Steps between snapshots (default 2⌈n/b⌉). */
  readonly epochLength?: number
  /** Minibatch size b (default 1), drawn without replacement. */
  readonly batchSize?: number
}

/** The default svrgLinear step. */
export const SVRG_LINEAR_DEFAULT_ETA = 0.5

/**
 * SVRG on (I − ∂₁Φᵀ)v = ∇₁E (see the file comment). Needs a stochastic system. Snapshots at
 * k = 0, m, 2m, … (each one full product: counts.jacW += 1), b/n per step. Replayable: the
 * stream restarts from the given Rng on every iteration. No residual is computed.
 */
export const svrgLinear = (opts: SvrgLinearOptions = {}): CheckedLinearMethod => {
  const eta = opts.eta ?? SVRG_LINEAR_DEFAULT_ETA
  const b = opts.batchSize ?? 1
  const name = `svrg-linear(η=${eta}, b=${b}${opts.epochLength === undefined ? '' : `, m=${opts.epochLength}`})`
  const check = (shape: SystemShape): E.Either<HypergradError, void> => {
    const m = opts.epochLength
    if (m !== undefined && !(Number.isInteger(m) && m >= 1))
      return E.left(hgError('domain', `${name}: epoch length must be an integer ≥ 1, got ${m}`))
    const c = checkStochasticShape(name, shape, b)
    return E.isLeft(c) ? c : checkStep(name, eta)
  }
  return {
    name,
    stochastic: true,
    batchSize: b,
    check,
    iterates(system: LinearSystem, v0: RVec, rng: Rng): Stream<LinearState> {
      throwLeft(check(shapeOfSystem(system)))
      const { hat, n } = stochasticParts(name, system)
      const d = system.dim
      assertDim(`${name}: v0`, d, v0.length)
      const start = Float64Array.from(v0)
      const rhs = system.rhs
      const m = opts.epochLength ?? 2 * Math.ceil(n / b)
      return fromIterator(function* () {
        let v: Vec = Float64Array.from(start)
        let r = rng
        let snap: RVec = v
        // ∂₁Φᵀṽ + ∇₁E at the snapshot, and the buffer for vₖ − ṽ (both owned by this iteration).
        const anchor = new Float64Array(d)
        const diff = new Float64Array(d)
        let snapshots = 0
        yield { v, iter: 0, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
        for (let k = 0; ; k++) {
          if (k % m === 0) {
            snap = v
            const jt = system.applyJT(snap)
            if (jt.length !== d) assertDim(`${name}: applyJT`, d, jt.length)
            for (let i = 0; i < d; i++) anchor[i] = jt[i]! + rhs[i]!
            snapshots++
          }
          const [batch, next] = sampleWithoutReplacement(r, n, b)
          r = next
          for (let i = 0; i < d; i++) diff[i] = v[i]! - snap[i]!
          const out = hat(batch, diff)
          if (out.length !== d) assertDim(`${name}: applyJTHat`, d, out.length)
          for (let i = 0; i < d; i++) out[i] = v[i]! + eta * (out[i]! + anchor[i]! - v[i]!)
          v = out
          yield { v, iter: k + 1, counts: { phi: 0, jacW: (b * (k + 1)) / n + snapshots, jacLambda: 0 } }
        }
      })
    },
  }
}
