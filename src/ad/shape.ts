/**
 * Shapes: `reshape` (the same entries, row-major, under another shape: free, the new node
 * shares the buffers of the old), `transpose` (a copy with rows and columns swapped) and `slice`
 * (a block of consecutive entries, a copy); the last two are linear. A parameter vector of length
 * d·C is used as a d × C matrix by `reshape(w, d, C)`; hyperparameters packed into one λ are
 * taken apart by `slice`.
 */
import { LinearInstr, type LinearMap } from './instr.js'
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

/** yᵀ[j, i] = x[i, j] for an r × c matrix x (a copy). */
const transposeMap = (r: number, c: number): LinearMap => ({
  apply: (src, dst) => {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j * r + i] = src[i * c + j]!
  },
  addBack: (src, dst) => {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[i * c + j] = dst[i * c + j]! + src[j * r + i]!
  },
})

/** xᵀ (a copy). */
export const transpose = (x: Operand): Node => {
  const n = toNode('transpose', x)
  if (n.rows === 1 || n.cols === 1) return reshape(n, n.cols, n.rows)
  return currentRecording('transpose').emit(n.cols, n.rows, [n.id], false, (out) => new LinearInstr(out, n.id, 'transpose', false, transposeMap(n.rows, n.cols)))
}

/** y = x[start … start + size) (row-major entries). Linear: the adjoint adds back. */
const sliceMap = (start: number, size: number): LinearMap => ({
  apply: (src, dst) => {
    for (let k = 0; k < size; k++) dst[k] = src[start + k]!
  },
  addBack: (src, dst) => {
    for (let k = 0; k < size; k++) dst[start + k] = dst[start + k]! + src[k]!
  },
})

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
  return currentRecording('slice').emit(rows, cols, [n.id], false, (out) => new LinearInstr(out, n.id, 'slice', false, sliceMap(start, rows * cols)))
}
