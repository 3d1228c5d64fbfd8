/**
 * SAGA on the finite-sum fixed-point map Φ = (1/n) Σᵢ Φ̂ᵢ (Defazio, Bach & Lacoste-Julien's
 * variance reduction, written for a map rather than a gradient). A table keeps, for every
 * sample i, the value gᵢ = Φ̂ᵢ(φᵢ, λ) at the point φᵢ where i was last visited, and their mean
 * ḡ. A step draws a minibatch B and moves along an unbiased direction whose variance
 * vanishes at the fixed point:
 *
 *   wₜ₊₁ = wₜ + η ( (1/b) Σ_{j∈B} (Φ̂ⱼ(wₜ, λ) − gⱼ) + ḡ − wₜ ),   then gⱼ ← Φ̂ⱼ(wₜ, λ) for j ∈ B.
 *
 * For Φ̂ = w − α∇ℓ̂ this is SAGA on ℓ with step ηα; on a finite sum it converges linearly (the
 * fast rates SID §5 refers to).
 *
 * Memory: the table holds n vectors of length d, O(n·d) numbers (5000 × 784 doubles = 31 MB
 * for the MNIST problem of SID §6). States are immutable and share the table: it is stored in
 * chunks of 64 rows, and a step copies only the chunks it changes (a persistent array). For linear models a table of n scalars would do (ℓ̂ᵢ's
 * gradient is a multiple of xᵢ plus the regularizer), but the problem interface does not
 * expose that structure, so this generic version stores whole vectors.
 */
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import type { StochasticBilevelProblem } from '../../problem/bilevel.js'
import { sampleWithoutReplacement } from '../../random/rng.js'
import { checkBatchSize, checkPositive, checkStochasticProblem, firstOf } from '../check.js'
import type { LowerSolver, LowerState } from '../types.js'
import { minibatches } from '../solver.js'

/** Options of `saga`. */
export interface SagaOptions {
  /**
   * The step η along the corrected direction (default 1/3: for Φ̂ᵢ = w − α∇ℓ̂ᵢ with
   * α = 2/(L+τ) the SAGA step 1/(3 maxᵢ Lᵢ) when the per-sample curvature Lᵢ is close to L;
   * pass a smaller η when single samples are much more curved than the average).
   */
  readonly eta?: number
  /** Minibatch size b (default 1), drawn without replacement. */
  readonly batchSize?: number
}

const CHUNK_BITS = 6
const CHUNK = 1 << CHUNK_BITS

/** A persistent table of n rows: chunks of 64 row references, copied on write. */
type Table = ReadonlyArray<ReadonlyArray<RVec>>

const row = (t: Table, i: number): RVec => t[i >> CHUNK_BITS]![i & (CHUNK - 1)]!

/** The table with rows idx[s] replaced by rows[s] (only the chunks touched are copied). */
const withRows = (t: Table, idx: Readonly<Int32Array>, rows: ReadonlyArray<RVec>): Table => {
  const chunks = t.slice()
  const copied = new Set<number>()
  for (let s = 0; s < idx.length; s++) {
    const c = idx[s]! >> CHUNK_BITS
    if (!copied.has(c)) {
      chunks[c] = t[c]!.slice()
      copied.add(c)
    }
    ;(chunks[c] as RVec[])[idx[s]! & (CHUNK - 1)] = rows[s]!
  }
  return chunks
}

/** A SAGA state: wₜ, the table of the last values gᵢ and their mean ḡ. */
export interface SagaState extends LowerState {
  readonly table: Table
  readonly mean: RVec
}

/**
 * SAGA written on the fixed-point map (see the file comment). Needs a stochastic problem.
 * The table is filled at w₀ (n single-sample evaluations: one full-map unit); each step then
 * costs b single-sample evaluations (b/n units). Memory O(n·d).
 */
export const saga = (opts: SagaOptions = {}): LowerSolver<SagaState> => {
  const eta = opts?.eta ?? 1 / 3
  const b = opts?.batchSize ?? 1
  const name = `saga(η=${eta}, b=${b})`
  return {
    ...minibatches('lower', name, b),
    check: (problem) =>
      firstOf(
        () => checkStochasticProblem(name, problem),
        () => checkBatchSize(name, b, (problem as StochasticBilevelProblem).nSamples),
        () => checkPositive(name, 'η', eta),
      ),
    init: ({ problem, lambda }, w0, rng) => {
      const p = problem as StochasticBilevelProblem
      const n = p.nSamples
      const d = p.dim
      const w = Float64Array.from(w0)
      const mean = new Float64Array(d)
      const one = new Int32Array(1)
      const chunks: RVec[][] = []
      for (let i = 0; i < n; i++) {
        one[0] = i
        const g = p.phiHat(w, lambda, one)
        if (g.length !== d) assertDim(`${name}: phiHat`, d, g.length)
        if ((i & (CHUNK - 1)) === 0) chunks.push([])
        chunks[chunks.length - 1]!.push(g)
        for (let j = 0; j < d; j++) mean[j] = mean[j]! + g[j]!
      }
      for (let j = 0; j < d; j++) mean[j] = mean[j]! / n
      return { w, iter: 0, rng, table: chunks, mean, counts: { phi: 1, jacW: 0, jacLambda: 0 } }
    },
    step: ({ problem, lambda }, s) => {
      const p = problem as StochasticBilevelProblem
      const n = p.nSamples
      const d = p.dim
      const t = s.iter
      const w = s.w
      const [batch, rng] = sampleWithoutReplacement(s.rng, n, b)
      const delta = new Float64Array(d)
      const fresh: Vec[] = []
      const one = new Int32Array(1)
      for (let k = 0; k < b; k++) {
        one[0] = batch[k]!
        const g = p.phiHat(w, lambda, one)
        if (g.length !== d) assertDim(`${name}: phiHat`, d, g.length)
        fresh.push(g)
        const old = row(s.table, batch[k]!)
        for (let j = 0; j < d; j++) delta[j] = delta[j]! + (g[j]! - old[j]!)
      }
      const out = new Float64Array(d)
      const mean = new Float64Array(d)
      for (let j = 0; j < d; j++) out[j] = w[j]! + eta * (delta[j]! / b + s.mean[j]! - w[j]!)
      for (let j = 0; j < d; j++) mean[j] = s.mean[j]! + delta[j]! / n
      return { w: out, iter: t + 1, rng, table: withRows(s.table, batch, fresh), mean, counts: { phi: 1 + (b * (t + 1)) / n, jacW: 0, jacLambda: 0 } }
    },
  }
}
