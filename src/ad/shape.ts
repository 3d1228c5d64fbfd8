/**
 * Shapes: `reshape` (the same entries, row-major, under another shape: free, the new node
 * shares the buffers of the old), `transpose` (a copy with rows and columns swapped) and `slice`
 * (a block of consecutive entries, a copy); the last two are linear. A parameter vector of length
 * d·C is used as a d × C matrix by `reshape(w, d, C)`; hyperparameters packed into one λ are
 * taken apart by `slice`.
 */
import { outAdj, outAdjT, tanOrNull, type Exec, type Instr } from './instr.js'
import type { Node, Operand } from './node.js'
import { toNode } from './operand.js'
import { currentRecording, fault } from './recording.js'

/** The entries of x, row-major, as a rows × cols node (rows·cols must equal x.size). Free. */
export const reshape = (x: Operand, rows: number, cols: number): Node => {
  const n = toNode('reshape', x)
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1))
    fault('dimension', `ad.reshape: the shape ${rows}×${cols} is not a positive integer shape`)
  if (rows * cols !== n.size) fault('dimension', `ad.reshape: ${n.toString()} has ${n.size} entries, not ${rows}×${cols} = ${rows * cols}`)
  if (rows === n.rows && cols === n.cols) return n
  return currentRecording('reshape').alias(n, rows, cols)
}

/** x as a column vector (size × 1). */
export const asColumn = (x: Node): Node => (x.cols === 1 ? x : reshape(x, x.size, 1))

/** yᵀ[j, i] = x[i, j]. */
class TransposeInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear = false
  readonly usesBatch = false
  readonly name = 'transpose'
  constructor(
    readonly out: number,
    readonly x: number,
    private readonly rows: number,
    private readonly cols: number,
  ) {
    this.inputs = [x]
  }
  private copy(src: ArrayLike<number>, dst: Float64Array): void {
    const { rows: r, cols: c } = this
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j * r + i] = src[i * c + j]!
  }
  private addBack(src: ArrayLike<number>, dst: Float64Array): void {
    const { rows: r, cols: c } = this
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[i * c + j] = dst[i * c + j]! + src[j * r + i]!
  }
  fwd(s: Exec): number {
    this.copy(s.val[this.x]!, s.val[this.out]!)
    return -1
  }
  tan(s: Exec): void {
    const dx = tanOrNull(s, this.x)
    if (dx === null) s.tan[this.out]!.fill(0)
    else this.copy(dx, s.tan[this.out]!)
  }
  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    if (s.needAdj[this.x] === 1 && yb !== null) this.addBack(yb, s.adj[this.x]!)
    if (s.needAT[this.x] === 1 && ybt !== null) this.addBack(ybt, s.adjT[this.x]!)
  }
  error(): string {
    return 'ad: transpose cannot fail'
  }
}

/** xᵀ (a copy). */
export const transpose = (x: Operand): Node => {
  const n = toNode('transpose', x)
  if (n.rows === 1 || n.cols === 1) return reshape(n, n.cols, n.rows)
  return currentRecording('transpose').emit(n.cols, n.rows, [n.id], false, (out) => new TransposeInstr(out, n.id, n.rows, n.cols))
}

/** y = x[start … start + rows·cols) (row-major entries), as rows × cols. Linear: the adjoint adds back. */
class SliceInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear = false
  readonly usesBatch = false
  readonly name = 'slice'
  constructor(
    readonly out: number,
    readonly x: number,
    private readonly start: number,
    private readonly size: number,
  ) {
    this.inputs = [x]
  }
  fwd(s: Exec): number {
    const src = s.val[this.x]!, dst = s.val[this.out]!
    for (let k = 0; k < this.size; k++) dst[k] = src[this.start + k]!
    return -1
  }
  tan(s: Exec): void {
    const dx = tanOrNull(s, this.x), dst = s.tan[this.out]!
    if (dx === null) dst.fill(0)
    else for (let k = 0; k < this.size; k++) dst[k] = dx[this.start + k]!
  }
  private addBack(src: ArrayLike<number>, dst: Float64Array): void {
    for (let k = 0; k < this.size; k++) dst[this.start + k] = dst[this.start + k]! + src[k]!
  }
  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    if (s.needAdj[this.x] === 1 && yb !== null) this.addBack(yb, s.adj[this.x]!)
    if (s.needAT[this.x] === 1 && ybt !== null) this.addBack(ybt, s.adjT[this.x]!)
  }
  error(): string {
    return 'ad: slice cannot fail'
  }
}

/**
 * The entries start … start + rows·cols − 1 of x (in row-major order) as a rows × cols node: a
 * block of a parameter vector, e.g. the matrices A, B and the vector c packed into one λ.
 */
export const slice = (x: Operand, start: number, rows: number, cols = 1): Node => {
  const n = toNode('slice', x)
  if (!(Number.isInteger(start) && Number.isInteger(rows) && Number.isInteger(cols) && start >= 0 && rows >= 1 && cols >= 1))
    fault('dimension', `ad.slice: start ${start} and shape ${rows}×${cols} must be non-negative and positive integers`)
  if (start + rows * cols > n.size) fault('dimension', `ad.slice: entries ${start} … ${start + rows * cols - 1} of ${n.toString()}, which has ${n.size}`)
  if (start === 0 && rows * cols === n.size) return reshape(n, rows, cols)
  return currentRecording('slice').emit(rows, cols, [n.id], false, (out) => new SliceInstr(out, n.id, start, rows * cols))
}
