/**
 * `ad`: exact first- and second-order derivative products of functions of (w, λ), in float64,
 * by forward-over-reverse automatic differentiation on recorded tapes (see docs/ad.md).
 *
 * Write a function once with these operations; `scalarFunction` gives its value, gradients,
 * Hessian-vector and cross products, `vectorFunction` the four Jacobian products of a map.
 */
export { Node, type DataRows, type Factor, type Operand } from './node.js'
export type { BatchView } from './batch.js'
export { add, sub, mul, div, neg, exp, log, log1p, softplus, sigmoid, tanh, square, sqrt } from './elementwise.js'
export { sum, mean, dot, type SumAxis } from './reduce.js'
export { matmul, matvec, matvecT, type MatmulOptions } from './matmul.js'
export { reshape, slice, transpose } from './shape.js'
export { logsumexp, softmaxCrossEntropy } from './softmax.js'
export { scalarFunction, ScalarFunction } from './scalarFunction.js'
export { vectorFunction, VectorFunction } from './vectorFunction.js'
export { MAX_TAPES, type FunctionSpec, type InputShape, type Recorder, type TapedFunction } from './tapes.js'
