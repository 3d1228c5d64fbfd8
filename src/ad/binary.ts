/**
 * Elementwise a ∘ b for ∘ ∈ {+, −, ×, ÷} with broadcasting, when both a and b may vary (a
 * constant operand of the same size, or a scalar constant, becomes a fused step instead: see
 * `unary.ts`). Shapes: equal, or one side 1 × 1 (a scalar), 1 × c (a row, repeated down the
 * rows) or r × 1 (a column, repeated across the columns); the adjoint of a broadcast operand
 * sums over the repeated entries.
 *
 * Rules per entry (y = a ∘ b; ȧ, ḃ the tangents, ȳ, ȳ̇ the adjoint and its tangent):
 *   +  ẏ = ȧ + ḃ           ā += ȳ       b̄ += ȳ       (and the same with ȳ̇ for ā̇, b̄̇)
 *   −  ẏ = ȧ − ḃ           ā += ȳ       b̄ −= ȳ
 *   ×  ẏ = ȧb + aḃ         ā += ȳb      b̄ += ȳa      ā̇ += ȳ̇b + ȳḃ,   b̄̇ += ȳ̇a + ȳȧ
 *   ÷  ẏ = (ȧ − yḃ)/b      ā += ȳ/b     b̄ −= ȳy/b    ā̇ += (ȳ̇ − ȳḃ/b)/b,
 *                                                     b̄̇ −= (ȳ̇y + ȳẏ)/b − ȳyḃ/b²
 * A divisor 0 is an error (the quotient is not differentiable there).
 */
import type { RVec, Vec } from '../linalg/types.js'
import { outAdj, outAdjT, tanOrNull, type Exec, type Instr } from './instr.js'

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div'

/** Strides of a broadcast operand of shape (r, c) inside an output of shape (R, C). */
interface Strides {
  readonly si: number
  readonly sj: number
}

const strides = (r: number, c: number): Strides => ({ si: r === 1 ? 0 : c, sj: c === 1 ? 0 : 1 })

