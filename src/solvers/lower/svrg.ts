/**
 * SVRG on the finite-sum fixed-point map (Johnson & Zhang's variance reduction, written for a
 * map Φ = (1/n) Σᵢ Φ̂ᵢ rather than for a gradient). Every `epochLength` steps a snapshot w̃ is
 * taken and the full map Φ(w̃, λ) evaluated; in between, each step draws a minibatch B and
 * moves along a direction whose mean is Φ(w) − w but whose variance vanishes as w, w̃ → w(λ):
 *
 *   wₜ₊₁ = wₜ + η (Φ̂(wₜ, λ, B) − Φ̂(w̃, λ, B) + Φ(w̃, λ) − wₜ).
 *
 * For Φ̂ = w − α∇ℓ̂ this is SVRG on ℓ with step ηα. On a finite sum it converges linearly
 * (the fast rates SID §5 refers to; SID's Theorem 3.4 then applies with a geometric ρ(t)),
 * unlike plain SGD, whose constant-step error stalls at the plateau of SID Thm 4.1.
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import type { StochasticBilevelProblem } from '../../problem/bilevel.js'
import { sampleWithoutReplacement } from '../../random/rng.js'
import { checkBatchSize, checkInteger, checkPositive, checkStochasticProblem, firstOf, whenDefined, type Check } from '../check.js'
import type { LowerSolver, LowerState } from '../types.js'
import { minibatches } from '../solver.js'

/** Options of `svrg`. */
export interface SvrgOptions {
  /**
   * The step η along the corrected direction (default 0.5). A safe η depends on the spread of
   * the per-sample maps: for Φ̂ᵢ = w − α∇ℓ̂ᵢ with α = 2/(L+τ), η ≈ L/(2 max_B L_B) (L_B the
   * smoothness of the minibatch loss) is the usual SVRG step 1/max L_B; the default suits
   * problems whose minibatch curvature is within a small factor of the full one.
   */
  readonly eta?: number
  /** Steps between snapshots (default 2⌈n/b⌉, about two passes over the data). */
  readonly epochLength?: number
  /** Minibatch size b (default 1), drawn without replacement. */
  readonly batchSize?: number
}

/**
 * The snapshot an SVRG state keeps: x̃, the full map at it (the anchor of the corrected
 * direction: Φ(w̃, λ) here, ∂₁Φᵀṽ + ∇₁E for svrgLinear) and how many snapshots were taken.
 */
export interface Snapshot {
  readonly snap: RVec
  readonly anchor: RVec
  readonly snapshots: number
}

/** An SVRG state: wₜ and its snapshot (w̃, Φ(w̃, λ), count). */
export interface SvrgState extends LowerState, Snapshot {}

/** The snapshot of a start x₀, before the first is taken (at step 0). */
export const noSnapshot = (x: RVec): Snapshot => ({ snap: x, anchor: x, snapshots: 0 })

/** The snapshot taken at x, with the full map `anchor` there, after those of s. */
export const renewed = (s: Snapshot, x: RVec, anchor: RVec): Snapshot => ({ snap: x, anchor, snapshots: s.snapshots + 1 })

/**
 * What SVRG on the lower problem and on the linear system (svrgLinear) share: η (default 0.5),
 * b (default 1), the name `kind(η, b[, m])`, the epoch length m on n samples (default 2⌈n/b⌉,
 * about two passes), and the checks of m (an integer ≥ 1) and η (positive) around the check
 * that b fits the problem or system.
 */
export const svrgSettings = (kind: string, opts: SvrgOptions) => {
  const eta = opts?.eta ?? 0.5
  const b = opts?.batchSize ?? 1
  const m = opts?.epochLength
  const name = `${kind}(η=${eta}, b=${b}${m === undefined ? '' : `, m=${m}`})`
  return {
    eta,
    b,
    name,
    /** Whether step t on n samples starts with a snapshot: t = 0, m, 2m, … */
    snapshotDue: (t: number, n: number): boolean => t % (m ?? 2 * Math.ceil(n / b)) === 0,
    check: (fits: () => Check<unknown>) =>
      firstOf(
        () => whenDefined(m, (x) => checkInteger(name, 'epoch length', x, 1)),
        fits,
        () => checkPositive(name, 'η', eta),
      ),
  }
}

/**
 * SVRG written on the fixed-point map (see the file comment). Needs a stochastic problem.
 * Each step costs two minibatch evaluations (2b/n full-map units) and each snapshot one full
 * Φ; state t carries the cumulative counts. Snapshots are taken at t = 0, m, 2m, …
 * (m = epochLength).
 */
export const svrg = (opts: SvrgOptions = {}): LowerSolver<SvrgState> => {
  const { eta, b, name, snapshotDue, check } = svrgSettings('svrg', opts)
  return {
    ...minibatches('lower', name, b),
    check: (problem) =>
      firstOf(
        () => checkStochasticProblem(name, problem),
        () => check(() => checkBatchSize(name, b, (problem as StochasticBilevelProblem).nSamples)),
      ),
    init: (_ctx, w0, rng) => {
      const w = Float64Array.from(w0)
      return { w, iter: 0, rng, ...noSnapshot(w), counts: { phi: 0, jacW: 0, jacLambda: 0 } }
    },
    step: ({ problem, lambda }, s) => {
      const p = problem as StochasticBilevelProblem
      const n = p.nSamples
      const t = s.iter
      const w = s.w
      // Iterates are never written after they are created, so w can serve as w̃.
      const { snap, anchor, snapshots } = snapshotDue(t, n) ? renewed(s, w, p.phi(w, lambda)) : s
      const [batch, rng] = sampleWithoutReplacement(s.rng, n, b)
      const out: Vec = p.phiHat(w, lambda, batch)
      const atSnap = p.phiHat(snap, lambda, batch)
      const d = p.dim
      if (out.length !== d) assertDim(`${name}: phiHat`, d, out.length)
      for (let i = 0; i < d; i++) out[i] = w[i]! + eta * (out[i]! - atSnap[i]! + anchor[i]! - w[i]!)
      return { w: out, iter: t + 1, rng, snap, anchor, snapshots, counts: { phi: (2 * b * (t + 1)) / n + snapshots, jacW: 0, jacLambda: 0 } }
    },
  }
}
