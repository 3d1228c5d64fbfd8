export * from './types.js'
export * as kernels from './kernels.js'
export * from './vector.js'
export * from './matrix.js'