export class BinaryInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear: boolean
  readonly usesBatch = false
  private readonly sa: Strides
  private readonly sb: Strides
  private readonly flat: boolean
  private badIndex = 0

  constructor(
    readonly out: number,
    readonly op: BinaryOp,
    readonly a: number,
    readonly b: number,
    shapeA: readonly [number, number],
    shapeB: readonly [number, number],
    private readonly rows: number,
    private readonly cols: number,
  ) {
    this.inputs = [a, b]
    this.nonlinear = op === 'mul' || op === 'div'
    this.sa = strides(shapeA[0], shapeA[1])
    this.sb = strides(shapeB[0], shapeB[1])
    this.flat = shapeA[0] === rows && shapeA[1] === cols && shapeB[0] === rows && shapeB[1] === cols
  }

  get name(): string {
    return this.op
  }

  fwd(s: Exec): number {
    const A = s.val[this.a]!, B = s.val[this.b]!, Y = s.val[this.out]!
    const { rows, cols, sa, sb, op } = this
    if (this.flat) {
      const n = rows * cols
      if (op === 'add') for (let k = 0; k < n; k++) Y[k] = A[k]! + B[k]!
      else if (op === 'sub') for (let k = 0; k < n; k++) Y[k] = A[k]! - B[k]!
      else if (op === 'mul') for (let k = 0; k < n; k++) Y[k] = A[k]! * B[k]!
      else
        for (let k = 0; k < n; k++) {
          const d = B[k]!
          if (d === 0) return this.fail(k)
          Y[k] = A[k]! / d
        }
      return -1
    }
    for (let i = 0, k = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++, k++) {
        const x = A[i * sa.si + j * sa.sj]!
        const z = B[i * sb.si + j * sb.sj]!
        if (op === 'div' && z === 0) return this.fail(k)
        Y[k] = op === 'add' ? x + z : op === 'sub' ? x - z : op === 'mul' ? x * z : x / z
      }
    }
    return -1
  }

  private fail(k: number): number {
    this.badIndex = k
    return k
  }

  tan(s: Exec): void {
    const A = s.val[this.a]!, B = s.val[this.b]!, Y = s.val[this.out]!, T = s.tan[this.out]!
    const dA = tanOrNull(s, this.a), dB = tanOrNull(s, this.b)
    const { rows, cols, sa, sb, op } = this
    if (this.flat) {
      const n = rows * cols
      if (op === 'add' || op === 'sub') {
        const sign = op === 'add' ? 1 : -1
        for (let k = 0; k < n; k++) T[k] = (dA === null ? 0 : dA[k]!) + sign * (dB === null ? 0 : dB[k]!)
      } else if (op === 'mul') {
        if (dA === null) T.fill(0)
        else for (let k = 0; k < n; k++) T[k] = dA[k]! * B[k]!
        if (dB !== null) for (let k = 0; k < n; k++) T[k] = T[k]! + A[k]! * dB[k]!
      } else for (let k = 0; k < n; k++) T[k] = ((dA === null ? 0 : dA[k]!) - Y[k]! * (dB === null ? 0 : dB[k]!)) / B[k]!
      return
    }
    for (let i = 0, k = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++, k++) {
        const ia = i * sa.si + j * sa.sj, ib = i * sb.si + j * sb.sj
        const da = dA === null ? 0 : dA[ia]!
        const db = dB === null ? 0 : dB[ib]!
        T[k] = op === 'add' ? da + db : op === 'sub' ? da - db : op === 'mul' ? da * B[ib]! + A[ia]! * db : (da - Y[k]! * db) / B[ib]!
      }
    }
  }

  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    const aB = s.needAdj[this.a] === 1 && yb !== null ? s.adj[this.a]! : null
    const bB = s.needAdj[this.b] === 1 && yb !== null ? s.adj[this.b]! : null
    const aT = s.needAT[this.a] === 1 ? s.adjT[this.a]! : null
    const bT = s.needAT[this.b] === 1 ? s.adjT[this.b]! : null
    // second-order terms need ȳ and the tangents
    const dA = yb !== null && this.nonlinear ? tanOrNull(s, this.a) : null
    const dB = yb !== null && this.nonlinear ? tanOrNull(s, this.b) : null
    if (this.flat && this.op === 'mul') this.revMulFlat(s.val[this.a]!, s.val[this.b]!, yb, ybt, aB, bB, aT, bT, dA, dB)
    else this.revGeneral(s, yb, ybt, aB, bB, aT, bT, dA, dB)
  }

  /** rev of a ⊙ b with equal shapes: one loop per contribution. */
  private revMulFlat(A: RVec, B: RVec, yb: RVec | null, ybt: RVec | null, aB: Vec | null, bB: Vec | null, aT: Vec | null, bT: Vec | null, dA: RVec | null, dB: RVec | null): void {
    const n = this.rows * this.cols
    if (aB !== null) for (let k = 0; k < n; k++) aB[k] = aB[k]! + yb![k]! * B[k]!
    if (bB !== null) for (let k = 0; k < n; k++) bB[k] = bB[k]! + yb![k]! * A[k]!
    if (aT !== null) {
      if (ybt !== null) for (let k = 0; k < n; k++) aT[k] = aT[k]! + ybt[k]! * B[k]!
      if (dB !== null) for (let k = 0; k < n; k++) aT[k] = aT[k]! + yb![k]! * dB[k]!
    }
    if (bT !== null) {
      if (ybt !== null) for (let k = 0; k < n; k++) bT[k] = bT[k]! + ybt[k]! * A[k]!
      if (dA !== null) for (let k = 0; k < n; k++) bT[k] = bT[k]! + yb![k]! * dA[k]!
    }
  }

  private revGeneral(s: Exec, yb: RVec | null, ybt: RVec | null, aB: Vec | null, bB: Vec | null, aT: Vec | null, bT: Vec | null, dA: RVec | null, dB: RVec | null): void {
    const A = s.val[this.a]!, B = s.val[this.b]!, Y = s.val[this.out]!
    const { rows, cols, sa, sb, op } = this
    for (let i = 0, k = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++, k++) {
        const ia = i * sa.si + j * sa.sj, ib = i * sb.si + j * sb.sj
        const g = yb === null ? 0 : yb[k]!
        const gt = ybt === null ? 0 : ybt[k]!
        const da = dA === null ? 0 : dA[ia]!
        const db = dB === null ? 0 : dB[ib]!
        if (op === 'add' || op === 'sub') {
          const sign = op === 'add' ? 1 : -1
          if (aB !== null) aB[ia] = aB[ia]! + g
          if (bB !== null) bB[ib] = bB[ib]! + sign * g
          if (aT !== null) aT[ia] = aT[ia]! + gt
          if (bT !== null) bT[ib] = bT[ib]! + sign * gt
        } else if (op === 'mul') {
          const x = A[ia]!, z = B[ib]!
          if (aB !== null) aB[ia] = aB[ia]! + g * z
          if (bB !== null) bB[ib] = bB[ib]! + g * x
          if (aT !== null) aT[ia] = aT[ia]! + gt * z + g * db
          if (bT !== null) bT[ib] = bT[ib]! + gt * x + g * da
        } else {
          const z = B[ib]!, y = Y[k]!
          if (aB !== null) aB[ia] = aB[ia]! + g / z
          if (bB !== null) bB[ib] = bB[ib]! - (g * y) / z
          if (aT !== null) aT[ia] = aT[ia]! + (gt - (g * db) / z) / z
          if (bT !== null) {
            const dy = (da - y * db) / z
            bT[ib] = bT[ib]! - (gt * y + g * dy) / z + (g * y * db) / (z * z)
          }
        }
      }
    }
  }

  error(_code: number, _s: Exec): string {
    return `ad: div needs a non-zero divisor, but entry ${this.badIndex} of the divisor is 0`
  }
}
