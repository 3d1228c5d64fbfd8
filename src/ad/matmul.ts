/**
 * Matrix products C = op(A) op(B) (op = identity or transpose), where A and B are nodes (both
 * may vary: bilinear) or A is a data matrix — dense row-major or CSR, whole or the minibatch's
 * rows — read in place (linear in B). `matvec(A, x)` = A x, `matvecT(A, y)` = Aᵀ y.
 *
 * Rules, with A' = op(A), B' = op(B):
 *   Ċ = Ȧ'B' + A'Ḃ',    Ā' += C̄ B'ᵀ,    B̄' += A'ᵀ C̄,
 *   Ā̇' += C̄̇ B'ᵀ + C̄ Ḃ'ᵀ,   B̄̇' += A'ᵀ C̄̇ + Ȧ'ᵀ C̄,
 * each evaluated by the strided kernels of `kernels.ts` straight into the layout of A or B
 * (an adjoint of op(A) lands in A transposed when op is the transpose).
 *
 * A product of a data matrix with a vector is the hot loop of generalized linear models; the
 * tape runs it (with its transpose in the reverse sweep) on the WebAssembly row engine of
 * linalg when that pays (see `program.ts`).
 */
import { ROW_ENGINE_MIN_ENTRIES } from '../linalg/rows/index.js'
import { dataTTimes, dataTimes, gemmStrided, type DataMatrix } from './kernels.js'
import { outAdj, outAdjT, tanOrNull, type Exec, type Instr } from './instr.js'
import { Node, type Factor } from './node.js'
import { toFactor, type DataFactor } from './operand.js'
import { currentRecording, fault } from './recording.js'
import { asColumn, transpose } from './shape.js'

/** Strides of op(M) for a row-major r × c matrix M: entry (i, l) of op(M) at i·s0 + l·s1. */
const opStrides = (cols: number, trans: boolean): readonly [number, number] => (trans ? [1, cols] : [cols, 1])

/** C = op(A) op(B), C of shape m × n, inner dimension k. */
export class MatMulInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear: boolean
  readonly usesBatch: boolean
  readonly name = 'matmul'
  private readonly sA: readonly [number, number]
  private readonly sB: readonly [number, number]

  constructor(
    readonly out: number,
    /** A as a node id, or the data matrix. */
    readonly a: number | DataFactor,
    readonly b: number,
    readonly transA: boolean,
    readonly transB: boolean,
    readonly m: number,
    readonly n: number,
    readonly k: number,
    colsA: number,
    colsB: number,
  ) {
    this.inputs = typeof a === 'number' ? [a, b] : [b]
    this.nonlinear = typeof a === 'number'
    this.usesBatch = typeof a !== 'number' && a.batched
    this.sA = opStrides(colsA, transA)
    this.sB = opStrides(colsB, transB)
  }

  /** The data matrix A and whether its rows are the minibatch's (undefined when A is a node). */
  get data(): DataFactor | undefined {
    return typeof this.a === 'number' ? undefined : this.a
  }

  /** R (+)= op(A)·Q for the data A: Q a k × n operand with strides q0, q1. */
  private dataProduct(s: Exec, D: DataMatrix, batched: boolean, Q: ArrayLike<number>, q0: number, q1: number, R: Float64Array, r0: number, r1: number, acc: boolean): void {
    const idx = batched ? s.batch : null
    if (this.transA) dataTTimes(D, idx, this.k, Q as Float64Array, q0, q1, this.n, R, r0, r1, acc)
    else dataTimes(D, idx, this.m, Q as Float64Array, q0, q1, this.n, R, r0, r1, acc)
  }

  /** R (+)= op(A)ᵀ·Q for the data A: Q an m × n operand with strides q0, q1 (R is k × n). */
  private dataTProduct(s: Exec, D: DataMatrix, batched: boolean, Q: ArrayLike<number>, q0: number, q1: number, R: Float64Array, r0: number, r1: number, acc: boolean): void {
    const idx = batched ? s.batch : null
    if (this.transA) dataTimes(D, idx, this.k, Q as Float64Array, q0, q1, this.n, R, r0, r1, acc)
    else dataTTimes(D, idx, this.m, Q as Float64Array, q0, q1, this.n, R, r0, r1, acc)
  }

  fwd(s: Exec): number {
    this.product(s, s.val, s.val, s.val[this.out]!, false)
    return -1
  }

  /** R (+)= op(A)·op(B) with A from `as` and B from `bs` (values or tangents). */
  private product(s: Exec, as: ReadonlyArray<Float64Array>, bs: ReadonlyArray<Float64Array>, R: Float64Array, acc: boolean): void {
    const [sb0, sb1] = this.sB
    const B = bs[this.b]!
    if (typeof this.a === 'number') {
      const [sa0, sa1] = this.sA
      gemmStrided(this.m, this.n, this.k, as[this.a]!, sa0, sa1, B, sb0, sb1, R, this.n, 1, acc)
    } else this.dataProduct(s, this.a.data, this.a.batched, B, sb0, sb1, R, this.n, 1, acc)
  }

  tan(s: Exec): void {
    const T = s.tan[this.out]!
    const dB = tanOrNull(s, this.b)
    const [sb0, sb1] = this.sB
    let wrote = false
    if (dB !== null) {
      if (typeof this.a === 'number') {
        const [sa0, sa1] = this.sA
        gemmStrided(this.m, this.n, this.k, s.val[this.a]!, sa0, sa1, dB, sb0, sb1, T, this.n, 1, false)
      } else this.dataProduct(s, this.a.data, this.a.batched, dB, sb0, sb1, T, this.n, 1, false)
      wrote = true
    }
    if (typeof this.a === 'number') {
      const dA = tanOrNull(s, this.a)
      if (dA !== null) {
        const [sa0, sa1] = this.sA
        gemmStrided(this.m, this.n, this.k, dA, sa0, sa1, s.val[this.b]!, sb0, sb1, T, this.n, 1, wrote)
        wrote = true
      }
    }
    if (!wrote) T.fill(0)
  }

  /** B̄ (+)= op(A)ᵀ G, written in B's layout (G is m × n). */
  private backB(s: Exec, A: Float64Array | null, G: Float64Array, Bbar: Float64Array): void {
    const [sb0, sb1] = this.sB
    if (typeof this.a === 'number') {
      const [sa0, sa1] = this.sA
      gemmStrided(this.k, this.n, this.m, A!, sa1, sa0, G, this.n, 1, Bbar, sb0, sb1, true)
    } else this.dataTProduct(s, this.a.data, this.a.batched, G, this.n, 1, Bbar, sb0, sb1, true)
  }

  /** Ā (+)= G op(B)ᵀ, written in A's layout (A a node; G is m × n). */
  private backA(G: Float64Array, B: Float64Array, Abar: Float64Array): void {
    const [sa0, sa1] = this.sA
    const [sb0, sb1] = this.sB
    gemmStrided(this.m, this.k, this.n, G, this.n, 1, B, sb1, sb0, Abar, sa0, sa1, true)
  }

  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    const b = this.b
    const A = typeof this.a === 'number' ? s.val[this.a]! : null
    const B = s.val[b]!
    if (s.needAdj[b] === 1 && yb !== null) this.backB(s, A, yb, s.adj[b]!)
    if (s.needAT[b] === 1) {
      if (ybt !== null) this.backB(s, A, ybt, s.adjT[b]!)
      if (typeof this.a === 'number' && yb !== null) {
        const dA = tanOrNull(s, this.a)
        if (dA !== null) this.backB(s, dA, yb, s.adjT[b]!)
      }
    }
    if (typeof this.a === 'number') {
      const a = this.a
      if (s.needAdj[a] === 1 && yb !== null) this.backA(yb, B, s.adj[a]!)
      if (s.needAT[a] === 1) {
        if (ybt !== null) this.backA(ybt, B, s.adjT[a]!)
        const dB = tanOrNull(s, b)
        if (dB !== null && yb !== null) this.backA(yb, dB, s.adjT[a]!)
      }
    }
  }

  error(): string {
    return 'ad: matmul cannot fail'
  }
}

