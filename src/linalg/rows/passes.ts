/**
 * The row passes as the library runs them: on the WebAssembly row engine when it pays (a large
 * matrix, from its second pass on) and serves the input, otherwise on the TypeScript reference
 * kernels. Both give the same bits (laws/fusion.test.ts).
 */
import type { DesignMatrix } from '../csr.js'
import { weightedGramOf } from '../gram.js'
import type { Matrix, RVec, Vec } from '../types.js'
import { autoRowEngine, type RowCoef, type RowDots, type RowEngine } from './engine.js'
import { dotsReference, gradPassReference, gramVecReference, hvpPassReference, type RowBatch } from './reference.js'

/** out ← Σ cᵢ xᵢ over the rows of the pass, cᵢ from the grad-type dots xᵢᵀw (see reference.ts). */
export const gradPass = (X: DesignMatrix, w: RVec, batch: RowBatch, coef: RowCoef, out: Vec): Vec =>
  autoRowEngine(X)?.gradPass(w, batch, coef, out) ?? gradPassReference(X, w, batch, coef, out)

/** out ← Σ cᵢ xᵢ over the rows of the pass, cᵢ from the hvp-type dots xᵢᵀw and xᵢᵀu. */
export const hvpPass = (X: DesignMatrix, w: RVec, u: RVec, batch: RowBatch, coef: RowCoef, out: Vec): Vec =>
  autoRowEngine(X)?.hvpPass(w, u, batch, coef, out) ?? hvpPassReference(X, w, u, batch, coef, out)

/** The dots of a pass (grad-type when u is undefined, hvp-type otherwise), handed to `read`. */
export const rowDots = (X: DesignMatrix, w: RVec, u: RVec | undefined, batch: RowBatch, read: RowDots): void => {
  if (autoRowEngine(X)?.dots(w, u, batch, read) === true) return
  dotsReference(X, w, u, batch, read)
}

/** {@link gradPass} on a given engine of X (deferring to the reference when it declines): for laws and benchmarks. */
export const gradPassOn = (engine: RowEngine, X: DesignMatrix, w: RVec, batch: RowBatch, coef: RowCoef, out: Vec): Vec => {
  if (engine.rows !== X.rows || engine.cols !== X.cols) throw new RangeError(`gradPassOn: the engine is ${engine.rows}×${engine.cols}, the matrix ${X.rows}×${X.cols}`)
  return engine.gradPass(w, batch, coef, out) ?? gradPassReference(X, w, batch, coef, out)
}

/** {@link hvpPass} on a given engine of X (deferring to the reference when it declines). */
export const hvpPassOn = (engine: RowEngine, X: DesignMatrix, w: RVec, u: RVec, batch: RowBatch, coef: RowCoef, out: Vec): Vec => {
  if (engine.rows !== X.rows || engine.cols !== X.cols) throw new RangeError(`hvpPassOn: the engine is ${engine.rows}×${engine.cols}, the matrix ${X.rows}×${X.cols}`)
  return engine.hvpPass(w, u, batch, coef, out) ?? hvpPassReference(X, w, u, batch, coef, out)
}

/**
 * Xᵀ diag(d) X (p × p, fresh): from the engine over X's sparse rows when it serves X, else
 * `weightedGramOf`; the same bits either way. Only for dense Hessians (`exact`): O(p²) memory.
 */
export const gramOf = (X: DesignMatrix, d: RVec): Matrix => autoRowEngine(X)?.gram(d) ?? weightedGramOf(X, d)

/**
 * out ← Xᵀ diag(d) X u = Σᵢ (dᵢ·xᵢᵀu)·xᵢ: the hvp-type pass with the coefficients dᵢ·sᵢ, bit for
 * bit (one pass over CSR data on the engine). For Hessian products at a fixed point, whose
 * curvature weights d are known.
 */
export const gramVec = (X: DesignMatrix, d: RVec, u: RVec, out: Vec): Vec =>
  autoRowEngine(X)?.gramVec(d, u, out) ?? gramVecReference(X, d, u, out)
