/**
 * Row passes over dense and CSR design matrices (`linalg.rows`): the fused kernels of
 * generalized linear models, and their WebAssembly engine.
 */
export type { RowCoef, RowDots, RowEngine } from './engine.js'
export { autoRowEngine, rowEngine, ROW_ENGINE_MIN_ENTRIES } from './engine.js'
export { ROW_ENGINE_SLOTS, rowEngineAvailable } from './slots.js'
export * from './reference.js'
export * from './passes.js'
export * from './multi.js'
