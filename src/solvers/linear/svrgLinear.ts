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
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import { sampleWithoutReplacement } from '../../random/rng.js'
import { checkStochasticShape } from '../check.js'
import { noSnapshot, renewed, svrgSettings, type Snapshot, type SvrgOptions } from '../lower/svrg.js'
import { complementHatOf, complementOf } from '../linearSystem.js'
import type { LinearSolver, LinearState, LinearSystem } from '../types.js'
import { minibatches } from '../solver.js'

/**
 * Options of `svrgLinear`: those of the lower-level `svrg`. The step η (default 0.5): with
 * Φ = w − α∇ℓ, α = 2/(L+τ), the per-minibatch operator I − ∂₁Φ̂_B = α∇²ℓ̂_B has norm ≈ 2L_B/L;
 * the usual SVRG step 1/max L_B of the quadratic is η ≈ L/(2 max L_B), which the default meets
 * when minibatch curvature is close to the full one.
 */
export type SvrgLinearOptions = SvrgOptions

/** An SVRG state: vₖ and its snapshot (ṽ, ∂₁Φᵀṽ + ∇₁E, count). */
export interface SvrgLinearState extends LinearState, Snapshot {}

/** ∂₁Φᵀv + ∇₁E, the full map of the linear system at v (fresh). */
const fullMapAt = (system: LinearSystem, v: RVec, who: string): Vec => {
  const d = system.dim
  const jt = complementOf(system)(v)
  if (jt.length !== d) assertDim(`${who}: ∂₁Φᵀv`, d, jt.length)
  for (let i = 0; i < d; i++) jt[i] = jt[i]! + system.rhs[i]!
  return jt
}

/**
 * SVRG on (I − ∂₁Φᵀ)v = ∇₁E (see the file comment). Needs a stochastic system. Snapshots at
 * k = 0, m, 2m, … (each one full product: counts.jacW += 1), b/n per step. No residual.
 */
export const svrgLinear = (opts: SvrgLinearOptions = {}): LinearSolver<SvrgLinearState> => {
  const { eta, b, name, snapshotDue, check } = svrgSettings('svrg-linear', opts)
  return {
    ...minibatches('linear', name, b),
    check: (shape) => check(() => checkStochasticShape(name, shape, b)),
    init: (_system, v0, rng) => {
      const v = Float64Array.from(v0)
      return { v, iter: 0, rng, ...noSnapshot(v), counts: { phi: 0, jacW: 0, jacLambda: 0 } }
    },
    step: (system, s) => {
      const n = system.nSamples!
      const k = s.iter
      const v = s.v
      const { snap, anchor, snapshots } = snapshotDue(k, n) ? renewed(s, v, fullMapAt(system, v, name)) : s
      const [batch, rng] = sampleWithoutReplacement(s.rng, n, b)
      const d = system.dim
      const diff = new Float64Array(d)
      for (let i = 0; i < d; i++) diff[i] = v[i]! - snap[i]!
      const out: Vec = complementHatOf(system)!(batch, diff)
      if (out.length !== d) assertDim(`${name}: ∂₁Φ̂ᵀv`, d, out.length)
      for (let i = 0; i < d; i++) out[i] = v[i]! + eta * (out[i]! + anchor[i]! - v[i]!)
      return { v: out, iter: k + 1, rng, snap, anchor, snapshots, counts: { phi: 0, jacW: (b * (k + 1)) / n + snapshots, jacLambda: 0 } }
    },
  }
}
