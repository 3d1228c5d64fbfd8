/**
 * The scalar losses of the library's generalized linear models and their derivatives, each
 * evaluated without overflow for every finite argument:
 *
 *  - the logistic loss ψ(u) = log(1 + e^{−u}) of binary labels y = ±1 (u = y·xᵀw), with ψ', ψ'';
 *  - the sigmoid σ(t) = 1/(1 + e^{−t}) and σ' (the per-sample weights of data cleaning);
 *  - the softmax cross-entropy of a class y at scores z ∈ R^C, logsumexp(z) − z_y, with the
 *    class probabilities softmax(z) (its gradient in z is softmax(z) − e_y).
 */
import type { RVec, Vec } from '../linalg/types.js'

/**
 * The logistic loss ψ(u) = log(1 + e^{−u}), computed as log1p(e^{−|u|}) + max(−u, 0): no
 * overflow for any finite u, and full relative precision both for large u (where ψ(u) ≈ e^{−u})
 * and for very negative u (where ψ(u) ≈ −u).
 */
export const psi = (u: number): number => Math.log1p(Math.exp(-Math.abs(u))) + (u < 0 ? -u : 0)

/** ψ'(u) = −1/(1 + e^{u}) = −σ(−u), evaluated without overflow on either side. */
export const dpsi = (u: number): number => {
  if (u >= 0) {
    const e = Math.exp(-u)
    return -e / (1 + e)
  }
  return -1 / (1 + Math.exp(u))
}

/** ψ''(u) = σ(u)σ(−u) = e^{−|u|}/(1 + e^{−|u|})² ∈ (0, 1/4], evaluated without overflow. */
export const d2psi = (u: number): number => {
  const e = Math.exp(-Math.abs(u))
  const d = 1 + e
  return e / (d * d)
}

/** The logistic sigmoid σ(t) = 1/(1 + e^{−t}), evaluated without overflow on either side. */
export const sigmoid = (t: number): number => {
  if (t >= 0) return 1 / (1 + Math.exp(-t))
  const e = Math.exp(t)
  return e / (1 + e)
}

/** σ'(t) = σ(t)σ(−t) = e^{−|t|}/(1 + e^{−|t|})², evaluated without overflow. */
export const dsigmoid = (t: number): number => {
  const e = Math.exp(-Math.abs(t))
  const d = 1 + e
  return e / (d * d)
}

/** log Σ_c e^{z_c} = m + log Σ_c e^{z_c − m} with m = max z (no overflow; −∞ for an empty z). */
export const logSumExp = (z: RVec): number => {
  let m = -Infinity
  for (let c = 0; c < z.length; c++) if (z[c]! > m) m = z[c]!
  if (m === -Infinity || !Number.isFinite(m)) return m
  let s = 0
  for (let c = 0; c < z.length; c++) s += Math.exp(z[c]! - m)
  return m + Math.log(s)
}

/**
 * prob ← softmax(z), prob_c = e^{z_c − m} / Σ e^{z_k − m} (m = max z), and returns
 * logsumexp(z). prob may be z itself.
 */
export const softmaxInto = (z: RVec, prob: Vec): number => {
  let m = -Infinity
  for (let c = 0; c < z.length; c++) if (z[c]! > m) m = z[c]!
  let s = 0
  for (let c = 0; c < z.length; c++) {
    const e = Math.exp(z[c]! - m)
    prob[c] = e
    s += e
  }
  const inv = 1 / s
  for (let c = 0; c < z.length; c++) prob[c] = prob[c]! * inv
  return m + Math.log(s)
}

/** The cross-entropy of class y at scores z: logsumexp(z) − z_y ≥ 0. */
export const crossEntropy = (z: RVec, y: number): number => logSumExp(z) - z[y]!

/** The smallest and the largest entry of λ (±∞ for an empty one): τ and the λ part of L of an L2 regularizer. */
export const lambdaRange = (lambda: RVec): { readonly lo: number; readonly hi: number } => {
  let lo = Infinity, hi = -Infinity
  for (let k = 0; k < lambda.length; k++) {
    lo = Math.min(lo, lambda[k]!)
    hi = Math.max(hi, lambda[k]!)
  }
  return { lo, hi }
}