/**
 * True for a product the tape may run on the row engine: a large dense data matrix (not
 * transposed) times a column.
 */
export const engineCandidate = (ins: Instr): ins is MatMulInstr => {
  if (!(ins instanceof MatMulInstr)) return false
  const d = ins.data
  return d !== undefined && d.data.kind === 'dense' && !ins.transA && ins.n === 1 && d.data.rows * d.data.cols >= ROW_ENGINE_MIN_ENTRIES
}

/** Options of `matmul`. */
export interface MatmulOptions {
  /** Use Aᵀ instead of A. */
  readonly transA?: boolean
  /** Use Bᵀ instead of B. */
  readonly transB?: boolean
}

const shapeOf = (f: Node | DataFactor, batchRows: number): readonly [number, number] =>
  f instanceof Node ? [f.rows, f.cols] : [f.batched ? batchRows : f.data.rows, f.data.cols]

/**
 * C = op(A) op(B). Either factor may be a node or a Float64Array (a column); a dense `Matrix`,
 * a `CsrMatrix` or `batch.rows(X)` is a data matrix, read in place. At least one factor must
 * be a node; the inner dimensions must agree.
 */
export const matmul = (a: Factor, b: Factor, opts: MatmulOptions = {}): Node => {
  const rec = currentRecording('matmul')
  const tA = opts.transA === true
  const tB = opts.transB === true
  const A = toFactor('matmul', a)
  const B = toFactor('matmul', b)
  const m0 = rec.batchSize ?? rec.nSamples
  const [ra, ca] = shapeOf(A, m0)
  const [rb, cb] = shapeOf(B, m0)
  const [m, k] = tA ? [ca, ra] : [ra, ca]
  const [k2, n] = tB ? [cb, rb] : [rb, cb]
  if (k !== k2)
    fault('dimension', `ad.matmul: inner dimensions differ: op(A) is ${m}×${k}, op(B) is ${k2}×${n}`)
  if (!(B instanceof Node)) {
    if (!(A instanceof Node)) return fault('config', 'ad.matmul: both factors are data; one must be a node')
    // op(A) op(D) = (op(D)ᵀ op(A)ᵀ)ᵀ: the data on the left.
    return transpose(matmul(b, a, { transA: !tB, transB: !tA }))
  }
  const aRef: number | DataFactor = A instanceof Node ? A.id : A
  const inputs = A instanceof Node ? [A.id, B.id] : [B.id]
  const usesBatch = !(A instanceof Node) && A.batched
  return rec.emit(m, n, inputs, usesBatch, (out) => new MatMulInstr(out, aRef, B.id, tA, tB, m, n, k, ca, cb))
}

/** A x: x a node (or constant vector) of size A.cols, taken as a column; the result is a column. */
export const matvec = (A: Factor, x: Factor): Node => {
  const v = toFactor('matvec', x)
  return matmul(A, v instanceof Node ? asColumn(v) : x)
}

/** Aᵀ y: y of size A.rows (the minibatch size for `batch.rows(X)`), taken as a column. */
export const matvecT = (A: Factor, y: Factor): Node => {
  const v = toFactor('matvecT', y)
  return matmul(A, v instanceof Node ? asColumn(v) : y, { transA: true })
}
