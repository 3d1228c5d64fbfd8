/**
 * Row-wise log-sum-exp and softmax cross-entropy over an r × C matrix of scores x:
 *
 *   lse(x)ᵢ = log Σⱼ e^{xᵢⱼ},      ceᵢ(x) = lse(x)ᵢ − x_{i,yᵢ}   (labels yᵢ ∈ {0, …, C−1}),
 *
 * both r × 1. Stable form: with mᵢ the largest score of row i (first index on ties),
 * lseᵢ = mᵢ + log1p(Σ_{j ≠ argmax} e^{xᵢⱼ − mᵢ}) — no overflow, and full relative precision
 * for the small losses of well-classified rows. The softmax pᵢⱼ = e^{xᵢⱼ − lseᵢ} is kept from
 * the forward sweep. Rules (ẏ, ȳ, ȳ̇ per row; δ the one-hot label for ce, 0 for lse):
 *
 *   ẏᵢ = Σⱼ pᵢⱼ ẋᵢⱼ − δ·ẋ,    x̄ᵢⱼ += ȳᵢ (pᵢⱼ − δᵢⱼ),
 *   x̄̇ᵢⱼ += ȳ̇ᵢ (pᵢⱼ − δᵢⱼ) + ȳᵢ pᵢⱼ (ẋᵢⱼ − Σₖ pᵢₖ ẋᵢₖ).
 *
 * Labels come as a constant vector (Float64Array or Int32Array of length r), or as
 * `batch.rows(y)` for a minibatch; a label that is not an integer in [0, C) is an error of the
 * call (the data are checked when the tape runs, row by row).
 */
import { inputTangent, outAdj, outAdjT, tanOrNull, type Exec, type Instr } from './instr.js'
import type { Node, Operand } from './node.js'
import { toNode } from './operand.js'
import { currentRecording, fault } from './recording.js'

class SoftmaxInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear = true
  readonly usesBatch = false
  private readonly p: Float64Array
  private badRow = 0
  private badLabel = 0

  constructor(
    readonly out: number,
    readonly x: number,
    /** The labels' node (ce), or −1 (lse). */
    readonly labels: number,
    private readonly rows: number,
    private readonly cols: number,
  ) {
    this.inputs = labels >= 0 ? [x, labels] : [x]
    this.p = new Float64Array(rows * cols)
  }

  get name(): string {
    return this.labels >= 0 ? 'softmaxCrossEntropy' : 'logsumexp'
  }

  fwd(s: Exec): number {
    const X = s.val[this.x]!, Y = s.val[this.out]!, P = this.p
    const L = this.labels >= 0 ? s.val[this.labels]! : null
    const C = this.cols
    for (let i = 0; i < this.rows; i++) {
      const o = i * C
      let arg = 0
      let m = X[o]!
      for (let j = 1; j < C; j++) if (X[o + j]! > m) ((m = X[o + j]!), (arg = j))
      let rest = 0
      for (let j = 0; j < C; j++) {
        const e = Math.exp(X[o + j]! - m)
        P[o + j] = e
        if (j !== arg) rest += e
      }
      const total = 1 + rest
      for (let j = 0; j < C; j++) P[o + j] = P[o + j]! / total
      const lse = m + Math.log1p(rest)
      if (L === null) Y[i] = lse
      else {
        const l = L[i]!
        if (!(Number.isInteger(l) && l >= 0 && l < C)) {
          this.badRow = i
          this.badLabel = l
          return i
        }
        // lse − x_l: when l is the argmax, m − x_l = 0 exactly and the loss is log1p(rest).
        Y[i] = l === arg ? Math.log1p(rest) : lse - X[o + l]!
      }
    }
    return -1
  }

  /** ẏᵢ = Σⱼ pᵢⱼ dᵢⱼ − d_{i,yᵢ}. */
  private rowTangent(d: ArrayLike<number>, L: ArrayLike<number> | null, i: number): number {
    const o = i * this.cols
    let t = 0
    for (let j = 0; j < this.cols; j++) t += this.p[o + j]! * d[o + j]!
    return L === null ? t : t - d[o + L[i]!]!
  }

  tan(s: Exec): void {
    const dx = inputTangent(s, this.x, this.out)
    if (dx === null) return
    const T = s.tan[this.out]!
    const L = this.labels >= 0 ? s.val[this.labels]! : null
    for (let i = 0; i < this.rows; i++) T[i] = this.rowTangent(dx, L, i)
  }

  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    const L = this.labels >= 0 ? s.val[this.labels]! : null
    const C = this.cols, P = this.p
    const xb = s.needAdj[this.x] === 1 && yb !== null ? s.adj[this.x]! : null
    const xbt = s.needAT[this.x] === 1 ? s.adjT[this.x]! : null
    const dx = xbt !== null && yb !== null ? tanOrNull(s, this.x) : null
    for (let i = 0; i < this.rows; i++) {
      const o = i * C
      const l = L === null ? -1 : L[i]!
      if (xb !== null) {
        const g = yb![i]!
        for (let j = 0; j < C; j++) xb[o + j] = xb[o + j]! + g * (P[o + j]! - (j === l ? 1 : 0))
      }
      if (xbt !== null) {
        if (ybt !== null) {
          const gt = ybt[i]!
          for (let j = 0; j < C; j++) xbt[o + j] = xbt[o + j]! + gt * (P[o + j]! - (j === l ? 1 : 0))
        }
        if (dx !== null) {
          const g = yb![i]!
          let pd = 0
          for (let j = 0; j < C; j++) pd += P[o + j]! * dx[o + j]!
          for (let j = 0; j < C; j++) xbt[o + j] = xbt[o + j]! + g * P[o + j]! * (dx[o + j]! - pd)
        }
      }
    }
  }

  error(): string {
    return `ad: softmaxCrossEntropy needs integer labels in [0, ${this.cols}), but row ${this.badRow} has label ${this.badLabel}`
  }
}

/** log Σⱼ e^{xᵢⱼ} for each row i of x (r × 1), stable. */
export const logsumexp = (x: Operand): Node => {
  const n = toNode('logsumexp', x)
  return currentRecording('logsumexp').emit(n.rows, 1, [n.id], false, (out) => new SoftmaxInstr(out, n.id, -1, n.rows, n.cols))
}

/**
 * The softmax cross-entropy of each row of the r × C scores against its label (r × 1):
 * log Σⱼ e^{xᵢⱼ} − x_{i,yᵢ}. Labels: a Float64Array or Int32Array of length r with integers in
 * [0, C), or a constant node (`batch.rows(y)`).
 */
export const softmaxCrossEntropy = (logits: Operand, labels: Node | Float64Array | Int32Array): Node => {
  const x = toNode('softmaxCrossEntropy', logits)
  const rec = currentRecording('softmaxCrossEntropy')
  const l = labels instanceof Int32Array ? toNode('softmaxCrossEntropy', Float64Array.from(labels)) : toNode('softmaxCrossEntropy', labels)
  if (rec.info(l).dep !== 0) fault('config', 'ad.softmaxCrossEntropy: the labels must be constants, not a function of w or λ')
  if (l.size !== x.rows) fault('dimension', `ad.softmaxCrossEntropy: ${x.rows} rows of scores but ${l.size} labels`)
  if (x.cols < 1) fault('dimension', 'ad.softmaxCrossEntropy: the scores need at least one column')
  return rec.emit(x.rows, 1, [x.id, l.id], false, (out) => new SoftmaxInstr(out, x.id, l.id, x.rows, x.cols))
}
