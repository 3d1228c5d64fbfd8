/**
 * The elementwise operations: exp, log, log1p, softplus, sigmoid, tanh, square, sqrt, neg, and
 * add, sub, mul, div with broadcasting (each dimension equal, or 1 on one side and repeated: a
 * scalar against anything, a 1 × c row down the rows of an r × c matrix, an r × 1 column across
 * its columns).
 *
 * A function of one node, or of a node and a constant (a number, or a constant vector of the
 * same size or of one entry), is a step of `unary.ts`, so that chains fuse into one loop; a
 * function of two varying nodes, or with another broadcast, is a `BinaryInstr`.
 *
 * Stable forms (see unary.ts): softplus(x) = log1p(e^{−|x|}) + max(x, 0), σ(x) and its
 * derivatives through e^{−|x|}, tanh' = 4e^{−2|x|}/(1 + e^{−2|x|})². Points where a function is
 * not differentiable (log, sqrt at x ≤ 0; log1p at x ≤ −1; a zero divisor) are errors of the
 * call, never NaN.
 */
import { BinaryInstr, type BinaryOp } from './binary.js'
import type { Node, Operand } from './node.js'
import { toNode } from './operand.js'
import { currentRecording, fault, type Recording } from './recording.js'
import { UnaryInstr, type UnaryOp, type UnaryStep } from './unary.js'

const step = (op: UnaryOp, param = 0, operand: Node | null = null): UnaryStep => ({
  op,
  param,
  operand: operand === null ? -1 : operand.id,
  broadcast: operand !== null && operand.size === 1,
})

const apply = (rec: Recording, x: Node, s: UnaryStep): Node =>
  rec.emit(x.rows, x.cols, s.operand >= 0 ? [x.id, s.operand] : [x.id], false, (out) => new UnaryInstr(out, x.id, [s], x.size))

const unary = (op: UnaryOp) => (x: Operand): Node => {
  const n = toNode(op, x)
  return apply(currentRecording(op), n, step(op))
}

/** −x. */
export const neg = unary('neg')
/** eˣ. */
export const exp = unary('exp')
/** log x (x > 0). */
export const log = unary('log')
/** log(1 + x) (x > −1), accurate for small x. */
export const log1p = unary('log1p')
/** log(1 + eˣ), stable for every x. */
export const softplus = unary('softplus')
/** σ(x) = 1/(1 + e^{−x}), stable for every x. */
export const sigmoid = unary('sigmoid')
/** tanh x. */
export const tanh = unary('tanh')
/** x². */
export const square = unary('square')
/** √x (x > 0: not differentiable at 0). */
export const sqrt = unary('sqrt')

/** The shape of a ∘ b under broadcasting, or a fault. */
const broadcastShape = (op: string, a: Node, b: Node): readonly [number, number] => {
  const dim = (x: number, y: number): number => (x === y ? x : x === 1 ? y : y === 1 ? x : -1)
  const r = dim(a.rows, b.rows)
  const c = dim(a.cols, b.cols)
  if (r < 0 || c < 0) fault('dimension', `ad.${op}: shapes ${a.rows}×${a.cols} and ${b.rows}×${b.cols} do not broadcast (each dimension equal, or 1 on one side)`)
  return [r, c]
}

const finiteScalar = (op: string, c: number): number => (Number.isFinite(c) ? c : fault('data', `ad.${op}: the constant ${c} is not finite`))

/** The step that computes x ∘ c (right) or c ∘ x (left) for a constant node c. */
const constStep = (op: BinaryOp, c: Node, right: boolean): UnaryStep => {
  switch (op) {
    case 'add':
      return step('addBy', 0, c)
    case 'sub':
      return step(right ? 'subBy' : 'rsubBy', 0, c)
    case 'mul':
      return step('mulBy', 0, c)
    case 'div':
      return step(right ? 'divBy' : 'rdivBy', 0, c)
  }
}

const binary = (op: BinaryOp) => (a: Operand, b: Operand): Node => {
  const rec = currentRecording(op)
  // A number with a node: a scalar step.
  if (typeof b === 'number' && typeof a !== 'number') {
    const x = toNode(op, a)
    const c = finiteScalar(op, b)
    if (op === 'add') return apply(rec, x, step('shift', c))
    if (op === 'sub') return apply(rec, x, step('shift', -c))
    if (op === 'mul') return apply(rec, x, step('scale', c))
    if (c === 0) return fault('domain', `ad.div: division by the constant 0`)
    return apply(rec, x, step('divBy', 0, rec.constant(Float64Array.of(c), 1, 1)))
  }
  if (typeof a === 'number' && typeof b !== 'number') {
    const x = toNode(op, b)
    const c = finiteScalar(op, a)
    if (op === 'add') return apply(rec, x, step('shift', c))
    if (op === 'sub') return apply(rec, apply(rec, x, step('neg')), step('shift', c))
    if (op === 'mul') return apply(rec, x, step('scale', c))
    return apply(rec, x, step('rdiv', c))
  }
  const A = toNode(op, a)
  const B = toNode(op, b)
  const [r, c] = broadcastShape(op, A, B)
  const constA = rec.info(A).dep === 0
  const constB = rec.info(B).dep === 0
  // A constant operand of the output's shape (or one entry) with a varying node of the output's shape: a step.
  if (constB && !constA && A.rows === r && A.cols === c && (B.size === 1 || (B.rows === r && B.cols === c))) return apply(rec, A, constStep(op, B, true))
  if (constA && !constB && B.rows === r && B.cols === c && (A.size === 1 || (A.rows === r && A.cols === c))) return apply(rec, B, constStep(op, A, false))
  return rec.emit(r, c, [A.id, B.id], false, (out) => new BinaryInstr(out, op, A.id, B.id, [A.rows, A.cols], [B.rows, B.cols], r, c))
}

/** a + b (broadcasting). */
export const add = binary('add')
/** a − b (broadcasting). */
export const sub = binary('sub')
/** a ⊙ b, entrywise (broadcasting). */
export const mul = binary('mul')
/** a ⊘ b, entrywise (broadcasting); a zero divisor is an error of the call. */
export const div = binary('div')
